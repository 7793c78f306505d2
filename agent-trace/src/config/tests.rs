//! Tests of the configuration reader.

use super::*;
use std::collections::HashMap;
use std::time::Duration;

use super::env::{Values, ALL, BOOL_WORDS};

use super::types::*;

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
    // Zero would make the periodic reader spin: raised to the floor.
    let c = env(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "0"),
    ])
    .unwrap();
    assert_eq!(c.metrics_interval, Duration::from_millis(100));
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

/// Pending-span markers only where no other backend can receive them: a loopback endpoint,
/// tail sampling off.
#[test]
fn pending_spans_only_to_a_loopback_endpoint_without_tail_sampling() {
    let on = |vars: &[(&str, &str)]| env(vars).unwrap().pending_spans;
    let asked = ("AGENT_TRACE_PENDING_SPANS", "true");
    for local in [
        "http://127.0.0.1:4318",
        "http://localhost:4317",
        "http://[::1]:4318",
        "http://127.3.2.1:4318",
    ] {
        assert!(
            on(&[asked, ("OTEL_EXPORTER_OTLP_ENDPOINT", local)]),
            "{local}"
        );
        assert!(!on(&[("OTEL_EXPORTER_OTLP_ENDPOINT", local)]), "not asked");
    }
    for remote in [
        "http://collector:4318",
        "http://10.0.0.1:4317",
        "http://localhost.example.com:4318",
    ] {
        assert!(
            !on(&[asked, ("OTEL_EXPORTER_OTLP_ENDPOINT", remote)]),
            "{remote}"
        );
    }
    assert!(!on(&[
        asked,
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
        ("AGENT_TRACE_KEEP_ERRORS", "true"),
    ]));
    assert!(
        !on(&[asked, ("OTEL_TRACES_EXPORTER", "console")]),
        "the console would draw markers as spans"
    );
    let o = Overrides {
        pending_spans: Some(true),
        endpoint: Some("http://127.0.0.1:4318".into()),
        ..Overrides::default()
    };
    assert!(resolve_with(&[], o).unwrap().pending_spans);
    assert_eq!(
        err_var(&[("AGENT_TRACE_PENDING_SPANS", "maybe")]),
        "AGENT_TRACE_PENDING_SPANS"
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

/// The rows of the first Markdown table under `heading` in `doc`, as (first cell, whole row).
fn table_rows<'a>(doc: &'a str, heading: &str) -> Vec<(&'a str, &'a str)> {
    let start = doc
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} section"));
    doc[start..]
        .lines()
        .skip_while(|l| !l.starts_with("| variable"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|row| {
            let first = row.trim_start_matches('|').split('|').next().unwrap_or("");
            (first, row)
        })
        .collect()
}

/// The crate docs' lines with their `//! ` prefix removed.
fn crate_docs() -> String {
    include_str!("../lib.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every variable the reader accepts has a row in docs/configuration.md's and the crate docs'
/// configuration tables, named in full in the first cell, and every word a variable accepts
/// is listed in its row; the boolean words are listed once, under the table.
#[test]
fn every_variable_and_value_is_in_both_configuration_tables() {
    let readme = include_str!("../../../docs/configuration.md");
    let docs = crate_docs();
    for (doc_name, doc, heading) in [
        ("docs/configuration.md", readme, "## Configuration"),
        ("the crate docs", docs.as_str(), "# Configuration"),
    ] {
        let rows = table_rows(doc, heading);
        assert!(rows.len() > 10, "{doc_name}: configuration table not found");
        for var in ALL.iter().filter(|v| v.values != Values::Internal) {
            let quoted = format!("`{}`", var.name);
            let row = rows
                .iter()
                .find(|(first, _)| first.contains(&quoted))
                .map(|(_, row)| *row)
                .unwrap_or_else(|| panic!("{doc_name}: no row names {quoted}"));
            let words = match var.values {
                Values::OneOf(words) | Values::ListOf(words) => words,
                _ => &[],
            };
            for word in words {
                assert!(
                    row.contains(&format!("`{word}`")),
                    "{doc_name}: the row of {} does not list `{word}`",
                    var.name
                );
            }
        }
        // No row names a variable the reader does not know.
        for (first, _) in &rows {
            for name in first.split('`').skip(1).step_by(2) {
                assert!(
                    ALL.iter().any(|v| v.name == name),
                    "{doc_name} documents {name}, which agent-trace does not read"
                );
            }
        }
        let after = &doc[doc.find(heading).unwrap_or(0)..];
        let bools = after
            .lines()
            .find(|l| l.contains("Boolean variables"))
            .unwrap_or_else(|| panic!("{doc_name}: no line about boolean variables"));
        for (word, _) in BOOL_WORDS {
            assert!(bools.contains(&format!("`{word}`")), "{doc_name}: `{word}`");
        }
    }
}

/// No variable name is spelled in code outside `env.rs` (doc examples may show one): the
/// reader, the builder and every other module use the constants, so a rename is one edit.
#[test]
fn variable_names_are_spelled_only_in_env_rs() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.ends_with("config/env.rs") || path.ends_with("config/tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            let code: String = text
                .split("#[cfg(test)]")
                .next()
                .unwrap_or("")
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect();
            for var in ALL {
                let literal = format!("\"{}\"", var.name);
                assert!(
                    !code.contains(&literal),
                    "{} spells {literal}: use config::env::{}",
                    path.display(),
                    var.name
                );
            }
        }
    }
}

/// Each builder setter that names its variable names one the reader knows.
#[test]
fn builder_docs_name_known_variables() {
    let builder = include_str!("../install.rs");
    let mut named = 0;
    for line in builder.lines() {
        if let Some(rest) = line.split("Corresponding environment variable").nth(1) {
            for name in rest.split('`').skip(1).step_by(2) {
                assert!(
                    ALL.iter().any(|v| v.name == name),
                    "the builder docs name {name}, which agent-trace does not read"
                );
                named += 1;
            }
        }
    }
    assert!(
        named >= 15,
        "only {named} builder setters name their variable"
    );
}

/// The consistent probability samplers by environment value, with their ratio, named by the
/// startup line; with tail sampling the tail keeps what the head sampled.
#[test]
fn probability_samplers_are_chosen_by_their_environment_values() {
    let c = env(&[
        ("OTEL_TRACES_SAMPLER", "parentbased_probability"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.1"),
        ("OTEL_TRACES_EXPORTER", "console"),
    ])
    .unwrap();
    assert_eq!(c.sampler, Sampler::ParentBasedProbability(0.1));
    assert!(
        super::report::outcome(&c, false).contains("sampler parentbased_probability 0.1"),
        "{}",
        super::report::outcome(&c, false)
    );
    let c = env(&[("OTEL_TRACES_SAMPLER", "probability")]).unwrap();
    assert_eq!(c.sampler, Sampler::Probability(1.0));
    assert_eq!(
        err_var(&[
            ("OTEL_TRACES_SAMPLER", "probability"),
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
        ]),
        "OTEL_TRACES_SAMPLER_ARG"
    );
    let c = env(&[
        ("OTEL_TRACES_SAMPLER", "parentbased_probability"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
        ("AGENT_TRACE_KEEP_ERRORS", "true"),
    ])
    .unwrap();
    let tail = c.tail.expect("tail sampling");
    assert!(tail.head_decides);
    assert_eq!(tail.ratio, 0.25);
}
