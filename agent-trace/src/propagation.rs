//! Context propagation formats and the composite propagator `init` installs.
//!
//! W3C Baggage comes from the OpenTelemetry SDK. W3C Trace Context is parsed strictly here
//! ([`W3cTraceContext`]): the SDK's parser accepts several headers the specification rejects.
//! B3 (single and multi header) and Jaeger (`uber-trace-id`) are implemented here too: no
//! propagator crate for them exists for the opentelemetry 0.33 line. Every extractor is total:
//! malformed input yields the context it was given, unchanged, never a panic and never a
//! partial span context.

use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::BaggagePropagator;

use crate::config::Propagator;

/// Builds the composite propagator for `kinds`, in order (later formats win on extract).
pub fn propagator_for(kinds: &[Propagator]) -> TextMapCompositePropagator {
    let list: Vec<Box<dyn TextMapPropagator + Send + Sync>> = kinds
        .iter()
        .map(|k| -> Box<dyn TextMapPropagator + Send + Sync> {
            match k {
                Propagator::TraceContext => Box::new(W3cTraceContext::new()),
                Propagator::Baggage => Box::new(BaggagePropagator::new()),
                Propagator::B3 => Box::new(B3Propagator::single()),
                Propagator::B3Multi => Box::new(B3Propagator::multi()),
                Propagator::Jaeger => Box::new(JaegerPropagator::new()),
            }
        })
        .collect();
    TextMapCompositePropagator::new(list)
}

/// W3C Trace Context (Level 1, with Level 2's `random` flag kept), parsed strictly:
///
/// - `traceparent` fields have their exact lengths and are lowercase hex; version `ff` is
///   invalid; version `00` has exactly four fields; a later version may add fields after a `-`;
///   all-zero trace or span ids are invalid;
/// - more than one `traceparent` header is invalid (the request is ambiguous);
/// - several `tracestate` headers are merged in order; each entry's key and value must be
///   valid, keys unique, at most 32 entries; an invalid `tracestate` is dropped while a valid
///   `traceparent` is kept, as the specification says.
///
/// An invalid `traceparent` leaves the context unchanged, so a new trace starts.
#[derive(Debug, Clone, Default)]
pub struct W3cTraceContext {
    _private: (),
}

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";
/// Sampled and (Level 2) random: the flags this implementation knows and propagates.
const KNOWN_FLAGS: u8 = 0x01 | 0x02;

impl W3cTraceContext {
    /// A strict W3C Trace Context propagator.
    pub fn new() -> Self {
        W3cTraceContext::default()
    }

    fn lower_hex(s: &str, len: usize) -> bool {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }

    /// Parses one `traceparent` value.
    pub fn parse_traceparent(value: &str) -> Option<(TraceId, SpanId, TraceFlags)> {
        let v = value.trim_matches(|c| c == ' ' || c == '\t');
        if v.len() < 55 || !v.is_ascii() {
            return None;
        }
        let version = &v[0..2];
        if !Self::lower_hex(version, 2) || version == "ff" {
            return None;
        }
        if version == "00" && v.len() != 55 {
            return None;
        }
        // Later versions may append fields, separated by '-'.
        if v.len() > 55 && v.as_bytes()[55] != b'-' {
            return None;
        }
        let b = v.as_bytes();
        if b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
            return None;
        }
        let (trace, span, flags) = (&v[3..35], &v[36..52], &v[53..55]);
        if !Self::lower_hex(trace, 32) || !Self::lower_hex(span, 16) || !Self::lower_hex(flags, 2) {
            return None;
        }
        let trace_id = TraceId::from_hex(trace).ok()?;
        let span_id = SpanId::from_hex(span).ok()?;
        if trace_id == TraceId::INVALID || span_id == SpanId::INVALID {
            return None;
        }
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Some((trace_id, span_id, TraceFlags::new(flags & KNOWN_FLAGS)))
    }

    fn valid_key(key: &str) -> bool {
        let simple = |k: &str, max: usize, first_digit_ok: bool| {
            let b = k.as_bytes();
            !b.is_empty()
                && b.len() <= max
                && (b[0].is_ascii_lowercase() || (first_digit_ok && b[0].is_ascii_digit()))
                && b.iter().all(|c| {
                    c.is_ascii_lowercase()
                        || c.is_ascii_digit()
                        || matches!(c, b'_' | b'-' | b'*' | b'/')
                })
        };
        match key.split_once('@') {
            None => simple(key, 256, true),
            Some((tenant, system)) => {
                simple(tenant, 241, true) && simple(system, 14, false) && !system.contains('@')
            }
        }
    }

    fn valid_value(value: &str) -> bool {
        let b = value.as_bytes();
        !b.is_empty()
            && b.len() <= 256
            && b.iter()
                .all(|&c| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=')
            && b[b.len() - 1] != b' '
    }

    /// Parses merged `tracestate` header values; `None` if anything is invalid.
    pub fn parse_tracestate(values: &[&str]) -> Option<TraceState> {
        let mut entries: Vec<(String, String)> = Vec::new();
        for value in values {
            for member in value.split(',') {
                let member = member.trim_matches(|c| c == ' ' || c == '\t');
                if member.is_empty() {
                    continue; // empty list members are allowed and ignored
                }
                let (k, v) = member.split_once('=')?;
                if !Self::valid_key(k) || !Self::valid_value(v) {
                    return None;
                }
                if entries.iter().any(|(ek, _)| ek == k) {
                    return None;
                }
                entries.push((k.to_string(), v.to_string()));
            }
        }
        if entries.len() > 32 {
            return None;
        }
        TraceState::from_key_value(entries).ok()
    }
}

impl TextMapPropagator for W3cTraceContext {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        injector.set(
            TRACEPARENT,
            format!(
                "00-{}-{}-{:02x}",
                sc.trace_id(),
                sc.span_id(),
                sc.trace_flags().to_u8() & KNOWN_FLAGS
            ),
        );
        let state = sc.trace_state().header();
        if !state.is_empty() {
            injector.set(TRACESTATE, state);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let parents = extractor.get_all(TRACEPARENT).unwrap_or_default();
        let [parent] = parents.as_slice() else {
            return cx.clone(); // absent, or duplicated: ambiguous
        };
        let Some((trace_id, span_id, flags)) = Self::parse_traceparent(parent) else {
            return cx.clone();
        };
        let state = extractor
            .get_all(TRACESTATE)
            .and_then(|v| Self::parse_tracestate(&v))
            .unwrap_or_default();
        cx.with_remote_span_context(SpanContext::new(trace_id, span_id, flags, true, state))
    }

    fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
        static FIELDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        opentelemetry::propagation::text_map_propagator::FieldIter::new(
            FIELDS.get_or_init(|| vec![TRACEPARENT.to_string(), TRACESTATE.to_string()]),
        )
    }
}

fn parse_trace_id(s: &str) -> Option<TraceId> {
    // 16 or 32 hex digits (64-bit ids are left-padded), lowercase or uppercase.
    if !(s.len() == 16 || s.len() == 32) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let id = u128::from_str_radix(s, 16).ok()?;
    (id != 0).then(|| TraceId::from(id))
}

fn parse_span_id(s: &str) -> Option<SpanId> {
    if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let id = u64::from_str_radix(s, 16).ok()?;
    (id != 0).then(|| SpanId::from(id))
}

fn remote(cx: &Context, trace_id: TraceId, span_id: SpanId, sampled: bool) -> Context {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    cx.with_remote_span_context(SpanContext::new(
        trace_id,
        span_id,
        flags,
        true,
        TraceState::default(),
    ))
}

/// Zipkin B3 propagation, single `b3` header or multiple `X-B3-*` headers.
///
/// Extract accepts both forms whichever was configured (the single header wins), as the B3
/// specification recommends; inject writes the configured form.
#[derive(Debug, Clone)]
pub struct B3Propagator {
    single: bool,
}

const B3_SINGLE: &str = "b3";
const B3_TRACE_ID: &str = "x-b3-traceid";
const B3_SPAN_ID: &str = "x-b3-spanid";
const B3_SAMPLED: &str = "x-b3-sampled";
const B3_FLAGS: &str = "x-b3-flags";
const B3_PARENT: &str = "x-b3-parentspanid";

impl B3Propagator {
    /// Writes the single `b3` header.
    pub fn single() -> Self {
        B3Propagator { single: true }
    }

    /// Writes `X-B3-TraceId`, `X-B3-SpanId` and `X-B3-Sampled`.
    pub fn multi() -> Self {
        B3Propagator { single: false }
    }

    fn extract_single(value: &str) -> Option<(TraceId, SpanId, bool)> {
        let parts: Vec<&str> = value.trim().split('-').collect();
        // `b3: 0` alone is a sampling decision without ids: nothing to continue.
        if parts.len() < 2 || parts.len() > 4 {
            return None;
        }
        let trace_id = parse_trace_id(parts[0])?;
        let span_id = parse_span_id(parts[1])?;
        let sampled = match parts.get(2).copied() {
            None => true, // deferred decision: follow our sampler, which defaults to on
            Some("1") | Some("d") => true,
            Some("0") => false,
            Some(_) => return None,
        };
        if let Some(parent) = parts.get(3) {
            parse_span_id(parent)?;
        }
        Some((trace_id, span_id, sampled))
    }

    fn extract_multi(extractor: &dyn Extractor) -> Option<(TraceId, SpanId, bool)> {
        let trace_id = parse_trace_id(extractor.get(B3_TRACE_ID)?.trim())?;
        let span_id = parse_span_id(extractor.get(B3_SPAN_ID)?.trim())?;
        let debug = extractor.get(B3_FLAGS).map(str::trim) == Some("1");
        let sampled = match extractor.get(B3_SAMPLED).map(str::trim) {
            None => true,
            Some("1") | Some("true") => true,
            Some("0") | Some("false") => debug,
            Some(_) => return None,
        };
        if let Some(parent) = extractor.get(B3_PARENT) {
            parse_span_id(parent.trim())?;
        }
        Some((trace_id, span_id, sampled || debug))
    }
}

impl TextMapPropagator for B3Propagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        let sampled = if sc.is_sampled() { "1" } else { "0" };
        if self.single {
            injector.set(
                B3_SINGLE,
                format!("{}-{}-{}", sc.trace_id(), sc.span_id(), sampled),
            );
        } else {
            injector.set(B3_TRACE_ID, sc.trace_id().to_string());
            injector.set(B3_SPAN_ID, sc.span_id().to_string());
            injector.set(B3_SAMPLED, sampled.to_string());
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let found = match extractor.get(B3_SINGLE) {
            Some(v) => Self::extract_single(v),
            None => Self::extract_multi(extractor),
        };
        match found {
            Some((t, s, sampled)) => remote(cx, t, s, sampled),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
        static MULTI: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        static SINGLE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        let v = if self.single {
            SINGLE.get_or_init(|| vec![B3_SINGLE.to_string()])
        } else {
            MULTI.get_or_init(|| {
                [B3_TRACE_ID, B3_SPAN_ID, B3_SAMPLED, B3_FLAGS, B3_PARENT]
                    .map(String::from)
                    .to_vec()
            })
        };
        opentelemetry::propagation::text_map_propagator::FieldIter::new(v)
    }
}

/// Jaeger propagation: `uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}`.
#[derive(Debug, Clone, Default)]
pub struct JaegerPropagator {
    _private: (),
}

const UBER_TRACE_ID: &str = "uber-trace-id";

impl JaegerPropagator {
    /// A Jaeger propagator.
    pub fn new() -> Self {
        JaegerPropagator::default()
    }

    fn parse(value: &str) -> Option<(TraceId, SpanId, bool)> {
        // Some clients URL-encode the colons.
        let decoded;
        let value = if value.contains("%3A") || value.contains("%3a") {
            decoded = value.replace("%3A", ":").replace("%3a", ":");
            decoded.as_str()
        } else {
            value
        };
        let parts: Vec<&str> = value.trim().split(':').collect();
        if parts.len() != 4 {
            return None;
        }
        let hex = |s: &str, max: usize| {
            !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_hexdigit())
        };
        // Jaeger drops leading zeros: ids may be shorter than their full width.
        if !hex(parts[0], 32) || !hex(parts[1], 16) || !hex(parts[2], 16) || !hex(parts[3], 2) {
            return None;
        }
        let trace_id = u128::from_str_radix(parts[0], 16).ok()?;
        let span_id = u64::from_str_radix(parts[1], 16).ok()?;
        let flags = u8::from_str_radix(parts[3], 16).ok()?;
        if trace_id == 0 || span_id == 0 {
            return None;
        }
        // Bit 1: sampled; bit 2: debug (implies sampled).
        let sampled = flags & 0x01 != 0 || flags & 0x02 != 0;
        Some((TraceId::from(trace_id), SpanId::from(span_id), sampled))
    }
}

impl TextMapPropagator for JaegerPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        let flags = if sc.is_sampled() { "01" } else { "00" };
        injector.set(
            UBER_TRACE_ID,
            format!("{}:{}:0:{}", sc.trace_id(), sc.span_id(), flags),
        );
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match extractor.get(UBER_TRACE_ID).and_then(Self::parse) {
            Some((t, s, sampled)) => remote(cx, t, s, sampled),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
        static FIELDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        opentelemetry::propagation::text_map_propagator::FieldIter::new(
            FIELDS.get_or_init(|| vec![UBER_TRACE_ID.to_string()]),
        )
    }
}

#[cfg(test)]
mod tests {
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
        W3cTraceContext::new()
            .inject_context(&Context::new().with_remote_span_context(sc), &mut out);
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
            "k=v,k=w",
            "k=\u{e9}",
            "t@v@w=1",
            "tenant@toolongsystemname=1",
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
}
