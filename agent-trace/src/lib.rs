//! OpenTelemetry tracing for multi-agent AI systems.
//!
//! When agent A calls agent B, which runs a tool, spawns a helper process and publishes to a
//! queue, one request shows up as **one connected trace**: every hop a span, errors visible,
//! time per step measured, and every log line carrying the trace id.
//!
//! ```
//! use agent_trace::{a2a_call, agent_phase, traced_tool};
//! // Also: #[llm_call(model = "...")] for model calls, #[agent_run] for an agent's own handler,
//! // a2a_span!(target = "...", { ... }) around a block.
//!
//! #[traced_tool]
//! fn search(query: &str) -> Result<Vec<String>, std::io::Error> {
//!     Ok(vec![format!("result for {query}")])
//! }
//!
//! #[a2a_call(target = "coder", url = "http://127.0.0.1:8081/a2a")]
//! async fn ask_coder(task: &str) -> Result<String, std::io::Error> {
//!     Ok(format!("done: {task}"))
//! }
//!
//! #[agent_phase("planning")]
//! fn plan() -> usize {
//!     search("rust").map(|r| r.len()).unwrap_or(0)
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // Reads OTEL_* from the environment; with no endpoint set, tracing is off (and free).
//!     let _guard = agent_trace::init("orchestrator")?;
//!     plan();
//!     Ok(())
//! }
//! ```
//!
//! # Configuration
//!
//! [`init`] reads the standard variables; [`builder`] settings win over them.
//!
//! | variable | accepted values | default |
//! |---|---|---|
//! | `OTEL_SDK_DISABLED` | `true`, `false` | `false` |
//! | `OTEL_SERVICE_NAME` | a name (the `init` argument wins) | `unknown_service` |
//! | `OTEL_RESOURCE_ATTRIBUTES` | `k=v,k2=v2` (values percent-encoded) | none |
//! | `OTEL_TRACES_EXPORTER` | `otlp`, `console` (also `logging`, its old name), `none` | `otlp` if an endpoint is set, else `none` |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | `http(s)://host:port` (port not 0); the generic one gets `/v1/traces` appended for HTTP (not twice); for gRPC also `host:port` (see `_INSECURE`) | `http://localhost:4317` (gRPC) / `:4318` (HTTP) |
//! | `OTEL_EXPORTER_OTLP_PROTOCOL`, `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` | `grpc`, `http/protobuf`, `http/json` | `grpc` if the endpoint's port is 4317, else `http/protobuf` |
//! | `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TRACES_HEADERS` | `k=v,k2=v2` | none |
//! | `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` | milliseconds, more than 0 | `10000` |
//! | `OTEL_EXPORTER_OTLP_COMPRESSION`, `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION` | `gzip` (cargo feature `gzip`), `none` | `none` |
//! | `OTEL_EXPORTER_OTLP_CERTIFICATE`, `OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE` | path of a PEM file: the CA to trust for `https://` endpoints (cargo feature `tls`) | the system's web roots |
//! | `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`, `OTEL_EXPORTER_OTLP_CLIENT_KEY`, `OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE`, `OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY` | paths of PEM files, both or neither: client certificate and key for mutual TLS (cargo feature `tls`) | none |
//! | `OTEL_EXPORTER_OTLP_INSECURE`, `OTEL_EXPORTER_OTLP_TRACES_INSECURE` | `true`, `false`: for a gRPC endpoint given without a scheme, plain text instead of TLS | `false` |
//! | `OTEL_TRACES_SAMPLER` | `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio`, `probability`, `parentbased_probability` (consistent probability sampling, see [`sampling`]) | `parentbased_always_on` |
//! | `OTEL_TRACES_SAMPLER_ARG` | ratio from 0 to 1 | `1.0` |
//! | `OTEL_PROPAGATORS` | list of `tracecontext`, `baggage`, `b3`, `b3multi`, `jaeger`, `none` | `tracecontext,baggage` |
//! | `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` | counts > 0 (batch is capped at the queue size) | `2048`, `512` |
//! | `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_EXPORT_TIMEOUT` | milliseconds | `5000` (console: `200`), `30000` |
//! | `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` | characters | `8192` |
//! | `OTEL_ATTRIBUTE_COUNT_LIMIT`, `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`, `OTEL_SPAN_EVENT_COUNT_LIMIT` | counts (the `SPAN_` one wins over the general one) | `128` |
//! | `AGENT_TRACE_LOG_FORMAT` | `text`, `json` | `text` |
//! | `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` | `true`, `false`: prompt, system instructions and answer on `#[llm_call]` spans (`gen_ai.input.messages`, `gen_ai.system_instructions`, `gen_ai.output.messages`, in the conventions' JSON shape), MCP tool call arguments and results | `false` |
//! | `OTEL_METRICS_EXPORTER` | `otlp`, `none` | `otlp` when traces go over OTLP |
//! | `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` | URL, used as is | the traces endpoint (`/v1/metrics` for HTTP) |
//! | `OTEL_METRIC_EXPORT_INTERVAL` | milliseconds; below `100` (`0` too) counts as `100` | `60000` |
//! | `AGENT_TRACE_KEEP_ERRORS` | `true`, `false`: tail sampling keeps every local trace with an error | `false` |
//! | `AGENT_TRACE_KEEP_SLOWER_THAN` | milliseconds: tail sampling keeps every local trace whose root took at least this long | off |
//! | `AGENT_TRACE_TAIL_MAX_SPANS`, `AGENT_TRACE_TAIL_MAX_TRACES` | counts: the tail sampler's memory cap | `10000`, `1000` |
//! | `AGENT_TRACE_REDACT_KEYS` | comma-separated words: string attributes whose key contains one are replaced by `[REDACTED]` before export (added to the defaults) | none beyond the defaults |
//! | `AGENT_TRACE_REDACT_PATTERN` | a regular expression whose matches in attribute values and status messages are replaced before export | none beyond the defaults |
//! | `AGENT_TRACE_REDACT_DEFAULTS` | `true`, `false`: the built-in credential rules (see below) | `true` |
//! | `AGENT_TRACE_OPENINFERENCE` | `true`, `false`: also write OpenInference attributes (`openinference.span.kind`, `input.value`, `llm.*`) for Arize Phoenix; see docs/protocols.md | `false` |
//! | `AGENT_TRACE_LIBRARY_ROOT_SPANS` | `true`, `false`: let `tracing` spans of libraries (`rmcp`, `hyper`, `tonic`, `reqwest`, `axum`, …) start traces of their own; off, they are bridged only inside an existing trace | `false` |
//! | `AGENT_TRACE_BRIDGE_DETAILS` | `true`, `false`: bridged `tracing` spans keep their thread id and name, busy and idle times, and absolute source paths; off, they carry none of these and a source path outside the workspace is made relative (`rmcp-3.11.0/src/service.rs`) | `false` |
//! | `OTEL_LOGS_EXPORTER` | `otlp`, `console`, `none`: the application's `tracing` events (those `RUST_LOG` lets through) as OpenTelemetry log records with the trace and span ids of their span (feature `logs`); `otlp` needs an OTLP endpoint | `none` (the specification says `otlp`; agent-trace sends nothing new until asked) |
//! | `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` | the logs URL, used as is | the traces endpoint with `/v1/logs` (gRPC: the same address) |
//! | `AGENT_TRACE_PENDING_SPANS` | `true`, `false`: when a span starts, also export a marked copy of it (`agent_trace.span.pending=true`) so `agent-trace view` shows running spans; only to a loopback endpoint, and not with tail sampling | `false` |
//! | `AGENT_TRACE_PRICES` | the path of a JSON file in LiteLLM's format (`model_prices_and_context_window.json`): with it, model-call and `invoke_agent` spans record `agent_trace.usage.cost` | none: no cost |
//! | `RUST_LOG` | `tracing` filter directives | `info` |
//! | `OTEL_ENABLED` (Python-era alias) | `false` disables, like `OTEL_SDK_DISABLED=true` | |
//! | `OTEL_SAMPLING_RATE` (Python-era alias) | a ratio: `parentbased_traceidratio` with it | |
//! | `OTEL_EXPORTER_ENDPOINT` (Python-era alias) | as `OTEL_EXPORTER_OTLP_ENDPOINT` | |
//!
//! Boolean variables take `true`, `1`, `yes`, `on` or `false`, `0`, `no`, `off`, in any case.
//!
//! An empty variable counts as unset. Any other unusable value makes `init` fail with an
//! [`InitError`] that names the variable and lists what it accepts.
//!
//! # Failure safety
//!
//! Spans are exported by a dedicated thread through a bounded queue. A collector that is
//! down, slow, hanging or answering errors never blocks, panics or slows the application:
//! spans beyond the queue are dropped and counted ([`export_stats`]), a warning is logged at
//! most every 10 s, retries follow the OTLP specification, and export resumes when the
//! collector comes back. Shutdown waits at most its timeout and reports honestly what was
//! not delivered ([`TraceGuard::shutdown`]).

#![deny(missing_docs)]
#![warn(unreachable_pub)]

// The folders (ARCHITECTURE.md); each imports only folders below it (tests/layout.rs):
// Layers, bottom up: state < config < span < context < export < integrations < install.
// Each item is public through one path, given here.
mod config;
mod context;
pub mod export;
mod install;
mod integrations;
mod span;
mod state;

pub use agent_trace_macros::{a2a_call, a2a_span, agent_phase, agent_run, llm_call, traced_tool};
pub use config::{
    Compression, Exporter, InitError, LogFormat, PricesError, Propagator, Protocol, Sampler,
    DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT,
};
pub use context::{carriers, propagation, sampling};
pub use export::guard::{force_flush, ShutdownError, TraceGuard};
pub use export::panic_hook::PANIC_FLUSH_TIMEOUT;
pub use export::signal::shutdown_signal;
pub use export::status::{export_stats, is_enabled, log_stats, tail_stats};
pub use install::{builder, init, Builder, DEFAULT_SHUTDOWN_TIMEOUT};
#[cfg(feature = "reqwest")]
pub use integrations::client;
#[cfg(feature = "rmcp")]
pub use integrations::mcp;
#[cfg(feature = "async-openai")]
pub use integrations::openai;
#[cfg(feature = "receiver")]
pub use integrations::receiver;
#[cfg(feature = "tower")]
pub use integrations::server;
pub use integrations::{a2a, evaluation, logs, testing};
pub use span::outcome::{ErrorType, LlmChunk, LlmResponse, TokenUsage};
pub use span::{semconv, task, RequestCount, RequestNumber, ToAttributeValue, CAPTURE_LIMIT};
pub use state::{ExportStats, LogStats, ModelPrice, Prices};

/// Re-exported so users and macro expansions name one version of the API crate.
pub use opentelemetry;
/// Re-exported so a `SpanExporter` or `SpanProcessor` given to the [`Builder`] is written
/// against the same SDK version.
pub use opentelemetry_sdk;

/// The README's Rust examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// The Rust examples of `docs/`, compiled as doctests too.
#[cfg(doctest)]
mod docs_doctests {
    #[doc = include_str!("../../docs/macros.md")]
    struct Macros;
    #[doc = include_str!("../../docs/protocols.md")]
    struct Protocols;
    #[doc = include_str!("../../docs/configuration.md")]
    struct Configuration;
    #[doc = include_str!("../../docs/operations.md")]
    struct Operations;
    #[doc = include_str!("../../docs/testing.md")]
    struct Testing;
    #[doc = include_str!("../../docs/troubleshooting.md")]
    struct Troubleshooting;
}

/// What the macro expansions call, and nothing else, with the traits their diagnostics name
/// (`tests/layout.rs` checks it against the expansions). Not a public API: names and
/// signatures change freely; the behaviour lives in the modules named here.
#[doc(hidden)]
pub use expansions::__private;

/// Holds `__private` so that only its public name is hidden, not the module: rustc's
/// diagnostics then name its items by their short names (`Probe`, `HeadDebug`).
mod expansions {
    /// What the expansions call.
    pub mod __private {
        pub use crate::__agent_trace_probe as probe;
        pub use crate::integrations::testing::own_process::run_in_own_process;
        pub use crate::span::core::{ActiveSpan, SpanSlot};
        pub use crate::span::probes::{
            CaptureHead, CaptureHeadJson, CaptureOk, CaptureOkHead, CaptureOkHeadJson,
            CaptureOkSerialize, CaptureSerialize, CaptureValue, CaptureValueHead,
            CaptureValueHeadJson, CaptureValueSerialize, CaptureWhole, ChunkAny, ChunkResult,
            ChunkValue, HeadDebug, HeadJson, KindBoxed, KindLocalBoxed, KindOptionBoxed,
            KindOptionLocalBoxed, KindOptionStream, KindPlain, KindResultBoxed,
            KindResultLocalBoxed, KindResultStream, KindStream, LlmAny, LlmResult, LlmValue, Probe,
            RecordAny, RecordDebugResult, RecordDebugTypedResult, RecordErrorResult, RecordItemAny,
            RecordItemResult, RecordResult, RecordTypedErrorResult, RecordTypedResult,
        };
        pub use crate::span::run::{call, call_once, instrument, instrument_with, Instrumented};
        pub use crate::span::semconv::AGENT_TRACE_RESULT;
        pub use crate::span::start::{
            start_a2a, start_agent_run, start_llm, start_phase, start_tool, Attrs,
        };
        pub use crate::span::stream::{
            instrument_stream, stream_in_option, stream_in_result, StreamSpan,
        };
        pub use crate::span::values::StopSequences;
    }
}

/// Something a span can be linked to: it says that the span follows from, or was caused by,
/// another one in another trace (fan-in: an aggregator consuming many queued messages; a
/// retry following a failed attempt). Used by the macros' `links = expr` option and by
/// [`carriers::envelope::consume_batch`].
///
/// ```
/// use agent_trace::opentelemetry::trace::SpanContext;
///
/// #[agent_trace::traced_tool(links = sources)]
/// fn merge(sources: &[SpanContext]) -> usize {
///     sources.len()
/// }
/// # merge(&[]);
/// ```
pub trait IntoLink {
    /// The span context to link to; `None` (nothing linked) when there is no valid one.
    fn span_context(&self) -> Option<opentelemetry::trace::SpanContext>;
}

impl IntoLink for opentelemetry::trace::SpanContext {
    fn span_context(&self) -> Option<opentelemetry::trace::SpanContext> {
        self.is_valid().then(|| self.clone())
    }
}

impl IntoLink for opentelemetry::Context {
    fn span_context(&self) -> Option<opentelemetry::trace::SpanContext> {
        use opentelemetry::trace::TraceContextExt as _;
        self.span().span_context().span_context()
    }
}

impl<T> IntoLink for carriers::envelope::Envelope<T> {
    fn span_context(&self) -> Option<opentelemetry::trace::SpanContext> {
        self.context().span_context()
    }
}

impl IntoLink for carriers::envelope::TraceFields {
    fn span_context(&self) -> Option<opentelemetry::trace::SpanContext> {
        self.context().span_context()
    }
}

impl<L: IntoLink + ?Sized> IntoLink for &L {
    fn span_context(&self) -> Option<opentelemetry::trace::SpanContext> {
        (**self).span_context()
    }
}

/// The current context with `id` as the conversation: every span started in it (attach it,
/// or run a future in it with `FutureExt::with_context`), here and in the services it calls
/// through the carriers (with the `baggage` propagator, on by default), carries
/// `gen_ai.conversation.id`, so a backend's session view groups the conversation whole.
/// `#[agent_run(conversation_id = ..)]` and an A2A request's `contextId` do the same.
///
/// ```
/// let _in = agent_trace::in_conversation("chat-42").attach();
/// // every span started here, and in the agents called from here, is in `chat-42`
/// ```
pub fn in_conversation(id: impl Into<String>) -> opentelemetry::Context {
    span::conversation::carry(opentelemetry::Context::current(), id.into())
}

/// The conversation the current context is in (see [`in_conversation`]), from its baggage;
/// `None` outside one.
///
/// ```
/// let _in = agent_trace::in_conversation("chat-42").attach();
/// assert_eq!(agent_trace::current_conversation_id().as_deref(), Some("chat-42"));
/// ```
pub fn current_conversation_id() -> Option<String> {
    use opentelemetry::baggage::BaggageExt as _;
    opentelemetry::Context::map_current(|cx| {
        cx.baggage()
            .get(semconv::GEN_AI_CONVERSATION_ID)
            .map(|v| v.as_str().to_string())
    })
}

/// Adds an attribute to the current span, whatever made it: a macro span
/// (`#[traced_tool]`...), the server layer's, or a `tracing` span bridged to OpenTelemetry.
/// Does nothing while tracing is off or outside any span. Values are cut to the attribute
/// length limit before export.
///
/// ```
/// #[agent_trace::traced_tool]
/// fn search(q: &str) -> usize {
///     let hits = q.len();
///     agent_trace::record("search.hits", hits as i64); // known only mid-function
///     hits
/// }
/// # search("rust");
/// ```
pub fn record(key: impl Into<opentelemetry::Key>, value: impl Into<opentelemetry::Value>) {
    if !is_enabled() {
        return;
    }
    let cx = opentelemetry::Context::current();
    let span = opentelemetry::trace::TraceContextExt::span(&cx);
    if span.is_recording() {
        span.set_attribute(opentelemetry::KeyValue::new(key, value));
    }
}

/// Adds a list of strings (a `string[]` attribute) to the current span, as [`record`] does:
/// finish reasons, stop sequences, tags, without building an OpenTelemetry array by hand. At
/// most 128 items are kept; values are cut to the attribute length limit before export.
///
/// ```
/// #[agent_trace::llm_call(model = "local-7b")]
/// fn complete(prompt: &str) -> String {
///     let reasons = vec!["stop".to_string()]; // what your client says
///     agent_trace::record_strings("gen_ai.response.finish_reasons", &reasons);
///     prompt.to_uppercase()
/// }
/// # complete("hi");
/// ```
pub fn record_strings<I>(key: impl Into<opentelemetry::Key>, items: I)
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    if !is_enabled() {
        return;
    }
    let cx = opentelemetry::Context::current();
    let span = opentelemetry::trace::TraceContextExt::span(&cx);
    if span.is_recording() {
        let items = items
            .into_iter()
            .take(128)
            .map(|s| s.as_ref().to_string())
            .collect();
        span.set_attribute(opentelemetry::KeyValue::new(
            key,
            span::text::string_array(items),
        ));
    }
}

/// The current trace id as 32 lowercase hex digits, or `None` outside any span.
///
/// Works inside our macro spans, inside `tracing` spans (when tracing is on), and for an
/// incoming request's context while tracing is off (pass-through).
///
/// ```
/// assert_eq!(agent_trace::current_trace_id(), None);
/// ```
pub fn current_trace_id() -> Option<String> {
    integrations::logs::current_ids().map(|(t, _)| t)
}

/// The current span id as 16 lowercase hex digits, or `None` outside any span.
///
/// ```
/// assert_eq!(agent_trace::current_span_id(), None);
/// ```
pub fn current_span_id() -> Option<String> {
    integrations::logs::current_ids().map(|(_, s)| s)
}
