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
