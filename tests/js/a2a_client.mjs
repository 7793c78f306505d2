// An A2A client on the official JavaScript SDK (`@a2a-js/sdk`, A2A 1.0, JSON-RPC): inside a
// span of its own, a `SendStreamingMessage` CLIENT span streams the answer of the agent at
// the URL in argv[2], with that span's `traceparent` on the HTTP request. Prints
// `answer: EVENTS STATE TEXT`. Spans go over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT.
import { Role, taskStateToJSON } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';

import { injected, setup, SpanKind, trace } from './otel.mjs';

const provider = setup('js-a2a-client');
const tracer = trace.getTracer('js-a2a-client');
const url = process.argv[2];
const card = {
  name: 'rust-agent', description: '', version: '1.0.0', documentationUrl: '',
  supportedInterfaces: [{ url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }],
  provider: undefined,
  capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
  securitySchemes: {}, securityRequirements: [], defaultInputModes: ['text'], defaultOutputModes: ['text'],
  skills: [], signatures: [],
};
const client = await new ClientFactory().createFromAgentCard(card);
const message = {
  messageId: 'm-js', contextId: '', taskId: '', role: Role.ROLE_USER, metadata: undefined,
  extensions: [], referenceTaskIds: [],
  parts: [{ content: { $case: 'text', value: 'hello' }, metadata: undefined, filename: '', mediaType: 'text/plain' }],
};
const summary = await tracer.startActiveSpan('js caller', async (root) => {
  try {
    return await tracer.startActiveSpan(
      'SendStreamingMessage',
      { kind: SpanKind.CLIENT, attributes: { 'a2a.method.name': 'SendStreamingMessage' } },
      async (span) => {
        try {
          let events = 0;
          let state = '';
          let answer = '';
          const stream = client.sendMessageStream(
            { tenant: '', message, configuration: undefined, metadata: undefined },
            { serviceParameters: injected() },
          );
          for await (const event of stream) {
            events += 1;
            const p = event.payload ?? event;
            const status = p?.value?.status ?? p?.statusUpdate?.status ?? p?.status;
            if (status?.state !== undefined) state = taskStateToJSON(status.state);
            const parts = p?.value?.artifact?.parts ?? p?.artifactUpdate?.artifact?.parts;
            if (parts) answer = parts.map((x) => x.content?.value ?? '').join('');
          }
          return `${events} ${state} ${answer}`;
        } finally {
          span.end();
        }
      },
    );
  } finally {
    root.end();
  }
});
console.log(`answer: ${summary}`);
await provider.shutdown();
