#!/usr/bin/env bash
# Quick start 1: set up this machine and run the whole platform (`adflow all`: the projectors,
# the platform workers, and each API and the ML worker in a supervised child process):
#   command API  http://127.0.0.1:8080   (ADFLOW_COMMAND_API_ADDR)
#   GraphQL      http://127.0.0.1:8081/graphql, GraphiQL on GET (ADFLOW_QUERY_API_ADDR)
#   projections  following the log, and the dispatcher publishing work to NATS JetStream
#   ML worker    `adflow-ml worker`, generating on LibTorch (ADFLOW_ML_WORKER=false turns it off)
#   platforms    deployer, change pusher and report sync, talking to the platform sandbox
#   sandbox      `adflow sandbox` on http://127.0.0.1:7300: Google Ads and LinkedIn stand-ins over
#                the market simulator, a simulated hour per second (ADFLOW_SANDBOX_SPEED).
#                Set ADFLOW_PLATFORMS=real (and the ADFLOW_GOOGLE_*/ADFLOW_LINKEDIN_* settings,
#                README "Configuration") to talk to the real platforms instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ops/setup.sh --release
source ops/env.sh
adflow="$CARGO_TARGET_DIR/release/adflow"
if [ "${ADFLOW_PLATFORMS:-sandbox}" != real ]; then
  listen="${ADFLOW_SANDBOX_LISTEN:-127.0.0.1:7300}"
  "$adflow" sandbox --listen "$listen" --seed "${ADFLOW_SANDBOX_SEED:-1}" \
    --speed "${ADFLOW_SANDBOX_SPEED:-3600}" &
  sandbox_pid=$!
  trap 'kill "$sandbox_pid" 2>/dev/null || true' EXIT
  export ADFLOW_PLATFORM_SANDBOX_URL="http://$listen"
  # A simulated day passes in 24 s: pull reports often enough to follow it.
  export ADFLOW_REPORT_SYNC_GOOGLE_SECONDS="${ADFLOW_REPORT_SYNC_GOOGLE_SECONDS:-10}"
  export ADFLOW_REPORT_SYNC_LINKEDIN_SECONDS="${ADFLOW_REPORT_SYNC_LINKEDIN_SECONDS:-30}"
  echo "[run] platform sandbox on $ADFLOW_PLATFORM_SANDBOX_URL (control: $ADFLOW_PLATFORM_SANDBOX_URL/_sandbox/inventory)" >&2
fi
echo "[run] get a token:  $adflow token --role manager" >&2
"$adflow" all
