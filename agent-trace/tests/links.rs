//! Span links: a span that follows from others (fan-in), from the macros' `links = ...` and
//! from batch consumption of queued messages.

use agent_trace::carriers::envelope::{consume_batch, produce, Envelope};
use agent_trace::opentelemetry::trace::SpanContext;
use agent_trace::testing::Capture;
use agent_trace::{agent_phase, traced_tool};

#[traced_tool(links = sources)]
fn merge(sources: &[SpanContext]) -> usize {
    sources.len()
}

#[agent_phase("retry", links = [previous])]
async fn retry(previous: &SpanContext) -> u8 {
    let _ = previous;
    1
}

#[traced_tool(links = &messages)]
fn aggregate(messages: Vec<Envelope<u32>>) -> u32 {
    messages.iter().map(|m| m.payload).sum()
}

#[traced_tool]
fn source_step() -> SpanContext {
    use agent_trace::opentelemetry::trace::TraceContextExt as _;
    agent_trace::opentelemetry::Context::current()
        .span()
        .span_context()
        .clone()
}

/// A span context made in a capture of its own (its own trace), with its ids.
fn elsewhere() -> (SpanContext, (String, String)) {
    let cap = Capture::start();
    let sc = cap.in_scope(source_step);
    let ids = (sc.trace_id().to_string(), sc.span_id().to_string());
    (sc, ids)
}

#[tokio::test]
async fn macros_link_to_what_links_yields() {
    let (a, a_ids) = elsewhere();
    let (b, b_ids) = elsewhere();
    let cap = Capture::start();
    assert_eq!(
        cap.in_scope(|| merge(&[a.clone(), b, SpanContext::empty_context()])),
        3
    );
    assert_eq!(cap.future(retry(&a)).await, 1);
    let tree = cap.tree();
    let merged = tree.find("execute_tool merge").expect("span");
    assert_eq!(
        merged.links,
        vec![a_ids.clone(), b_ids],
        "invalid contexts are skipped"
    );
    let retried = tree.find("agent_phase retry").expect("span");
    assert_eq!(retried.links, vec![a_ids]);
}

#[test]
fn a_batch_consumer_links_every_message_and_envelopes_link_too() {
    // Three producers, each in a trace of its own.
    let mut messages = Vec::new();
    let mut producers = Vec::new();
    for i in 0..3u32 {
        let cap = Capture::start();
        messages.push(cap.in_scope(|| produce("tasks", &i).unwrap()));
        let send = cap
            .spans()
            .into_iter()
            .find(|s| s.name == "send tasks")
            .unwrap();
        producers.push((send.trace_id, send.span_id));
    }
    let mut with_garbage = messages.clone();
    with_garbage.push(b"not json".to_vec());

    let cap = Capture::start();
    let (ok, bad) = cap.in_scope(|| {
        consume_batch("tasks", &with_garbage, |payloads: Vec<Result<u32, _>>| {
            let ok: u32 = payloads.iter().filter_map(|p| p.as_ref().ok()).sum();
            (ok, payloads.iter().filter(|p| p.is_err()).count())
        })
    });
    assert_eq!((ok, bad), (3, 1), "a bad message costs no other");
    let tree = cap.tree();
    let batch = tree.find("process tasks").expect("consumer span");
    assert_eq!(batch.links, producers, "{tree}");
    assert_eq!(
        batch.attr("messaging.batch.message_count").as_deref(),
        Some("4")
    );
    assert!(
        batch.parent_span_id.is_none(),
        "its parent is the current context, not a message"
    );

    // Envelopes are links too.
    let envelopes: Vec<Envelope<u32>> = messages
        .iter()
        .map(|m| serde_json::from_slice(m).unwrap())
        .collect();
    let cap = Capture::start();
    assert_eq!(cap.in_scope(|| aggregate(envelopes)), 3);
    let spans = cap.spans();
    assert_eq!(spans[0].links, producers);
}
