//! Tests of the propagation formats.

use super::*;
use std::collections::HashMap;

const TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
const SPAN: &str = "e457b5a2e4d86bd1";

fn extract(p: &dyn TextMapPropagator, headers: &[(&str, &str)]) -> Option<SpanContext> {
    let map: HashMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    let cx = p.extract(&map);
    let sc = cx.span().span_context().clone();
    sc.is_valid().then_some(sc)
}

fn inject(p: &dyn TextMapPropagator, sampled: bool) -> HashMap<String, String> {
    let sc = SpanContext::new(
        TraceId::from_hex(TRACE).unwrap(),
        SpanId::from_hex(SPAN).unwrap(),
        if sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        },
        true,
        TraceState::default(),
    );
    let cx = Context::new().with_remote_span_context(sc);
    let mut map = HashMap::new();
    p.inject_context(&cx, &mut map);
    map
}

#[test]
fn b3_single_known_good() {
    let p = B3Propagator::single();
    // Examples from the B3 specification.
    let sc = extract(
        &p,
        &[(
            "b3",
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90",
        )],
    )
    .unwrap();
    assert_eq!(sc.trace_id().to_string(), TRACE);
    assert_eq!(sc.span_id().to_string(), SPAN);
    assert!(sc.is_sampled() && sc.is_remote());
    let sc = extract(&p, &[("b3", "a3ce929d0e0e4736-00f067aa0ba902b7-d")]).unwrap();
    assert_eq!(
        sc.trace_id().to_string(),
        "0000000000000000a3ce929d0e0e4736"
    );
    assert!(sc.is_sampled(), "debug means sampled");
    let sc = extract(&p, &[("b3", &format!("{TRACE}-{SPAN}-0"))]).unwrap();
    assert!(!sc.is_sampled());
    assert_eq!(
        inject(&p, true).get("b3").unwrap(),
        &format!("{TRACE}-{SPAN}-1")
    );
    assert_eq!(
        inject(&p, false).get("b3").unwrap(),
        &format!("{TRACE}-{SPAN}-0")
    );
}

#[test]
fn b3_multi_known_good() {
    let p = B3Propagator::multi();
    let sc = extract(
        &p,
        &[
            ("X-B3-TraceId", TRACE),
            ("X-B3-SpanId", SPAN),
            ("X-B3-ParentSpanId", "05e3ac9a4f6e3b90"),
            ("X-B3-Sampled", "1"),
        ],
    )
    .unwrap();
    assert_eq!(sc.trace_id().to_string(), TRACE);
    assert!(sc.is_sampled());
    let sc = extract(
        &p,
        &[
            ("X-B3-TraceId", TRACE),
            ("X-B3-SpanId", SPAN),
            ("X-B3-Flags", "1"),
            ("X-B3-Sampled", "0"),
        ],
    )
    .unwrap();
    assert!(sc.is_sampled(), "debug flag forces sampling");
    let out = inject(&p, true);
    assert_eq!(out.get("x-b3-traceid").unwrap(), TRACE);
    assert_eq!(out.get("x-b3-spanid").unwrap(), SPAN);
    assert_eq!(out.get("x-b3-sampled").unwrap(), "1");
    // The single header is accepted by the multi propagator too.
    assert!(extract(&p, &[("b3", &format!("{TRACE}-{SPAN}-1"))]).is_some());
}

#[test]
fn b3_rejects_malformed() {
    let p = B3Propagator::single();
    for bad in [
        "0",
        "",
        "-",
        "zz-zz",
        &format!("{TRACE}-{SPAN}-2"),
        &format!("{TRACE}-0000000000000000-1"),
        &format!("00000000000000000000000000000000-{SPAN}-1"),
        &format!("{TRACE}x-{SPAN}-1"),
        &format!("{TRACE}-{SPAN}-1-short"),
        &format!("{TRACE}-{SPAN}-1-{SPAN}-extra"),
        "é-é-é",
    ] {
        assert!(extract(&p, &[("b3", bad)]).is_none(), "{bad:?}");
    }
    let m = B3Propagator::multi();
    assert!(extract(&m, &[("X-B3-TraceId", TRACE)]).is_none());
    assert!(extract(
        &m,
        &[
            ("X-B3-TraceId", TRACE),
            ("X-B3-SpanId", SPAN),
            ("X-B3-Sampled", "yes")
        ]
    )
    .is_none());
}

#[test]
fn jaeger_known_good() {
    let p = JaegerPropagator::new();
    let sc = extract(&p, &[("uber-trace-id", &format!("{TRACE}:{SPAN}:0:1"))]).unwrap();
    assert_eq!(sc.trace_id().to_string(), TRACE);
    assert_eq!(sc.span_id().to_string(), SPAN);
    assert!(sc.is_sampled());
    // Short ids (leading zeros dropped) and URL-encoded colons, as Jaeger clients send.
    let sc = extract(&p, &[("uber-trace-id", "a3ce929d0e0e4736%3A7b%3A0%3A3")]).unwrap();
    assert_eq!(
        sc.trace_id().to_string(),
        "0000000000000000a3ce929d0e0e4736"
    );
    assert_eq!(sc.span_id().to_string(), "000000000000007b");
    assert!(sc.is_sampled());
    let sc = extract(&p, &[("uber-trace-id", &format!("{TRACE}:{SPAN}:0:0"))]).unwrap();
    assert!(!sc.is_sampled());
    assert_eq!(
        inject(&p, true).get("uber-trace-id").unwrap(),
        &format!("{TRACE}:{SPAN}:0:01")
    );
}

#[test]
fn jaeger_rejects_malformed() {
    let p = JaegerPropagator::new();
    for bad in [
        "",
        ":::",
        "1:2:3",
        &format!("{TRACE}:{SPAN}:0:1:9"),
        &format!("0:{SPAN}:0:1"),
        &format!("{TRACE}:0:0:1"),
        &format!("{TRACE}0:{SPAN}:0:1"),
        &format!("{TRACE}:{SPAN}:0:zz"),
        &format!("{TRACE}:{SPAN}:0:100"),
        "é:é:é:é",
    ] {
        assert!(extract(&p, &[("uber-trace-id", bad)]).is_none(), "{bad:?}");
    }
}

/// A multi-value extractor, like HTTP headers.
struct Multi(Vec<(&'static str, String)>);
impl Extractor for Multi {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| *k).collect()
    }
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let v: Vec<&str> = self
            .0
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
            .collect();
        (!v.is_empty()).then_some(v)
    }
}

fn w3c(headers: &[(&'static str, &str)]) -> Option<SpanContext> {
    let m = Multi(headers.iter().map(|(k, v)| (*k, v.to_string())).collect());
    let cx = W3cTraceContext::new().extract(&m);
    let sc = cx.span().span_context().clone();
    sc.is_valid().then_some(sc)
}

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn w3c_valid_headers() {
    let sc = w3c(&[("traceparent", TP)]).unwrap();
    assert_eq!(
        sc.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert!(sc.is_sampled() && sc.is_remote());
    // Level 2 random flag kept; unknown flags dropped.
    let sc = w3c(&[(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff",
    )])
    .unwrap();
    assert_eq!(sc.trace_flags().to_u8(), 0x03);
    // A future version may carry more fields.
    assert!(w3c(&[(
        "traceparent",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds"
    )])
    .is_some());
    // Repeated tracestate headers are merged, in order.
    let sc = w3c(&[
        ("traceparent", TP),
        ("tracestate", "rojo=00f067aa0ba902b7"),
        ("tracestate", "congo=t61rcWkgMzE,tenant@vendor=x"),
    ])
    .unwrap();
    assert_eq!(
        sc.trace_state().header(),
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,tenant@vendor=x"
    );
    let mut out = HashMap::new();
    W3cTraceContext::new().inject_context(&Context::new().with_remote_span_context(sc), &mut out);
    assert_eq!(out["traceparent"], TP);
    assert_eq!(
        out["tracestate"],
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,tenant@vendor=x"
    );
}

#[test]
fn w3c_invalid_traceparents_start_a_new_trace() {
    for bad in [
        "",
        "00",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.future",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\u{e9}",
    ] {
        assert!(w3c(&[("traceparent", bad)]).is_none(), "{bad:?}");
    }
    assert!(
        w3c(&[("traceparent", TP), ("traceparent", TP)]).is_none(),
        "a duplicated traceparent is ambiguous"
    );
}

#[test]
fn w3c_invalid_tracestate_is_dropped_but_parent_kept() {
    let too_many: String = (0..33)
        .map(|i| format!("k{i}=v"))
        .collect::<Vec<_>>()
        .join(",");
    for bad in [
        "Upper=1",
        "k=",
        "k=v=w",
        "=v",
        "@foo=1,bar=2",
        "foo =1",
        "foo.bar=1",
        "foo=,bar=3",
        "k=\u{e9}",
        too_many.as_str(),
    ] {
        let sc = w3c(&[("traceparent", TP), ("tracestate", bad)]).expect("parent kept");
        assert_eq!(sc.trace_state().header(), "", "{bad:?}");
    }
    let ok: String = (0..32)
        .map(|i| format!("k{i}=v"))
        .collect::<Vec<_>>()
        .join(",");
    let sc = w3c(&[("traceparent", TP), ("tracestate", &ok)]).unwrap();
    assert_eq!(sc.trace_state().header().matches('=').count(), 32);
}

fn tracestate_out(headers: &[(&'static str, &str)]) -> String {
    let m = Multi(headers.iter().map(|(k, v)| (*k, v.to_string())).collect());
    let cx = W3cTraceContext::new().extract(&m);
    let mut out = HashMap::new();
    W3cTraceContext::new().inject_context(&cx, &mut out);
    out.remove("tracestate").unwrap_or_default()
}

#[test]
fn w3c_current_key_grammar_is_forwarded_whole() {
    // Keys the SDK's TraceState rejects (Level 1's `@` rules) but the current grammar and
    // the W3C suite accept: they must travel on, with the other members, in order.
    let long_vendor = format!("{}@{}", "t".repeat(241), "v".repeat(14));
    let short_tenant = format!("t@{}", "v".repeat(15));
    for key in [
        "foo@bar@baz",
        "foo@@bar",
        "foo@",
        long_vendor.as_str(),
        short_tenant.as_str(),
        "abcdefghijklmnopqrstuvwxyz0123456789_-*/@a-z0-9_-*/",
    ] {
        let state = format!("{key}=1,bar=2");
        assert_eq!(
            tracestate_out(&[("traceparent", TP), ("tracestate", &state)]),
            state,
            "{key}"
        );
    }
    // A 256-character key is valid, 257 is not.
    let k256 = "z".repeat(256);
    let k257 = "z".repeat(257);
    assert_eq!(
        tracestate_out(&[
            ("traceparent", TP),
            ("tracestate", "foo=1"),
            ("tracestate", &format!("{k256}=1"))
        ]),
        format!("foo=1,{k256}=1")
    );
    assert_eq!(
        tracestate_out(&[
            ("traceparent", TP),
            ("tracestate", "foo=1"),
            ("tracestate", &format!("{k257}=1"))
        ]),
        ""
    );
    // The SDK's view holds what it can; the SDK-valid members are readable there.
    let sc = w3c(&[("traceparent", TP), ("tracestate", "foo@bar@baz=1,bar=2")]).unwrap();
    assert_eq!(sc.trace_state().get("bar"), Some("2"));
}

#[test]
fn w3c_duplicate_keys_keep_the_first_member() {
    for (headers, expected) in [
        (vec!["foo=1,foo=1"], "foo=1"),
        (vec!["foo=1,foo=2"], "foo=1"),
        (vec!["foo=1", "foo=2"], "foo=1"),
        (vec!["a=1,foo=1,b=2,foo=3"], "a=1,foo=1,b=2"),
    ] {
        let mut h = vec![("traceparent", TP)];
        h.extend(headers.iter().map(|v| ("tracestate", *v)));
        assert_eq!(tracestate_out(&h), expected, "{headers:?}");
    }
}

#[test]
fn w3c_tracestate_parsing_stops_at_the_member_limit() {
    // 45,000 members (the denial-of-service report): the parser must not look past the
    // 33rd. Counted through the iterator of header values, one member per value.
    let pulled = std::cell::Cell::new(0usize);
    let values: Vec<String> = (0..45_000).map(|i| format!("k{i}=v")).collect();
    let it = values.iter().map(|v| {
        pulled.set(pulled.get() + 1);
        v.as_str()
    });
    assert!(W3cTraceContext::parse_tracestate_members(it).is_none());
    assert_eq!(pulled.get(), TRACESTATE_MAX_MEMBERS + 1);
    // The same in one header: dropped, parent kept.
    let one = values.join(",");
    let sc = w3c(&[("traceparent", TP), ("tracestate", &one)]).unwrap();
    assert_eq!(sc.trace_state().header(), "");
    // Thousands of empty members cost a scan, not a member each.
    let empties = format!("{}a=1", ",".repeat(100_000));
    assert_eq!(
        tracestate_out(&[("traceparent", TP), ("tracestate", &empties)]),
        "a=1"
    );
}

#[test]
fn w3c_long_tracestate_is_cut_by_whole_members() {
    // 5 members of 130 characters (large) and small ones: large go first, from the end.
    let big = |c: char| format!("{c}={}", "x".repeat(128));
    let state = [
        big('a'),
        "s1=1".into(),
        big('b'),
        big('c'),
        "s2=2".into(),
        big('d'),
    ]
    .join(",");
    let out = tracestate_out(&[("traceparent", TP), ("tracestate", &state)]);
    assert!(out.len() <= TRACESTATE_MAX_LEN, "{}", out.len());
    assert_eq!(
        out,
        [big('a'), "s1=1".into(), big('b'), big('c'), "s2=2".into()].join(",")
    );
    // Only small members: cut from the end.
    let small: Vec<String> = (0..32)
        .map(|i| format!("k{i:02}={}", "v".repeat(20)))
        .collect();
    let out = tracestate_out(&[("traceparent", TP), ("tracestate", &small.join(","))]);
    assert!(out.len() <= TRACESTATE_MAX_LEN);
    assert!(out.starts_with("k00=") && !out.contains("k31="), "{out}");
    assert_eq!(out.matches(',').count() + 1, out.len().div_ceil(25).min(32));
}

fn w3c_out(cx: &Context) -> String {
    // The traceparent `cx` would send.
    let mut out = HashMap::new();
    W3cTraceContext::new().inject_context(cx, &mut out);
    out.remove("traceparent").unwrap_or_default()
}

#[test]
fn w3c_level2_random_flag_through_the_sdk() {
    use opentelemetry::trace::{Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
    let provider = SdkTracerProvider::builder()
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
        .build();
    let tracer = provider.tracer("t");
    let child_of = |traceparent: Option<&str>| {
        let m = Multi(
            traceparent
                .map(|t| ("traceparent", t.to_string()))
                .into_iter()
                .collect(),
        );
        let parent = W3cTraceContext::new().extract(&m);
        let span = tracer.start_with_context("child", &parent);
        w3c_out(&parent.with_span(span))
    };
    // Unsampled + random: the SDK resets the child's flags to 00; `random` must survive.
    let out = child_of(Some(
        "00-12345678901234567890123456789012-1234567890123456-02",
    ));
    assert!(
        out.starts_with("00-12345678901234567890123456789012-"),
        "{out}"
    );
    assert!(
        !out.contains("-1234567890123456-"),
        "a new parent id: {out}"
    );
    assert!(out.ends_with("-02"), "{out}");
    // Sampled + random.
    let out = child_of(Some(
        "00-12345678901234567890123456789012-1234567890123456-03",
    ));
    assert!(out.ends_with("-03"), "{out}");
    // A parent without the flag: the child does not claim it.
    let out = child_of(Some(
        "00-12345678901234567890123456789012-1234567890123456-01",
    ));
    assert!(out.ends_with("-01"), "{out}");
    // A new root: its id is random, and Level 2 says the flag SHOULD be set.
    let out = child_of(None);
    assert!(out.ends_with("-03"), "{out}");
    // B3 parents say nothing about randomness: never claimed.
    let m: HashMap<String, String> = [("b3".to_string(), format!("{TRACE}-{SPAN}-1"))].into();
    let parent = B3Propagator::single().extract(&m);
    let out = w3c_out(&parent.with_span(tracer.start_with_context("c", &parent)));
    assert!(out.ends_with("-01"), "{out}");
}

#[test]
fn jaeger_baggage_round_trip() {
    let p = JaegerPropagator::new();
    let cx = Context::new()
        .with_remote_span_context(SpanContext::new(
            TraceId::from_hex(TRACE).unwrap(),
            SpanId::from_hex(SPAN).unwrap(),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        ))
        .with_baggage(vec![
            opentelemetry::KeyValue::new("user", "a b+c/d é"),
            opentelemetry::KeyValue::new("tier", "gold"),
        ]);
    let mut out = HashMap::new();
    p.inject_context(&cx, &mut out);
    assert_eq!(out["uberctx-tier"], "gold");
    assert_eq!(out["uberctx-user"], "a%20b%2Bc/d%20%C3%A9");
    let back = p.extract(&out);
    assert_eq!(back.baggage().get("user").unwrap().as_str(), "a b+c/d é");
    assert_eq!(back.baggage().get("tier").unwrap().as_str(), "gold");
    assert_eq!(back.span().span_context().trace_id().to_string(), TRACE);
    // Headers as Jaeger clients send them (any case), without a trace id too.
    let m: HashMap<String, String> = [("uberctx-k".to_string(), "v%2C1".to_string())].into();
    assert_eq!(p.extract(&m).baggage().get("k").unwrap().as_str(), "v,1");
    // Bounded: 10,000 entries keep at most BAGGAGE_MAX_ENTRIES.
    let many: HashMap<String, String> = (0..10_000)
        .map(|i| (format!("uberctx-k{i}"), "v".to_string()))
        .collect();
    assert!(p.extract(&many).baggage().len() <= BAGGAGE_MAX_ENTRIES);
}

#[test]
fn baggage_values_survive_plus_percent_and_non_ascii() {
    let p = W3cBaggage::new();
    let values = ["a b", "1+1=2", "/path/x", "é ü 漢", "50%", "%41", "x;y,z\\"];
    let cx = Context::new().with_baggage(
        values
            .iter()
            .enumerate()
            .map(|(i, v)| opentelemetry::KeyValue::new(format!("k{i}"), *v))
            .collect::<Vec<_>>(),
    );
    let mut out = HashMap::new();
    p.inject_context(&cx, &mut out);
    let header = &out["baggage"];
    assert!(
        !header.contains('+'),
        "a raw + reads as a space in Python: {header}"
    );
    assert!(header.contains("1%2B1%3D2"), "{header}");
    let back = p.extract(&out);
    for (i, v) in values.iter().enumerate() {
        assert_eq!(back.baggage().get(format!("k{i}")).unwrap().as_str(), *v);
    }
}

#[test]
fn composite_order_and_fields() {
    let p = propagator_for(&[Propagator::TraceContext, Propagator::B3, Propagator::Jaeger]);
    let out = inject(&p, true);
    assert!(out.contains_key("traceparent"));
    assert!(out.contains_key("b3"));
    assert!(out.contains_key("uber-trace-id"));
    let fields: Vec<_> = p.fields().collect();
    assert!(fields.contains(&"b3") && fields.contains(&"uber-trace-id"));
}

/// The `tracestate` a child started by the consistent probability sampler (parent-threshold,
/// roots at 50%) sends on, for incoming `headers`.
fn tracestate_after_sampling(headers: &[(&'static str, &str)]) -> (bool, String) {
    use crate::sampling::{Composable, CompositeSampler};
    use opentelemetry::trace::{Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::trace::SdkTracerProvider;
    let provider = SdkTracerProvider::builder()
        .with_sampler(CompositeSampler::new(Composable::parent_threshold(
            Composable::probability(0.5).unwrap(),
        )))
        .build();
    let m = Multi(headers.iter().map(|(k, v)| (*k, v.to_string())).collect());
    let parent = W3cTraceContext::new().extract(&m);
    let span = provider.tracer("t").start_with_context("child", &parent);
    let cx = parent.with_span(span);
    let mut out = HashMap::new();
    W3cTraceContext::new().inject_context(&cx, &mut out);
    let sampled = cx.span().span_context().is_sampled();
    (sampled, out.remove("tracestate").unwrap_or_default())
}

/// `ot` entries through extraction, the sampler and injection: garbage and repeated `th` are
/// erased, other `ot` sub-keys and other vendors' members (the SDK-invalid keys included)
/// kept, the 32-member and 512-character limits held. TP's randomness (`ce929d0e0e4736`) is
/// below `th:e` (1/8) and above `th:8` (1/2).
#[test]
fn w3c_ot_tracestate_values_survive_the_sampler() {
    for (incoming, sampled, expected) in [
        ("ot=th:8,v=1", true, "ot=th:8,v=1"),
        // Inconsistent with the sampled flag (R < T): erased, the flag decides.
        ("ot=th:e;x:1,v=1", true, "ot=x:1,v=1"),
        ("ot=th:8;th:8,v=1", true, "v=1"),
        ("ot=th:zz;rv:nothex,v=1", true, "ot=rv:nothex,v=1"),
        // Nothing to erase: left as it came.
        ("ot=;;;,v=1", true, "ot=;;;,v=1"),
        ("ot=th:8,foo@bar@baz=1", true, "ot=th:8,foo@bar@baz=1"),
        ("ot=th:e;x:1,foo@bar@baz=1", true, "ot=x:1,foo@bar@baz=1"),
    ] {
        let got = tracestate_after_sampling(&[("traceparent", TP), ("tracestate", incoming)]);
        assert_eq!(got, (sampled, expected.to_string()), "{incoming}");
    }
    // An oversized `ot` value (over the W3C value limit) drops the whole list at extraction:
    // the sampled parent without a threshold is followed, nothing claimed.
    let oversized = format!("ot=x:{},v=1", "a".repeat(300));
    assert_eq!(
        tracestate_after_sampling(&[("traceparent", TP), ("tracestate", &oversized)]),
        (true, String::new())
    );
    // 32 members, the last one `ot`: the new `ot` goes first, 32 members stay.
    let mut full: Vec<String> = (0..31).map(|i| format!("k{i}=v")).collect();
    full.push("ot=th:8".into());
    let (sampled, out) =
        tracestate_after_sampling(&[("traceparent", TP), ("tracestate", &full.join(","))]);
    assert!(sampled);
    assert_eq!(out.split(',').count(), 32);
    assert!(out.contains("ot=th:8") && out.contains("k30=v"), "{out}");
}

proptest::proptest! {
    /// Any `ot` value a W3C parser accepts: extraction, the sampler and injection never panic,
    /// the other members travel on, and a `th` goes out only on a sampled span and only if
    /// well formed.
    #[test]
    fn w3c_any_ot_value_is_handled(v in "[ -+--<>-~]{0,120}") {
        let state = format!("a=1,ot={v},b=2");
        let (sampled, out) = tracestate_after_sampling(&[("traceparent", TP), ("tracestate", &state)]);
        let members: Vec<&str> = out.split(',').collect();
        let extracted = w3c(&[("traceparent", TP), ("tracestate", &state)])
            .is_some_and(|sc| !sc.trace_state().header().is_empty());
        if extracted {
            proptest::prop_assert!(members.contains(&"a=1") && members.contains(&"b=2"), "{}", out);
        }
        if let Some(ot) = members.iter().find(|m| m.starts_with("ot=")) {
            for th in ot.trim_start_matches("ot=").split(';').filter(|m| m.starts_with("th:")) {
                proptest::prop_assert!(sampled);
                proptest::prop_assert!(th[3..].parse::<crate::sampling::Threshold>().is_ok(), "{}", th);
            }
        }
    }
}
