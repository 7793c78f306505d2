//! A span the head sampler will surely drop is started bare: the expressions of its `fields`
//! are not evaluated (no attribute work for a span nobody records), while sampled spans get
//! every attribute. Checked over the real wire.

use std::sync::atomic::{AtomicUsize, Ordering};

use agent_trace::testing::receiver::OtlpReceiver;
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

fn run(sampler: Sampler) -> (usize, Vec<agent_trace::testing::receiver::ReceivedSpan>) {
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
