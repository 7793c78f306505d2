#!/usr/bin/env bash
# Runs the official W3C trace-context test suite (w3c/trace-context, test/ folder, pinned
# commit below) against tests/src/bin/w3c_service.rs, at STRICT_LEVEL=2 and SPEC_LEVEL=2:
# every Level 1 test (TraceContextTest, AdvancedTest) and the Level 2 test (TraceContext2Test).
#
# The suite is W3C's code and is not copied into this repository. It is looked for in:
#   1. $W3C_TRACE_CONTEXT_DIR (a checkout of w3c/trace-context, or its test/ folder);
#   2. ../shared/w3c-trace-context (beside this repository);
#   3. a git directory of w3c/trace-context ($W3C_TRACE_CONTEXT_GIT, a bare clone or mirror),
#      from which the pinned commit is extracted.
# Without any of them it says SKIPPED and exits 0, unless W3C_SUITE_REQUIRED=1.
# Needs python3 with aiohttp (`pip install aiohttp`).
set -euo pipefail
cd "$(dirname "$0")/.."

PINNED=acab820be9db7b3433668baa5cdd43f57f4c4be0
work=$(mktemp -d)
service_pid=
cleanup() {
  [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

suite=
for dir in "${W3C_TRACE_CONTEXT_DIR:-}" ../shared/w3c-trace-context; do
  [ -n "$dir" ] || continue
  for cand in "$dir/test" "$dir"; do
    if [ -f "$cand/test.py" ] && [ -d "$cand/tracecontext" ]; then suite=$cand; break 2; fi
  done
done
if [ -z "$suite" ]; then
  git_dir=${W3C_TRACE_CONTEXT_GIT:-}
  if [ -n "$git_dir" ] && [ -d "$git_dir" ] && git --git-dir "$git_dir" cat-file -e "$PINNED^{commit}" 2>/dev/null; then
    git --git-dir "$git_dir" archive "$PINNED" test | tar -x -C "$work"
    suite=$work/test
  fi
fi
if [ -z "$suite" ]; then
  echo "SKIPPED: the W3C trace-context suite is not on this machine. To run it:"
  echo "  git clone --bare https://github.com/w3c/trace-context <dir> && W3C_TRACE_CONTEXT_GIT=<dir> $0"
  echo "  (or W3C_TRACE_CONTEXT_DIR=<a checkout>)"
  [ "${W3C_SUITE_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
fi
python3 -c 'import aiohttp' 2>/dev/null || {
  echo "python3 has no aiohttp: pip install aiohttp"; exit 1; }

cargo build -q -p agent-trace-tests --bin w3c_service
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
harness_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target/debug/w3c_service "$port" >"$work/service.out" 2>"$work/service.err" &
service_pid=$!
for _ in $(seq 1 100); do
  grep -q listening "$work/service.out" 2>/dev/null && break
  sleep 0.1
done

echo "W3C trace-context suite at $PINNED against http://127.0.0.1:$port/test"
cd "$suite"
# The harness binds 127.0.0.1 only; timeouts keep a broken service from hanging the run.
STRICT_LEVEL=2 SPEC_LEVEL=2 HARNESS_HOST=127.0.0.1 HARNESS_PORT="$harness_port" HARNESS_TIMEOUT=5 \
  timeout 300 python3 test.py "http://127.0.0.1:$port/test"
