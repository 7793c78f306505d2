//! Property tests over every way context comes in: `traceparent`, `tracestate`, `b3`,
//! `X-B3-*`, `uber-trace-id`, `baggage`, message envelopes and `TRACEPARENT`.
//!
//! For any input, extraction never panics, and either it yields nothing (a new trace starts)
//! or what it yields is well formed (non-zero ids) and survives a round trip through the same
//! format unchanged: a partial or corrupted context never leaks through.

use std::collections::HashMap;

use agent_trace::propagation::{propagator_for, B3Propagator, JaegerPropagator, W3cTraceContext};
use agent_trace::Propagator;
use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt as _};
use opentelemetry::Context;
use proptest::prelude::*;

/// Header map with several values per name, like HTTP.
struct Headers(Vec<(String, String)>);

impl Extractor for Headers {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let v: Vec<&str> = self
            .0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect();
        (!v.is_empty()).then_some(v)
    }
}

fn span_context(cx: &Context) -> Option<SpanContext> {
    let span = cx.span();
    let sc = span.span_context().clone();
    sc.is_valid().then_some(sc)
}

/// The property: no panic; nothing, or a well-formed context that round-trips.
fn check(p: &dyn TextMapPropagator, headers: Vec<(String, String)>) {
    let cx = p.extract(&Headers(headers));
    let Some(sc) = span_context(&cx) else {
        return;
    };
    assert_ne!(sc.trace_id(), opentelemetry::trace::TraceId::INVALID);
    assert_ne!(sc.span_id(), opentelemetry::trace::SpanId::INVALID);
    assert!(sc.is_remote());
    let mut out: HashMap<String, String> = HashMap::new();
    p.inject_context(&cx, &mut out);
    let again = p.extract(&Headers(out.into_iter().collect()));
    let sc2 = span_context(&again).expect("what was extracted can be sent on and read back");
    assert_eq!(sc2.trace_id(), sc.trace_id());
    assert_eq!(sc2.span_id(), sc.span_id());
    assert_eq!(sc2.is_sampled(), sc.is_sampled());
}

/// Strings near the valid shapes (hex, dashes, colons) as well as anything at all.
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-f]{0,40}(-[0-9a-fA-F]{0,40}){0,5}",
        "[0-9a-fzZ:%3A-]{0,80}",
        ".{0,300}",
        Just("00-00000000000000000000000000000000-0000000000000000-01".to_string()),
        Just(format!("00-{}-{}-01", "a".repeat(32), "b".repeat(16))),
    ]
}

fn valid_traceparent() -> impl Strategy<Value = String> {
    ("[0-9a-f]{2}", "[0-9a-f]{32}", "[0-9a-f]{16}", "[0-9a-f]{2}")
        .prop_map(|(v, t, s, f)| format!("{v}-{t}-{s}-{f}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn traceparent_and_tracestate(
        parents in prop::collection::vec(prop_oneof![header_value(), valid_traceparent()], 0..3),
        states in prop::collection::vec(".{0,600}", 0..3),
    ) {
        let mut h: Vec<(String, String)> =
            parents.into_iter().map(|v| ("traceparent".to_string(), v)).collect();
        h.extend(states.into_iter().map(|v| ("tracestate".to_string(), v)));
        check(&W3cTraceContext::new(), h);
    }

    #[test]
    fn mutated_valid_traceparent(tp in valid_traceparent(), at in 0usize..55, c in any::<char>()) {
        let mut chars: Vec<char> = tp.chars().collect();
        if at < chars.len() {
            chars[at] = c;
        }
        let mutated: String = chars.into_iter().collect();
        check(&W3cTraceContext::new(), vec![("traceparent".into(), mutated)]);
    }

    #[test]
    fn b3_single_and_multi(
        single in header_value(),
        trace in header_value(),
        span in header_value(),
        sampled in header_value(),
        flags in header_value(),
    ) {
        check(&B3Propagator::single(), vec![("b3".into(), single.clone())]);
        check(
            &B3Propagator::multi(),
            vec![
                ("x-b3-traceid".into(), trace),
                ("x-b3-spanid".into(), span),
                ("x-b3-sampled".into(), sampled),
                ("x-b3-flags".into(), flags),
            ],
        );
    }

    #[test]
    fn uber_trace_id(v in header_value()) {
        check(&JaegerPropagator::new(), vec![("uber-trace-id".into(), v)]);
    }

    #[test]
    fn baggage_never_panics_and_respects_the_limits(v in ".{0,10000}") {
        let p = propagator_for(&[Propagator::Baggage]);
        let cx = p.extract(&Headers(vec![("baggage".into(), v)]));
        let bag = cx.baggage();
        prop_assert!(bag.len() <= 64, "W3C Baggage: at most 64 entries");
        let size: usize = bag.iter().map(|(k, (v, _))| k.as_str().len() + v.as_str().len() + 1).sum();
        prop_assert!(size <= 8192, "W3C Baggage: at most 8192 bytes");
    }

    #[test]
    fn every_format_together(
        headers in prop::collection::vec(
            (prop::sample::select(vec!["traceparent", "tracestate", "b3", "uber-trace-id", "baggage", "x-b3-traceid", "x-b3-spanid"]), header_value()),
            0..8,
        ),
    ) {
        let p = propagator_for(&[
            Propagator::TraceContext,
            Propagator::Baggage,
            Propagator::B3,
            Propagator::Jaeger,
        ]);
        let cx = p.extract(&Headers(headers.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
        if let Some(sc) = span_context(&cx) {
            prop_assert_ne!(sc.trace_id(), opentelemetry::trace::TraceId::INVALID);
        }
    }

    #[test]
    fn envelopes_never_fail_on_their_trace_fields(
        trace in prop_oneof![
            header_value().prop_map(|v| serde_json::json!({"traceparent": v})),
            any::<i64>().prop_map(serde_json::Value::from),
            Just(serde_json::Value::Null),
            ".{0,50}".prop_map(serde_json::Value::from),
        ],
        payload in any::<u32>(),
    ) {
        let msg = serde_json::json!({"trace": trace, "payload": payload});
        let bytes = serde_json::to_vec(&msg).expect("json");
        let (got, cx): (u32, Context) =
            agent_trace::carriers::envelope::decode(&bytes).expect("the payload is delivered");
        prop_assert_eq!(got, payload);
        if let Some(sc) = span_context(&cx) {
            prop_assert_ne!(sc.trace_id(), opentelemetry::trace::TraceId::INVALID);
        }
    }

    #[test]
    fn arbitrary_bytes_as_a_message_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = agent_trace::carriers::envelope::decode::<serde_json::Value>(&bytes);
    }
}

#[test]
fn oversized_and_duplicate_headers() {
    let huge = "a".repeat(1 << 20);
    for p in [
        &W3cTraceContext::new() as &dyn TextMapPropagator,
        &B3Propagator::single(),
        &JaegerPropagator::new(),
    ] {
        for name in ["traceparent", "tracestate", "b3", "uber-trace-id"] {
            check(p, vec![(name.into(), huge.clone())]);
        }
    }
    let tp = format!("00-{}-{}-01", "1".repeat(32), "2".repeat(16));
    let cx = W3cTraceContext::new().extract(&Headers(vec![
        ("traceparent".into(), tp.clone()),
        ("traceparent".into(), tp),
    ]));
    assert!(
        span_context(&cx).is_none(),
        "a duplicated traceparent starts a new trace"
    );
}
