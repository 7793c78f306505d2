// The Node.js side of tests/tests/consistent_sampling.rs: OpenTelemetry JS
// (@opentelemetry/sdk-trace-node) with the specification's composite samplers from
// @opentelemetry/sampler-composite.
//
// - POST /decide {ratio, trace_ids, parents?}: starts one span per trace id with a
//   NodeTracerProvider whose id generator hands out those ids and whose sampler is
//   Composite(Probability(ratio)) for roots, or, with `parents` ({sampled, tracestate} per
//   id), Composite(ParentThreshold(Probability(ratio))) under that remote parent; answers
//   [{sampled, tracestate}] per id.
// - GET /hop?chain=PORT,PORT...: a service span (root, or the child of the request's
//   traceparent/tracestate) sampled by Composite(ParentThreshold(Probability(SAMPLING_RATIO))),
//   exported over OTLP/HTTP; it calls the next port's /hop with its context, then answers
//   {trace_id, sampled, tracestate}.
import http from 'node:http';
import { context, propagation, trace, SpanKind, ROOT_CONTEXT, TraceFlags } from '@opentelemetry/api';
import { TraceState, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import {
  createCompositeSampler,
  createComposableParentThresholdSampler,
  createComposableProbabilitySampler,
} from '@opentelemetry/sampler-composite';
import { listen, untilStdinCloses } from './otel.mjs';

const parentBased = (ratio) =>
  createCompositeSampler(createComposableParentThresholdSampler(createComposableProbabilitySampler(ratio)));

const service = process.env.SERVICE_NAME || 'node-sampler';
const base = (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || '').replace(/\/$/, '');
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': service }),
  sampler: parentBased(Number(process.env.SAMPLING_RATIO || '1')),
  spanProcessors: base ? [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }))] : [],
});
provider.register({ propagator: new W3CTraceContextPropagator() });
const tracer = provider.getTracer('sampling-peer');

function decide({ ratio, trace_ids: ids, parents }) {
  let next = 0;
  const idGenerator = {
    generateTraceId: () => ids[next],
    generateSpanId: () => '00f067aa0ba902b7',
  };
  const sampler = parents
    ? parentBased(ratio)
    : createCompositeSampler(createComposableProbabilitySampler(ratio));
  const local = new NodeTracerProvider({ sampler, idGenerator });
  const t = local.getTracer('decide');
  const out = [];
  for (next = 0; next < ids.length; next++) {
    let ctx = ROOT_CONTEXT;
    if (parents) {
      const p = parents[next];
      ctx = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: ids[next],
        spanId: 'b7ad6b7169203331',
        traceFlags: p.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
        isRemote: true,
        traceState: p.tracestate ? new TraceState(p.tracestate) : undefined,
      });
    }
    const span = t.startSpan('decide', {}, ctx);
    const sc = span.spanContext();
    out.push({
      sampled: (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED,
      tracestate: sc.traceState ? sc.traceState.serialize() : '',
    });
    span.end();
  }
  return out;
}

async function hop(req, url) {
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const span = tracer.startSpan(`GET /hop ${service}`, { kind: SpanKind.SERVER }, parent);
  const ctx = trace.setSpan(parent, span);
  const chain = (url.searchParams.get('chain') || '').split(',').filter(Boolean);
  if (chain.length > 0) {
    const headers = {};
    propagation.inject(ctx, headers);
    const rest = chain.slice(1).join(',');
    const r = await fetch(`http://127.0.0.1:${chain[0]}/hop?chain=${rest}`, { headers });
    await r.text();
  }
  const sc = span.spanContext();
  span.end();
  return {
    trace_id: sc.traceId,
    sampled: (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED,
    tracestate: sc.traceState ? sc.traceState.serialize() : '',
  };
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://127.0.0.1');
    let answer;
    if (req.method === 'POST' && url.pathname === '/decide') {
      let body = '';
      for await (const chunk of req) body += chunk;
      answer = decide(JSON.parse(body));
    } else if (url.pathname === '/hop') {
      answer = await context.with(ROOT_CONTEXT, () => hop(req, url));
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  } catch (e) {
    res.writeHead(500).end(String(e));
  }
});
listen(server);
await untilStdinCloses();
server.close();
await provider.shutdown();
process.exit(0);
