// An MCP server on the official TypeScript SDK (`@modelcontextprotocol/sdk`), over
// streamable HTTP with sessions, at /mcp on a free port of 127.0.0.1 (printed as
// `listening PORT`). Its `add` tool reads the caller's trace context from `params._meta`, as
// the MCP semantic conventions define, and runs in a SERVER span under it. Spans go over
// OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT. It stops when its stdin closes.
import { randomUUID } from 'node:crypto';
import http from 'node:http';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import { extracted, listen, setup, SpanKind, trace, untilStdinCloses } from './otel.mjs';

const provider = setup('js-mcp');
const tracer = trace.getTracer('js-mcp');

function newServer() {
  const server = new McpServer({ name: 'js-mcp', version: '1.0.0' });
  server.registerTool(
    'add',
    { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }, extra) =>
      tracer.startActiveSpan(
        'tools/call add',
        {
          kind: SpanKind.SERVER,
          attributes: {
            'mcp.method.name': 'tools/call',
            'gen_ai.tool.name': 'add',
            'gen_ai.operation.name': 'execute_tool',
            'jsonrpc.request.id': String(extra.requestId),
          },
        },
        extracted(extra._meta),
        async (span) => {
          try {
            const sum = tracer.startActiveSpan('add body', (body) => {
              body.end();
              return a + b;
            });
            return { content: [{ type: 'text', text: String(sum) }] };
          } finally {
            span.end();
          }
        },
      ),
  );
  return server;
}

const sessions = new Map();

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

const httpServer = http.createServer(async (req, res) => {
  try {
    const parsed = req.method === 'POST' ? await body(req) : undefined;
    const id = req.headers['mcp-session-id'];
    let transport = id ? sessions.get(id) : undefined;
    if (!transport && req.method === 'POST' && isInitializeRequest(parsed)) {
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => sessions.set(sid, transport),
      });
      transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
      await newServer().connect(transport);
    }
    if (!transport) {
      res.writeHead(400).end('no session');
      return;
    }
    await transport.handleRequest(req, res, parsed);
  } catch (e) {
    console.error('js-mcp:', e);
    if (!res.headersSent) res.writeHead(500).end();
  }
});

listen(httpServer);
await untilStdinCloses();
httpServer.close();
for (const t of sessions.values()) await t.close();
await provider.shutdown();
process.exit(0);
