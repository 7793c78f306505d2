//! Configuration: the standard `OTEL_*` variables, the Python-era aliases, and the builder.
//!
//! Precedence is always: a value set in code (on [`Builder`](crate::Builder)) wins over the
//! environment, which wins over the defaults. An empty variable counts as unset (as the
//! OpenTelemetry specification says). Any other value that cannot be used is an [`InitError`]
//! naming the variable and what it accepts; nothing is silently ignored.

use std::fmt;
use std::time::Duration;

/// Why [`init`](crate::init) or [`Builder::install`](crate::Builder::install) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// A setting (environment variable or builder call) has a value that cannot be used.
    #[error("invalid value {value:?} for {variable}: expected {expected}")]
    InvalidValue {
        /// The variable (`OTEL_TRACES_SAMPLER`) or builder method (`Builder::endpoint`).
        variable: String,
        /// The value as given.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// An environment variable is set but is not valid UTF-8.
    #[error("{variable} is set but is not valid UTF-8")]
    NotUnicode {
        /// The variable.
        variable: String,
    },
    /// The export pipeline could not be started (thread or runtime creation failed).
    #[error("could not start the export pipeline: {0}")]
    Pipeline(String),
    /// `init` was called again, while a pipeline is installed, with a setting that differs
    /// from the installed one. Drop every [`TraceGuard`](crate::TraceGuard) first to install
    /// another.
    #[error(
        "tracing is already installed with {setting} {installed:?}, and this init asked for \
         {requested:?}: drop every guard of the first init before installing another"
    )]
    Conflict {
        /// What differs: `service name`, `exporter`, `protocol` or `endpoint`.
        setting: &'static str,
        /// The installed pipeline's value.
        installed: String,
        /// This call's value.
        requested: String,
    },
    /// Exporting was asked for with a protocol this build has no exporter for.
    #[error("no exporter for {protocol} in this build: {fix}")]
    MissingFeature {
        /// The protocol (`grpc`, `http/protobuf`, `http/json`).
        protocol: &'static str,
        /// Which cargo feature to enable.
        fix: &'static str,
    },
}

impl InitError {
    pub(crate) fn invalid(
        variable: impl Into<String>,
        value: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        InitError::InvalidValue {
            variable: variable.into(),
            value: value.into(),
            expected: expected.into(),
        }
    }

    /// The variable or builder method the error is about, if any.
    pub fn variable(&self) -> Option<&str> {
        match self {
            InitError::InvalidValue { variable, .. } | InitError::NotUnicode { variable } => {
                Some(variable)
            }
            InitError::Pipeline(_)
            | InitError::MissingFeature { .. }
            | InitError::Conflict { .. } => None,
        }
    }
}

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
    pub(crate) redactor: Option<crate::redact::Redactor>,
    /// OpenInference attributes beside the GenAI ones.
    pub(crate) openinference: bool,
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

struct Env<'a>(&'a EnvLookup);

impl Env<'_> {
    /// The trimmed value; empty counts as unset.
    fn get(&self, name: &str) -> Result<Option<String>, InitError> {
        Ok((self.0)(name)?
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty()))
    }

    /// The first of `names` that is set, with its name.
    fn first(&self, names: &[&'static str]) -> Result<Option<(&'static str, String)>, InitError> {
        for name in names {
            if let Some(v) = self.get(name)? {
                return Ok(Some((name, v)));
            }
        }
        Ok(None)
    }

    fn bool(&self, name: &str) -> Result<Option<bool>, InitError> {
        self.get(name)?.map(|v| parse_bool(name, &v)).transpose()
    }

    fn millis(&self, name: &str) -> Result<Option<Duration>, InitError> {
        self.get(name)?
            .map(|v| {
                v.parse::<u64>()
                    .map(Duration::from_millis)
                    .map_err(|_| InitError::invalid(name, v, "a whole number of milliseconds"))
            })
            .transpose()
    }

    fn positive(&self, name: &str) -> Result<Option<usize>, InitError> {
        self.get(name)?
            .map(|v| match v.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(InitError::invalid(name, v, "a whole number greater than 0")),
            })
            .transpose()
    }
}

fn parse_bool(name: &str, v: &str) -> Result<bool, InitError> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(InitError::invalid(name, v, "true or false")),
    }
}

fn parse_exporter(name: &str, v: &str) -> Result<Exporter, InitError> {
    match v.to_ascii_lowercase().as_str() {
        "otlp" => Ok(Exporter::Otlp),
        "console" | "logging" => Ok(Exporter::Console),
        "none" => Ok(Exporter::None),
        _ => Err(InitError::invalid(name, v, "one of: otlp, console, none")),
    }
}

fn parse_protocol(name: &str, v: &str) -> Result<Protocol, InitError> {
    match v.to_ascii_lowercase().as_str() {
        "grpc" => Ok(Protocol::Grpc),
        "http/protobuf" => Ok(Protocol::HttpProtobuf),
        "http/json" => Ok(Protocol::HttpJson),
        _ => Err(InitError::invalid(
            name,
            v,
            "grpc, http/protobuf or http/json",
        )),
    }
}

fn parse_ratio(name: &str, v: &str) -> Result<f64, InitError> {
    match v.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(InitError::invalid(
            name,
            v,
            "a number from 0.0 to 1.0 (the fraction of traces to keep)",
        )),
    }
}

const SAMPLERS: &str = "one of: always_on, always_off, traceidratio, parentbased_always_on, \
                        parentbased_always_off, parentbased_traceidratio";

fn parse_sampler(v: &str, arg: Option<(&str, String)>) -> Result<Sampler, InitError> {
    let ratio = |arg: Option<(&str, String)>| -> Result<f64, InitError> {
        match arg {
            Some((name, a)) => parse_ratio(name, &a),
            None => Ok(1.0),
        }
    };
    match v.to_ascii_lowercase().as_str() {
        "always_on" => Ok(Sampler::AlwaysOn),
        "always_off" => Ok(Sampler::AlwaysOff),
        "traceidratio" => Ok(Sampler::TraceIdRatio(ratio(arg)?)),
        "parentbased_always_on" => Ok(Sampler::ParentBasedAlwaysOn),
        "parentbased_always_off" => Ok(Sampler::ParentBasedAlwaysOff),
        "parentbased_traceidratio" => Ok(Sampler::ParentBasedTraceIdRatio(ratio(arg)?)),
        _ => Err(InitError::invalid("OTEL_TRACES_SAMPLER", v, SAMPLERS)),
    }
}

pub(crate) fn parse_propagators(name: &str, v: &str) -> Result<Vec<Propagator>, InitError> {
    let mut out = Vec::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let p =
            match item.to_ascii_lowercase().as_str() {
                "tracecontext" => Propagator::TraceContext,
                "baggage" => Propagator::Baggage,
                "b3" => Propagator::B3,
                "b3multi" => Propagator::B3Multi,
                "jaeger" => Propagator::Jaeger,
                "none" => continue,
                _ => return Err(InitError::invalid(
                    name,
                    v,
                    "a comma-separated list of: tracecontext, baggage, b3, b3multi, jaeger, none",
                )),
            };
        if !out.contains(&p) {
            out.push(p);
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

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Checks an endpoint URL and, for HTTP, appends `/v1/traces` when `append_path` is set.
pub(crate) fn resolve_endpoint(
    name: &str,
    raw: &str,
    protocol: Protocol,
    append_path: bool,
) -> Result<String, InitError> {
    let uri: http::Uri = raw.parse().map_err(|_| {
        InitError::invalid(
            name,
            raw,
            "a URL like http://localhost:4317 or https://host:4318",
        )
    })?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => {
            return Err(InitError::invalid(
                name,
                raw,
                "a URL starting with http:// or https://",
            ))
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(InitError::invalid(name, raw, "a URL with a host"));
    }
    if uri.port_u16() == Some(0) {
        return Err(InitError::invalid(
            name,
            raw,
            "a URL with a port other than 0 (nothing can be reached on port 0)",
        ));
    }
    if protocol.is_http() && append_path {
        let base = raw.trim_end_matches('/');
        if base.ends_with("/v1/traces") {
            return Ok(base.to_string());
        }
        return Ok(format!("{base}/v1/traces"));
    }
    Ok(raw.to_string())
}

/// The redaction rules: the defaults (unless `AGENT_TRACE_REDACT_DEFAULTS=false`), then the
/// environment's, then the code's.
fn redactor(o: &Overrides, env: &Env<'_>) -> Result<Option<crate::redact::Redactor>, InitError> {
    use crate::redact::{Redactor, DEFAULT_KEYS, DEFAULT_PATTERNS};
    let defaults = env.bool("AGENT_TRACE_REDACT_DEFAULTS")?.unwrap_or(true);
    let mut keys: Vec<String> = Vec::new();
    let mut patterns: Vec<String> = Vec::new();
    if defaults {
        keys.extend(DEFAULT_KEYS.iter().map(|k| k.to_string()));
        patterns.extend(DEFAULT_PATTERNS.iter().map(|p| p.to_string()));
    }
    if let Some(v) = env.get("AGENT_TRACE_REDACT_KEYS")? {
        keys.extend(
            v.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(String::from),
        );
    }
    if let Some(p) = env.get("AGENT_TRACE_REDACT_PATTERN")? {
        Redactor::new(Vec::new(), std::slice::from_ref(&p)).map_err(|e| {
            InitError::invalid(
                "AGENT_TRACE_REDACT_PATTERN",
                p.clone(),
                format!("a regular expression ({e})"),
            )
        })?;
        patterns.push(p);
    }
    for p in &o.redact_patterns {
        Redactor::new(Vec::new(), std::slice::from_ref(p)).map_err(|e| {
            InitError::invalid(
                "Builder::redact_pattern",
                p.clone(),
                format!("a regular expression ({e})"),
            )
        })?;
    }
    keys.extend(o.redact_keys.iter().cloned());
    patterns.extend(o.redact_patterns.iter().cloned());
    if keys.is_empty() && patterns.is_empty() {
        return Ok(None);
    }
    Redactor::new(keys, &patterns)
        .map(Some)
        .map_err(|e| InitError::invalid("AGENT_TRACE_REDACT_PATTERN", patterns.join(" | "), e))
}

/// One setting: the code's override, else the environment's value, else the default.
fn pick<T>(
    code: Option<T>,
    env: impl FnOnce() -> Result<Option<T>, InitError>,
    default: impl FnOnce() -> T,
) -> Result<T, InitError> {
    match code {
        Some(v) => Ok(v),
        None => Ok(env()?.unwrap_or_else(default)),
    }
}

/// The whole configuration: code overrides, then the environment (`lookup`), then defaults.
/// One function per section below; each names the variable or builder method of a bad value.
pub(crate) fn resolve(o: &Overrides, lookup: &EnvLookup) -> Result<Config, InitError> {
    let env = Env(lookup);
    let disabled = disabled(o, &env)?;
    let transport = transport(o, &env)?;
    let sampler = sampler(o, &env)?;
    let limits = limits(o, &env)?;
    let metrics_endpoint = metrics_endpoint(o, &env, disabled, &transport)?;
    Ok(Config {
        service_name: service_name(o, &env)?,
        disabled,
        redactor: redactor(o, &env)?,
        openinference: pick(
            o.openinference,
            || env.bool("AGENT_TRACE_OPENINFERENCE"),
            || false,
        )?,
        propagators: pick(
            o.propagators.clone(),
            || propagators(&env),
            || vec![Propagator::TraceContext, Propagator::Baggage],
        )?,
        resource_attributes: resource_attributes(o, &env)?,
        batch: batch(o, &env)?,
        attribute_value_limit: limits.0,
        attribute_count_limit: limits.1,
        event_count_limit: limits.2,
        log_format: pick(o.log_format, || log_format(&env), || LogFormat::Text)?,
        install_subscriber: o.install_subscriber.unwrap_or(true),
        tail: tail(o, &env, sampler)?,
        sampler,
        metrics_endpoint,
        metrics_interval: pick(
            o.metrics_interval,
            || env.millis("OTEL_METRIC_EXPORT_INTERVAL"),
            || Duration::from_secs(60),
        )?,
        capture_message_content: pick(
            o.capture_message_content,
            || env.bool("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"),
            || false,
        )?,
        exporter: transport.exporter,
        protocol: transport.protocol,
        endpoint: transport.endpoint,
        headers: transport.headers,
        export_timeout: transport.export_timeout,
        compression: transport.compression,
        tls: transport.tls,
    })
}

/// `OTEL_SDK_DISABLED=true`, or the Python-era `OTEL_ENABLED=false`.
fn disabled(o: &Overrides, env: &Env<'_>) -> Result<bool, InitError> {
    if let Some(d) = o.disabled {
        return Ok(d);
    }
    let sdk_disabled = env.bool("OTEL_SDK_DISABLED")?;
    let enabled_alias = env.bool("OTEL_ENABLED")?;
    Ok(sdk_disabled.unwrap_or(false) || enabled_alias == Some(false))
}

fn service_name(o: &Overrides, env: &Env<'_>) -> Result<String, InitError> {
    match &o.service_name {
        Some(s) if !s.trim().is_empty() => Ok(s.clone()),
        Some(s) => Err(InitError::invalid("service name", s, "a non-empty name")),
        None => Ok(env
            .get("OTEL_SERVICE_NAME")?
            .unwrap_or_else(|| "unknown_service".to_string())),
    }
}

fn resource_attributes(o: &Overrides, env: &Env<'_>) -> Result<Vec<(String, String)>, InitError> {
    let mut attributes = match env.get("OTEL_RESOURCE_ATTRIBUTES")? {
        Some(v) => parse_key_values("OTEL_RESOURCE_ATTRIBUTES", &v)?,
        None => Vec::new(),
    };
    attributes.extend(o.resource_attributes.iter().cloned());
    Ok(attributes)
}

/// Where and how spans are sent.
struct Transport {
    exporter: Exporter,
    protocol: Protocol,
    endpoint: String,
    headers: Vec<(String, String)>,
    export_timeout: Duration,
    compression: Option<Compression>,
    tls: TlsFiles,
}

fn transport(o: &Overrides, env: &Env<'_>) -> Result<Transport, InitError> {
    let endpoint_env = env.first(&[
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_ENDPOINT",
    ])?;
    // Off by default: exporting needs an endpoint.
    let has_endpoint = o.endpoint.is_some() || endpoint_env.is_some();
    let exporter = pick(
        o.exporter,
        || traces_exporter(env),
        || match has_endpoint {
            true => Exporter::Otlp,
            false => Exporter::None,
        },
    )?;
    let given = o
        .endpoint
        .as_deref()
        .or(endpoint_env.as_ref().map(|(_, v)| v.as_str()));
    let protocol = match o.protocol {
        Some(p) => p,
        None => protocol(env, given)?,
    };
    let endpoint = endpoint(o, env, protocol, endpoint_env)?;
    let tls = tls_files(env)?;
    if endpoint.starts_with("https://") && !cfg!(feature = "tls") && exporter == Exporter::Otlp {
        return Err(InitError::invalid(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            endpoint.clone(),
            "an http:// URL in this build (for https, enable the cargo feature `tls` of agent-trace)",
        ));
    }
    Ok(Transport {
        exporter,
        protocol,
        endpoint,
        headers: headers(o, env)?,
        export_timeout: export_timeout(o, env)?,
        compression: pick(o.compression, || compression(env).map(Some), || None)?,
        tls,
    })
}

/// `OTEL_TRACES_EXPORTER`: the spec allows a list; one exporter at a time is supported.
fn traces_exporter(env: &Env<'_>) -> Result<Option<Exporter>, InitError> {
    let Some(v) = env.get("OTEL_TRACES_EXPORTER")? else {
        return Ok(None);
    };
    if v.contains(',') {
        return Err(InitError::invalid(
            "OTEL_TRACES_EXPORTER",
            v,
            "a single exporter: otlp, console or none",
        ));
    }
    parse_exporter("OTEL_TRACES_EXPORTER", v.trim()).map(Some)
}

/// The spec's default is http/protobuf; an endpoint on the well-known gRPC port means gRPC.
fn protocol(env: &Env<'_>, endpoint: Option<&str>) -> Result<Protocol, InitError> {
    let names = [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ];
    if let Some((name, v)) = env.first(&names)? {
        return parse_protocol(name, &v);
    }
    let port = endpoint
        .and_then(|e| e.parse::<http::Uri>().ok())
        .and_then(|u| u.port_u16());
    Ok(match port {
        Some(4317) => Protocol::Grpc,
        _ => Protocol::HttpProtobuf,
    })
}

/// The full URL spans go to.
fn endpoint(
    o: &Overrides,
    env: &Env<'_>,
    protocol: Protocol,
    endpoint_env: Option<(&'static str, String)>,
) -> Result<String, InitError> {
    // A gRPC endpoint without a scheme (`collector:4317`) is TLS unless `_INSECURE=true`, as
    // the specification says; HTTP endpoints must name their scheme.
    let insecure = env
        .first(&[
            "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
            "OTEL_EXPORTER_OTLP_INSECURE",
        ])?
        .map(|(name, v)| parse_bool(name, &v))
        .transpose()?
        .unwrap_or(false);
    let with_scheme = |raw: &str| -> String {
        if protocol == Protocol::Grpc && !raw.contains("://") {
            let scheme = if insecure { "http" } else { "https" };
            format!("{scheme}://{raw}")
        } else {
            raw.to_string()
        }
    };
    match (&o.endpoint, endpoint_env) {
        (Some(e), _) => resolve_endpoint("Builder::endpoint", &with_scheme(e), protocol, true),
        (None, Some((name, v))) => {
            // The signal-specific variable is used as-is (spec); the generic ones get the path.
            let append = name != "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
            resolve_endpoint(name, &with_scheme(&v), protocol, append)
        }
        (None, None) => Ok(match protocol {
            Protocol::Grpc => "http://localhost:4317".to_string(),
            Protocol::HttpProtobuf | Protocol::HttpJson => {
                "http://localhost:4318/v1/traces".to_string()
            }
        }),
    }
}

/// Generic headers, then the traces-specific ones, then the code's; later ones win.
fn headers(o: &Overrides, env: &Env<'_>) -> Result<Vec<(String, String)>, InitError> {
    let mut headers = match env.get("OTEL_EXPORTER_OTLP_HEADERS")? {
        Some(v) => parse_key_values("OTEL_EXPORTER_OTLP_HEADERS", &v)?,
        None => Vec::new(),
    };
    let specific = match env.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS")? {
        Some(v) => parse_key_values("OTEL_EXPORTER_OTLP_TRACES_HEADERS", &v)?,
        None => Vec::new(),
    };
    for (k, val) in specific.into_iter().chain(o.headers.iter().cloned()) {
        headers.retain(|(hk, _)| !hk.eq_ignore_ascii_case(&k));
        headers.push((k, val));
    }
    for (k, v) in &headers {
        if http::HeaderName::from_bytes(k.as_bytes()).is_err()
            || http::HeaderValue::from_str(v).is_err()
        {
            return Err(InitError::invalid(
                "OTEL_EXPORTER_OTLP_HEADERS",
                k.clone(),
                "header names and values valid in HTTP",
            ));
        }
    }
    Ok(headers)
}

fn export_timeout(o: &Overrides, env: &Env<'_>) -> Result<Duration, InitError> {
    let timeout = pick(
        o.export_timeout,
        || {
            Ok(env
                .millis("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")?
                .or(env.millis("OTEL_EXPORTER_OTLP_TIMEOUT")?))
        },
        || Duration::from_secs(10),
    )?;
    if timeout.is_zero() {
        return Err(InitError::invalid(
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "0",
            "a timeout greater than 0 ms (with 0 every export would fail)",
        ));
    }
    Ok(timeout)
}

/// `OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION`: `Ok(None)` when unset or `none`.
fn compression(env: &Env<'_>) -> Result<Option<Compression>, InitError> {
    let names = [
        "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
    ];
    let Some((name, v)) = env.first(&names)? else {
        return Ok(None);
    };
    match v.to_ascii_lowercase().as_str() {
        "none" => Ok(None),
        "gzip" if cfg!(feature = "gzip") => Ok(Some(Compression::Gzip)),
        "gzip" => Err(InitError::invalid(
            name,
            v,
            "none in this build (for gzip, enable the cargo feature `gzip` of agent-trace)",
        )),
        _ => Err(InitError::invalid(name, v, "gzip or none")),
    }
}

/// The PEM files for TLS: a CA to trust, and a client certificate with its key (both or
/// neither).
fn tls_files(env: &Env<'_>) -> Result<TlsFiles, InitError> {
    let path = |names: [&'static str; 2]| -> Result<Option<std::path::PathBuf>, InitError> {
        let Some((name, v)) = env.first(&names)? else {
            return Ok(None);
        };
        if !cfg!(feature = "tls") {
            return Err(InitError::invalid(
                name,
                v,
                "nothing in this build (for TLS, enable the cargo feature `tls` of agent-trace)",
            ));
        }
        let p = std::path::PathBuf::from(&v);
        if !p.is_file() {
            return Err(InitError::invalid(
                name,
                v,
                "the path of a readable PEM file",
            ));
        }
        Ok(Some(p))
    };
    let tls = TlsFiles {
        certificate: path([
            "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
        ])?,
        client_certificate: path([
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        ])?,
        client_key: path([
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        ])?,
    };
    if tls.client_certificate.is_some() != tls.client_key.is_some() {
        return Err(InitError::invalid(
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            "(one of certificate and key)",
            "both a client certificate and its key, or neither",
        ));
    }
    Ok(tls)
}

fn sampler(o: &Overrides, env: &Env<'_>) -> Result<Sampler, InitError> {
    let from_env = || -> Result<Option<Sampler>, InitError> {
        if let Some(v) = env.get("OTEL_TRACES_SAMPLER")? {
            let arg = env
                .get("OTEL_TRACES_SAMPLER_ARG")?
                .map(|a| ("OTEL_TRACES_SAMPLER_ARG", a));
            return parse_sampler(&v, arg).map(Some);
        }
        let rate = env.get("OTEL_SAMPLING_RATE")?;
        rate.map(|r| parse_ratio("OTEL_SAMPLING_RATE", &r).map(Sampler::ParentBasedTraceIdRatio))
            .transpose()
    };
    let sampler = pick(o.sampler, from_env, || Sampler::ParentBasedAlwaysOn)?;
    if let Sampler::TraceIdRatio(r) | Sampler::ParentBasedTraceIdRatio(r) = sampler {
        if !(0.0..=1.0).contains(&r) {
            return Err(InitError::invalid(
                "Builder::sampler",
                r.to_string(),
                "a ratio from 0.0 to 1.0",
            ));
        }
    }
    Ok(sampler)
}

fn propagators(env: &Env<'_>) -> Result<Option<Vec<Propagator>>, InitError> {
    env.get("OTEL_PROPAGATORS")?
        .map(|v| parse_propagators("OTEL_PROPAGATORS", &v))
        .transpose()
}

fn batch(o: &Overrides, env: &Env<'_>) -> Result<BatchConfig, InitError> {
    let d = BatchConfig::default();
    let batch = BatchConfig {
        max_queue_size: pick(
            o.max_queue_size,
            || env.positive("OTEL_BSP_MAX_QUEUE_SIZE"),
            || d.max_queue_size,
        )?,
        max_export_batch_size: pick(
            o.max_export_batch_size,
            || env.positive("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
            || d.max_export_batch_size,
        )?,
        schedule_delay: pick(
            o.schedule_delay,
            || env.millis("OTEL_BSP_SCHEDULE_DELAY"),
            || d.schedule_delay,
        )?,
        export_timeout: pick(
            None,
            || env.millis("OTEL_BSP_EXPORT_TIMEOUT"),
            || d.export_timeout,
        )?,
    };
    if batch.max_queue_size == 0 || batch.max_export_batch_size == 0 {
        return Err(InitError::invalid(
            "Builder::max_queue_size",
            "0",
            "a queue and batch size greater than 0",
        ));
    }
    // The spec requires batch <= queue; clamp rather than fail, as the SDKs do.
    Ok(BatchConfig {
        max_export_batch_size: batch.max_export_batch_size.min(batch.max_queue_size),
        ..batch
    })
}

/// (attribute value length, attribute count, event count) limits.
fn limits(o: &Overrides, env: &Env<'_>) -> Result<(usize, u32, u32), InitError> {
    let value = pick(
        o.attribute_value_limit,
        || {
            Ok(env
                .positive("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT")?
                .or(env.positive("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT")?))
        },
        || DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT,
    )?;
    let count = |name: &str| -> Result<Option<u32>, InitError> {
        env.positive(name)?
            .map(|n| {
                u32::try_from(n)
                    .map_err(|_| InitError::invalid(name, n.to_string(), "a number below 2^32"))
            })
            .transpose()
    };
    let attributes = count("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT")?
        .or(count("OTEL_ATTRIBUTE_COUNT_LIMIT")?)
        .unwrap_or(128);
    let events = count("OTEL_SPAN_EVENT_COUNT_LIMIT")?.unwrap_or(128);
    Ok((value, attributes, events))
}

fn log_format(env: &Env<'_>) -> Result<Option<LogFormat>, InitError> {
    let Some(v) = env.get("AGENT_TRACE_LOG_FORMAT")? else {
        return Ok(None);
    };
    match v.to_ascii_lowercase().as_str() {
        "text" => Ok(Some(LogFormat::Text)),
        "json" => Ok(Some(LogFormat::Json)),
        _ => Err(InitError::invalid(
            "AGENT_TRACE_LOG_FORMAT",
            v,
            "text or json",
        )),
    }
}

/// Metrics follow the traces: on when traces go to an OTLP collector, unless turned off;
/// `None` when off.
fn metrics_endpoint(
    o: &Overrides,
    env: &Env<'_>,
    disabled: bool,
    t: &Transport,
) -> Result<Option<String>, InitError> {
    let exporter = || -> Result<Option<bool>, InitError> {
        let Some(v) = env.get("OTEL_METRICS_EXPORTER")? else {
            return Ok(None);
        };
        match v.to_ascii_lowercase().as_str() {
            "otlp" => Ok(Some(true)),
            "none" => Ok(Some(false)),
            _ => Err(InitError::invalid(
                "OTEL_METRICS_EXPORTER",
                v,
                "otlp or none (metrics go over OTLP only)",
            )),
        }
    };
    let on = pick(o.metrics, exporter, || true)? && !disabled && t.exporter == Exporter::Otlp;
    if !on {
        return Ok(None);
    }
    if let Some(v) = env.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")? {
        let name = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
        return resolve_endpoint(name, &v, t.protocol, false).map(Some);
    }
    Ok(Some(match t.protocol {
        Protocol::Grpc => t.endpoint.clone(),
        Protocol::HttpProtobuf | Protocol::HttpJson => {
            match t.endpoint.strip_suffix("/v1/traces") {
                Some(base) => format!("{base}/v1/metrics"),
                None => t.endpoint.clone(),
            }
        }
    }))
}

/// Tail sampling, when asked for (`AGENT_TRACE_KEEP_ERRORS`, `AGENT_TRACE_KEEP_SLOWER_THAN`).
fn tail(o: &Overrides, env: &Env<'_>, sampler: Sampler) -> Result<Option<TailConfig>, InitError> {
    let keep_errors = pick(
        o.keep_errors,
        || env.bool("AGENT_TRACE_KEEP_ERRORS"),
        || false,
    )?;
    let keep_slower_than = match o.keep_slower_than {
        Some(d) => Some(d),
        None => env.millis("AGENT_TRACE_KEEP_SLOWER_THAN")?,
    };
    if !keep_errors && keep_slower_than.is_none() {
        return Ok(None);
    }
    Ok(Some(TailConfig {
        keep_errors,
        keep_slower_than,
        // The rest are kept at the configured head ratio, decided at the tail instead.
        ratio: match sampler {
            Sampler::TraceIdRatio(r) | Sampler::ParentBasedTraceIdRatio(r) => r,
            Sampler::AlwaysOff | Sampler::ParentBasedAlwaysOff => 0.0,
            _ => 1.0,
        },
        max_spans: env
            .positive("AGENT_TRACE_TAIL_MAX_SPANS")?
            .unwrap_or(10_000),
        max_traces: env
            .positive("AGENT_TRACE_TAIL_MAX_TRACES")?
            .unwrap_or(1_000),
    }))
}

/// Settings of the tail sampler.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TailConfig {
    pub(crate) keep_errors: bool,
    pub(crate) keep_slower_than: Option<Duration>,
    pub(crate) ratio: f64,
    pub(crate) max_spans: usize,
    pub(crate) max_traces: usize,
}

/// The resource of a service: the SDK's telemetry attributes, `extra`, and the name.
pub(crate) fn resource(
    service_name: &str,
    extra: &[(String, String)],
) -> opentelemetry_sdk::Resource {
    opentelemetry_sdk::Resource::builder_empty()
        .with_detector(Box::new(
            opentelemetry_sdk::resource::TelemetryResourceDetector,
        ))
        .with_attributes(
            extra
                .iter()
                .map(|(k, v)| opentelemetry::KeyValue::new(k.clone(), v.clone())),
        )
        .with_service_name(service_name.to_string())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn insecure_decides_the_scheme_of_a_grpc_endpoint_without_one() {
        let c = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
        ])
        .unwrap();
        assert_eq!(
            (c.protocol, c.endpoint.as_str()),
            (Protocol::Grpc, "http://collector:4317")
        );
        let c = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]);
        if cfg!(feature = "tls") {
            assert_eq!(c.unwrap().endpoint, "https://collector:4317");
        } else {
            assert!(c.unwrap_err().to_string().contains("cargo feature `tls`"));
        }
        // HTTP endpoints name their scheme.
        assert!(env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ])
        .is_err());
        assert!(env(&[("OTEL_EXPORTER_OTLP_INSECURE", "maybe")]).is_err());
    }

    #[test]
    fn otlp_transport_variables() {
        let c = env(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]).unwrap();
        assert_eq!(c.protocol, Protocol::HttpJson);
        assert_eq!(c.endpoint, "http://localhost:4318/v1/traces");
        let c = env(&[("OTEL_EXPORTER_OTLP_COMPRESSION", "none")]).unwrap();
        assert_eq!(c.compression, None);
        let gzip = env(&[("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip")]);
        if cfg!(feature = "gzip") {
            assert_eq!(gzip.unwrap().compression, Some(Compression::Gzip));
        } else {
            let e = gzip.unwrap_err().to_string();
            assert!(e.contains("cargo feature `gzip`"), "{e}");
        }
        // Settings that would make every export fail are named errors.
        for (var, value) in [
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:0"),
        ] {
            let e = env(&[(var, value)]).unwrap_err();
            assert_eq!(e.variable(), Some(var), "{e}");
        }
        // A client certificate without its key.
        let file = std::env::current_exe().unwrap();
        let file = file.to_str().unwrap();
        let one = env(&[("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", file)]);
        assert!(one.is_err());
        if cfg!(feature = "tls") {
            let c = env(&[("OTEL_EXPORTER_OTLP_CERTIFICATE", file)]).unwrap();
            assert_eq!(
                c.tls.certificate.as_deref(),
                Some(std::path::Path::new(file))
            );
        }
    }

    fn resolve_with(vars: &[(&str, &str)], o: Overrides) -> Result<Config, InitError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        resolve(&o, &move |k: &str| Ok(map.get(k).cloned()))
    }

    fn env(vars: &[(&str, &str)]) -> Result<Config, InitError> {
        resolve_with(vars, Overrides::default())
    }

    fn err_var(vars: &[(&str, &str)]) -> String {
        let e = env(vars).expect_err("should be rejected");
        let msg = e.to_string();
        assert!(
            msg.contains("expected"),
            "message says what is accepted: {msg}"
        );
        e.variable().unwrap().to_string()
    }

    #[test]
    fn defaults_are_off_with_tracecontext_and_baggage() {
        let c = env(&[]).unwrap();
        assert!(!c.exports());
        assert_eq!(c.exporter, Exporter::None);
        assert_eq!(c.sampler, Sampler::ParentBasedAlwaysOn);
        assert_eq!(
            c.propagators,
            vec![Propagator::TraceContext, Propagator::Baggage]
        );
        assert_eq!(c.batch, BatchConfig::default());
        assert_eq!(c.service_name, "unknown_service");
        assert_eq!(
            c.attribute_value_limit,
            DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT
        );
    }

    #[test]
    fn endpoint_alone_turns_otlp_on() {
        let c = env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")]).unwrap();
        assert_eq!(c.exporter, Exporter::Otlp);
        assert_eq!(c.protocol, Protocol::Grpc, "port 4317 means gRPC");
        assert_eq!(c.endpoint, "http://127.0.0.1:4317");
        let c = env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")]).unwrap();
        assert_eq!(c.protocol, Protocol::HttpProtobuf);
        assert_eq!(c.endpoint, "http://127.0.0.1:4318/v1/traces");
    }

    #[test]
    fn http_path_is_appended_once_and_traces_endpoint_is_used_as_is() {
        let c = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:9999/v1/traces"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ])
        .unwrap();
        assert_eq!(c.endpoint, "http://h:9999/v1/traces");
        let c = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:9999/otlp/"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ])
        .unwrap();
        assert_eq!(c.endpoint, "http://h:9999/otlp/v1/traces");
        let c = env(&[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://h:9999/custom"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://other:1"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ])
        .unwrap();
        assert_eq!(c.endpoint, "http://h:9999/custom");
    }

    #[test]
    fn python_era_aliases() {
        let c = env(&[("OTEL_EXPORTER_ENDPOINT", "http://127.0.0.1:4317")]).unwrap();
        assert_eq!(c.exporter, Exporter::Otlp);
        assert_eq!(c.endpoint, "http://127.0.0.1:4317");
        let c = env(&[("OTEL_SAMPLING_RATE", "0.25")]).unwrap();
        assert_eq!(c.sampler, Sampler::ParentBasedTraceIdRatio(0.25));
        let c = env(&[
            ("OTEL_ENABLED", "false"),
            ("OTEL_TRACES_EXPORTER", "console"),
        ])
        .unwrap();
        assert!(c.disabled && !c.exports());
        let c = env(&[
            ("OTEL_ENABLED", "true"),
            ("OTEL_TRACES_EXPORTER", "console"),
        ])
        .unwrap();
        assert!(c.exports());
        // The standard name wins over the alias.
        let c = env(&[
            ("OTEL_SAMPLING_RATE", "0.25"),
            ("OTEL_TRACES_SAMPLER", "always_off"),
        ])
        .unwrap();
        assert_eq!(c.sampler, Sampler::AlwaysOff);
        assert_eq!(
            err_var(&[("OTEL_SAMPLING_RATE", "2")]),
            "OTEL_SAMPLING_RATE"
        );
        assert_eq!(err_var(&[("OTEL_ENABLED", "maybe")]), "OTEL_ENABLED");
    }

    #[test]
    fn each_variable_is_honoured() {
        let c = env(&[
            ("OTEL_SDK_DISABLED", "TRUE"),
            ("OTEL_SERVICE_NAME", "svc"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=dev,team=a%20b",
            ),
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20x,x-a=1",
            ),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "X-A=2"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "1500"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
            (
                "OTEL_PROPAGATORS",
                "b3, jaeger,b3multi,tracecontext,baggage,b3",
            ),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "500"),
            ("OTEL_BSP_SCHEDULE_DELAY", "20"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "700"),
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "64"),
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "10"),
            ("OTEL_SPAN_EVENT_COUNT_LIMIT", "11"),
            ("AGENT_TRACE_LOG_FORMAT", "json"),
        ])
        .unwrap();
        assert!(c.disabled);
        assert_eq!(c.service_name, "svc");
        assert_eq!(
            c.resource_attributes,
            vec![
                ("deployment.environment".into(), "dev".into()),
                ("team".into(), "a b".into())
            ]
        );
        assert_eq!(c.exporter, Exporter::Console);
        assert_eq!(c.protocol, Protocol::Grpc);
        assert_eq!(
            c.headers,
            vec![
                ("authorization".into(), "Bearer x".into()),
                ("X-A".into(), "2".into())
            ]
        );
        assert_eq!(c.export_timeout, Duration::from_millis(1500));
        assert_eq!(c.sampler, Sampler::ParentBasedTraceIdRatio(0.5));
        assert_eq!(
            c.propagators,
            vec![
                Propagator::B3,
                Propagator::Jaeger,
                Propagator::B3Multi,
                Propagator::TraceContext,
                Propagator::Baggage
            ]
        );
        assert_eq!(c.batch.max_queue_size, 100);
        assert_eq!(c.batch.max_export_batch_size, 100, "clamped to the queue");
        assert_eq!(c.batch.schedule_delay, Duration::from_millis(20));
        assert_eq!(c.batch.export_timeout, Duration::from_millis(700));
        assert_eq!(c.attribute_value_limit, 64);
        assert_eq!(c.attribute_count_limit, 10);
        assert_eq!(c.event_count_limit, 11);
        assert_eq!(c.log_format, LogFormat::Json);
        let c = env(&[("OTEL_PROPAGATORS", "none")]).unwrap();
        assert!(c.propagators.is_empty());
    }

    #[test]
    fn every_invalid_value_names_its_variable() {
        let cases: &[(&str, &str)] = &[
            ("OTEL_SDK_DISABLED", "yes please"),
            ("OTEL_TRACES_EXPORTER", "jaeger"),
            ("OTEL_TRACES_EXPORTER", "otlp,console"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://h:1"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "not a url"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/xml"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:0"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/no/such/ca.pem"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "udp"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "novalue"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "=v"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "k=%zz"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "k"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "-1"),
            ("OTEL_TRACES_SAMPLER", "jaeger_remote"),
            ("OTEL_RESOURCE_ATTRIBUTES", "a=1,b"),
            ("OTEL_PROPAGATORS", "tracecontext,xray"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "0"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "lots"),
            ("OTEL_BSP_SCHEDULE_DELAY", "1.5"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "x"),
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "-5"),
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "0"),
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "99999999999"),
            ("OTEL_SPAN_EVENT_COUNT_LIMIT", "many"),
            ("AGENT_TRACE_LOG_FORMAT", "xml"),
        ];
        for (var, value) in cases {
            assert_eq!(&err_var(&[(var, value)]), var, "{var}={value}");
        }
        // The sampler argument is checked against the sampler that uses it.
        assert_eq!(
            err_var(&[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "1.5")
            ]),
            "OTEL_TRACES_SAMPLER_ARG"
        );
        assert_eq!(
            err_var(&[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "NaN")
            ]),
            "OTEL_TRACES_SAMPLER_ARG"
        );
    }

    #[test]
    fn non_unicode_is_a_named_error() {
        let e = resolve(&Overrides::default(), &|k: &str| {
            if k == "OTEL_SERVICE_NAME" {
                Err(InitError::NotUnicode {
                    variable: k.to_string(),
                })
            } else {
                Ok(None)
            }
        })
        .unwrap_err();
        assert_eq!(e.variable(), Some("OTEL_SERVICE_NAME"));
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = env(&[("OTEL_TRACES_SAMPLER", " "), ("OTEL_SERVICE_NAME", "")]).unwrap();
        assert_eq!(c.sampler, Sampler::ParentBasedAlwaysOn);
        assert_eq!(c.service_name, "unknown_service");
    }

    #[test]
    fn metrics_follow_the_traces_endpoint() {
        let c = env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4318")]).unwrap();
        assert_eq!(
            c.metrics_endpoint.as_deref(),
            Some("http://h:4318/v1/metrics")
        );
        let c = env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4317")]).unwrap();
        assert_eq!(c.metrics_endpoint.as_deref(), Some("http://h:4317"));
        let c = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4317"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ])
        .unwrap();
        assert_eq!(c.metrics_endpoint, None);
        let c = env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4318"),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m:9/custom"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "250"),
        ])
        .unwrap();
        assert_eq!(c.metrics_endpoint.as_deref(), Some("http://m:9/custom"));
        assert_eq!(c.metrics_interval, Duration::from_millis(250));
        assert_eq!(
            env(&[]).unwrap().metrics_endpoint,
            None,
            "off with tracing off"
        );
        let c = env(&[("OTEL_TRACES_EXPORTER", "console")]).unwrap();
        assert_eq!(c.metrics_endpoint, None, "OTLP only");
        assert_eq!(
            err_var(&[("OTEL_METRICS_EXPORTER", "prometheus")]),
            "OTEL_METRICS_EXPORTER"
        );
        assert_eq!(
            err_var(&[("OTEL_METRIC_EXPORT_INTERVAL", "1m")]),
            "OTEL_METRIC_EXPORT_INTERVAL"
        );
    }

    #[test]
    fn code_overrides_env() {
        let o = Overrides {
            service_name: Some("code".into()),
            exporter: Some(Exporter::Console),
            sampler: Some(Sampler::AlwaysOff),
            max_queue_size: Some(7),
            headers: vec![("x-a".into(), "code".into())],
            ..Overrides::default()
        };
        let c = resolve_with(
            &[
                ("OTEL_SERVICE_NAME", "env"),
                ("OTEL_TRACES_EXPORTER", "none"),
                ("OTEL_TRACES_SAMPLER", "always_on"),
                ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "X-A=env"),
            ],
            o,
        )
        .unwrap();
        assert_eq!(c.service_name, "code");
        assert_eq!(c.exporter, Exporter::Console);
        assert_eq!(c.sampler, Sampler::AlwaysOff);
        assert_eq!(c.batch.max_queue_size, 7);
        assert_eq!(c.headers, vec![("x-a".into(), "code".into())]);
    }

    #[test]
    fn invalid_code_values_name_the_builder_method() {
        let o = Overrides {
            endpoint: Some("nope".into()),
            ..Overrides::default()
        };
        let e = resolve_with(&[], o).unwrap_err();
        assert_eq!(e.variable(), Some("Builder::endpoint"));
        let o = Overrides {
            sampler: Some(Sampler::TraceIdRatio(-1.0)),
            ..Overrides::default()
        };
        assert_eq!(
            resolve_with(&[], o).unwrap_err().variable(),
            Some("Builder::sampler")
        );
    }
}
