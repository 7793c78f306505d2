// An A2A agent on the official JavaScript SDK (`@a2a-js/sdk`, A2A 1.0, JSON-RPC over
// express) at /a2a on a free port of 127.0.0.1 (printed as `listening PORT`). It streams
// `SendStreamingMessage`: the task, `working`, an artifact with the upper-cased text, then
// `completed`. The HTTP request gets a SERVER span whose parent is the incoming
// `traceparent` (what OpenTelemetry JS's HTTP instrumentation does), and the work an
// `upper body` span inside it. Spans go over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT. It
// stops when its stdin closes.
import express from 'express';

import { TaskState } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore } from '@a2a-js/sdk/server';
import { jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';

import { context, extracted, listen, setup, SpanKind, trace, untilStdinCloses } from './otel.mjs';

const provider = setup('js-a2a');
const tracer = trace.getTracer('js-a2a');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const text = (value) => ({ content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' });

class Upper {
  cancelTask = async () => {};

  async execute(request, bus) {
    const { taskId, contextId, userMessage } = request;
    const input = userMessage.parts.find((p) => p.content?.$case === 'text')?.content.value ?? '';
    const status = (state) => AgentEvent.statusUpdate({
      taskId, contextId, metadata: undefined,
      status: { state, timestamp: new Date().toISOString(), message: undefined },
    });
    bus.publish(AgentEvent.task({
      id: taskId, contextId, artifacts: [], history: [userMessage], metadata: undefined,
      status: { state: TaskState.TASK_STATE_SUBMITTED, timestamp: new Date().toISOString(), message: undefined },
    }));
    bus.publish(status(TaskState.TASK_STATE_WORKING));
    await sleep(20);
    const upper = tracer.startActiveSpan('upper body', (span) => {
      span.end();
      return input.toUpperCase();
    });
    bus.publish(AgentEvent.artifactUpdate({
      taskId, contextId, lastChunk: true, append: false, metadata: undefined,
      artifact: { artifactId: 'a-1', name: 'answer', description: '', parts: [text(upper)], metadata: undefined, extensions: [] },
    }));
    await sleep(20);
    bus.publish(status(TaskState.TASK_STATE_COMPLETED));
  }
}

const app = express();
let card;
// The HTTP SERVER span, current for the whole request (the SDK's handler and the agent).
app.use((req, res, next) => {
  const parent = extracted(req.headers);
  const span = tracer.startSpan(`${req.method} /a2a`, {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': req.method, 'url.path': req.path, 'http.route': '/a2a' },
  }, parent);
  res.on('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    span.end();
  });
  context.with(trace.setSpan(parent, span), next);
});
const server = app.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  card = {
    name: 'upper', description: 'Upper-cases text, streaming its progress',
    supportedInterfaces: [{ url: `http://127.0.0.1:${port}/a2a`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }],
    provider: undefined, version: '1.0.0', documentationUrl: '',
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {}, securityRequirements: [], defaultInputModes: ['text'], defaultOutputModes: ['text'],
    skills: [], signatures: [],
  };
  const requestHandler = new DefaultRequestHandler(card, new InMemoryTaskStore(), new Upper());
  app.use('/a2a', jsonRpcHandler({ requestHandler, userBuilder: UserBuilder.noAuthentication }));
  console.log(`listening ${port}`);
});

await untilStdinCloses();
server.close();
await provider.shutdown();
process.exit(0);
