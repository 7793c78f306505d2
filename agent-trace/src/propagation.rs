//! Context propagation formats and the composite propagator `init` installs.
//!
//! W3C Trace Context and Baggage come from the OpenTelemetry SDK. B3 (single and multi header)
//! and Jaeger (`uber-trace-id`) are implemented here: no propagator crate for them exists for
//! the opentelemetry 0.33 line. Every extractor is total: malformed input yields the context it
//! was given, unchanged, never a panic and never a partial span context.

use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

use crate::config::Propagator;

/// Builds the composite propagator for `kinds`, in order (later formats win on extract).
pub fn propagator_for(kinds: &[Propagator]) -> TextMapCompositePropagator {
    let list: Vec<Box<dyn TextMapPropagator + Send + Sync>> = kinds
        .iter()
        .map(|k| -> Box<dyn TextMapPropagator + Send + Sync> {
            match k {
                Propagator::TraceContext => Box::new(TraceContextPropagator::new()),
                Propagator::Baggage => Box::new(BaggagePropagator::new()),
                Propagator::B3 => Box::new(B3Propagator::single()),
                Propagator::B3Multi => Box::new(B3Propagator::multi()),
                Propagator::Jaeger => Box::new(JaegerPropagator::new()),
            }
        })
        .collect();
    TextMapCompositePropagator::new(list)
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
