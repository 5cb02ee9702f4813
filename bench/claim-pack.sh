#!/usr/bin/env bash
# A claim pack for an order with three large proof videos (SIZE_MB each,
# 200 by default), next to the same work done by hand on the plaintext files
# in the same run: ffmpeg cutting the same excerpts with the same settings,
# then `zip` of the originals and excerpts. The pack also decrypts each
# original (twice for a video: once into the ZIP, once for ffmpeg), seals
# the ZIP and stores it. The server's RSS is sampled every 100 ms from the
# request to the end of the download. Prints a table; `--write` also appends
# it to docs/benchmarks.md. Needs node, curl, openssl, bc, ffmpeg and zip.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SIZE_MB=${SIZE_MB:-200}
START_S=${START_S:-30}      # where each excerpt starts
PORT=${PORT:-18211}
for tool in node curl openssl bc ffmpeg zip; do
    command -v $tool >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
[[ -d e2e/node_modules/tus-js-client ]] || (cd e2e && npm ci --silent)
if [[ -z "${BIN:-}" ]]; then cargo build --release -q -p chotomoni; fi
bin=${BIN:-target/release/chotomoni}

out=bench/out/claim-pack-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out/originals" "$out/excerpts"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [[ -n "${KEEP:-}" ]] || rm -rf "$out/originals" "$out/excerpts" "$out"/*.zip "$out/data/media" "$out/data/uploads"
}
trap cleanup EXIT
export CHOTOMONI_MASTER_KEY=$(openssl rand -hex 32)
export CHOTOMONI_LOG=warn
base=http://127.0.0.1:$PORT

# Three videos of SIZE_MB as a phone's camera writes them (index at the
# end): one encoding, then three copies that differ in a metadata tag.
seconds=$(( SIZE_MB * 8 / 12 ))   # at 12 Mbit/s
echo "making a ${SIZE_MB} MB video of ${seconds} s" >&2
ffmpeg -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=30" -f lavfi -i "sine=frequency=440" \
    -t $seconds -c:v libx264 -preset ultrafast -b:v 12M -maxrate 12M -bufsize 24M -pix_fmt yuv420p \
    -c:a aac -b:a 128k "$out/source.mp4"
for n in 1 2 3; do
    ffmpeg -v error -y -i "$out/source.mp4" -c copy -metadata title="proof $n" "$out/originals/$n.mp4"
done
rm "$out/source.mp4"
bytes=$(stat -c %s "$out/originals/1.mp4")

for who in packer support; do
    printf '%s' bench-password-123 | $bin --data-dir "$out/data" staff add bench-$who --role $who >/dev/null
done
$bin --data-dir "$out/data" serve --listen 127.0.0.1:$PORT >>"$out/server.log" 2>&1 &
server=$!
pids+=($server)
for _ in $(seq 1 100); do curl -sf $base/healthz >/dev/null && break; sleep 0.1; done
token() {
    curl -sf $base/api/v1/session -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"bench-password-123\"}" | json .token
}
packer=$(token bench-packer)
support=$(token bench-support)
api() { curl -sf "$base$2" -X "$1" -H "authorization: Bearer $support" -H 'content-type: application/json' ${3:+-d "$3"}; }
order=$(api POST /api/v1/orders '{"customer":{"name":"Shapla Akter","phone":"01712345678"},"address":{"line":"House 12, Road 7","area":"Mirpur","district":"Dhaka"},"items":[{"name":"Jamdani saree","quantity":1,"unit_price":850000}],"payment_method":"cod"}' | json .number)
for s in confirmed packed; do api POST /api/v1/orders/$order/status "{\"status\":\"$s\"}" >/dev/null; done
for n in 1 2 3; do
    node bench/tus-upload.mjs --endpoint $base/api/v1/uploads/ --file "$out/originals/$n.mp4" --token $packer --order $order >/dev/null
done
for s in handed_to_courier delivered; do api POST /api/v1/orders/$order/status "{\"status\":\"$s\"}" >/dev/null; done
claim=$(api POST /api/v1/orders/$order/claims '{"kind":"damaged","items":[{"line_no":1,"quantity":1}],"raised_by":"support","description":"bench"}' | json .id)
wait_idle $server
proofs=$(api GET /api/v1/orders/$order/proofs | json '.map(p => p.id).join(" ")')
excerpts=$(for p in $proofs; do printf '{"proof":%s,"start_ms":%s},' $p $((START_S * 1000)); done)

# The pack, from the request to the downloaded ZIP, with RSS sampled.
idle_rss=$(awk '/VmRSS/ {print $2}' /proc/$server/status)
( peak=0; while kill -0 $server 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' /proc/$server/status 2>/dev/null || echo 0)
    (( rss > peak )) && { peak=$rss; echo $peak >"$out/peak.kb"; }
    sleep 0.1
  done ) &
pids+=($!)
t0=$(now)
pack=$(api POST /api/v1/claims/$claim/packs "{\"purpose\":\"courier_claim\",\"excerpts\":[${excerpts%,}]}" | json .id)
while :; do
    status=$(api GET /api/v1/claims/$claim/packs | json ".find(p => p.id == $pack).status")
    [[ $status == building ]] || break
    sleep 0.2
done
[[ $status == ready ]] || { echo "the pack $status; see $out/server.log" >&2; exit 1; }
t_built=$(now)
api GET /api/v1/claim-packs/$pack/content >"$out/pack.zip"
t_done=$(now)
pack_s=$(echo "$t_done - $t0" | bc)
build_s=$(echo "$t_built - $t0" | bc)
peak_kb=$(cat "$out/peak.kb")
echo "pack: built in $build_s s, downloaded by $pack_s s; peak RSS $((peak_kb / 1024)) MB" >&2
unzip -tq "$out/pack.zip" >/dev/null
# The pack's originals are the files uploaded, byte for byte.
packed=$(for f in $(unzip -Z1 "$out/pack.zip" 'originals/*'); do unzip -p "$out/pack.zip" "$f" | openssl dgst -sha256 -r | cut -d' ' -f1; done | sort)
uploaded=$(for n in 1 2 3; do openssl dgst -sha256 -r "$out/originals/$n.mp4" | cut -d' ' -f1; done | sort)
[[ "$packed" == "$uploaded" ]] || { echo "the pack's originals are not the uploaded files" >&2; exit 1; }
[[ $(unzip -Z1 "$out/pack.zip" 'excerpts/*' | wc -l) == 3 ]] || { echo "the pack does not have three excerpts" >&2; exit 1; }

# By hand: the same excerpts with the same settings, then one ZIP.
t0=$(now)
for n in 1 2 3; do
    ffmpeg -v error -nostats -nostdin -ss $START_S -t 60 -i "$out/originals/$n.mp4" -map 0:v:0 -map '0:a:0?' \
        -vf "scale='min(1280,iw)':-2,drawtext=text='$order   %{pts\\:gmtime\\:1733050000\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S} +06':x=16:y=h-th-16:fontsize=h/22:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8" \
        -c:v libx264 -preset veryfast -b:v 2500k -maxrate 3000k -bufsize 6000k -pix_fmt yuv420p \
        -c:a aac -b:a 128k -ac 2 -movflags +faststart -f mp4 -fs 28000000 \
        "$out/excerpts/$n.mp4"
done
(cd "$out" && zip -0 -q -r by-hand.zip originals excerpts)
hand_s=$(echo "$(now) - $t0" | bc)

r=$(ratio $pack_s $hand_s)
table=$(printf '%s\n' \
  "| measure | result | baseline (same run) | target | met |" \
  "|---|---|---|---|---|" \
  "| claim pack, 3 × $((bytes / 1000000)) MB videos, excerpts of 60 s from ${START_S} s: request to downloaded ZIP (built in ${build_s%??????} s) | ${pack_s%??????} s | by hand on the plaintext: ffmpeg the same excerpts + \`zip -0\`: ${hand_s%??????} s | ≤ 1.5× | **${r}×** $(met "$r <= 1.5") |" \
  "| server peak RSS while building and serving it (idle before: $((idle_rss / 1024)) MB) | **$((peak_kb / 1024)) MB** | | < 200 MB | $(met "$peak_kb < 200 * 1024") |")
echo "$table"
if [[ "${1:-}" == "--write" ]]; then
    {
        echo
        echo "## Claim pack ($(date -u +%Y-%m-%d), $(nproc) cores, \`bench/claim-pack.sh\`)"
        echo
        echo "$table"
    } >>docs/benchmarks.md
    echo "appended to docs/benchmarks.md"
fi
