#!/usr/bin/env bash
# Runs the overhead benchmarks (every case in one run) and prints the table with ratios.
# Usage: ./scripts/bench.sh            (about 1 minute after the optimised build)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p agent-trace-otel --bench overhead -- --noplot "$@"
python3 scripts/bench_table.py target/criterion
