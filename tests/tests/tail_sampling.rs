//! Tail sampling through a real pipeline and OTLP: every error trace and every slow trace
//! arrives, the rest at the configured ratio.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use agent_trace::opentelemetry_sdk::trace::{Sampler, SamplingDecision, ShouldSample as _};
use agent_trace::receiver::OtlpReceiver;
use agent_trace::{agent_phase, traced_tool, Protocol};
use opentelemetry::trace::{SpanKind, TraceId};

/// The SDK's own `TraceIdRatioBased` decision: the tail sampler must keep the same traces.
fn keeps_by_ratio(id: TraceId, ratio: f64) -> bool {
    let d = Sampler::TraceIdRatioBased(ratio).should_sample(
        None,
        id,
        "x",
        &SpanKind::Internal,
        &[],
        &[],
    );
    d.decision == SamplingDecision::RecordAndSample
}

#[traced_tool]
fn step(fail: bool) -> Result<(), String> {
    if fail {
        Err("step failed".into())
    } else {
        Ok(())
    }
}

#[agent_phase("request")]
fn request(fail: bool, sleep: Duration) -> Option<String> {
    std::thread::sleep(sleep);
    let _ = step(fail);
    agent_trace::current_trace_id()
}

fn install(
    rx: &OtlpReceiver,
    env: &'static [(&'static str, &'static str)],
) -> agent_trace::TraceGuard {
    let endpoint = rx.grpc_endpoint();
    agent_trace::builder()
        .service_name("tail")
        .endpoint(endpoint)
        .protocol(Protocol::Grpc)
        .schedule_delay(Duration::from_millis(20))
        .env(move |k| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
        .install()
        .expect("install")
}

#[test]
fn errors_kept_and_the_rest_at_the_ratio_exactly() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = install(
        &rx,
        &[
            ("AGENT_TRACE_KEEP_ERRORS", "true"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
        ],
    );
    let mut expected: BTreeSet<String> = BTreeSet::new();
    let mut errors = 0;
    for i in 0..200 {
        let fail = i % 8 == 0;
        let trace = request(fail, Duration::ZERO).expect("traced");
        let id = TraceId::from_hex(&trace).expect("hex");
        if fail {
            errors += 1;
        }
        if fail || keeps_by_ratio(id, 0.25) {
            expected.insert(trace);
        }
    }
    let tail = agent_trace::tail_stats().expect("tail sampling is on");
    assert_eq!(tail.kept_error, errors);
    let stats = guard.shutdown().expect("sampled-out spans are not a loss");
    assert_eq!(stats.ended, 400);
    assert_eq!(stats.exported + stats.sampled_out, 400);

    let spans = rx.spans();
    let received: BTreeSet<String> = spans.iter().map(|s| s.trace_id.clone()).collect();
    assert_eq!(
        received, expected,
        "exactly the error traces and the ratio's share"
    );
    let mut per_trace: HashMap<&str, usize> = HashMap::new();
    for s in &spans {
        *per_trace.entry(s.trace_id.as_str()).or_default() += 1;
    }
    assert!(
        per_trace.values().all(|&n| n == 2),
        "kept traces arrive whole"
    );
}

#[test]
fn slow_traces_are_kept() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = install(
        &rx,
        &[
            ("AGENT_TRACE_KEEP_SLOWER_THAN", "150"),
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0"),
        ],
    );
    let mut slow = BTreeSet::new();
    for i in 0..12 {
        let sleep = if i % 4 == 0 {
            Duration::from_millis(160)
        } else {
            Duration::ZERO
        };
        let trace = request(false, sleep).expect("traced");
        if !sleep.is_zero() {
            slow.insert(trace);
        }
    }
    guard.shutdown().expect("delivered");
    let roots: Vec<_> = rx
        .spans()
        .into_iter()
        .filter(|s| s.parent_span_id.is_none())
        .collect();
    let kept: BTreeSet<String> = roots.iter().map(|s| s.trace_id.clone()).collect();
    assert!(slow.is_subset(&kept), "every slow trace arrives");
    // Nothing else is kept at ratio 0 unless it really was slow (a stalled machine).
    for r in &roots {
        assert!(
            r.end_ns - r.start_ns >= 150_000_000,
            "{} kept but fast",
            r.trace_id
        );
    }
}

#[test]
fn invalid_tail_settings_are_named_errors() {
    agent_trace::isolate!();
    let err = agent_trace::builder()
        .service_name("bad")
        .env(|k| (k == "AGENT_TRACE_KEEP_SLOWER_THAN").then(|| "2s".to_string()))
        .install()
        .expect_err("rejected");
    assert_eq!(err.variable(), Some("AGENT_TRACE_KEEP_SLOWER_THAN"));
    let err = agent_trace::builder()
        .service_name("bad")
        .env(|k| (k == "AGENT_TRACE_KEEP_ERRORS").then(|| "sure".to_string()))
        .install()
        .expect_err("rejected");
    assert_eq!(err.variable(), Some("AGENT_TRACE_KEEP_ERRORS"));
}
