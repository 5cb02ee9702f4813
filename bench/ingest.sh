#!/usr/bin/env bash
# Proof uploads over tus and reading them back, over loopback:
#  1. ingest of one SIZE_MB file (hashing, encryption and fsync included), next
#     to the limit (the same bytes written to a file on the same disk and hashed
#     in one pipeline, then fsynced) and to the official Node tus server
#     (@tus/server with @tus/file-store), all three in every round;
#  2. CONC uploads of CONC_MB at once: total throughput and the server's peak RSS;
#  3. time to first byte of a Range read from the middle of the SIZE_MB proof,
#     next to GET /healthz.
# Both tus servers get the same client: tus-js-client in Node reading the file
# as a stream (bench/tus-upload.mjs). Prints a table; `--write` also appends it
# to docs/benchmarks.md. Needs node, curl, openssl and bc.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SIZE_MB=${SIZE_MB:-1024}    # the ingest file and the proof read back
RUNS=${RUNS:-3}             # rounds of the ingest comparison (the median is reported)
CONC=${CONC:-16}            # concurrent uploads ...
CONC_MB=${CONC_MB:-256}     # ... of this many MiB each
READS=${READS:-20}          # Range reads (and /healthz reads) timed
CHUNK_MB=${CHUNK_MB:-0}     # tus-js-client chunkSize for both servers; 0: the whole file in one PATCH
PORT=${PORT:-18201}         # chotomoni; @tus/server listens on PORT+1
for tool in node curl openssl bc; do
    command -v $tool >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
[[ -d e2e/node_modules/tus-js-client && -d e2e/node_modules/@tus/server ]] || (cd e2e && npm ci --silent)
# BIN: a prebuilt binary to measure instead of building this checkout.
if [[ -z "${BIN:-}" ]]; then cargo build --release -q -p chotomoni; fi
bin=${BIN:-target/release/chotomoni}

out=bench/out/ingest-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out/tus"
# Sources, RUNS proofs, the concurrent ones, and a copy for the limit and @tus/server.
need_mb=$(( (RUNS + 4) * SIZE_MB + 2 * CONC * CONC_MB + CONC_MB ))
free_mb=$(df -Pm "$out" | awk 'NR == 2 {print $4}')
(( free_mb > need_mb )) || { echo "needs about $need_mb MB free in bench/out, has $free_mb" >&2; exit 1; }
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    # Gigabytes of generated data; the logs stay. KEEP=1 keeps everything.
    [[ -n "${KEEP:-}" ]] || rm -rf "$out"/*.bin "$out/tus" "$out/data/media" "$out/data/uploads"
}
trap cleanup EXIT
export CHOTOMONI_MASTER_KEY=$(openssl rand -hex 32)
export CHOTOMONI_LOG=warn
base=http://127.0.0.1:$PORT
mib=$((1024 * 1024))

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
p95() { sort -n | awk '{v[NR] = $1} END {i = int(NR * 0.95); if (i < NR * 0.95) i++; print v[i]}'; }
rate() { echo "scale=1; $1 / $mib / $2" | bc; }          # bytes, seconds → MiB/s
ms() { echo "scale=2; $1 * 1000 / 1" | bc | sed 's/^\./0./'; }

# A file that sniffs as MP4 (an `ftyp` box), then random bytes; read once so
# every round reads it from the page cache.
make_source() {
    { printf '\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2'; head -c $(($2 * mib - 24)) /dev/urandom; } > "$1"
    cat "$1" > /dev/null
}
start_server() {
    $bin --data-dir "$out/data" serve --listen 127.0.0.1:$PORT >>"$out/server.log" 2>&1 &
    server=$!
    pids+=($server)
    for _ in $(seq 1 100); do curl -sf $base/healthz >/dev/null && return; sleep 0.1; done
    echo "the server did not start; see $out/server.log" >&2; exit 1
}
stop_server() { kill $server; wait $server 2>/dev/null || true; }
token() {
    curl -sf $base/api/v1/session -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"bench-password-123\"}" | json .token
}
upload() { node bench/tus-upload.mjs --chunk-mb $CHUNK_MB "$@"; }

echo "sources: $SIZE_MB MiB and $CONC_MB MiB in $out" >&2
make_source "$out/src.bin" $SIZE_MB
make_source "$out/src-conc.bin" $CONC_MB
src_sha=$(openssl dgst -sha256 -r "$out/src.bin" | cut -d' ' -f1)
size=$((SIZE_MB * mib))

for who in packer support; do
    printf '%s' bench-password-123 | $bin --data-dir "$out/data" staff add bench-$who --role $who >/dev/null
done
start_server
packer=$(token bench-packer)
support=$(token bench-support)
order=$(curl -sf $base/api/v1/orders -H "authorization: Bearer $support" -H 'content-type: application/json' \
    -d '{"customer":{"name":"Shapla Akter","phone":"01712345678"},"address":{"line":"House 12, Road 7","area":"Mirpur","district":"Dhaka"},"items":[{"name":"Jamdani saree","quantity":1,"unit_price":850000}],"payment_method":"cod"}' \
    | json .number)
node bench/tus-node-server.mjs $((PORT + 1)) "$out/tus" >"$out/tus-server.log" 2>&1 &
tus_pid=$!
pids+=($tus_pid)
for _ in $(seq 1 100); do grep -q listening "$out/tus-server.log" && break; sleep 0.1; done

# 1. Ingest. Each round runs the three in a rotated order, so drift on a
# shared machine does not always fall on the same one.
limit() {
    rm -f "$out/limit.out"
    local t0=$(now)
    tee "$out/limit.out" < "$out/src.bin" | openssl dgst -sha256 >/dev/null
    sync "$out/limit.out"   # fsync of that file, as the server does (not of the whole machine)
    echo "$(now) - $t0" | bc >>"$out/limit.secs"
    rm "$out/limit.out"
}
chotomoni() {
    wait_idle $server
    upload --endpoint $base/api/v1/uploads/ --file "$out/src.bin" --token $packer --order $order >"$out/last-upload.json"
    json .seconds <"$out/last-upload.json" >>"$out/chotomoni.secs"
    proof=$(json '.proofs[0]' <"$out/last-upload.json")
}
tus_node() {
    rm -rf "$out/tus"/*
    upload --endpoint http://127.0.0.1:$((PORT + 1))/files/ --file "$out/src.bin" | json .seconds >>"$out/tus.secs"
    # @tus/file-store does not fsync; time the fsync it would need, untimed above.
    local t0=$(now)
    sync "$out"/tus/*
    echo "$(echo "$(now) - $t0" | bc) + $(tail -1 "$out/tus.secs")" | bc >>"$out/tus-fsync.secs"
}
steps=(limit chotomoni tus_node)
for round in $(seq 0 $((RUNS - 1))); do
    echo "round $((round + 1)) of $RUNS" >&2
    for i in 0 1 2; do ${steps[$(((round + i) % 3))]}; done
done
# The recorded hash, and every stored chunk read back through the API.
proof_sha=$(curl -sf $base/api/v1/proofs/$proof -H "authorization: Bearer $support" | json .sha256)
read_sha=$(curl -sf $base/api/v1/proofs/$proof/content -H "authorization: Bearer $support" | openssl dgst -sha256 -r | cut -d' ' -f1)
[[ "$proof_sha" == "$src_sha" && "$read_sha" == "$src_sha" ]] || { echo "the stored proof is not the source" >&2; exit 1; }
limit_s=$(median <"$out/limit.secs")
cm_s=$(median <"$out/chotomoni.secs")
tus_s=$(median <"$out/tus.secs")
tus_fsync_s=$(median <"$out/tus-fsync.secs")

# 2. Concurrent uploads, on a freshly started server so VmHWM is theirs alone.
wait_idle $server
stop_server
start_server
packer=$(token bench-packer)
idle_rss=$(awk '/VmRSS/ {print $2}' /proc/$server/status)
echo "$CONC concurrent uploads of $CONC_MB MiB" >&2
upload --endpoint $base/api/v1/uploads/ --file "$out/src-conc.bin" --token $packer --order $order --count $CONC >"$out/conc.json"
conc_s=$(json .seconds <"$out/conc.json")
[[ $(json .proofs.length <"$out/conc.json") == "$CONC" ]] || { echo "not every concurrent upload became a proof" >&2; exit 1; }
conc_rss=$(awk '/VmHWM/ {print $2}' /proc/$server/status)
wait_idle $server   # the inspections of the new proofs
after_rss=$(awk '/VmHWM/ {print $2}' /proc/$server/status)

# 3. Time to first byte: 128 KiB from the middle of the big proof, and /healthz.
support=$(token bench-support)
from=$((size / 2))
range="bytes=$from-$((from + 131071))"
curl -sf $base/api/v1/proofs/$proof/content -H "authorization: Bearer $support" -H "Range: $range" -o "$out/range.bin"
cmp -s "$out/range.bin" <(tail -c +$((from + 1)) "$out/src.bin" | head -c 131072) \
    || { echo "the Range read did not return the source's bytes" >&2; exit 1; }
for _ in $(seq 1 $READS); do
    curl -s -o /dev/null -w '%{time_starttransfer}\n' $base/api/v1/proofs/$proof/content \
        -H "authorization: Bearer $support" -H "Range: $range" >>"$out/range.ttfb"
    curl -s -o /dev/null -w '%{time_starttransfer}\n' $base/healthz >>"$out/healthz.ttfb"
done

r_cm=$(ratio $limit_s $cm_s)
r_tus=$(ratio $limit_s $tus_s)
r_vs=$(ratio $tus_s $cm_s)
range_med=$(ms $(median <"$out/range.ttfb"))
range_p95=$(ms $(p95 <"$out/range.ttfb"))
table=$(printf '%s\n' \
  "| measurement | result | ratio | target | met |" \
  "|---|---|---|---|---|" \
  "| ingest $SIZE_MB MiB: limit (tee to file + sha256, fsync) | $(rate $size $limit_s) MiB/s | 1.00 (baseline) | | |" \
  "| ingest $SIZE_MB MiB: chotomoni (tus, sha256, age encryption, fsync) | $(rate $size $cm_s) MiB/s | **$r_cm** of limit | ≥ 0.70 | $(met "$r_cm >= 0.70") |" \
  "| ingest $SIZE_MB MiB: @tus/server + file-store (no fsync) | $(rate $size $tus_s) MiB/s | $r_tus of limit | | |" \
  "| chotomoni vs @tus/server | | **$r_vs**× | > 1 | $(met "$r_vs > 1") |" \
  "| (@tus/server plus the fsync it skips) | $(rate $size $tus_fsync_s) MiB/s | $(ratio $limit_s $tus_fsync_s) of limit | | |" \
  "| $CONC × $CONC_MB MiB at once: chotomoni total | $(rate $((CONC * CONC_MB * mib)) $conc_s) MiB/s | | | |" \
  "| peak server RSS (VmHWM) during them; idle before; after inspecting them | **$((conc_rss / 1024)) MB**; $((idle_rss / 1024)) MB; $((after_rss / 1024)) MB | | < 150 MB | $(met "$conc_rss < 150 * 1024") |" \
  "| Range read first byte, 128 KiB at the middle of the $SIZE_MB MiB proof, median / p95 of $READS | **$range_med / $range_p95 ms** | | < 20 ms | $(met "$range_p95 < 20") |" \
  "| GET /healthz first byte, median / p95 of $READS (baseline) | $(ms $(median <"$out/healthz.ttfb")) / $(ms $(p95 <"$out/healthz.ttfb")) ms | | | |")
echo "$table"
echo "rounds (seconds): limit $(paste -sd' ' "$out/limit.secs"); chotomoni $(paste -sd' ' "$out/chotomoni.secs"); @tus/server $(paste -sd' ' "$out/tus.secs")"
if [[ "${1:-}" == "--write" ]]; then
    chunk=$([[ $CHUNK_MB == 0 ]] && echo "the whole file in one PATCH" || echo "$CHUNK_MB MiB PATCHes")
    {
        echo
        echo "## Proof ingest, concurrent uploads and Range reads ($(date -u +%F), $(nproc) cores, median of $RUNS rounds)"
        echo
        echo "\`bench/ingest.sh\`: tus-js-client in Node streaming the file over loopback to both servers ($chunk);"
        echo "the limit, chotomoni and @tus/server alternate in every round; 1 MiB = 2^20 bytes."
        echo
        echo "$table"
        echo
    } >>docs/benchmarks.md
    echo "appended to docs/benchmarks.md"
fi
