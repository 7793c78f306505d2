// An MCP client on the official TypeScript SDK, over streamable HTTP to the URL in argv[2]:
// inside a span of its own it calls `tools/call add` in a CLIENT span, with that span's
// context in `params._meta`, as the MCP semantic conventions define. Prints `answer: N`.
// Spans go over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { injected, setup, SpanKind, trace } from './otel.mjs';

const provider = setup('js-client');
const tracer = trace.getTracer('js-client');

const client = new Client({ name: 'js-client', version: '1.0.0' });
await client.connect(new StreamableHTTPClientTransport(new URL(process.argv[2])));
const answer = await tracer.startActiveSpan('js agent', async (root) => {
  try {
    return await tracer.startActiveSpan(
      'tools/call add',
      {
        kind: SpanKind.CLIENT,
        attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'add' },
      },
      async (span) => {
        try {
          const result = await client.callTool({
            name: 'add',
            arguments: { a: 2, b: 3 },
            _meta: injected(),
          });
          return result.content[0].text;
        } finally {
          span.end();
        }
      },
    );
  } finally {
    root.end();
  }
});
console.log(`answer: ${answer}`);
await client.close();
await provider.shutdown();
