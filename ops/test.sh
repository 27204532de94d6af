#!/usr/bin/env bash
# Quick start 2: set up this machine and run every check: formatting, clippy, and every test
# (unit, property, contract, fault and end-to-end) against the real services.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ops/setup.sh
source ops/env.sh

step() { printf '\n[test] %s\n' "$*" >&2; }
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -q -- -D warnings
if cargo nextest --version >/dev/null 2>&1; then
  step "cargo nextest run"
  cargo nextest run --workspace --locked --no-fail-fast
  step "doc tests"
  cargo test --workspace --doc --locked -q
else
  step "cargo test"
  cargo test --workspace --locked
fi
