"""An MCP server on the official Python SDK (`mcp` 2.x), over stdio, for the cross-language
tests (`tests/tests/cross_language.rs`); with `http PORT` as arguments, over streamable HTTP
at /mcp on 127.0.0.1:PORT instead. Its built-in OpenTelemetry middleware reads the caller's
context from `params._meta`; spans go over OTLP/HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT`.
"""

import sys

import os

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

provider = TracerProvider(resource=Resource.create({"service.name": "python-mcp"}))
endpoint = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/traces"
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
trace.set_tracer_provider(provider)

from mcp.server.mcpserver import MCPServer  # noqa: E402  (after the provider is set)

server = MCPServer("python-mcp")


@server.tool()
def add(a: int, b: int) -> int:
    """Adds two numbers."""
    with trace.get_tracer("python-mcp").start_as_current_span("add body"):
        return a + b


if __name__ == "__main__":
    try:
        if sys.argv[1:2] == ["http"]:
            server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
        else:
            server.run("stdio")
    finally:
        provider.shutdown()
