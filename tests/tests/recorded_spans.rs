//! agent-trace's own span recording (`span/record.rs`: the path when nothing but its pipeline
//! sees spans) exports, field for field over OTLP, what the SDK's tracer exports for the same
//! calls (the path a `Builder::span_processor` of the user's selects). Compared: names,
//! kinds, attributes in order, events with their attributes, links, status, flags, trace
//! state, resource, instrumentation scope, dropped counts, and the shape of each trace; not
//! the ids and times, which differ by nature. Run with the default span limits and with
//! limits small enough that attributes and events are dropped.

use std::collections::HashMap;
use std::time::Duration;

use agent_trace::opentelemetry::trace::{SpanContext, TraceContextExt as _};
use agent_trace::opentelemetry::{Context, KeyValue};
use agent_trace::receiver::{OtlpReceiver, ReceivedSpan};
use agent_trace::{agent_phase, agent_run, llm_call, traced_tool, Protocol};

/// A processor that does nothing: installing it selects the SDK's tracer.
#[derive(Debug)]
struct Nothing;

impl agent_trace::opentelemetry_sdk::trace::SpanProcessor for Nothing {
    fn on_start(&self, _: &mut agent_trace::opentelemetry_sdk::trace::Span, _: &Context) {}
    fn on_end(&self, _: agent_trace::opentelemetry_sdk::trace::SpanData) {}
    fn force_flush(&self) -> agent_trace::opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(
        &self,
        _: Duration,
    ) -> agent_trace::opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
}

#[traced_tool(capture(query), capture_result)]
fn search(query: &str) -> Result<String, std::io::Error> {
    // The application's own attribute and event on the current span.
    let cx = Context::current();
    cx.span().set_attribute(KeyValue::new("app.hits", 3));
    cx.span().add_event(
        "app.cache_miss",
        vec![KeyValue::new("app.key", query.to_string())],
    );
    Ok(format!("results for {query}"))
}

#[traced_tool]
fn failing() -> Result<u8, std::io::Error> {
    Err(std::io::Error::other("backend down"))
}

#[traced_tool]
fn panicking() -> u8 {
    panic!("tool bug")
}

#[traced_tool(links = sources)]
fn merge(sources: &[SpanContext]) -> usize {
    sources.len()
}

#[llm_call(model = "m-1", provider = "p", prompt = prompt, temperature = 0.2)]
fn chat(prompt: &str) -> Result<serde_json::Value, std::io::Error> {
    Ok(serde_json::json!({
        "id": "r-1", "model": "m-1-2026",
        "choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3}
    }))
}

#[traced_tool]
fn lookup() -> usize {
    7
}

/// A span started while another one computes its attributes (the starter's cached
/// installation is in use then).
#[traced_tool(fields(found = lookup()))]
fn nested() -> usize {
    1
}

#[agent_phase("plan")]
fn plan() -> usize {
    let _ = nested();
    let _ = search("rust");
    let _ = failing();
    let _ = std::panic::catch_unwind(panicking);
    let here = Context::current().span().span_context().clone();
    merge(&[here])
}

#[agent_run(name = "assistant")]
fn run() -> Result<usize, std::io::Error> {
    let _ = chat("hello");
    Ok(plan())
}

/// The calls' spans as the receiver got them, with `sdk_path` selecting the SDK's tracer.
fn export(sdk_path: bool, limits: &[(&'static str, &'static str)]) -> Vec<ReceivedSpan> {
    let rx = OtlpReceiver::start().expect("receiver");
    let limits: HashMap<&str, &str> = limits.iter().copied().collect();
    let mut builder = agent_trace_tests::builder_for("same", &rx.grpc_endpoint(), Protocol::Grpc)
        .capture_message_content(true)
        .metrics(false)
        .env(move |k| limits.get(k).map(|v| v.to_string()));
    if sdk_path {
        builder = builder.span_processor(Nothing);
    }
    let guard = builder.install().expect("install");
    let std_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let _ = run();
    std::panic::set_hook(std_hook);
    guard.shutdown().expect("delivered");
    let mut spans = rx.spans();
    spans.sort_by_key(|s| s.start_ns);
    spans
}

/// A span without what differs by nature (ids, times, the transport), its parent by name.
fn comparable(s: &ReceivedSpan, all: &[ReceivedSpan]) -> String {
    let parent = s
        .parent_span_id
        .as_ref()
        .and_then(|p| all.iter().find(|q| &q.span_id == p))
        .map(|p| p.name.clone());
    let events: Vec<_> = s.events.clone();
    // The resource is a map: its order is not the span's.
    let mut resource = s.resource.clone();
    resource.sort();
    format!(
        "{} {} parent={parent:?}\n  attributes={:?}\n  events={events:?}\n  links={}\n  status={} {:?}\n  flags={} trace_state={:?} scope={:?} dropped={:?}\n  resource={:?}",
        s.name,
        s.kind,
        s.attributes,
        s.links.len(),
        s.status_code,
        s.status_message,
        s.flags,
        s.trace_state,
        s.scope,
        s.dropped,
        resource,
    )
}

fn assert_same(limits: &[(&'static str, &'static str)]) {
    let recorded = export(false, limits);
    let sdk = export(true, limits);
    assert_eq!(recorded.len(), 9, "{recorded:#?}");
    let lookup = recorded.iter().find(|s| s.name == "execute_tool lookup");
    let plan = recorded.iter().find(|s| s.name == "agent_phase plan");
    assert_eq!(
        lookup.and_then(|s| s.parent_span_id.clone()),
        plan.map(|s| s.span_id.clone()),
        "a span started in a field's expression is a child of the current span"
    );
    assert_eq!(recorded.len(), sdk.len());
    for (r, s) in recorded.iter().zip(&sdk) {
        assert_eq!(comparable(r, &recorded), comparable(s, &sdk));
        assert!(r.end_ns >= r.start_ns);
    }
}

#[test]
fn recorded_spans_export_what_the_sdks_spans_export() {
    agent_trace::isolate!();
    assert_same(&[]);
}

#[test]
fn recorded_spans_drop_what_the_sdks_span_limits_drop() {
    agent_trace::isolate!();
    assert_same(&[
        ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "3"),
        ("OTEL_SPAN_EVENT_COUNT_LIMIT", "1"),
    ]);
}

/// A limit above a tool's first four attributes (made on the export thread, not in the
/// record) that the attributes set while the span runs reach.
#[test]
fn recorded_spans_count_a_tools_first_attributes_against_the_limit() {
    agent_trace::isolate!();
    assert_same(&[("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "6")]);
}

#[traced_tool]
fn slow() -> Result<(), std::io::Error> {
    std::thread::sleep(Duration::from_millis(30));
    Ok(())
}

#[traced_tool]
fn ends_itself(at: std::time::SystemTime) -> u8 {
    Context::current().span().end_with_timestamp(at);
    1
}

#[agent_phase("timed")]
fn timed(at: std::time::SystemTime) {
    let _ = slow();
    let _ = ends_itself(at);
}

/// Nanoseconds since the Unix epoch.
fn ns(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// The times of recorded spans (read from the CPU's counter, made wall-clock time on the
/// export thread: `span/clock.rs`) are wall-clock time: within a millisecond of the wall clock
/// read around the calls, a 30 ms sleep lasts at least 30 ms, a parent contains its children,
/// and a time the application gives is kept to the nanosecond.
#[test]
fn recorded_spans_are_timed_in_wall_clock_time() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::builder_for("timed", &rx.grpc_endpoint(), Protocol::Grpc)
        .metrics(false)
        .install()
        .expect("install");
    // The counter is calibrated by the export thread as it starts; until then, the wall clock.
    std::thread::sleep(Duration::from_millis(300));
    let given = std::time::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
    let before = ns(std::time::SystemTime::now());
    timed(given);
    let after = ns(std::time::SystemTime::now());
    guard.shutdown().expect("delivered");
    let spans = rx.spans();
    let by_name = |n: &str| {
        spans
            .iter()
            .find(|s| s.name == n)
            .unwrap_or_else(|| panic!("{n} in {spans:#?}"))
    };
    let (phase, slow, own) = (
        by_name("agent_phase timed"),
        by_name("execute_tool slow"),
        by_name("execute_tool ends_itself"),
    );
    let ms = 1_000_000;
    for s in [phase, slow] {
        assert!(
            s.start_ns + ms >= before && s.end_ns <= after + ms,
            "{s:#?} not in {before}..{after}"
        );
    }
    assert!(slow.end_ns - slow.start_ns >= 30 * ms, "{slow:#?}");
    // Containment, with room for the error of one clock reading (tens of nanoseconds).
    let slack = 2_000;
    assert!(phase.start_ns <= slow.start_ns + slack && slow.end_ns <= phase.end_ns + slack);
    assert_eq!(own.end_ns, ns(given));
}
