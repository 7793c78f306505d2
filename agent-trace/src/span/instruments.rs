//! What one span measures and how it records into the metric instruments (feature
//! `metrics`; [`Measure`] always). The instruments themselves are process-wide state
//! (`state::Instruments`); the meter provider and its exporter are built in
//! `export/metrics.rs`.

/// What a span measures when it ends (feature `metrics`).
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) enum Measure {
    Tool(&'static str),
    /// A remote agent (`#[a2a_call]`: `gen_ai.client.operation.duration`) or an in-process
    /// one (`#[agent_run]`: `gen_ai.invocation.duration`, nested inside another or not).
    Agent {
        name: &'static str,
        remote: bool,
        nested: bool,
    },
    Llm {
        model: &'static str,
        provider: Option<&'static str>,
    },
    /// An MCP request, on the client or the server side, with the metric's attributes
    /// (`mcp.method.name`, `gen_ai.tool.name`, ...; `error.type` is added at the end).
    #[cfg(feature = "rmcp")]
    Mcp {
        server: bool,
        attributes: Vec<opentelemetry::KeyValue>,
    },
}

#[cfg(feature = "metrics")]
pub(crate) use meters::*;

#[cfg(feature = "metrics")]
mod meters {
    use std::borrow::Cow;
    use std::sync::Arc;
    use std::time::Instant;

    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry::KeyValue;
    use opentelemetry_sdk::metrics::SdkMeterProvider;

    use super::super::outcome::TokenUsage;
    use super::super::semconv as k;
    use super::Measure;
    pub(crate) use crate::state::Instruments;

    /// Per-span measurement state (only while tracing is on).
    #[derive(Debug)]
    pub(crate) struct SpanMetrics {
        pub(crate) instruments: Arc<Instruments>,
        pub(crate) measure: Measure,
        pub(crate) started: Instant,
        pub(crate) error_type: Option<Cow<'static, str>>,
        pub(crate) usage: Option<TokenUsage>,
        pub(crate) response_model: Option<String>,
    }

    impl SpanMetrics {
        /// Records the span's measurement; `calls` are an agent's own model and tool calls.
        pub(crate) fn record(&self, calls: Option<(u64, u64)>) {
            let secs = self.started.elapsed().as_secs_f64();
            let i = &self.instruments;
            let mut attrs = Vec::with_capacity(5);
            match &self.measure {
                Measure::Tool(name) => {
                    attrs.push(KeyValue::new(k::GEN_AI_TOOL_NAME, *name));
                    attrs.push(KeyValue::new(k::GEN_AI_TOOL_TYPE, k::TOOL_TYPE_FUNCTION));
                    self.push_error(&mut attrs);
                    i.tool_duration.record(secs, &attrs);
                }
                Measure::Agent {
                    name,
                    remote,
                    nested,
                } => {
                    attrs.push(KeyValue::new(k::GEN_AI_OPERATION_NAME, k::OP_INVOKE_AGENT));
                    attrs.push(KeyValue::new(k::GEN_AI_AGENT_NAME, *name));
                    match remote {
                        true => attrs.push(KeyValue::new(k::GEN_AI_PROVIDER_NAME, k::PROVIDER_A2A)),
                        false => attrs.push(KeyValue::new(k::GEN_AI_INVOCATION_IS_NESTED, *nested)),
                    }
                    if let Some((inference, tools)) = calls {
                        let agent = [KeyValue::new(k::GEN_AI_AGENT_NAME, *name)];
                        i.inference_calls.record(inference, &agent);
                        i.tool_calls.record(tools, &agent);
                    }
                    self.push_error(&mut attrs);
                    match remote {
                        true => i.operation_duration.record(secs, &attrs),
                        false => i.invocation_duration.record(secs, &attrs),
                    }
                }
                Measure::Llm { model, provider } => {
                    attrs.push(KeyValue::new(k::GEN_AI_OPERATION_NAME, k::OP_CHAT));
                    attrs.push(KeyValue::new(k::GEN_AI_REQUEST_MODEL, *model));
                    if let Some(p) = provider {
                        attrs.push(KeyValue::new(k::GEN_AI_PROVIDER_NAME, *p));
                    }
                    if let Some(m) = &self.response_model {
                        attrs.push(KeyValue::new(k::GEN_AI_RESPONSE_MODEL, m.clone()));
                    }
                    // Every inference counts, a failed one too (0 tokens when no usage came
                    // back); agent-trace knows totals, not their modality.
                    let usage = self.usage.unwrap_or_default();
                    let mut t = attrs.clone();
                    t.push(KeyValue::new(
                        k::GEN_AI_TOKEN_MODALITY,
                        k::TOKEN_MODALITY_UNKNOWN,
                    ));
                    self.push_error(&mut t);
                    i.input_tokens.add(usage.input_tokens, &t);
                    i.output_tokens.add(usage.output_tokens, &t);
                    self.push_error(&mut attrs);
                    i.inference_duration.record(secs, &attrs);
                }
                #[cfg(feature = "rmcp")]
                Measure::Mcp { server, attributes } => {
                    let mut attrs = attributes.clone();
                    self.push_error(&mut attrs);
                    match server {
                        true => i.mcp_server_duration.record(secs, &attrs),
                        false => i.mcp_client_duration.record(secs, &attrs),
                    }
                }
            }
        }

        fn push_error(&self, attrs: &mut Vec<KeyValue>) {
            if let Some(e) = &self.error_type {
                attrs.push(KeyValue::new(k::ERROR_TYPE, e.clone()));
            }
        }
    }

    /// Bucket boundaries the GenAI semantic conventions advise.
    const DURATION_BUCKETS: [f64; 14] = [
        0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
    ];
    /// A histogram of the calls one agent invocation made.
    fn calls(
        meter: &opentelemetry::metrics::Meter,
        name: &'static str,
        unit: &'static str,
        what: &'static str,
    ) -> opentelemetry::metrics::Histogram<u64> {
        meter
            .u64_histogram(name)
            .with_unit(unit)
            .with_description(what)
            .with_boundaries(CALL_BUCKETS.to_vec())
            .build()
    }

    /// Bucket boundaries for the calls of one agent invocation.
    const CALL_BUCKETS: [f64; 10] = [0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0];
    /// Bucket boundaries for the time to a stream's first chunk: what the GenAI conventions
    /// advise for the server's time to first token.
    const FIRST_CHUNK_BUCKETS: [f64; 16] = [
        0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    ];
    /// Bucket boundaries for the time between chunks: what the GenAI conventions advise for
    /// the server's time per output token.
    const PER_CHUNK_BUCKETS: [f64; 13] = [
        0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5,
    ];
    impl Instruments {
        /// The instruments on `provider`'s meter.
        pub(crate) fn new(provider: SdkMeterProvider) -> Self {
            let meter = provider.meter("agent-trace");
            let seconds = |name: &'static str, what: &'static str, buckets: &[f64]| {
                meter
                    .f64_histogram(name)
                    .with_unit("s")
                    .with_description(what)
                    .with_boundaries(buckets.to_vec())
                    .build()
            };
            let duration =
                |name: &'static str, what: &'static str| seconds(name, what, &DURATION_BUCKETS);
            let tokens = |name: &'static str, what: &'static str| {
                meter
                    .u64_counter(name)
                    .with_unit("{token}")
                    .with_description(what)
                    .build()
            };
            Instruments {
                inference_calls: calls(
                    &meter,
                    k::METRIC_GEN_AI_INVOKE_AGENT_INFERENCE_CALLS,
                    "{inference_call}",
                    "Model calls an agent invocation made itself",
                ),
                tool_calls: calls(
                    &meter,
                    k::METRIC_GEN_AI_INVOKE_AGENT_TOOL_CALLS,
                    "{tool_call}",
                    "Tool calls an agent invocation made itself",
                ),
                inference_duration: duration(
                    k::METRIC_GEN_AI_CLIENT_INFERENCE_DURATION,
                    "Duration of model calls",
                ),
                input_tokens: tokens(
                    k::METRIC_GEN_AI_CLIENT_INFERENCE_INPUT_TOKENS,
                    "Input tokens of model calls",
                ),
                output_tokens: tokens(
                    k::METRIC_GEN_AI_CLIENT_INFERENCE_OUTPUT_TOKENS,
                    "Output tokens of model calls",
                ),
                time_to_first_chunk: seconds(
                    k::METRIC_GEN_AI_CLIENT_INFERENCE_TIME_TO_FIRST_CHUNK,
                    "Time from a streamed model request to its first chunk",
                    &FIRST_CHUNK_BUCKETS,
                ),
                time_per_output_chunk: seconds(
                    k::METRIC_GEN_AI_CLIENT_INFERENCE_TIME_PER_OUTPUT_CHUNK,
                    "Time between the chunks of a streamed model answer, after the first",
                    &PER_CHUNK_BUCKETS,
                ),
                operation_duration: duration(
                    k::METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
                    "Duration of calls to remote agents",
                ),
                tool_duration: duration(
                    k::METRIC_GEN_AI_EXECUTE_TOOL_DURATION,
                    "Duration of tool executions",
                ),
                invocation_duration: duration(
                    k::METRIC_GEN_AI_INVOCATION_DURATION,
                    "Duration of in-process agent invocations",
                ),
                mcp_client_duration: duration(
                    k::METRIC_MCP_CLIENT_OPERATION_DURATION,
                    "Duration of MCP requests, from the client's side",
                ),
                mcp_server_duration: duration(
                    k::METRIC_MCP_SERVER_OPERATION_DURATION,
                    "Duration of MCP requests, from the server's side",
                ),
                provider,
            }
        }
    }
}
