//! The fast paths against the SDK they stand in for.

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState, Tracer as _,
    TracerProvider as _,
};
use opentelemetry::Context;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

use super::*;
use crate::state::Head;

fn remote_parent(flags: TraceFlags) -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(0x4bf92f3577b34da6a3ce929d0e0e4736u128),
        SpanId::from(0x00f067aa0ba902b7u64),
        flags,
        true,
        TraceState::from_key_value([("vendor", "value")]).expect("trace state"),
    ))
}

/// The child made without the SDK is the one the SDK's parent-based sampler makes: the
/// same trace id, flags, trace state and remoteness, a new valid span id, not recording.
#[test]
fn an_unsampled_child_is_what_the_sdk_makes() {
    let provider = SdkTracerProvider::builder()
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
        .build();
    let tracer = provider.tracer("oracle");
    let parent = remote_parent(TraceFlags::default());
    let sdk = parent.with_span(tracer.start_with_context("child", &parent));
    let sdk_span = sdk.span();
    let want = sdk_span.span_context();
    for head in [
        Head::ParentBased { root_off: false },
        Head::ParentBased { root_off: true },
    ] {
        let ours = unsampled_child(head, &parent).expect("made without the SDK");
        let span = ours.span();
        let got = span.span_context();
        assert_eq!(got.trace_id(), want.trace_id());
        assert_eq!(got.trace_flags(), want.trace_flags());
        assert_eq!(got.trace_state().header(), want.trace_state().header());
        assert_eq!(got.is_remote(), want.is_remote());
        assert!(got.is_valid());
        assert_ne!(
            got.span_id(),
            parent.span().span_context().span_id(),
            "a span of its own"
        );
        assert!(!span.is_recording() && !sdk_span.is_recording());
    }
}

/// Where the SDK's decision is not sure to be a drop (or telemetry is suppressed), the
/// SDK starts the span.
#[test]
fn otherwise_the_sdk_starts_the_span() {
    let unsampled = remote_parent(TraceFlags::default());
    let parent_based = Head::ParentBased { root_off: false };
    assert!(unsampled_child(parent_based, &remote_parent(TraceFlags::SAMPLED)).is_none());
    assert!(unsampled_child(parent_based, &Context::new()).is_none());
    assert!(unsampled_child(parent_based, &unsampled.with_telemetry_suppressed()).is_none());
    assert!(unsampled_child(Head::Unknown, &unsampled).is_none());
    assert!(unsampled_child(Head::Off, &unsampled).is_none());
}

/// A root a ratio sampler drops is made without the SDK, exactly as the SDK makes it for the
/// same trace id (trace id, flags, trace state, remoteness; not recording); a root it keeps
/// gets the drawn trace id from the SDK, which samples it too.
#[test]
fn a_dropped_root_is_what_the_sdk_makes_and_a_kept_one_the_sdk_keeps() {
    use crate::config::Sampler as Configured;
    use opentelemetry::trace::Span as _;
    for sampler in [
        Configured::ParentBasedProbability(0.3),
        Configured::Probability(0.3),
        Configured::TraceIdRatio(0.3),
        Configured::ParentBasedTraceIdRatio(0.3),
    ] {
        let head = crate::sampling::head_of(sampler, false);
        assert!(matches!(head, Head::Ratio { .. }), "{sampler:?}");
        let provider = SdkTracerProvider::builder()
            .with_sampler(crate::sampling::head_sampler(sampler, false))
            .with_id_generator(crate::state::PresetIds)
            .build();
        let tracer = provider.tracer("oracle");
        let (mut dropped, mut kept) = (0, 0);
        for _ in 0..300 {
            match root_fate(head, &Context::new()) {
                RootFate::Dropped(cx) => {
                    dropped += 1;
                    let span = cx.span();
                    let ours = span.span_context();
                    crate::state::preset_trace_id(Some(ours.trace_id()));
                    let sdk = tracer.start_with_context("root", &Context::new());
                    let want = sdk.span_context();
                    assert_eq!(ours.trace_id(), want.trace_id(), "{sampler:?}");
                    assert_eq!(ours.trace_flags(), want.trace_flags());
                    assert_eq!(ours.trace_state().header(), want.trace_state().header());
                    assert_eq!(ours.is_remote(), want.is_remote());
                    assert!(ours.is_valid() && !span.is_recording() && !sdk.is_recording());
                }
                RootFate::Kept => {
                    kept += 1;
                    let sdk = tracer.start_with_context("root", &Context::new());
                    assert!(sdk.span_context().is_sampled(), "{sampler:?}");
                }
                RootFate::Undecided => panic!("a root under {sampler:?}"),
            }
        }
        assert!(
            dropped > 100 && kept > 30,
            "{sampler:?}: {dropped} dropped, {kept} kept"
        );
        // Under a parent, or with telemetry suppressed, the SDK decides.
        assert!(matches!(
            root_fate(head, &remote_parent(TraceFlags::SAMPLED)),
            RootFate::Undecided
        ));
        assert!(matches!(
            root_fate(head, &Context::new().with_telemetry_suppressed()),
            RootFate::Undecided
        ));
    }
    assert!(matches!(
        root_fate(Head::ParentBased { root_off: false }, &Context::new()),
        RootFate::Undecided
    ));
}

proptest::proptest! {
    /// The rule decides as the SDK's samplers do, trace id by trace id.
    #[test]
    fn the_root_rule_is_the_samplers(id in proptest::prelude::any::<u128>(), r in 0.0f64..=1.0) {
        use crate::config::Sampler as Configured;
        use opentelemetry::trace::SpanKind;
        use opentelemetry_sdk::trace::SamplingDecision;
        let trace_id = TraceId::from(id | 1);
        for sampler in [Configured::TraceIdRatio(r), Configured::Probability(r)] {
            let Head::Ratio { rule, .. } = crate::sampling::head_of(sampler, false) else {
                panic!("a ratio head");
            };
            let sdk = crate::sampling::head_sampler(sampler, false)
                .should_sample(None, trace_id, "root", &SpanKind::Internal, &[], &[]);
            proptest::prop_assert_eq!(
                keeps(rule, trace_id),
                sdk.decision == SamplingDecision::RecordAndSample,
                "{:?} {}", sampler, trace_id
            );
        }
    }
}
