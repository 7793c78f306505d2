//! Every environment variable agent-trace reads, each named once: the `variables!` table below
//! defines a `const` per variable (its value is its own name), what values it takes, and
//! [`ALL`], the list the reader, the builder docs ("Corresponding environment variable") and
//! the documentation tables are checked against (`config/tests.rs`). The reader itself,
//! `Env`, turns a variable into a typed value or an [`InitError`] naming the variable.

use std::time::Duration;

use super::error::InitError;
use super::types::{Exporter, LogFormat, Propagator, Protocol, Sampler};

/// What a variable takes, for the documentation check and for `init`'s messages.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Values {
    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`: [`BOOL_WORDS`]).
    Bool,
    /// A whole number of milliseconds.
    Millis,
    /// A whole number greater than 0.
    Count,
    /// A number from 0 to 1.
    Ratio,
    /// Free text (a name, a URL, a path, a pattern, `k=v` pairs).
    Text,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// A comma-separated list of these words.
    ListOf(&'static [&'static str]),
    /// Read by agent-trace's own test helpers, not configuration: left out of the tables.
    Internal,
}

/// One variable the reader accepts.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Variable {
    pub(crate) name: &'static str,
    pub(crate) values: Values,
}

macro_rules! variables {
    ($($(#[$doc:meta])* $name:ident: $values:expr;)*) => {
        $($(#[$doc])* pub(crate) const $name: &str = stringify!($name);)*
        /// Every variable agent-trace reads, in the order of the documentation tables.
        #[cfg_attr(not(test), allow(dead_code))]
        pub(crate) const ALL: &[Variable] = &[$(Variable { name: $name, values: $values }),*];
    };
}

variables! {
    /// Turns tracing off (spans are neither recorded nor exported; context passes through).
    OTEL_SDK_DISABLED: Values::Bool;
    /// The service name (the `init` argument wins).
    OTEL_SERVICE_NAME: Values::Text;
    /// `k=v,k2=v2` resource attributes, values percent-encoded.
    OTEL_RESOURCE_ATTRIBUTES: Values::Text;
    /// Where finished spans go.
    OTEL_TRACES_EXPORTER: Values::OneOf(&EXPORTER_NAMES);
    /// The collector's base URL (`/v1/traces` is appended for HTTP).
    OTEL_EXPORTER_OTLP_ENDPOINT: Values::Text;
    /// The traces URL, used as is.
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: Values::Text;
    /// The OTLP transport.
    OTEL_EXPORTER_OTLP_PROTOCOL: Values::OneOf(&PROTOCOL_NAMES);
    /// The OTLP transport for traces.
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: Values::OneOf(&PROTOCOL_NAMES);
    /// `k=v,k2=v2` headers on every OTLP request.
    OTEL_EXPORTER_OTLP_HEADERS: Values::Text;
    /// `k=v,k2=v2` headers on trace requests.
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: Values::Text;
    /// The export timeout in milliseconds.
    OTEL_EXPORTER_OTLP_TIMEOUT: Values::Millis;
    /// The traces export timeout in milliseconds.
    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: Values::Millis;
    /// Request compression.
    OTEL_EXPORTER_OTLP_COMPRESSION: Values::OneOf(&COMPRESSION_NAMES);
    /// Request compression for traces.
    OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: Values::OneOf(&COMPRESSION_NAMES);
    /// The CA certificate (PEM file) to trust.
    OTEL_EXPORTER_OTLP_CERTIFICATE: Values::Text;
    /// The CA certificate (PEM file) to trust for traces.
    OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: Values::Text;
    /// The client certificate (PEM file) for mutual TLS.
    OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: Values::Text;
    /// The client certificate (PEM file) for mutual TLS, traces.
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: Values::Text;
    /// The client key (PEM file) for mutual TLS.
    OTEL_EXPORTER_OTLP_CLIENT_KEY: Values::Text;
    /// The client key (PEM file) for mutual TLS, traces.
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: Values::Text;
    /// Plain text for a gRPC endpoint given without a scheme.
    OTEL_EXPORTER_OTLP_INSECURE: Values::Bool;
    /// Plain text for a gRPC traces endpoint given without a scheme.
    OTEL_EXPORTER_OTLP_TRACES_INSECURE: Values::Bool;
    /// The head sampler.
    OTEL_TRACES_SAMPLER: Values::OneOf(&SAMPLER_NAMES);
    /// The head sampler's ratio.
    OTEL_TRACES_SAMPLER_ARG: Values::Ratio;
    /// The propagation formats.
    OTEL_PROPAGATORS: Values::ListOf(&PROPAGATOR_NAMES);
    /// The export queue's capacity in spans.
    OTEL_BSP_MAX_QUEUE_SIZE: Values::Count;
    /// Spans per export request.
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: Values::Count;
    /// Milliseconds between exports of a partial batch.
    OTEL_BSP_SCHEDULE_DELAY: Values::Millis;
    /// Milliseconds one export may take, retries included.
    OTEL_BSP_EXPORT_TIMEOUT: Values::Millis;
    /// Characters kept of a string attribute value.
    OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: Values::Count;
    /// Characters kept of a span's string attribute value (wins over the general one).
    OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: Values::Count;
    /// Attributes kept per span.
    OTEL_ATTRIBUTE_COUNT_LIMIT: Values::Count;
    /// Attributes kept per span (wins over the general one).
    OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: Values::Count;
    /// Events kept per span.
    OTEL_SPAN_EVENT_COUNT_LIMIT: Values::Count;
    /// The format of log lines.
    AGENT_TRACE_LOG_FORMAT: Values::OneOf(&LOG_FORMAT_NAMES);
    /// Prompt, answer, tool arguments and results on spans.
    OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: Values::Bool;
    /// Where metrics go.
    OTEL_METRICS_EXPORTER: Values::OneOf(&METRICS_EXPORTER_NAMES);
    /// The metrics URL, used as is.
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: Values::Text;
    /// Whether the application's `tracing` events go out as OTLP log records (off unless set).
    OTEL_LOGS_EXPORTER: Values::OneOf(&LOGS_EXPORTER_NAMES);
    /// The logs URL, used as is.
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: Values::Text;
    /// Milliseconds between metric exports.
    OTEL_METRIC_EXPORT_INTERVAL: Values::Millis;
    /// Tail sampling keeps every local trace with an error.
    AGENT_TRACE_KEEP_ERRORS: Values::Bool;
    /// Tail sampling keeps every local trace at least this slow (milliseconds).
    AGENT_TRACE_KEEP_SLOWER_THAN: Values::Millis;
    /// The tail sampler's cap on buffered spans.
    AGENT_TRACE_TAIL_MAX_SPANS: Values::Count;
    /// The tail sampler's cap on open traces.
    AGENT_TRACE_TAIL_MAX_TRACES: Values::Count;
    /// Words: attributes whose key contains one are redacted.
    AGENT_TRACE_REDACT_KEYS: Values::Text;
    /// A regular expression whose matches are redacted.
    AGENT_TRACE_REDACT_PATTERN: Values::Text;
    /// Whether the built-in credential rules apply.
    AGENT_TRACE_REDACT_DEFAULTS: Values::Bool;
    /// OpenInference attributes beside the GenAI ones.
    AGENT_TRACE_OPENINFERENCE: Values::Bool;
    /// `tracing` spans of libraries (rmcp, hyper, tonic, ...) may start traces of their own.
    AGENT_TRACE_LIBRARY_ROOT_SPANS: Values::Bool;
    /// Bridged `tracing` spans keep thread ids, busy/idle times and absolute source paths.
    AGENT_TRACE_BRIDGE_DETAILS: Values::Bool;
    /// Send a marker when a span starts, so `agent-trace view` shows running spans.
    AGENT_TRACE_PENDING_SPANS: Values::Bool;
    /// A prices file in LiteLLM's format, for the cost on model-call and agent spans.
    AGENT_TRACE_PRICES: Values::Text;
    /// `tracing` filter directives for the subscriber `init` installs.
    RUST_LOG: Values::Text;
    /// Python-era alias: `false` disables, like `OTEL_SDK_DISABLED=true`.
    OTEL_ENABLED: Values::Bool;
    /// Python-era alias: a ratio, `parentbased_traceidratio` with it.
    OTEL_SAMPLING_RATE: Values::Ratio;
    /// Python-era alias of `OTEL_EXPORTER_OTLP_ENDPOINT`.
    OTEL_EXPORTER_ENDPOINT: Values::Text;
    /// Set by `agent_trace::isolate!` in the child process it runs a test in.
    AGENT_TRACE_ISOLATED_TEST: Values::Internal;
}

/// The words a boolean variable takes, `true` forms first.
pub(crate) const BOOL_WORDS: [(&str, bool); 8] = [
    ("true", true),
    ("1", true),
    ("yes", true),
    ("on", true),
    ("false", false),
    ("0", false),
    ("no", false),
    ("off", false),
];

/// `OTEL_TRACES_EXPORTER` (`logging` is the specification's old name of `console`).
pub(crate) const EXPORTERS: [(&str, Exporter); 4] = [
    ("otlp", Exporter::Otlp),
    ("console", Exporter::Console),
    ("logging", Exporter::Console),
    ("none", Exporter::None),
];
const EXPORTER_NAMES: [&str; 4] = names(&EXPORTERS);

/// `OTEL_EXPORTER_OTLP_PROTOCOL`.
pub(crate) const PROTOCOLS: [(&str, Protocol); 3] = [
    ("grpc", Protocol::Grpc),
    ("http/protobuf", Protocol::HttpProtobuf),
    ("http/json", Protocol::HttpJson),
];
const PROTOCOL_NAMES: [&str; 3] = names(&PROTOCOLS);

/// `OTEL_EXPORTER_OTLP_COMPRESSION` (`gzip` needs the cargo feature `gzip`).
pub(crate) const COMPRESSION_NAMES: [&str; 2] = ["gzip", "none"];

/// `OTEL_TRACES_SAMPLER`; the ratio ones take theirs from `OTEL_TRACES_SAMPLER_ARG`.
pub(crate) const SAMPLERS: [(&str, Sampler); 8] = [
    ("always_on", Sampler::AlwaysOn),
    ("always_off", Sampler::AlwaysOff),
    ("traceidratio", Sampler::TraceIdRatio(1.0)),
    ("parentbased_always_on", Sampler::ParentBasedAlwaysOn),
    ("parentbased_always_off", Sampler::ParentBasedAlwaysOff),
    (
        "parentbased_traceidratio",
        Sampler::ParentBasedTraceIdRatio(1.0),
    ),
    ("probability", Sampler::Probability(1.0)),
    (
        "parentbased_probability",
        Sampler::ParentBasedProbability(1.0),
    ),
];
const SAMPLER_NAMES: [&str; 8] = names(&SAMPLERS);

/// `OTEL_PROPAGATORS` (`none` adds nothing).
pub(crate) const PROPAGATORS: [(&str, Option<Propagator>); 6] = [
    ("tracecontext", Some(Propagator::TraceContext)),
    ("baggage", Some(Propagator::Baggage)),
    ("b3", Some(Propagator::B3)),
    ("b3multi", Some(Propagator::B3Multi)),
    ("jaeger", Some(Propagator::Jaeger)),
    ("none", None),
];
const PROPAGATOR_NAMES: [&str; 6] = names(&PROPAGATORS);

/// `AGENT_TRACE_LOG_FORMAT`.
pub(crate) const LOG_FORMATS: [(&str, LogFormat); 2] =
    [("text", LogFormat::Text), ("json", LogFormat::Json)];
const LOG_FORMAT_NAMES: [&str; 2] = names(&LOG_FORMATS);

/// `OTEL_METRICS_EXPORTER`: whether metrics go over OTLP.
pub(crate) const METRICS_EXPORTERS: [(&str, bool); 2] = [("otlp", true), ("none", false)];
const METRICS_EXPORTER_NAMES: [&str; 2] = names(&METRICS_EXPORTERS);
/// `OTEL_LOGS_EXPORTER`: where log records go.
pub(crate) const LOGS_EXPORTERS: [(&str, super::types::LogsChoice); 3] = [
    ("otlp", super::types::LogsChoice::Otlp),
    ("console", super::types::LogsChoice::Console),
    ("none", super::types::LogsChoice::None),
];
const LOGS_EXPORTER_NAMES: [&str; 3] = names(&LOGS_EXPORTERS);

/// The names of a table of choices, so each word is written once.
const fn names<T, const N: usize>(choices: &[(&'static str, T); N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = choices[i].0;
        i += 1;
    }
    out
}

/// `a, b or c`, for error messages.
pub(crate) fn listing<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let words: Vec<&str> = words.into_iter().collect();
    match words.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The value of `choices` that `v` names (case-insensitively), or an error listing them.
pub(crate) fn choose<T: Copy>(
    name: &str,
    v: &str,
    choices: &[(&'static str, T)],
) -> Result<T, InitError> {
    let lower = v.to_ascii_lowercase();
    choices
        .iter()
        .find(|(word, _)| *word == lower)
        .map(|(_, value)| *value)
        .ok_or_else(|| InitError::invalid(name, v, listing(choices.iter().map(|(word, _)| *word))))
}

/// Reads variables; the real environment or, in tests, a map.
pub(crate) type EnvLookup = dyn Fn(&str) -> Result<Option<String>, InitError> + Send + Sync;

/// The process environment. A non-UTF-8 value is an error naming the variable.
pub(crate) fn process_env(name: &str) -> Result<Option<String>, InitError> {
    match std::env::var(name) {
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(InitError::NotUnicode {
            variable: name.to_string(),
        }),
    }
}

/// Typed reads of the variables above.
pub(crate) struct Env<'a>(pub(crate) &'a EnvLookup);

impl Env<'_> {
    /// The trimmed value; empty counts as unset.
    pub(crate) fn get(&self, name: &str) -> Result<Option<String>, InitError> {
        Ok((self.0)(name)?
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty()))
    }

    /// The first of `names` that is set, with its name.
    pub(crate) fn first(
        &self,
        names: &[&'static str],
    ) -> Result<Option<(&'static str, String)>, InitError> {
        for name in names {
            if let Some(v) = self.get(name)? {
                return Ok(Some((name, v)));
            }
        }
        Ok(None)
    }

    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, InitError> {
        self.get(name)?.map(|v| parse_bool(name, &v)).transpose()
    }

    pub(crate) fn millis(&self, name: &str) -> Result<Option<Duration>, InitError> {
        self.get(name)?
            .map(|v| {
                v.parse::<u64>()
                    .map(Duration::from_millis)
                    .map_err(|_| InitError::invalid(name, v, "a whole number of milliseconds"))
            })
            .transpose()
    }

    pub(crate) fn positive(&self, name: &str) -> Result<Option<usize>, InitError> {
        self.get(name)?
            .map(|v| match v.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(InitError::invalid(name, v, "a whole number greater than 0")),
            })
            .transpose()
    }

    /// One of `choices`, by name.
    pub(crate) fn choice<T: Copy>(
        &self,
        name: &str,
        choices: &[(&'static str, T)],
    ) -> Result<Option<T>, InitError> {
        self.get(name)?
            .map(|v| choose(name, &v, choices))
            .transpose()
    }
}

pub(crate) fn parse_bool(name: &str, v: &str) -> Result<bool, InitError> {
    choose(name, v, &BOOL_WORDS)
}

pub(crate) fn parse_ratio(name: &str, v: &str) -> Result<f64, InitError> {
    match v.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(InitError::invalid(
            name,
            v,
            "a number from 0.0 to 1.0 (the fraction of traces to keep)",
        )),
    }
}

/// A comma-separated list of propagator names; repeats and `none` add nothing.
pub(crate) fn parse_propagators(name: &str, v: &str) -> Result<Vec<Propagator>, InitError> {
    let mut out = Vec::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let p = choose(name, item, &PROPAGATORS).map_err(|_| {
            let words = listing(PROPAGATOR_NAMES.iter().copied());
            InitError::invalid(name, v, format!("a comma-separated list of: {words}"))
        })?;
        if let Some(p) = p {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// `k1=v1,k2=v2` with percent-encoded values (`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS`).
pub(crate) fn parse_key_values(name: &str, v: &str) -> Result<Vec<(String, String)>, InitError> {
    let mut out = Vec::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let bad = || InitError::invalid(name, v, "a comma-separated list of key=value pairs");
        let (key, value) = item.split_once('=').ok_or_else(bad)?;
        let key = key.trim();
        if key.is_empty() {
            return Err(bad());
        }
        let value = percent_decode(value.trim()).ok_or_else(|| {
            InitError::invalid(name, v, "values percent-encoded as UTF-8 (like %20)")
        })?;
        out.push((key.to_string(), value));
    }
    Ok(out)
}

/// `s` with its `%XX` escapes decoded; `None` for a `%` not followed by two hex digits or
/// for bytes that are not UTF-8 (percent-encoding itself passes both through unchanged).
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let hex = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_hexdigit);
    let malformed = (0..bytes.len()).any(|i| bytes[i] == b'%' && !(hex(i + 1) && hex(i + 2)));
    if malformed {
        return None;
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|v| v.into_owned())
}
