#!/usr/bin/env bash
# Online payments: N (1,000) checkouts at once, each paid through the
# SSLCommerz stand-in to the end (order, session, the customer paying, the
# IPN checked by verify_sign and the validation API), next to N plain
# cash-on-delivery orders placed at once against the same server in the
# same run, on SQLite and PostgreSQL. Prints a table; `--write` also
# updates docs/benchmarks.md. Fails if an online order is left unpaid or
# paid twice. Needs psql and PostgreSQL on 127.0.0.1:5432 for postgres.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=${N:-1000}
ENGINES=${ENGINES:-"sqlite postgres"}
if [[ -z "${BIN:-}" ]]; then cargo build --release -q -p chotomoni; fi
bin=${BIN:-${CARGO_TARGET_DIR:-target}/release/chotomoni}
cargo build --release -q -p chotomoni-gateway-sslcommerz --features stand-in --example checkout-bench
driver=${CARGO_TARGET_DIR:-target}/release/examples/checkout-bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export CHOTOMONI_MASTER_KEY=$(openssl rand -hex 32)
export CHOTOMONI_LOG=warn

rows=()
for engine in $ENGINES; do
    dir="$out/$engine"
    mkdir -p "$dir"
    unset DATABASE_URL
    if [[ $engine == postgres ]]; then
        db="bench_payments_$$"
        psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
        export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
    fi
    result=$(BIN=$bin N=$N DATA_DIR=$dir $driver)
    echo "$engine: $result" >&2
    if [[ $engine == postgres ]]; then
        unset DATABASE_URL
        psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE $db"
    fi
    for phase in plain checkout; do
        rows+=("| $engine | $phase | $(echo "$result" | json ".$phase.orders") | $(printf %.2f "$(echo "$result" | json ".$phase.wall_s")") | $(printf %.0f "$(echo "$result" | json ".$phase.per_s")") | $(printf %.1f "$(echo "$result" | json ".$phase.p50_ms")") | $(printf %.1f "$(echo "$result" | json ".$phase.p99_ms")") |")
    done
    rows+=("| $engine | checkout ÷ plain | | $(ratio "$(echo "$result" | json ".checkout.wall_s")" "$(echo "$result" | json ".plain.wall_s")") | | $(ratio "$(echo "$result" | json ".checkout.p50_ms")" "$(echo "$result" | json ".plain.p50_ms")") | $(ratio "$(echo "$result" | json ".checkout.p99_ms")" "$(echo "$result" | json ".plain.p99_ms")") |")
    rows+=("| $engine | paid once / unpaid / paid twice | $(echo "$result" | json ".paid_once") / $(echo "$result" | json ".not_paid") / $(echo "$result" | json ".paid_more_than_once") | | | | |")
done

table="| engine | phase | orders | wall (s) | orders/s | p50 (ms) | p99 (ms) |
|---|---|---|---|---|---|---|
$(printf '%s\n' "${rows[@]}")"
echo "$table"
if [[ "${1:-}" == "--write" ]]; then
    python3 - "$table" <<'PY'
import re, sys
path = 'docs/benchmarks.md'
text = open(path).read()
start, end = '<!-- payments:start -->', '<!-- payments:end -->'
block = f"{start}\n{sys.argv[1]}\n{end}"
if start in text:
    text = re.sub(re.escape(start) + '.*?' + re.escape(end), lambda _: block, text, flags=re.S)
else:
    text += '\n' + block + '\n'
open(path, 'w').write(text)
PY
fi
