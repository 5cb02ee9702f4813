# Helpers the benchmark scripts share; sourced, not run.
now() { date +%s.%N; }
ratio() { echo "scale=2; $1 / $2" | bc | sed 's/^\./0./'; }
json() { node -e "const v = JSON.parse(require('fs').readFileSync(0, 'utf8'))$1; console.log(v)"; }
met() { [[ $(echo "$1" | bc) == 1 ]] && echo yes || echo "**no**"; }
# Waits until the server has used under 5% of a core for a second and runs no
# ffprobe or ffmpeg: the inspection of a finished proof reads the whole file
# in the background, and must not run into the next measurement.
cpu_ticks() { awk '{print $14 + $15 + $16 + $17}' /proc/$1/stat; }
wait_idle() {
    local prev now
    prev=$(cpu_ticks $1)
    for _ in $(seq 1 600); do
        sleep 1
        now=$(cpu_ticks $1)
        if (( now - prev < 5 )) && ! pgrep -P $1 >/dev/null; then return; fi
        prev=$now
    done
    echo "the server did not go idle" >&2; exit 1
}
