"""The demo's coder agent on the official Python A2A SDK (`a2a-sdk` 1.x, JSON-RPC binding),
for `DEMO_PYTHON_CODER=1 cargo run -p agent-trace-examples --bin multi-agent`: the Rust
orchestrator calls it with A2A `SendMessage` and the trace stays one. Starlette's
OpenTelemetry instrumentation reads the caller's `traceparent`; spans go over OTLP/HTTP to
`OTEL_EXPORTER_OTLP_ENDPOINT`. Listens on 127.0.0.1:argv[1]; stops on SIGTERM.

    python3 -m pip install "a2a-sdk[telemetry,http-server]==1.3.0" "uvicorn==0.54.0" \\
        "opentelemetry-sdk==1.45.1" "opentelemetry-exporter-otlp-proto-http==1.45.1" \\
        "opentelemetry-instrumentation-starlette==0.66b1"
"""

import os
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider(resource=Resource.create({"service.name": "coder-agent-python"}))
endpoint = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/traces"
# Batched (a request never waits on the export); flushed by provider.shutdown() on SIGTERM.
provider.add_span_processor(
    BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, timeout=5), schedule_delay_millis=100)
)
trace.set_tracer_provider(provider)

import uvicorn  # noqa: E402
from a2a.helpers.proto_helpers import new_task_from_user_message  # noqa: E402
from a2a.server.agent_execution import AgentExecutor, RequestContext  # noqa: E402
from a2a.server.events import EventQueue  # noqa: E402
from a2a.server.request_handlers import DefaultRequestHandler  # noqa: E402
from a2a.server.routes import create_jsonrpc_routes  # noqa: E402
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater  # noqa: E402
from a2a.types import AgentCapabilities, AgentCard, Part  # noqa: E402
from opentelemetry.instrumentation.starlette import StarletteInstrumentor  # noqa: E402
from starlette.applications import Starlette  # noqa: E402

tracer = trace.get_tracer("coder-agent-python")


class Coder(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        with tracer.start_as_current_span("invoke_agent coder-agent-python") as span:
            spec = context.get_user_input()
            span.set_attribute("gen_ai.operation.name", "invoke_agent")
            span.set_attribute("gen_ai.agent.name", "coder-agent-python")
            task = context.current_task
            if task is None:
                task = new_task_from_user_message(context.message)
                await event_queue.enqueue_event(task)
            updater = TaskUpdater(event_queue, task.id, task.context_id)
            await updater.start_work()
            code = f"def answer():  # {spec[:40]}\n    return 42"
            await updater.add_artifact([Part(text=code)], name="code")
            await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


port = int(sys.argv[1])
card = AgentCard(
    name="coder-agent-python",
    description="Writes code (the demo's coder, in Python)",
    version="1.0.0",
    capabilities=AgentCapabilities(streaming=True),
    default_input_modes=["text/plain"],
    default_output_modes=["text/plain"],
)
handler = DefaultRequestHandler(agent_executor=Coder(), task_store=InMemoryTaskStore(), agent_card=card)
app = Starlette(routes=create_jsonrpc_routes(handler, "/a2a"))
StarletteInstrumentor.instrument_app(app)

if __name__ == "__main__":
    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    finally:
        provider.shutdown()
