"""An MCP client on the official Python SDK (`mcp` 2.x) for the cross-language tests: inside
a span of its own it starts the Rust MCP server given as argv[1] over stdio and calls
`tools/call add`; the SDK injects the context into `params._meta`. Spans go over OTLP/HTTP to
`OTEL_EXPORTER_OTLP_ENDPOINT`; the server gets `SERVER_ENV_*` variables as its environment.
With `--http URL` as arguments it connects to the server at URL over streamable HTTP instead.
"""

import asyncio
import os
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

provider = TracerProvider(resource=Resource.create({"service.name": "python-client"}))
endpoint = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/traces"
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
trace.set_tracer_provider(provider)

from mcp import Client, StdioServerParameters  # noqa: E402  (after the provider is set)


async def main() -> None:
    server_env = {
        k.removeprefix("SERVER_ENV_"): v for k, v in os.environ.items() if k.startswith("SERVER_ENV_")
    }
    if sys.argv[1] == "--http":
        params = sys.argv[2]
    else:
        params = StdioServerParameters(command=sys.argv[1], env=server_env)
    with trace.get_tracer("python-client").start_as_current_span("python agent"):
        async with Client(params) as client:
            result = await client.call_tool("add", {"a": 2, "b": 3})
    print("answer:", result.content[0].text, flush=True)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    finally:
        provider.shutdown()
