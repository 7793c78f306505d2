#!/usr/bin/env bash
# Runs the multi-agent demo against a real Arize Phoenix and reads the spans back through
# Phoenix's REST API: how many spans Phoenix classified (span_kind other than UNKNOWN), how
# many show an input or an output, the model calls' token counts and cost, and the session.
# Exits non-zero unless every span is classified, every model call has its tokens and cost,
# and every span is in the one session.
#
#   python3 -m pip install arize-phoenix      # once (large); or set PHOENIX_PYTHON
#   ./scripts/phoenix-check.sh
#   AGENT_TRACE_OPENINFERENCE=false ./scripts/phoenix-check.sh   # the same without the switch
#                                                              # (reports, never fails)
#
# Phoenix listens on 127.0.0.1 only, keeps its data in a temporary directory, and is stopped
# when the script ends. Not part of CI (the install is heavy); see the README.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PHOENIX_PYTHON:-python3}"
if ! "$PY" -c 'import phoenix' >/dev/null 2>&1; then
  echo "SKIPPED: Phoenix is not installed for $PY (python3 -m pip install arize-phoenix, or set PHOENIX_PYTHON)"
  exit 0
fi

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT="$(free_port)"
GRPC_PORT="$(free_port)"
WORK="$(mktemp -d)"
# Keeps the check's own exit status: Phoenix stopped by SIGTERM makes `wait` return 143,
# which would otherwise become the script's status after a successful check.
cleanup() {
  local status=$?
  if [[ -n "${PHOENIX_PID:-}" ]]; then
    kill "$PHOENIX_PID" 2>/dev/null || true
    wait "$PHOENIX_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

echo "== starting Phoenix on 127.0.0.1:$PORT"
PHOENIX_HOST=127.0.0.1 PHOENIX_PORT="$PORT" PHOENIX_GRPC_PORT="$GRPC_PORT" \
  PHOENIX_WORKING_DIR="$WORK" PHOENIX_TELEMETRY_ENABLED=false \
  "$PY" -m phoenix.server.main serve >"$WORK/phoenix.log" 2>&1 &
PHOENIX_PID=$!
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$PHOENIX_PID" 2>/dev/null; then cat "$WORK/phoenix.log"; echo "Phoenix exited"; exit 1; fi
  sleep 1
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null || { cat "$WORK/phoenix.log"; echo "Phoenix did not start in 120 s"; exit 1; }

echo "== running the demo, exporting to Phoenix (OTLP/HTTP), OpenInference ${AGENT_TRACE_OPENINFERENCE:-true}"
cargo build -q --release -p agent-trace-examples --bin multi-agent
OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$PORT" \
  OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_METRICS_EXPORTER=none \
  AGENT_TRACE_OPENINFERENCE="${AGENT_TRACE_OPENINFERENCE:-true}" \
  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true \
  ./target/release/multi-agent >/dev/null

echo "== reading the spans back from Phoenix's REST API"
PHOENIX_URL="http://127.0.0.1:$PORT" STRICT="${AGENT_TRACE_OPENINFERENCE:-true}" "$PY" - <<'PYEOF'
import json, os, sys, time, urllib.request

url = os.environ["PHOENIX_URL"]

def spans():
    out, cursor = [], None
    while True:
        q = f"{url}/v1/projects/default/spans?limit=1000" + (f"&cursor={cursor}" if cursor else "")
        with urllib.request.urlopen(q, timeout=30) as r:
            page = json.load(r)
        out += page.get("data", [])
        cursor = page.get("next_cursor")
        if not cursor:
            return out

# Phoenix ingests asynchronously: wait (bounded) until the span count stops changing.
seen, stable = -1, 0
for _ in range(30):
    data = spans()
    stable = stable + 1 if len(data) == seen and seen > 0 else 0
    if stable >= 2:
        break
    seen = len(data)
    time.sleep(1)

def attr(s, key):
    return (s.get("attributes") or {}).get(key)

kinds = {}
for s in data:
    k = s.get("span_kind") or "UNKNOWN"
    kinds[k] = kinds.get(k, 0) + 1
unknown = [s["name"] for s in data if (s.get("span_kind") or "UNKNOWN") == "UNKNOWN"]
with_io = [s for s in data if attr(s, "input.value") or attr(s, "output.value")]
traces = {s["context"]["trace_id"] for s in data}
print(f"spans: {len(data)} in {len(traces)} trace(s)")
print("span kinds:", ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())))
print(f"classified: {len(data) - len(unknown)} of {len(data)}")
print(f"with input or output: {len(with_io)} of {len(data)}")
for s in sorted(data, key=lambda s: s["start_time"]):
    print(f"  {s.get('span_kind') or 'UNKNOWN':8} {s['name']}"
          + ("  [input]" if attr(s, "input.value") else "")
          + ("  [output]" if attr(s, "output.value") else ""))
# What the run cost and which conversation it was, as Phoenix reads them: token counts and
# cost on the model calls (llm.token_count.*, llm.cost.total), and one session (session.id,
# from gen_ai.conversation.id, carried to every span of every service in baggage).
llm = [s for s in data if (s.get("span_kind") or "") == "LLM"]
with_tokens = [s for s in llm if attr(s, "llm.token_count.total") is not None]
costs = [attr(s, "llm.cost.total") for s in llm if attr(s, "llm.cost.total") is not None]
tokens = sum(int(attr(s, "llm.token_count.total")) for s in with_tokens)
sessions = {attr(s, "session.id") for s in data}
print(f"model calls with token counts: {len(with_tokens)} of {len(llm)} ({tokens} tokens)")
print(f"model calls with a cost: {len(costs)} of {len(llm)} (total {sum(costs):.6f})")
print(f"sessions: {sorted(str(x) for x in sessions)}")
if not data:
    sys.exit("no spans reached Phoenix")
if os.environ.get("STRICT") == "true":
    if unknown:
        sys.exit(f"unclassified spans: {unknown}")
    if not llm or len(with_tokens) != len(llm) or len(costs) != len(llm):
        sys.exit("a model call without its token counts or cost")
    if len(sessions) != 1 or None in sessions:
        sys.exit(f"not one session on every span: {sessions}")
PYEOF
