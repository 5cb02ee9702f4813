#!/usr/bin/env bash
# Order lookup by scanned code over 1,000,000 orders, 64 connections over
# loopback, on SQLite and PostgreSQL, next to GET /healthz of the same server
# (the ceiling). Prints a table; `--write` also updates docs/benchmarks.md.
# Needs wrk (apt-get install wrk) and PostgreSQL on 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "$0")/.."
ORDERS=${ORDERS:-1000000}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-15}
ENGINES=${ENGINES:-"sqlite postgres"}   # which engines to measure
CONNS=64
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
# BIN: a prebuilt binary to measure instead of building this checkout.
if [[ -z "${BIN:-}" ]]; then cargo build --release -q -p chotomoni; fi
bin=${BIN:-target/release/chotomoni}
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT
export CHOTOMONI_MASTER_KEY=$(openssl rand -hex 32)
export CHOTOMONI_LOG=warn

rows=()
run_engine() {
    local engine=$1 url=$2 port=$3
    local dir="$out/$engine"
    mkdir -p "$dir"
    local seed_start=$(date +%s.%N)
    DATABASE_URL=$url $bin --data-dir "$dir" seed --orders "$ORDERS" >/dev/null
    local seed_secs=$(echo "$(date +%s.%N) - $seed_start" | bc)
    printf '%s' "bench-password-123" | DATABASE_URL=$url $bin --data-dir "$dir" staff add bench --role packer >/dev/null
    DATABASE_URL=$url $bin --data-dir "$dir" serve --listen 127.0.0.1:$port >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do curl -sf 127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
    local token=$(curl -sf 127.0.0.1:$port/api/v1/session -H 'content-type: application/json' \
        -d '{"username":"bench","password":"bench-password-123"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
    wrk -t2 -c$CONNS -d${SECONDS_PER_RUN}s --latency http://127.0.0.1:$port/healthz > "$dir/healthz.txt"
    MAX_ID=$ORDERS TOKEN=$token wrk -t2 -c$CONNS -d${SECONDS_PER_RUN}s --latency -s bench/lookup.lua \
        http://127.0.0.1:$port > "$dir/lookup.txt"
    local rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
    kill $pid; wait $pid 2>/dev/null || true
    local h=$(awk '/Requests\/sec/ {print $2}' "$dir/healthz.txt")
    local l=$(awk '/Requests\/sec/ {print $2}' "$dir/lookup.txt")
    local p99=$(awk '/ 99%/ {print $2}' "$dir/lookup.txt")
    local errors=$(grep -E 'Non-2xx|Socket errors' "$dir/lookup.txt" | tr -s ' ' | tr '\n' ';' || true)
    rows+=("| $engine | $(printf '%.0f' "$h") | $(printf '%.0f' "$l") | $(echo "scale=2; $l / $h" | bc) | $p99 | $((rss / 1024)) MB | $(printf '%.1f' "$seed_secs") s | ${errors:-none} |")
}

if [[ " $ENGINES " == *" sqlite "* ]]; then
    run_engine sqlite "sqlite://$out/sqlite/bench.db" 18181
fi
if [[ " $ENGINES " == *" postgres "* ]]; then
    psql postgres://postgres@127.0.0.1:5432/test -qc "DROP DATABASE IF EXISTS cm_bench WITH (FORCE)" -qc "CREATE DATABASE cm_bench"
    run_engine postgres "postgres://postgres@127.0.0.1:5432/cm_bench" 18182
    psql postgres://postgres@127.0.0.1:5432/test -qc "DROP DATABASE IF EXISTS cm_bench WITH (FORCE)"
fi

table=$(printf '%s\n' \
  "| engine | healthz req/s (ceiling) | lookup req/s | lookup / ceiling | lookup p99 | server peak RSS | seed $ORDERS orders | errors |" \
  "|---|---|---|---|---|---|---|---|" "${rows[@]}")
echo "$table"
if [[ "${1:-}" == "--write" ]]; then
    { echo "## Order lookup by scanned code ($(date -u +%F), $(nproc) cores, $CONNS connections, ${SECONDS_PER_RUN}s each)"; echo; echo "$table"; echo; } > "$out/section.md"
    echo "table written to $out/section.md; paste it into docs/benchmarks.md"
    cat "$out/section.md" >> docs/benchmarks.md
fi
