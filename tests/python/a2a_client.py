"""An A2A client on the official Python SDK (`a2a-sdk` 1.x, JSON-RPC binding) for the
cross-language tests: inside a span of its own it sends `SendMessage` to the agent at argv[1]
(an A2A JSON-RPC URL) and prints the answer's artifact text; with `--stream` as argv[2] it
sends `SendStreamingMessage` (the SDK's streaming mode) and prints the number of events, the
last task state and the artifact text. httpx's OpenTelemetry instrumentation injects
`traceparent`; spans go over OTLP/HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT`.
"""

import asyncio
import os
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

provider = TracerProvider(resource=Resource.create({"service.name": "python-a2a-client"}))
endpoint = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/traces"
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
trace.set_tracer_provider(provider)

import httpx  # noqa: E402
from a2a.client import ClientConfig, ClientFactory  # noqa: E402
from a2a.types import (  # noqa: E402
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    Message,
    Part,
    Role,
    SendMessageRequest,
    TaskState,
)
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor  # noqa: E402

HTTPXClientInstrumentor().instrument()


async def main(url: str, streaming: bool) -> None:
    card = AgentCard(
        name="rust-agent",
        description="the Rust agent under test",
        version="1.0.0",
        supported_interfaces=[AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")],
        # The SDK streams only to agents that say they can.
        capabilities=AgentCapabilities(streaming=streaming),
    )
    with trace.get_tracer("python-a2a-client").start_as_current_span("python caller"):
        async with httpx.AsyncClient() as http:
            client = ClientFactory(ClientConfig(streaming=streaming, httpx_client=http)).create(card)
            request = SendMessageRequest(
                message=Message(message_id="m-py", role=Role.ROLE_USER, parts=[Part(text="hello")])
            )
            if not streaming:
                async for response in client.send_message(request):
                    task = response.task
                    print("answer:", task.id, task.artifacts[0].parts[0].text, flush=True)
                return
            events, state, text = 0, "", ""
            async for response in client.send_message(request):
                events += 1
                if response.HasField("status_update"):
                    state = TaskState.Name(response.status_update.status.state)
                if response.HasField("artifact_update"):
                    text = "".join(p.text for p in response.artifact_update.artifact.parts)
            print("streamed:", events, state, text, flush=True)


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2:] == ["--stream"]))
    finally:
        provider.shutdown()
