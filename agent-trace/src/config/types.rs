//! The configuration's types: the public choices (`Exporter`, `Protocol`, `Sampler`, ...), the
//! settings made in code (`Overrides`), and the resolved `Config` the pipeline is built from.

use std::fmt;
use std::time::Duration;

/// Where finished spans go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exporter {
    /// OTLP to a collector (gRPC or HTTP/protobuf, see [`Protocol`]).
    Otlp,
    /// Print each finished local trace to stderr as an indented waterfall.
    Console,
    /// Export nothing. Context still passes through.
    None,
}

/// OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protocol {
    /// OTLP/gRPC (default port 4317).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (default port 4318, path `/v1/traces`).
    HttpProtobuf,
    /// OTLP/HTTP with JSON bodies (`http/json`; default port 4318, path `/v1/traces`).
    HttpJson,
}

impl Protocol {
    /// The name `OTEL_EXPORTER_OTLP_PROTOCOL` gives it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        }
    }

    /// Whether this is one of the OTLP/HTTP protocols.
    pub fn is_http(self) -> bool {
        matches!(self, Protocol::HttpProtobuf | Protocol::HttpJson)
    }
}

/// The cargo feature an exporter for `protocol` needs, for error messages.
pub(crate) fn missing_feature(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Grpc => "enable the cargo feature `otlp-grpc` of agent-trace",
        Protocol::HttpProtobuf | Protocol::HttpJson => {
            "enable the cargo feature `otlp-http` of agent-trace"
        }
    }
}

/// Whether `protocol` has an exporter in this build.
pub(crate) fn protocol_built(protocol: Protocol) -> bool {
    match protocol {
        Protocol::Grpc => cfg!(feature = "otlp-grpc"),
        Protocol::HttpProtobuf | Protocol::HttpJson => cfg!(feature = "otlp-http"),
    }
}

/// Compression of OTLP requests (`OTEL_EXPORTER_OTLP_COMPRESSION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// gzip (cargo feature `gzip`).
    Gzip,
}

/// Certificates for OTLP over TLS (`https://` endpoints), from
/// `OTEL_EXPORTER_OTLP_CERTIFICATE`, `_CLIENT_CERTIFICATE` and `_CLIENT_KEY` (PEM files).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) certificate: Option<std::path::PathBuf>,
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) client_certificate: Option<std::path::PathBuf>,
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) client_key: Option<std::path::PathBuf>,
}

/// Head sampler, as named by `OTEL_TRACES_SAMPLER`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Sampler {
    /// Record every trace.
    AlwaysOn,
    /// Record nothing (context still propagates).
    AlwaysOff,
    /// Record this fraction of traces, decided from the trace id.
    TraceIdRatio(f64),
    /// Follow the parent's decision; roots always sampled. The default.
    ParentBasedAlwaysOn,
    /// Follow the parent's decision; roots never sampled.
    ParentBasedAlwaysOff,
    /// Follow the parent's decision; roots sampled at this ratio.
    ParentBasedTraceIdRatio(f64),
    /// Consistent probability sampling, every span decided on its own: the specification's
    /// `CompositeSampler` over `ComposableProbability(ratio)`. The decision comes from the
    /// trace's 56 random bits and the threshold is written to the `ot` tracestate entry
    /// (`ot=th:...`), so every SDK that implements the specification decides the same.
    Probability(f64),
    /// Consistent probability sampling with parent-based composition:
    /// `CompositeSampler(ComposableParentThreshold(ComposableProbability(ratio)))`. Roots are
    /// sampled at this ratio; a child follows its parent's threshold (`ot=th:...`), or, without
    /// one, its sampled flag.
    ParentBasedProbability(f64),
}

impl Sampler {
    /// The ratio of a ratio sampler.
    pub(crate) fn ratio(self) -> Option<f64> {
        match self {
            Sampler::TraceIdRatio(r)
            | Sampler::ParentBasedTraceIdRatio(r)
            | Sampler::Probability(r)
            | Sampler::ParentBasedProbability(r) => Some(r),
            _ => None,
        }
    }

    /// Whether this is one of the consistent probability samplers.
    pub(crate) fn is_consistent(self) -> bool {
        matches!(
            self,
            Sampler::Probability(_) | Sampler::ParentBasedProbability(_)
        )
    }
}

/// A context propagation format, as named by `OTEL_PROPAGATORS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Propagator {
    /// W3C `traceparent` / `tracestate`.
    TraceContext,
    /// W3C `baggage`.
    Baggage,
    /// Zipkin B3, single `b3` header.
    B3,
    /// Zipkin B3, multiple `X-B3-*` headers.
    B3Multi,
    /// Jaeger `uber-trace-id`.
    Jaeger,
}

/// Format of the log lines written by the subscriber that `init` installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// Human-readable text (the default).
    Text,
    /// One JSON object per line.
    Json,
}

/// Batch export settings (`OTEL_BSP_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchConfig {
    pub(crate) max_queue_size: usize,
    pub(crate) max_export_batch_size: usize,
    pub(crate) schedule_delay: Duration,
    pub(crate) export_timeout: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_queue_size: 2048,
            max_export_batch_size: 512,
            schedule_delay: Duration::from_millis(5000),
            export_timeout: Duration::from_millis(30_000),
        }
    }
}

/// The shortest metric export interval used: `OTEL_METRIC_EXPORT_INTERVAL` and
/// `Builder::metrics_interval` values below it (0 among them) are raised to it.
pub(crate) const MIN_METRIC_EXPORT_INTERVAL: Duration = Duration::from_millis(100);

/// Default cut, in characters, for string attribute values (`OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`).
pub const DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT: usize = 8192;

/// The fully resolved configuration, as the pipeline uses it.
#[derive(Debug, Clone)]
#[cfg_attr(
    not(any(feature = "otlp-grpc", feature = "otlp-http")),
    allow(dead_code)
)]
pub(crate) struct Config {
    pub(crate) service_name: String,
    pub(crate) disabled: bool,
    pub(crate) exporter: Exporter,
    pub(crate) protocol: Protocol,
    /// Full URL the exporter sends to (for HTTP, including `/v1/traces`).
    pub(crate) endpoint: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) export_timeout: Duration,
    #[cfg_attr(not(feature = "gzip"), allow(dead_code))]
    pub(crate) compression: Option<Compression>,
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) tls: TlsFiles,
    /// Redaction before export (`None`: nothing to redact).
    pub(crate) redaction: Option<Redaction>,
    /// OpenInference attributes beside the GenAI ones.
    pub(crate) openinference: bool,
    /// Whether libraries' `tracing` spans may start traces of their own.
    pub(crate) library_root_spans: bool,
    /// Whether bridged `tracing` spans keep thread ids, busy/idle times and absolute paths.
    pub(crate) bridge_details: bool,
    /// Whether a marker is exported when a span starts (for `agent-trace view`).
    pub(crate) pending_spans: bool,
    /// Where log records go (`OTEL_LOGS_EXPORTER`); `None`: no logs signal.
    #[cfg_attr(not(feature = "logs"), allow(dead_code))]
    pub(crate) logs: Option<LogsTarget>,
    /// Prices per model (code, else `AGENT_TRACE_PRICES`); `None`: no cost recorded.
    pub(crate) prices: Option<std::sync::Arc<crate::state::Prices>>,
    pub(crate) sampler: Sampler,
    pub(crate) propagators: Vec<Propagator>,
    pub(crate) resource_attributes: Vec<(String, String)>,
    pub(crate) batch: BatchConfig,
    pub(crate) attribute_value_limit: usize,
    pub(crate) attribute_count_limit: u32,
    pub(crate) event_count_limit: u32,
    pub(crate) log_format: LogFormat,
    pub(crate) install_subscriber: bool,
    pub(crate) capture_message_content: bool,
    pub(crate) tail: Option<TailConfig>,
    /// Where metrics go; `None` when metrics are off.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) metrics_endpoint: Option<String>,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) metrics_interval: Duration,
}

impl Config {
    /// Whether spans are recorded and exported at all.
    pub(crate) fn exports(&self) -> bool {
        !self.disabled && self.exporter != Exporter::None
    }
}

/// Settings made in code; each `Some` wins over the environment.
#[derive(Default, Clone)]
pub(crate) struct Overrides {
    pub(crate) service_name: Option<String>,
    pub(crate) disabled: Option<bool>,
    pub(crate) exporter: Option<Exporter>,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) endpoint: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) export_timeout: Option<Duration>,
    pub(crate) compression: Option<Option<Compression>>,
    pub(crate) redact_keys: Vec<String>,
    pub(crate) redact_patterns: Vec<String>,
    pub(crate) openinference: Option<bool>,
    pub(crate) prices: Option<crate::state::Prices>,
    pub(crate) sampler: Option<Sampler>,
    pub(crate) propagators: Option<Vec<Propagator>>,
    pub(crate) resource_attributes: Vec<(String, String)>,
    pub(crate) max_queue_size: Option<usize>,
    pub(crate) max_export_batch_size: Option<usize>,
    pub(crate) schedule_delay: Option<Duration>,
    pub(crate) attribute_value_limit: Option<usize>,
    pub(crate) log_format: Option<LogFormat>,
    pub(crate) install_subscriber: Option<bool>,
    pub(crate) capture_message_content: Option<bool>,
    pub(crate) keep_errors: Option<bool>,
    pub(crate) keep_slower_than: Option<Duration>,
    pub(crate) pending_spans: Option<bool>,
    pub(crate) metrics: Option<bool>,
    pub(crate) metrics_interval: Option<Duration>,
}

impl fmt::Debug for Overrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may hold credentials: show names only.
        f.debug_struct("Overrides")
            .field("service_name", &self.service_name)
            .field("exporter", &self.exporter)
            .field("endpoint", &self.endpoint)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Settings of the tail sampler.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TailConfig {
    pub(crate) keep_errors: bool,
    pub(crate) keep_slower_than: Option<Duration>,
    pub(crate) ratio: f64,
    /// The head sampler is a consistent probability sampler: the traces it sampled are kept
    /// at its threshold, and the tail adds failed or slow ones it dropped (recorded locally).
    pub(crate) head_decides: bool,
    pub(crate) max_spans: usize,
    pub(crate) max_traces: usize,
}

/// Key words whose attribute values are redacted by default (`AGENT_TRACE_REDACT_DEFAULTS`).
pub const DEFAULT_REDACT_KEYS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "access_token",
    "refresh_token",
    "auth_token",
    "session_token",
    "id_token",
    "api_token",
    "api_key",
    "apikey",
    "api-key",
    "authorization",
    "cookie",
    "credential",
    "private_key",
];

/// Value patterns redacted by default.
pub const DEFAULT_REDACT_PATTERNS: &[&str] = &[
    r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}",
    r"\bsk-[A-Za-z0-9_-]{16,}",
    r"\bAKIA[0-9A-Z]{16}\b",
    r"\bgh[pousr]_[A-Za-z0-9]{30,}",
    r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
    // The key and separator are kept (group `at_keep`): `"api_key": "x"` stays valid JSON.
    r#"(?i)(?P<at_keep>(?:password|passwd|secret|token|api[_-]?key)["']?\s*[:=]\s*"?)[^"\s,;}&]+"#,
];

/// The redaction rules as configured: key words and value patterns, each pattern checked to be
/// a regular expression. `install` compiles them into the export thread's redactor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Redaction {
    pub(crate) keys: Vec<String>,
    pub(crate) patterns: Vec<String>,
}

/// Where the logs signal goes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "logs"), allow(dead_code))]
pub(crate) enum LogsTarget {
    /// OTLP, to this URL (the traces' protocol, headers and timeout).
    Otlp(String),
    /// One line per record on stdout.
    Console,
}

/// The values of `OTEL_LOGS_EXPORTER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogsChoice {
    Otlp,
    Console,
    None,
}
