#!/usr/bin/env bash
# Runs every test: unit, integration (real OTLP over gRPC and HTTP, real HTTP agents, real
# subprocesses, a real redis-server when installed), the demo, trybuild UI tests, doctests,
# and the official W3C trace-context suite when it is on the machine (see that script).
# cargo-nextest runs each test in its own process (several tests set process-wide state).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo nextest --version >/dev/null 2>&1; then
  echo "installing cargo-nextest (one time)..."
  cargo install cargo-nextest --locked
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "note: redis-server is not installed, so the Redis tests will say SKIPPED (apt-get install redis-server)"
fi

cargo nextest run --workspace --all-features --no-fail-fast
cargo test --doc --workspace --all-features
./scripts/w3c-trace-context.sh
