//! Spans exported over the real OTLP wire protocol (gRPC and HTTP/protobuf) to a receiver
//! running in this process: ids, parent/child links, resource, status, events.

use std::time::Duration;

use agent_trace::receiver::{OtlpReceiver, ReceivedSpan};
use agent_trace::{agent_phase, traced_tool, Protocol};
use agent_trace_tests::init_to;

#[traced_tool(name = "lookup")]
fn failing_lookup(key: &str) -> Result<String, std::io::Error> {
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!("no entry for {key}"),
    ))
}

#[agent_phase("research")]
fn research() -> usize {
    let _ = failing_lookup("answer");
    42
}

fn by_name<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name} in {spans:#?}"))
}

fn check_export(protocol: Protocol, transport: &str) {
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace::builder()
        .service_name("wire-test")
        .endpoint(match protocol {
            Protocol::Grpc => rx.grpc_endpoint(),
            _ => rx.http_endpoint(),
        })
        .protocol(protocol)
        .resource_attribute("deployment.environment", "ci")
        .header("x-api-key", "secret-1")
        .env(|_| None)
        .install()
        .expect("install");
    assert_eq!(research(), 42);
    let stats = guard.shutdown().expect("all delivered");
    assert_eq!((stats.ended, stats.exported, stats.dropped()), (2, 2, 0));

    let spans = rx.spans();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let phase = by_name(&spans, "agent_phase research");
    let tool = by_name(&spans, "execute_tool lookup");
    assert!(spans.iter().all(|s| s.transport == transport));
    assert_eq!(phase.trace_id.len(), 32);
    assert_eq!(tool.trace_id, phase.trace_id, "one trace");
    assert_eq!(tool.parent_span_id.as_deref(), Some(phase.span_id.as_str()));
    assert_eq!(phase.parent_span_id, None);
    assert_eq!(phase.kind, "INTERNAL");
    assert_eq!(phase.service, "wire-test");
    assert_eq!(phase.resource_attr("deployment.environment"), Some("ci"));
    assert_eq!(phase.resource_attr("telemetry.sdk.language"), Some("rust"));
    assert_eq!(
        phase.status_code, 0,
        "a non-Result return leaves status unset"
    );
    assert_eq!(phase.attr("agent.phase"), Some("research"));
    assert_eq!(tool.status_code, 2);
    assert_eq!(tool.status_message, "no entry for answer");
    assert_eq!(tool.attr("tool.success"), Some("false"));
    assert_eq!(tool.attr("error.type"), Some("std::io::error::Error"));
    let (event, attrs) = &tool.events[0];
    assert_eq!(event, "exception");
    assert!(attrs.contains(&("exception.message".into(), "no entry for answer".into())));
    assert!(tool.start_ns >= phase.start_ns && tool.end_ns <= phase.end_ns);
    let headers = rx.request_headers();
    assert!(
        headers[0].contains(&("x-api-key".into(), "secret-1".into())),
        "{headers:?}"
    );
}

#[test]
fn grpc_export_carries_ids_parents_resource_status() {
    agent_trace::isolate!();
    check_export(Protocol::Grpc, "grpc");
}

#[test]
fn http_export_carries_ids_parents_resource_status() {
    agent_trace::isolate!();
    check_export(Protocol::HttpProtobuf, "http");
}

#[test]
fn http_endpoint_with_full_path_is_not_doubled() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::builder_for(
        "full-path",
        &format!("{}/v1/traces", rx.http_endpoint()),
        Protocol::HttpProtobuf,
    )
    .install()
    .expect("install");
    research();
    guard.shutdown().expect("delivered");
    assert_eq!(rx.spans().len(), 2);
}

#[test]
fn spans_arrive_without_shutdown_once_the_batch_delay_passes() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let _guard = init_to(&rx, "periodic", Protocol::Grpc);
    research();
    // The pipeline sends on its own schedule (20 ms here); wait boundedly for it.
    let spans = rx.wait_for_spans(2, Duration::from_secs(20));
    assert_eq!(spans.len(), 2);
    // The acknowledgement is counted once the export call returns; a flush waits for that.
    let stats = agent_trace::force_flush(Duration::from_secs(10)).expect("flushed");
    assert_eq!((stats.ended, stats.exported), (2, 2));
}

/// An A2A call whose JSON-RPC answer is an error, and whose function then fails: both write
/// `error.type` (the code from the answer, then the function's error type).
#[agent_trace::a2a_call(target = "b")]
fn a2a_call_answered_with_an_error() -> Result<(), std::io::Error> {
    agent_trace::a2a::record_response(&serde_json::json!({
        "jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "boom"}
    }));
    agent_trace::record("attempt.count", 1_i64);
    agent_trace::record("attempt.count", 2_i64);
    Err(std::io::Error::other("the agent answered an error"))
}

/// On the wire every span has one value per key, the later write winning.
#[test]
fn every_key_has_one_value_on_the_wire() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = init_to(&rx, "unique", Protocol::HttpProtobuf);
    let _ = a2a_call_answered_with_an_error();
    guard.shutdown().expect("delivered");
    let spans = rx.wait_for_spans(1, Duration::from_secs(10));
    let span = by_name(&spans, "invoke_agent b");
    let mut keys: Vec<&str> = span.attributes.iter().map(|(k, _)| k.as_str()).collect();
    let total = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), total, "a repeated key: {:?}", span.attributes);
    assert_eq!(span.attr("error.type"), Some("std::io::error::Error"));
    assert_eq!(span.attr("attempt.count"), Some("2"));
}
