//! The `ot` tracestate entry and the samplers, against the specification's rules and examples
//! (the JavaScript SDK's agreement is checked over HTTP in `tests/tests/consistent_sampling.rs`).

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry::Context;
use opentelemetry_sdk::trace::{Sampler, SamplingDecision, ShouldSample};
use proptest::prelude::*;

use super::ot::{trace_id_randomness, OtEntry, MAX_ADJUSTED_COUNT};
use super::*;

/// A trace id whose 56 low bits are `r`.
fn trace_with_randomness(r: u64) -> TraceId {
    TraceId::from(0xabcd_0000_0000_0000_0000_0000_0000_0000u128 | u128::from(r))
}

fn remote_parent(trace_id: TraceId, sampled: bool, state: &str) -> Context {
    let state = if state.is_empty() {
        TraceState::default()
    } else {
        state.parse::<TraceState>().unwrap()
    };
    let flags = TraceFlags::default().with_sampled(sampled);
    let sc = SpanContext::new(trace_id, SpanId::from(7u64), flags, true, state);
    Context::new().with_remote_span_context(sc)
}

fn decide(
    s: &dyn ShouldSample,
    parent: Option<&Context>,
    t: TraceId,
) -> (SamplingDecision, String) {
    let r = s.should_sample(parent, t, "s", &SpanKind::Internal, &[], &[]);
    (r.decision, r.trace_state.header())
}

fn sampled(d: &SamplingDecision) -> bool {
    *d == SamplingDecision::RecordAndSample
}

// --- the `th` encoding ---

/// The specification's examples: 100% is `0`, 25% is `c` (extended to `c0000000000000`), and
/// the 1% threshold starts with the digits its 5-digit example shows.
#[test]
fn thresholds_encode_as_the_specification_shows() {
    assert_eq!(Threshold::from_probability(1.0).unwrap().to_string(), "0");
    let quarter = Threshold::from_probability(0.25).unwrap();
    assert_eq!(quarter.to_string(), "c");
    assert_eq!(quarter.value(), 0xc0000000000000);
    assert!(Threshold::from_probability(0.01)
        .unwrap()
        .to_string()
        .starts_with("fd70a"));
    assert_eq!("c".parse::<Threshold>().unwrap(), quarter);
    assert_eq!("c0000000000000".parse::<Threshold>().unwrap(), quarter);
    assert_eq!(quarter.adjusted_count(), 4.0);
    assert_eq!(quarter.probability(), 0.25);
}

#[test]
fn probabilities_outside_the_range_have_no_threshold() {
    for p in [0.0, -0.5, 1.5, f64::NAN, f64::INFINITY, 1e-18] {
        assert_eq!(Threshold::from_probability(p), None, "{p}");
    }
    // The smallest probability, 2^-56: the largest threshold.
    let min = Threshold::from_probability(1.0 / MAX_ADJUSTED_COUNT as f64).unwrap();
    assert_eq!(min.value(), MAX_ADJUSTED_COUNT - 1);
    assert_eq!(min.to_string(), "ffffffffffffff");
    assert_eq!(Threshold::from_value(MAX_ADJUSTED_COUNT), None);
}

#[test]
fn invalid_th_values_are_rejected() {
    for bad in [
        "",
        "C",
        "0x1",
        "g",
        "fffffffffffffff",
        " 8",
        "8 ",
        "-1",
        "8;",
        "８",
    ] {
        assert!(bad.parse::<Threshold>().is_err(), "{bad:?}");
    }
}

proptest! {
    /// Every threshold survives its encoding; the encoding is 1 to 14 lowercase hex digits
    /// without trailing zeros.
    #[test]
    fn every_threshold_round_trips(v in 0u64..MAX_ADJUSTED_COUNT) {
        let t = Threshold::from_value(v).unwrap();
        let s = t.to_string();
        prop_assert!((1..=14).contains(&s.len()));
        prop_assert!(s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        prop_assert!(s == "0" || !s.ends_with('0'));
        prop_assert_eq!(s.parse::<Threshold>().unwrap(), t);
    }

    /// Any text as an `ot` entry: parsed in one pass without a panic; only a well-formed single
    /// `th` yields a threshold, and rewriting keeps every member that is not `th`.
    #[test]
    fn any_ot_value_parses_or_is_left_alone(v in "[a-z0-9:;._ -]{0,300}") {
        match OtEntry::parse(&v) {
            None => prop_assert!(v.len() > 256),
            Some(e) => {
                let ths: Vec<&str> = v.split(';').filter(|m| m.starts_with("th:")).collect();
                if e.threshold.is_some() {
                    prop_assert_eq!(ths.len(), 1);
                }
                let out = e.with_threshold(None).unwrap_or_default();
                let kept: Vec<&str> = v.split(';').filter(|m| !m.is_empty() && !m.starts_with("th:")).collect();
                prop_assert_eq!(out, kept.join(";"));
            }
        }
    }

    /// The root decision is `R >= T` with R the trace id's 56 low bits, and the threshold is
    /// written exactly when the span is sampled.
    #[test]
    fn a_root_is_kept_when_its_randomness_reaches_the_threshold(
        r in 0u64..MAX_ADJUSTED_COUNT,
        high in any::<u64>(),
        p in 1e-6f64..=1.0,
    ) {
        let t = TraceId::from(u128::from(high) << 64 | u128::from(high as u8) << 56 | u128::from(r));
        prop_assert_eq!(trace_id_randomness(t), r);
        let th = Threshold::from_probability(p).unwrap();
        let s = CompositeSampler::new(Composable::probability(p).unwrap());
        let (d, state) = decide(&s, None, t);
        prop_assert_eq!(sampled(&d), r >= th.value());
        if sampled(&d) {
            prop_assert_eq!(state, format!("ot=th:{th}"));
        } else {
            prop_assert_eq!(state, "");
        }
    }
}

// --- the composite sampler ---

#[test]
fn an_explicit_rv_is_the_randomness_and_is_never_modified() {
    let s = CompositeSampler::new(Composable::parent_threshold(
        Composable::probability(0.5).unwrap(),
    ));
    // The trace id says "drop" at 50% (R = 0); rv says keep.
    let t = trace_with_randomness(0);
    let parent = remote_parent(t, true, "ot=rv:ffffffffffffff;x:1,other=v");
    let child = CompositeSampler::new(Composable::probability(0.5).unwrap());
    let (d, state) = decide(&child, Some(&parent), t);
    assert!(sampled(&d));
    assert_eq!(state, "ot=th:8;rv:ffffffffffffff;x:1,other=v");
    // An invalid rv (13 digits) is not randomness: the trace id decides, the member stays.
    let parent = remote_parent(t, true, "ot=rv:fffffffffffff");
    let (d, state) = decide(&child, Some(&parent), t);
    assert!(!sampled(&d));
    assert_eq!(state, "ot=rv:fffffffffffff");
    // A parent's threshold followed with rv.
    let parent = remote_parent(t, true, "ot=th:8;rv:ffffffffffffff");
    let (d, state) = decide(&s, Some(&parent), t);
    assert!(sampled(&d));
    assert_eq!(state, "ot=th:8;rv:ffffffffffffff");
}

#[test]
fn a_child_follows_its_parents_threshold_and_flag() {
    let s = CompositeSampler::new(Composable::parent_threshold(
        Composable::probability(0.01).unwrap(),
    ));
    let kept = trace_with_randomness(0xd0000000000000);
    // Parent sampled at 25% (T = c..., R = d... >= T): the child keeps it, with the parent's th.
    let (d, state) = decide(&s, Some(&remote_parent(kept, true, "ot=th:c")), kept);
    assert!(sampled(&d));
    assert_eq!(state, "ot=th:c");
    // Sampled parent without a threshold: kept, no threshold (the probability is unknown).
    let (d, state) = decide(&s, Some(&remote_parent(kept, true, "ot=x:1")), kept);
    assert!(sampled(&d));
    assert_eq!(state, "ot=x:1");
    // Parent not sampled, no threshold: dropped.
    let (d, _) = decide(&s, Some(&remote_parent(kept, false, "")), kept);
    assert!(!sampled(&d));
}

/// "A parent-based sampler that receives and propagates a sampled context with threshold
/// should check that the sampled flag matches `rv >= th`, otherwise it should erase the
/// threshold" (specification).
#[test]
fn an_inconsistent_parent_threshold_is_erased() {
    let s = CompositeSampler::new(Composable::parent_threshold(Composable::AlwaysOff));
    let low = trace_with_randomness(0x10000000000000); // R < c...
    let (d, state) = decide(&s, Some(&remote_parent(low, true, "ot=th:c;x:1")), low);
    assert!(sampled(&d), "the sampled flag still decides");
    assert_eq!(state, "ot=x:1", "the threshold it contradicts is erased");
    let high = trace_with_randomness(0xf0000000000000); // R >= c..., yet not sampled
    let (d, state) = decide(&s, Some(&remote_parent(high, false, "ot=th:c")), high);
    assert!(!sampled(&d));
    assert_eq!(state, "");
}

#[test]
fn repeated_or_invalid_thresholds_are_erased_and_other_vendors_kept() {
    let s = CompositeSampler::new(Composable::parent_threshold(Composable::AlwaysOn));
    let t = trace_with_randomness(0xf0000000000000);
    for incoming in [
        "ot=th:c;th:c,v=1",
        "ot=th:C,v=1",
        "ot=th:,v=1",
        "ot=th:123456789abcdef,v=1",
    ] {
        let (d, state) = decide(&s, Some(&remote_parent(t, true, incoming)), t);
        assert!(sampled(&d), "{incoming}");
        assert_eq!(state, "v=1", "{incoming}");
    }
}

#[test]
fn an_oversized_ot_entry_is_left_as_it_came() {
    // 256 characters is the limit; the SDK's TraceState refuses longer values already, so an
    // entry at the limit with a threshold that would not fit is the edge case.
    let others = format!("x:{}", "a".repeat(250));
    let incoming = format!("ot={others}");
    let t = trace_with_randomness(0xf0000000000000);
    let s = CompositeSampler::new(Composable::probability(0.5).unwrap());
    let (d, state) = decide(&s, Some(&remote_parent(t, true, &incoming)), t);
    assert!(sampled(&d));
    assert_eq!(
        state, incoming,
        "th:8 does not fit: not written (the spec's advice)"
    );
}

/// W3C allows 32 list members; a sampled span adding `ot` to a full trace state keeps 32,
/// the new entry first.
#[test]
fn the_32_entry_limit_holds_when_ot_is_added() {
    let full: Vec<String> = (0..32).map(|i| format!("k{i}=v{i}")).collect();
    let t = trace_with_randomness(0xf0000000000000);
    let s = CompositeSampler::new(Composable::probability(0.5).unwrap());
    let (d, state) = decide(&s, Some(&remote_parent(t, true, &full.join(","))), t);
    assert!(sampled(&d));
    let members: Vec<&str> = state.split(',').collect();
    assert_eq!(members.len(), 32);
    assert_eq!(members[0], "ot=th:8");
    assert_eq!(members[31], "k30=v30");
}

#[test]
fn a_ratio_of_zero_never_samples_and_claims_nothing() {
    let s = CompositeSampler::new(Composable::probability(0.0).unwrap());
    let t = trace_with_randomness(MAX_ADJUSTED_COUNT - 1);
    let (d, state) = decide(&s, None, t);
    assert!(!sampled(&d));
    assert_eq!(state, "");
}

// --- the SDK's samplers, honest ---

#[test]
fn non_probability_samplers_erase_the_threshold_they_did_not_decide_by() {
    let low = trace_with_randomness(0x10000000000000);
    let high = trace_with_randomness(0xf0000000000000);
    let always_on = Honest::new(Sampler::AlwaysOn);
    // Behind a 25% root that dropped the trace, always-on keeps the span: no `th`.
    let (d, state) = decide(
        &always_on,
        Some(&remote_parent(low, false, "ot=th:c;x:1,v=1")),
        low,
    );
    assert!(sampled(&d));
    assert_eq!(state, "ot=x:1,v=1");
    // Even where the root kept it: always-on's own probability is not the root's.
    let (_, state) = decide(
        &always_on,
        Some(&remote_parent(high, true, "ot=th:c")),
        high,
    );
    assert_eq!(state, "");
    // The SDK's ratio sampler reads other bits: never a `th`.
    let ratio = Honest::new(Sampler::TraceIdRatioBased(1.0));
    let (_, state) = decide(&ratio, Some(&remote_parent(high, true, "ot=th:c")), high);
    assert_eq!(state, "");
    // Parent-based follows a consistent parent: its `th` stays.
    let pb = Honest::new(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)));
    let (d, state) = decide(&pb, Some(&remote_parent(high, true, "ot=th:c")), high);
    assert!(sampled(&d));
    assert_eq!(state, "ot=th:c");
    // ... and erases an inconsistent one.
    let (d, state) = decide(&pb, Some(&remote_parent(low, true, "ot=th:c")), low);
    assert!(sampled(&d));
    assert_eq!(state, "");
    // A root: nothing to erase, nothing written.
    let (d, state) = decide(&pb, None, high);
    assert!(sampled(&d));
    assert_eq!(state, "");
}

#[test]
fn adjusted_counts_come_from_the_threshold() {
    let state: TraceState = "ot=th:e,v=1".parse().unwrap();
    assert_eq!(adjusted_count(&state), Some(8.0));
    assert_eq!(adjusted_count(&"ot=th:0".parse().unwrap()), Some(1.0));
    assert_eq!(
        adjusted_count(&"ot=rv:00000000000000".parse().unwrap()),
        None
    );
    assert_eq!(adjusted_count(&TraceState::default()), None);
}

/// A dropped span recorded for a tail sampler: only where the trace starts here or under a
/// local recording parent, never against a remote "not sampled".
#[test]
fn recording_locally_respects_a_remote_not_sampled() {
    let s = CompositeSampler::new(Composable::parent_threshold(
        Composable::probability(0.5).unwrap(),
    ))
    .recording_locally();
    let low = trace_with_randomness(0);
    let (d, state) = decide(&s, None, low);
    assert_eq!(d, SamplingDecision::RecordOnly);
    assert_eq!(state, "");
    let (d, _) = decide(&s, Some(&remote_parent(low, false, "")), low);
    assert_eq!(d, SamplingDecision::Drop);
}
