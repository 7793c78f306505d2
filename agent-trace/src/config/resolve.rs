//! `resolve`: the code's overrides, then the environment, then the defaults, one short
//! function per section (transport, sampler, batch, limits, metrics, tail, redaction). Each
//! error names the variable or builder method the bad value came from.

use std::time::Duration;

use super::endpoint::resolve_endpoint;
use super::env::*;
use super::error::InitError;
use super::types::*;

/// `OTEL_TRACES_SAMPLER`, with the ratio from `arg` for the ratio samplers (default 1.0).
fn parse_sampler(v: &str, arg: Option<(&str, String)>) -> Result<Sampler, InitError> {
    let ratio = || match &arg {
        Some((name, a)) => parse_ratio(name, a),
        None => Ok(1.0),
    };
    Ok(match choose(OTEL_TRACES_SAMPLER, v, &SAMPLERS)? {
        Sampler::TraceIdRatio(_) => Sampler::TraceIdRatio(ratio()?),
        Sampler::ParentBasedTraceIdRatio(_) => Sampler::ParentBasedTraceIdRatio(ratio()?),
        Sampler::Probability(_) => Sampler::Probability(ratio()?),
        Sampler::ParentBasedProbability(_) => Sampler::ParentBasedProbability(ratio()?),
        other => other,
    })
}

/// The redaction rules: the defaults (unless `AGENT_TRACE_REDACT_DEFAULTS=false`), then the
/// environment's, then the code's. Each pattern must be a regular expression.
fn redaction(o: &Overrides, env: &Env<'_>) -> Result<Option<Redaction>, InitError> {
    let defaults = env.bool(AGENT_TRACE_REDACT_DEFAULTS)?.unwrap_or(true);
    let mut keys: Vec<String> = Vec::new();
    let mut patterns: Vec<String> = Vec::new();
    if defaults {
        keys.extend(DEFAULT_REDACT_KEYS.iter().map(|k| k.to_string()));
        patterns.extend(DEFAULT_REDACT_PATTERNS.iter().map(|p| p.to_string()));
    }
    if let Some(v) = env.get(AGENT_TRACE_REDACT_KEYS)? {
        keys.extend(
            v.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(String::from),
        );
    }
    let env_pattern = env.get(AGENT_TRACE_REDACT_PATTERN)?;
    let given = env_pattern
        .iter()
        .map(|p| (AGENT_TRACE_REDACT_PATTERN, p))
        .chain(
            o.redact_patterns
                .iter()
                .map(|p| ("Builder::redact_pattern", p)),
        );
    for (source, p) in given {
        regex::Regex::new(p).map_err(|e| {
            InitError::invalid(source, p.clone(), format!("a regular expression ({e})"))
        })?;
        patterns.push(p.clone());
    }
    keys.extend(o.redact_keys.iter().cloned());
    if keys.is_empty() && patterns.is_empty() {
        return Ok(None);
    }
    Ok(Some(Redaction { keys, patterns }))
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
    let tail = tail(o, &env, sampler)?;
    let pending_spans = pending_spans(o, &env, &transport, tail.is_some())?;
    let logs = super::logs::resolve(
        &env,
        disabled,
        transport.exporter,
        transport.protocol,
        &transport.endpoint,
    )?;
    Ok(Config {
        service_name: service_name(o, &env)?,
        disabled,
        redaction: redaction(o, &env)?,
        openinference: pick(
            o.openinference,
            || env.bool(AGENT_TRACE_OPENINFERENCE),
            || false,
        )?,
        library_root_spans: env.bool(AGENT_TRACE_LIBRARY_ROOT_SPANS)?.unwrap_or(false),
        bridge_details: env.bool(AGENT_TRACE_BRIDGE_DETAILS)?.unwrap_or(false),
        propagators: pick(
            o.propagators.clone(),
            || propagators(&env),
            || vec![Propagator::TraceContext, Propagator::Baggage],
        )?,
        resource_attributes: resource_attributes(o, &env)?,
        batch: batch(o, &env)?,
        attribute_value_limit: limits.attribute_value,
        attribute_count_limit: limits.attribute_count,
        event_count_limit: limits.event_count,
        log_format: pick(o.log_format, || log_format(&env), || LogFormat::Text)?,
        install_subscriber: o.install_subscriber.unwrap_or(true),
        tail,
        pending_spans,
        prices: super::prices::resolve(o, &env)?,
        logs,
        sampler,
        metrics_endpoint,
        // A zero interval makes the SDK's periodic reader export in a loop: raised, like a
        // too-short one, to the floor.
        metrics_interval: pick(
            o.metrics_interval,
            || env.millis(OTEL_METRIC_EXPORT_INTERVAL),
            || Duration::from_secs(60),
        )?
        .max(MIN_METRIC_EXPORT_INTERVAL),
        capture_message_content: pick(
            o.capture_message_content,
            || env.bool(OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT),
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
    let sdk_disabled = env.bool(OTEL_SDK_DISABLED)?;
    let enabled_alias = env.bool(OTEL_ENABLED)?;
    Ok(sdk_disabled.unwrap_or(false) || enabled_alias == Some(false))
}

fn service_name(o: &Overrides, env: &Env<'_>) -> Result<String, InitError> {
    match &o.service_name {
        Some(s) if !s.trim().is_empty() => Ok(s.clone()),
        Some(s) => Err(InitError::invalid("service name", s, "a non-empty name")),
        None => Ok(env
            .get(OTEL_SERVICE_NAME)?
            .unwrap_or_else(|| "unknown_service".to_string())),
    }
}

fn resource_attributes(o: &Overrides, env: &Env<'_>) -> Result<Vec<(String, String)>, InitError> {
    let mut attributes = match env.get(OTEL_RESOURCE_ATTRIBUTES)? {
        Some(v) => parse_key_values(OTEL_RESOURCE_ATTRIBUTES, &v)?,
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
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
        OTEL_EXPORTER_OTLP_ENDPOINT,
        OTEL_EXPORTER_ENDPOINT,
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
    // Where the URL came from, for the error below.
    let source = match (&o.endpoint, &endpoint_env) {
        (Some(_), _) => "Builder::endpoint",
        (None, Some((name, _))) => name,
        (None, None) => OTEL_EXPORTER_OTLP_ENDPOINT,
    };
    let endpoint = endpoint(o, env, protocol, endpoint_env)?;
    let tls = tls_files(env)?;
    if endpoint.starts_with("https://") && !cfg!(feature = "tls") && exporter == Exporter::Otlp {
        return Err(InitError::invalid(
            source,
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
    let Some(v) = env.get(OTEL_TRACES_EXPORTER)? else {
        return Ok(None);
    };
    if v.contains(',') {
        return Err(InitError::invalid(
            OTEL_TRACES_EXPORTER,
            v,
            format!("a single exporter: {}", listing(EXPORTERS.map(|(w, _)| w))),
        ));
    }
    choose(OTEL_TRACES_EXPORTER, v.trim(), &EXPORTERS).map(Some)
}

/// The spec's default is http/protobuf; an endpoint on the well-known gRPC port means gRPC.
fn protocol(env: &Env<'_>, endpoint: Option<&str>) -> Result<Protocol, InitError> {
    let names = [
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
        OTEL_EXPORTER_OTLP_PROTOCOL,
    ];
    if let Some((name, v)) = env.first(&names)? {
        return choose(name, &v, &PROTOCOLS);
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
            OTEL_EXPORTER_OTLP_TRACES_INSECURE,
            OTEL_EXPORTER_OTLP_INSECURE,
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
            let append = name != OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
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
    let mut headers = match env.get(OTEL_EXPORTER_OTLP_HEADERS)? {
        Some(v) => parse_key_values(OTEL_EXPORTER_OTLP_HEADERS, &v)?,
        None => Vec::new(),
    };
    let specific = match env.get(OTEL_EXPORTER_OTLP_TRACES_HEADERS)? {
        Some(v) => parse_key_values(OTEL_EXPORTER_OTLP_TRACES_HEADERS, &v)?,
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
                OTEL_EXPORTER_OTLP_HEADERS,
                k.clone(),
                "header names and values valid in HTTP",
            ));
        }
    }
    Ok(headers)
}

fn export_timeout(o: &Overrides, env: &Env<'_>) -> Result<Duration, InitError> {
    let (source, timeout) = match o.export_timeout {
        Some(t) => ("Builder::export_timeout", Some(t)),
        None => match env.millis(OTEL_EXPORTER_OTLP_TRACES_TIMEOUT)? {
            Some(t) => (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, Some(t)),
            None => (
                OTEL_EXPORTER_OTLP_TIMEOUT,
                env.millis(OTEL_EXPORTER_OTLP_TIMEOUT)?,
            ),
        },
    };
    let timeout = timeout.unwrap_or(Duration::from_secs(10));
    if timeout.is_zero() {
        return Err(InitError::invalid(
            source,
            "0",
            "a timeout greater than 0 ms (with 0 every export would fail)",
        ));
    }
    Ok(timeout)
}

/// `OTEL_EXPORTER_OTLP_(TRACES_)COMPRESSION`: `Ok(None)` when unset or `none`.
fn compression(env: &Env<'_>) -> Result<Option<Compression>, InitError> {
    let names = [
        OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
        OTEL_EXPORTER_OTLP_COMPRESSION,
    ];
    let Some((name, v)) = env.first(&names)? else {
        return Ok(None);
    };
    let choices = COMPRESSION_NAMES.map(|w| (w, w));
    match choose(name, &v, &choices)? {
        "gzip" if cfg!(feature = "gzip") => Ok(Some(Compression::Gzip)),
        "gzip" => Err(InitError::invalid(
            name,
            v,
            "none in this build (for gzip, enable the cargo feature `gzip` of agent-trace)",
        )),
        _ => Ok(None),
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
            OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE,
            OTEL_EXPORTER_OTLP_CERTIFICATE,
        ])?,
        client_certificate: path([
            OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE,
            OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
        ])?,
        client_key: path([
            OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY,
            OTEL_EXPORTER_OTLP_CLIENT_KEY,
        ])?,
    };
    if tls.client_certificate.is_some() != tls.client_key.is_some() {
        return Err(InitError::invalid(
            OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
            "(one of certificate and key)",
            "both a client certificate and its key, or neither",
        ));
    }
    Ok(tls)
}

fn sampler(o: &Overrides, env: &Env<'_>) -> Result<Sampler, InitError> {
    let from_env = || -> Result<Option<Sampler>, InitError> {
        if let Some(v) = env.get(OTEL_TRACES_SAMPLER)? {
            let arg = env
                .get(OTEL_TRACES_SAMPLER_ARG)?
                .map(|a| (OTEL_TRACES_SAMPLER_ARG, a));
            return parse_sampler(&v, arg).map(Some);
        }
        let rate = env.get(OTEL_SAMPLING_RATE)?;
        rate.map(|r| parse_ratio(OTEL_SAMPLING_RATE, &r).map(Sampler::ParentBasedTraceIdRatio))
            .transpose()
    };
    let sampler = pick(o.sampler, from_env, || Sampler::ParentBasedAlwaysOn)?;
    if let Some(r) = sampler.ratio() {
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
    env.get(OTEL_PROPAGATORS)?
        .map(|v| parse_propagators(OTEL_PROPAGATORS, &v))
        .transpose()
}

fn batch(o: &Overrides, env: &Env<'_>) -> Result<BatchConfig, InitError> {
    let d = BatchConfig::default();
    let batch = BatchConfig {
        max_queue_size: pick(
            o.max_queue_size,
            || env.positive(OTEL_BSP_MAX_QUEUE_SIZE),
            || d.max_queue_size,
        )?,
        max_export_batch_size: pick(
            o.max_export_batch_size,
            || env.positive(OTEL_BSP_MAX_EXPORT_BATCH_SIZE),
            || d.max_export_batch_size,
        )?,
        schedule_delay: pick(
            o.schedule_delay,
            || env.millis(OTEL_BSP_SCHEDULE_DELAY),
            || d.schedule_delay,
        )?,
        export_timeout: pick(
            None,
            || env.millis(OTEL_BSP_EXPORT_TIMEOUT),
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

/// The span limits: characters per attribute value, attributes and events per span.
struct Limits {
    attribute_value: usize,
    attribute_count: u32,
    event_count: u32,
}

fn limits(o: &Overrides, env: &Env<'_>) -> Result<Limits, InitError> {
    let value = pick(
        o.attribute_value_limit,
        || {
            Ok(env
                .positive(OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT)?
                .or(env.positive(OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT)?))
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
    let attributes = count(OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT)?
        .or(count(OTEL_ATTRIBUTE_COUNT_LIMIT)?)
        .unwrap_or(128);
    let events = count(OTEL_SPAN_EVENT_COUNT_LIMIT)?.unwrap_or(128);
    Ok(Limits {
        attribute_value: value,
        attribute_count: attributes,
        event_count: events,
    })
}

fn log_format(env: &Env<'_>) -> Result<Option<LogFormat>, InitError> {
    env.choice(AGENT_TRACE_LOG_FORMAT, &LOG_FORMATS)
}

/// Metrics follow the traces: on when traces go to an OTLP collector, unless turned off;
/// `None` when off.
fn metrics_endpoint(
    o: &Overrides,
    env: &Env<'_>,
    disabled: bool,
    t: &Transport,
) -> Result<Option<String>, InitError> {
    let exporter = || env.choice(OTEL_METRICS_EXPORTER, &METRICS_EXPORTERS);
    let on = pick(o.metrics, exporter, || true)? && !disabled && t.exporter == Exporter::Otlp;
    if !on {
        return Ok(None);
    }
    if let Some(v) = env.get(OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)? {
        let name = OTEL_EXPORTER_OTLP_METRICS_ENDPOINT;
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
        || env.bool(AGENT_TRACE_KEEP_ERRORS),
        || false,
    )?;
    let keep_slower_than = match o.keep_slower_than {
        Some(d) => Some(d),
        None => env.millis(AGENT_TRACE_KEEP_SLOWER_THAN)?,
    };
    if !keep_errors && keep_slower_than.is_none() {
        return Ok(None);
    }
    Ok(Some(TailConfig {
        keep_errors,
        keep_slower_than,
        // The rest are kept at the configured head ratio, decided at the tail instead.
        ratio: match sampler {
            Sampler::AlwaysOff | Sampler::ParentBasedAlwaysOff => 0.0,
            s => s.ratio().unwrap_or(1.0),
        },
        head_decides: sampler.is_consistent(),
        max_spans: env.positive(AGENT_TRACE_TAIL_MAX_SPANS)?.unwrap_or(10_000),
        max_traces: env.positive(AGENT_TRACE_TAIL_MAX_TRACES)?.unwrap_or(1_000),
    }))
}

/// Pending-span markers (`AGENT_TRACE_PENDING_SPANS`), kept only where they cannot reach
/// another backend: the OTLP endpoint is a loopback address (where `agent-trace view`
/// listens) and tail sampling is off (a marker of a trace the tail sampler leaves out would
/// stay "running" for ever). The console exporter never gets them (it would draw them as
/// spans); a custom exporter does when asked for: its owner chose it.
fn pending_spans(
    o: &Overrides,
    env: &Env<'_>,
    transport: &Transport,
    tail: bool,
) -> Result<bool, InitError> {
    let asked = pick(
        o.pending_spans,
        || env.bool(AGENT_TRACE_PENDING_SPANS),
        || false,
    )?;
    let local = match transport.exporter {
        Exporter::Otlp => is_loopback_url(&transport.endpoint),
        Exporter::Console => false,
        Exporter::None => true,
    };
    Ok(asked && local && !tail)
}

/// Whether `url`'s host is `localhost` or a loopback IP address (`127.0.0.0/8`, `::1`).
pub(crate) fn is_loopback_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return false;
    };
    match uri.host() {
        Some(h) if h.eq_ignore_ascii_case("localhost") => true,
        Some(h) => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
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
