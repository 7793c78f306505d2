//! Zipkin B3, single `b3` header and multiple `X-B3-*` headers.

use super::*;

/// Zipkin B3 propagation, single `b3` header or multiple `X-B3-*` headers.
///
/// Extract accepts both forms whichever was configured (the single header wins), as the B3
/// specification recommends; inject writes the configured form.
#[derive(Debug, Clone)]
pub struct B3Propagator {
    single: bool,
}

pub(super) const B3_SINGLE: &str = "b3";
pub(super) const B3_TRACE_ID: &str = "x-b3-traceid";
pub(super) const B3_SPAN_ID: &str = "x-b3-spanid";
pub(super) const B3_SAMPLED: &str = "x-b3-sampled";
pub(super) const B3_FLAGS: &str = "x-b3-flags";
pub(super) const B3_PARENT: &str = "x-b3-parentspanid";

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
        // At most 5 pieces are looked at: a longer value is invalid, however long it is.
        let parts: Vec<&str> = value.trim().splitn(5, '-').collect();
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
