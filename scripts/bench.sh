#!/usr/bin/env bash
# Runs the overhead benchmarks: first the interleaved rounds (the ratios to quote, with their
# spread and a check that neither pipeline dropped a span), then criterion's per-case runs
# and their table.
# Usage: ./scripts/bench.sh            (about 3 minutes after the optimised build)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p agent-trace-otel --bench interleaved
cargo bench -p agent-trace-otel --bench overhead -- --noplot "$@"
python3 scripts/bench_table.py target/criterion
