//! A span the head sampler will surely drop is started bare: the expressions of its `fields`
//! are not evaluated (no attribute work for a span nobody records), while sampled spans get
//! every attribute. Checked over the real wire.

use std::sync::atomic::{AtomicUsize, Ordering};

use agent_trace::receiver::OtlpReceiver;
use agent_trace::{agent_phase, traced_tool, Protocol, Sampler};

static EVALUATED: AtomicUsize = AtomicUsize::new(0);

fn costly() -> i64 {
    EVALUATED.fetch_add(1, Ordering::SeqCst);
    7
}

#[traced_tool(fields(work = costly()))]
fn step() -> u8 {
    1
}

#[agent_phase("outer")]
fn outer() -> u8 {
    step()
}

fn run(sampler: Sampler) -> (usize, Vec<agent_trace::receiver::ReceivedSpan>) {
    EVALUATED.store(0, Ordering::SeqCst);
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::builder_for("head", &rx.grpc_endpoint(), Protocol::Grpc)
        .sampler(sampler)
        .install()
        .expect("install");
    for _ in 0..10 {
        outer();
    }
    guard.shutdown().expect("delivered");
    (EVALUATED.load(Ordering::SeqCst), rx.spans())
}

#[test]
fn always_off_skips_attribute_work() {
    agent_trace::isolate!();
    let (evaluated, spans) = run(Sampler::AlwaysOff);
    assert_eq!(spans.len(), 0);
    assert_eq!(
        evaluated, 0,
        "field expressions of dropped spans are not evaluated"
    );
}

#[test]
fn parent_based_children_of_dropped_roots_skip_it_too() {
    agent_trace::isolate!();
    let (evaluated, spans) = run(Sampler::ParentBasedAlwaysOff);
    assert_eq!(spans.len(), 0);
    assert_eq!(evaluated, 0);
}

#[test]
fn sampled_spans_get_their_attributes() {
    agent_trace::isolate!();
    let (evaluated, spans) = run(Sampler::ParentBasedAlwaysOn);
    assert_eq!(evaluated, 10);
    assert_eq!(spans.len(), 20);
    let steps: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "execute_tool step")
        .collect();
    assert_eq!(steps.len(), 10);
    assert!(steps.iter().all(|s| s.attr("work") == Some("7")));
}

#[test]
fn a_ratio_decides_per_trace_and_attributes_follow() {
    agent_trace::isolate!();
    let (evaluated, spans) = run(Sampler::TraceIdRatio(0.5));
    // Roots: the ratio needs the trace id, so their attributes are built; the children of a
    // root the ratio dropped are not (TraceIdRatio is not parent-based: each child decides
    // on the same trace id, and so the same way).
    let steps = spans
        .iter()
        .filter(|s| s.name == "execute_tool step")
        .count();
    assert_eq!(
        evaluated, 10,
        "TraceIdRatio: every span may be sampled, attributes are built"
    );
    assert!(steps <= 10);
}

/// Called under a parent that was not sampled, `#[traced_tool]` makes its child without the
/// SDK's sampler (the fast path of `parentbased_*`): nothing is exported, and what it
/// propagates is what the SDK's child would: the parent's trace id and trace state, a span id
/// of its own, flags not sampled.
#[test]
fn children_of_an_unsampled_parent_propagate_like_the_sdks() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::builder_for("head", &rx.grpc_endpoint(), Protocol::Grpc)
        .sampler(Sampler::ParentBasedAlwaysOn)
        .install()
        .expect("install");
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_id = "00f067aa0ba902b7";
    let mut incoming = http::HeaderMap::new();
    incoming.insert(
        "traceparent",
        format!("00-{trace_id}-{parent_id}-00")
            .parse()
            .expect("header"),
    );
    incoming.insert("tracestate", "vendor=value".parse().expect("header"));
    let parent = agent_trace::carriers::http::extract(&incoming);

    #[traced_tool]
    fn forward() -> http::HeaderMap {
        let mut out = http::HeaderMap::new();
        agent_trace::carriers::http::inject(&mut out);
        out
    }
    let out = {
        let _attached = parent.attach();
        forward()
    };
    let stats = guard.shutdown().expect("delivered");
    assert_eq!(
        stats.ended, 0,
        "an unsampled span never reaches the pipeline"
    );
    assert!(rx.spans().is_empty());

    let traceparent = out["traceparent"].to_str().expect("ascii");
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[1], trace_id, "the parent's trace");
    assert_ne!(parts[2], parent_id, "a span id of its own");
    assert_ne!(parts[2], "0000000000000000");
    assert_eq!(parts[3], "00", "not sampled");
    assert_eq!(out["tracestate"], "vendor=value");
}

/// The consistent probability sampler over the wire: roots kept at 25% by the trace id's
/// randomness carry `ot=th:c` on every span, children follow their root, and `export_stats`
/// counts the spans they stand for (4 each).
#[test]
fn a_probability_sampler_writes_its_threshold_and_export_stats_count_what_it_stands_for() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::builder_for("head", &rx.grpc_endpoint(), Protocol::Grpc)
        .sampler(Sampler::ParentBasedProbability(0.25))
        .install()
        .expect("install");
    for _ in 0..400 {
        outer();
    }
    let stats = guard.shutdown().expect("delivered");
    let spans = rx.spans();
    assert!((100..=300).contains(&spans.len()), "{} of 800", spans.len());
    assert_eq!(spans.len() % 2, 0, "whole traces: a root and its child");
    for s in &spans {
        assert_eq!(s.trace_state, "ot=th:c", "{s:?}");
        let randomness = u64::from_str_radix(&s.trace_id[18..], 16).expect("hex");
        assert!(randomness >= 0xc0_0000_0000_0000, "kept only at R >= T");
    }
    assert_eq!(stats.exported, spans.len() as u64);
    assert_eq!(stats.exported_with_threshold, stats.exported);
    assert_eq!(stats.adjusted_count, 4 * stats.exported);
}
