// OpenTelemetry JS for the cross-language peers: spans of `serviceName` go over OTLP/HTTP
// to `OTEL_EXPORTER_OTLP_ENDPOINT` (as each finishes), W3C trace context propagates, and the
// context follows async calls (AsyncLocalStorage).
import { propagation, context, trace, SpanKind, ROOT_CONTEXT } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';

export { propagation, context, trace, SpanKind, ROOT_CONTEXT };

/** Installs the provider; returns it (call `shutdown()` before exiting). */
export function setup(serviceName) {
  const base = (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || '').replace(/\/$/, '');
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }))],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return provider;
}

/** The trace context of `carrier` (a `_meta` object or HTTP headers), or none. */
export function extracted(carrier) {
  return propagation.extract(ROOT_CONTEXT, carrier ?? {});
}

/** The current trace context as a carrier object (`traceparent`, `tracestate`). */
export function injected() {
  const carrier = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Prints `listening PORT` once `server` (a node:http server) listens on 127.0.0.1. */
export function listen(server) {
  server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
}

/** Resolves when stdin closes: the Rust test closes it to stop a server, by its PID. */
export function untilStdinCloses() {
  return new Promise((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.on('close', resolve);
    process.stdin.resume();
  });
}
