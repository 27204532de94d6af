#!/usr/bin/env bash
# Fuzzes the command API from its served OpenAPI document with schemathesis (PyPI): starts the
# debug binary on a scratch database, generates requests for every operation, and fails on any
# 5xx or any response that does not match the document (status, content type, headers, schema).
# The seed is fixed so that a CI failure replays; change it to explore further.
set -euo pipefail
cd "$(dirname "$0")/.."
source ops/env.sh

venv="$ADFLOW_CACHE/schemathesis"
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==4.32.5"
fi

bin="$CARGO_TARGET_DIR/debug/adflow"
name="adflow_fuzz_$(date +%s)_$$"
url="${ADFLOW_DATABASE_URL%/*}/$name"
psql "$ADFLOW_DATABASE_URL" -qc "CREATE DATABASE $name"
log="$(mktemp)"
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
  psql "$ADFLOW_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" || true
  curl -s "$ADFLOW_CLICKHOUSE_URL/" --data-binary "DROP DATABASE IF EXISTS $name" >/dev/null || true
  rm -f "$log" "${config:-}"
}
trap cleanup EXIT

ADFLOW_DATABASE_URL="$url" ADFLOW_CLICKHOUSE_DATABASE="$name" \
ADFLOW_COMMAND_API_ADDR=127.0.0.1:0 ADFLOW_QUERY_API_ADDR=127.0.0.1:0 ADFLOW_LOG=warn \
ADFLOW_RATE_LIMIT_PER_MINUTE=0 ADFLOW_TENANT_RATE_LIMIT_PER_MINUTE=0 ADFLOW_ML_WORKER=false \
  "$bin" all >"$log" 2>&1 &
server=$!
for _ in $(seq 1 120); do grep -q '^ADFLOW_READY ' "$log" && break; sleep 0.5; done
address=$(grep -o 'command_api=[^ ]*' "$log" | head -n 1 | cut -d= -f2)
queries=$(grep -o 'query_api=[^ ]*' "$log" | head -n 1 | cut -d= -f2)
[ -n "$address" ] || { echo "the server did not start:"; cat "$log"; exit 1; }
token=$("$bin" token --role admin 2>/dev/null | tail -n 1)

# Real ids for every path parameter, so that the requests reach the handlers (not just 404).
config="$(mktemp --suffix .toml)"
python3 ops/fuzz_fixtures.py "http://$address" "http://$queries" "$token" "$config"

# Authenticated as an Admin of the fixtures' tenant; every check and every phase (examples,
# coverage, fuzzing, and stateful where the document has links).
SCHEMATHESIS_HOOKS=fuzz_hooks PYTHONPATH="$PWD/ops" \
"$venv/bin/st" --config-file "$config" run "http://$address/openapi.json" \
  --checks all --phases examples,coverage,fuzzing,stateful \
  --max-examples 25 --seed 20261122 --no-color
