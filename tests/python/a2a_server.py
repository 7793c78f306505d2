"""An A2A agent on the official Python SDK (`a2a-sdk` 1.x, JSON-RPC binding) for the
cross-language tests. Starlette's OpenTelemetry instrumentation reads the caller's
`traceparent`; spans go over OTLP/HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT`. Listens on
127.0.0.1:argv[1] and answers `SendMessage` with a completed task whose artifact is the
message text upper-cased.
"""

import os
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

provider = TracerProvider(resource=Resource.create({"service.name": "python-a2a"}))
endpoint = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/traces"
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
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


class Upper(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        with trace.get_tracer("python-a2a").start_as_current_span("upper body"):
            text = context.get_user_input()
            task = context.current_task
            if task is None:
                task = new_task_from_user_message(context.message)
                await event_queue.enqueue_event(task)
            updater = TaskUpdater(event_queue, task.id, task.context_id)
            await updater.start_work()
            await updater.add_artifact([Part(text=text.upper())], name="answer")
            await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


port = int(sys.argv[1])
card = AgentCard(
    name="upper",
    description="Upper-cases text",
    version="1.0.0",
    capabilities=AgentCapabilities(streaming=True),
    default_input_modes=["text/plain"],
    default_output_modes=["text/plain"],
)
handler = DefaultRequestHandler(agent_executor=Upper(), task_store=InMemoryTaskStore(), agent_card=card)
app = Starlette(routes=create_jsonrpc_routes(handler, "/a2a"))
StarletteInstrumentor.instrument_app(app)

if __name__ == "__main__":
    try:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    finally:
        provider.shutdown()
