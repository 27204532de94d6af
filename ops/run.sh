#!/usr/bin/env bash
# Quick start 1: set up this machine and run the whole platform (`adflow all`: the projectors,
# and each API and the ML worker in a supervised child process):
#   command API  http://127.0.0.1:8080   (ADFLOW_COMMAND_API_ADDR)
#   GraphQL      http://127.0.0.1:8081/graphql, GraphiQL on GET (ADFLOW_QUERY_API_ADDR)
#   projections  following the log, and the dispatcher publishing AI work to NATS JetStream
#   ML worker    `adflow-ml worker`, generating on LibTorch (ADFLOW_ML_WORKER=false turns it off)
set -euo pipefail
cd "$(dirname "$0")/.."
bash ops/setup.sh --release
source ops/env.sh
echo "[run] get a token:  $CARGO_TARGET_DIR/release/adflow token --role manager" >&2
exec "$CARGO_TARGET_DIR/release/adflow" all
