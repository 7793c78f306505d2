//! The conformance check: the demo runs as a user runs it (content capture and metrics on),
//! its processes export over real OTLP to a receiver here, and every span and metric point
//! is checked against the semantic conventions' registry in `semconv/` (read from its YAML)
//! plus agent-trace's own registry (`semconv/agent-trace/registry.yaml`).

mod common;

use std::time::Duration;

use agent_trace::receiver::OtlpReceiver;
use agent_trace_tests::semconv::{self, Severity};
use agent_trace_tests::RedisServer;

/// The span types of the conventions (and agent-trace's registry) the demo makes, sorted.
const DEMO_SPAN_TYPES: [&str; 13] = [
    "a2a.client",
    "a2a.server",
    "agent_trace.phase",
    "gen_ai.client.inference",
    "gen_ai.execute_tool.internal",
    "gen_ai.invocation.internal",
    "gen_ai.invoke_agent.client",
    "mcp.client",
    "mcp.server",
    "messaging.process.consumer",
    "messaging.send.producer",
    "span.http.client",
    "span.http.server",
];

#[test]
fn demo_spans_and_metrics_follow_the_registry() {
    let demo_registry = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("semconv");
    let reg = semconv::load(&[demo_registry]);
    assert!(
        reg.spans.len() > 20 && reg.metrics.len() > 10,
        "registry read"
    );
    let rx = OtlpReceiver::start().expect("receiver");
    let redis = RedisServer::start_or_skip("conformance of the queue hop");
    common::run_demo(
        &rx,
        redis.as_ref(),
        &[
            ("OTEL_METRICS_EXPORTER", "otlp"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "100"),
            ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true"),
            ("OTEL_LOGS_EXPORTER", "otlp"),
        ],
    );
    let requests = rx.take_requests();
    let mut report = semconv::check_spans(&reg, &requests);
    let metrics = rx.wait_for_metric("gen_ai.client.operation.duration", Duration::from_secs(5));
    semconv::check_metrics(&reg, &metrics, &mut report);
    println!("{}", report.render());
    docs_document_every_key_and_kind(&reg, &requests);
    // Every span type the demo makes, by name: losing its MCP, HTTP or messaging spans fails
    // here, and a span of no type ("-") would be a violation below.
    let seen: Vec<&str> = report.span_types.keys().map(String::as_str).collect();
    assert_eq!(seen, DEMO_SPAN_TYPES, "{:?}", report.span_types);
    a_streamed_chat_is_checked(&requests, &metrics);
    log_records_use_defined_keys(&reg, &rx);
    assert_eq!(report.count(Severity::Violation), 0, "{}", report.render());
}

/// The log records (the application's events and the GenAI evaluation event) carry only keys
/// a registry defines, with the type it gives: the evaluation's from the GenAI registry, the
/// events' fields from the demo's.
fn log_records_use_defined_keys(reg: &semconv::Registry, rx: &OtlpReceiver) {
    let logs = rx.wait_for_logs(3, Duration::from_secs(5));
    let evaluations: Vec<_> = logs
        .iter()
        .filter(|l| l.event_name == "gen_ai.evaluation.result")
        .collect();
    assert_eq!(evaluations.len(), 1, "the routing evaluation");
    let mut undefined = std::collections::BTreeSet::new();
    for l in &logs {
        for (key, _) in &l.attributes {
            if reg.attribute(key).is_none() {
                undefined.insert(format!("{key} (on {:?})", l.body));
            }
        }
    }
    assert!(
        undefined.is_empty(),
        "log record keys no registry defines: {undefined:#?}"
    );
    let score = evaluations[0].attr("gen_ai.evaluation.score.value");
    assert!(
        score.is_some_and(|s| s.parse::<f64>().is_ok()),
        "a double: {score:?}"
    );
}

/// The coder's model call streams: its chat span (checked above with the others) carries
/// the streaming attributes and the usage read from the chunks, and the two stream metrics
/// were exported (and checked against the registry above).
fn a_streamed_chat_is_checked(
    requests: &[semconv::proto::tonic::collector::trace::v1::ExportTraceServiceRequest],
    metrics: &[agent_trace::receiver::ReceivedMetric],
) {
    let streamed: Vec<_> = requests
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .filter(|s| {
            s.attributes
                .iter()
                .any(|kv| kv.key == "gen_ai.request.stream")
        })
        .collect();
    assert_eq!(streamed.len(), 1, "the coder's chat streams");
    let keys: Vec<&str> = streamed[0]
        .attributes
        .iter()
        .map(|kv| kv.key.as_str())
        .collect();
    for key in [
        "gen_ai.response.time_to_first_chunk",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.response.id",
        "gen_ai.response.finish_reasons",
        "gen_ai.request.temperature",
        "gen_ai.request.max_tokens",
    ] {
        assert!(keys.contains(&key), "{key} on the streamed chat: {keys:?}");
    }
    for name in [
        "gen_ai.client.inference.time_to_first_chunk",
        "gen_ai.client.inference.time_per_output_chunk",
    ] {
        assert!(
            metrics.iter().any(|m| m.name == name),
            "{name} exported: {:?}",
            metrics.iter().map(|m| &m.name).collect::<Vec<_>>()
        );
    }
}

/// The tables of docs/ against what went over the wire: every attribute key an exported span
/// carries is named in the docs (the demo's own `demo.*` keys aside), every key they
/// name is defined in the registry and not deprecated, and each row of "What the macros
/// record" has the kind its spans were exported with.
fn docs_document_every_key_and_kind(
    reg: &semconv::Registry,
    requests: &[semconv::proto::tonic::collector::trace::v1::ExportTraceServiceRequest],
) {
    // The reference lives in docs/: the macros' table in macros.md, the other spans' keys in
    // protocols.md and the rest.
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let readme: String = [
        "macros.md",
        "protocols.md",
        "conventions.md",
        "configuration.md",
    ]
    .iter()
    .map(|f| std::fs::read_to_string(docs.join(f)).expect("docs/"))
    .collect::<Vec<_>>()
    .join("\n");
    let spans: Vec<_> = requests
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .collect();
    let mut missing = std::collections::BTreeSet::new();
    for span in &spans {
        for kv in &span.attributes {
            let key = kv.key.as_str();
            let named = match key.strip_prefix("agent_trace.arg.") {
                Some(_) => readme.contains("`agent_trace.arg.<name>`"),
                None => {
                    readme.contains(&format!("`{key}`")) || readme.contains(&format!("`{key}="))
                }
            };
            if !key.starts_with("demo.") && !named {
                missing.insert(format!("{key} (on {})", span.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys on the wire the docs does not name: {missing:#?}"
    );
    let table = readme
        .split("## What the macros record")
        .nth(1)
        .and_then(|t| t.split("\n\n").nth(1))
        .expect("the macros table");
    let mut rows = 0;
    for row in table.lines().skip(2) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let (Some(name), Some(kind), Some(attrs)) = (cells.get(1), cells.get(2), cells.get(3))
        else {
            continue;
        };
        rows += 1;
        for (i, part) in attrs.split('`').enumerate() {
            let key = part.split('=').next().unwrap_or_default();
            if i % 2 == 1 && key.contains('.') && !key.contains(' ') && !key.contains('"') {
                let def = reg.attribute(key);
                assert!(
                    def.is_some(),
                    "docs names `{key}`, which no registry defines"
                );
                assert!(
                    def.unwrap().deprecated.is_none(),
                    "docs names deprecated `{key}`"
                );
            }
        }
        // `invoke_agent {target}` → spans named `invoke_agent …` of that kind.
        let prefix = name.trim_matches('`').split(' ').next().unwrap_or_default();
        let exported: Vec<&str> = spans
            .iter()
            .filter(|s| s.name.split(' ').next() == Some(prefix))
            .map(|s| match s.kind {
                1 => "INTERNAL",
                2 => "SERVER",
                3 => "CLIENT",
                _ => "OTHER",
            })
            .collect();
        if prefix != "as" && !exported.is_empty() {
            assert!(
                exported.iter().any(|k| k == kind),
                "docs says {prefix} spans are {kind}, exported as {exported:?}"
            );
        }
    }
    assert!(rows >= 5, "read {rows} rows of the macros table");
    assert!(
        spans
            .iter()
            .any(|s| s.name.starts_with("invoke_agent ") && s.kind == 1),
        "the demo has an in-process agent (#[agent_run]) for the table's INTERNAL row"
    );
}
