#!/usr/bin/env bash
# Courier webhooks: 10,000 Steadfast delivery-status calls against 100,000
# orders, 64 connections over loopback, on SQLite and PostgreSQL, next to
# GET /healthz of the same server (the ceiling), and how long after the
# last answer every report is applied. Prints a table; `--write` also
# updates docs/benchmarks.md.
# Needs wrk (apt-get install wrk), sqlite3, psql and PostgreSQL on 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
ORDERS=${ORDERS:-100000}
WEBHOOKS=${WEBHOOKS:-10000}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-15}   # the ceiling's run
ENGINES=${ENGINES:-"sqlite postgres"}   # which engines to measure
CONNS=64
THREADS=2
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
# BIN: a prebuilt binary to measure instead of building this checkout.
if [[ -z "${BIN:-}" ]]; then cargo build --release -q -p chotomoni; fi
bin=${BIN:-${CARGO_TARGET_DIR:-target}/release/chotomoni}
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT
export CHOTOMONI_MASTER_KEY=$(openssl rand -hex 32)
export CHOTOMONI_LOG=warn
# Steadfast set up; the webhooks only need the token (nothing is booked).
export CHOTOMONI_STEADFAST_API_KEY=bench-api-key
export CHOTOMONI_STEADFAST_SECRET_KEY=bench-secret-key
export CHOTOMONI_STEADFAST_WEBHOOK_TOKEN=$(openssl rand -hex 16)

# Every packed order booked with Steadfast (parcel booked), every order
# handed to the courier with it (parcel with the courier); the consignment
# id is the order id. The same statement on both engines.
book_sql() {
    local now=$(date +%s%3N)
    echo "INSERT INTO consignments (order_id, courier, state, consignment_id, tracking_code,
        cash_to_collect, parcel_status, attempts, booking_started_at, booked_at, news_at, updated_at)
      SELECT id, 'steadfast', 'booked', CAST(id AS TEXT), 'SF' || CAST(id AS TEXT),
        CASE WHEN payment_method = 'cod' THEN total ELSE 0 END,
        CASE status WHEN 'packed' THEN 'booked' ELSE 'with_courier' END,
        1, $now, $now, $now, $now
      FROM orders WHERE status IN ('packed', 'handed_to_courier')"
}
PARCELS_SQL="SELECT order_id || ' ' || parcel_status FROM consignments ORDER BY order_id"
OUTCOMES_SQL="SELECT outcome || ' ' || COUNT(*) FROM courier_events GROUP BY outcome ORDER BY outcome"
# wrk's latency ("850.00us", "12.34ms", "1.02s") in milliseconds.
to_ms() {
    case $1 in
        *us) echo "scale=3; ${1%us} / 1000" | bc ;;
        *ms) echo "${1%ms}" ;;
        *s) echo "scale=3; ${1%s} * 1000" | bc ;;
    esac
}

rows=()
run_engine() {
    local engine=$1 url=$2 port=$3 query=$4
    local dir="$out/$engine"
    mkdir -p "$dir"
    local seed_start=$(now)
    DATABASE_URL=$url $bin --data-dir "$dir" seed --orders "$ORDERS" >/dev/null
    local seed_secs=$(echo "$(now) - $seed_start" | bc)
    $query "$(book_sql)" >/dev/null
    # PostgreSQL: statistics for the planner, as autovacuum would leave them
    # (right after a bulk insert it knows nothing of the new rows and scans
    # where it should look up). SQLite gathers none by itself: the server's
    # own `database.optimize` job does, when it starts.
    if [[ $engine == postgres ]]; then $query "ANALYZE" >/dev/null; fi
    $query "$PARCELS_SQL" > "$dir/parcels.txt"
    DATABASE_URL=$url $bin --data-dir "$dir" serve --listen 127.0.0.1:$port >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do curl -sf 127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
    wrk -t$THREADS -c$CONNS -d${SECONDS_PER_RUN}s --latency http://127.0.0.1:$port/healthz > "$dir/healthz.txt"
    # -d only bounds a run that goes wrong: the script stops wrk at WEBHOOKS.
    mkdir -p "$dir/done"
    CONSIGNMENTS="$dir/parcels.txt" DONE_DIR="$dir/done" WEBHOOKS=$WEBHOOKS THREADS=$THREADS \
        TOKEN=$CHOTOMONI_STEADFAST_WEBHOOK_TOKEN wrk -t$THREADS -c$CONNS -d300s --latency \
        -s bench/couriers.lua http://127.0.0.1:$port > "$dir/webhooks.txt" 2>&1 \
        || { cat "$dir/webhooks.txt" >&2; exit 1; }
    # An answer means the report is received (committed to the inbox); the
    # server applies it right behind. How long until every one is applied.
    local answered_at=$(now) left
    for _ in $(seq 1 6000); do
        left=$($query "SELECT COUNT(*) FROM courier_inbox")
        [[ $left == 0 ]] && break
        sleep 0.01
    done
    local drain_ms=$(echo "($(now) - $answered_at) * 1000 / 1" | bc)
    local rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
    kill $pid; wait $pid 2>/dev/null || true
    local h=$(awk '/Requests\/sec/ {print $2}' "$dir/healthz.txt")
    local w=$(awk '/Requests\/sec/ {print $2}' "$dir/webhooks.txt")
    local answered=$(awk '/requests in/ {print $1}' "$dir/webhooks.txt")
    local p99=$(awk '/ 99%/ {print $2}' "$dir/webhooks.txt")
    local sent=$(sed -n 's/^Sent: //p' "$dir/webhooks.txt")
    local errors=$(grep -E 'Non-2xx|Socket errors' "$dir/webhooks.txt" | tr -s ' ' | tr '\n' ';' | sed 's/^ //' || true)
    if [[ $answered != "$WEBHOOKS" ]]; then errors="${errors}$answered answered of $WEBHOOKS;"; fi
    if [[ $left != 0 ]]; then errors="${errors}$left not applied after 60 s;"; fi
    # Received and applied: from the first call to the last report applied.
    local took_ms=$(to_ms "$(awk '/requests in/ {sub(/,$/, "", $4); print $4}' "$dir/webhooks.txt")")
    local applied_rate=$(printf '%.0f' "$(echo "scale=3; $WEBHOOKS * 1000 / ($took_ms + $drain_ms)" | bc)")
    local outcomes=$($query "$OUTCOMES_SQL" | paste -sd, | sed 's/,/, /g')
    local recorded=$($query "SELECT COUNT(*) FROM courier_events")
    local parcels=$(wc -l < "$dir/parcels.txt")
    local r=$(ratio "$w" "$h")
    echo "$engine: seeded in $(printf "%.1f" "$seed_secs") s; $parcels parcels; sent $sent; $recorded events recorded ($outcomes)" >&2
    rows+=("| $engine | $(printf '%.0f' "$h") | $(printf '%.0f' "$w") | $r | $p99 | $drain_ms ms | $applied_rate | $((rss / 1024)) MB | $recorded: $outcomes | $(met "$r >= 0.30") | $(met "$(to_ms "$p99") < 20") | ${errors:-none} |")
}

if [[ " $ENGINES " == *" sqlite "* ]]; then
    sqlite_query() { sqlite3 -cmd ".timeout 5000" "$out/sqlite/bench.db" "$1"; }
    run_engine sqlite "sqlite://$out/sqlite/bench.db" 18183 sqlite_query
fi
if [[ " $ENGINES " == *" postgres "* ]]; then
    pg=postgres://postgres@127.0.0.1:5432
    psql $pg/test -qc "DROP DATABASE IF EXISTS cm_bench_couriers WITH (FORCE)" -qc "CREATE DATABASE cm_bench_couriers"
    pg_query() { psql $pg/cm_bench_couriers -qtAc "$1"; }
    run_engine postgres "$pg/cm_bench_couriers" 18184 pg_query
    psql $pg/test -qc "DROP DATABASE IF EXISTS cm_bench_couriers WITH (FORCE)"
fi

table=$(printf '%s\n' \
  "| engine | healthz req/s (ceiling) | webhooks req/s | webhooks / ceiling | webhook p99 | all applied, after the last answer | applied / s | server peak RSS | events recorded: outcomes | ≥ 0.30 | p99 < 20 ms | errors |" \
  "|---|---|---|---|---|---|---|---|---|---|---|---|" "${rows[@]}")
echo "$table"
if [[ "${1:-}" == "--write" ]]; then
    { echo; echo "## Courier webhooks ($(date -u +%F), $(nproc) cores, $CONNS connections, $WEBHOOKS webhooks, $ORDERS orders)"; echo; echo "$table"; echo; } > "$out/section.md"
    cat "$out/section.md" >> docs/benchmarks.md
    echo "appended to docs/benchmarks.md"
fi
