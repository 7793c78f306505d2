//! Jaeger: `uber-trace-id` and `uberctx-*` baggage.

use super::*;

/// Jaeger propagation: `uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}`, and
/// baggage as one `uberctx-{key}: {percent-encoded value}` header per entry, as Jaeger's
/// clients and the Python and JavaScript Jaeger propagators write it. At most
/// [`BAGGAGE_MAX_ENTRIES`] entries and [`BAGGAGE_MAX_LEN`] bytes of baggage are read.
#[derive(Debug, Clone, Default)]
pub struct JaegerPropagator {
    _private: (),
}

pub(super) const UBER_TRACE_ID: &str = "uber-trace-id";
pub(super) const UBER_BAGGAGE_PREFIX: &str = "uberctx-";

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
        let parts: Vec<&str> = value.trim().splitn(5, ':').collect();
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

impl JaegerPropagator {
    /// Adds `uberctx-*` headers to the baggage of `cx`; one pass over the keys, bounded.
    fn extract_baggage(cx: Context, extractor: &dyn Extractor) -> Context {
        let mut baggage: Vec<KeyValueMetadata> = cx
            .baggage()
            .iter()
            .map(|(k, (v, m))| KeyValueMetadata::new(k.clone(), v.clone(), m.clone()))
            .collect();
        let before = baggage.len();
        let (mut entries, mut bytes) = (0usize, 0usize);
        for key in extractor.keys() {
            let Some(name) = key
                .get(..UBER_BAGGAGE_PREFIX.len())
                .filter(|p| p.eq_ignore_ascii_case(UBER_BAGGAGE_PREFIX))
                .map(|_| &key[UBER_BAGGAGE_PREFIX.len()..])
            else {
                continue;
            };
            let Some(raw) = extractor.get(key) else {
                continue;
            };
            bytes += name.len() + raw.len();
            entries += 1;
            if entries > BAGGAGE_MAX_ENTRIES || bytes > BAGGAGE_MAX_LEN {
                break;
            }
            let Ok(value) = percent_decode_str(raw).decode_utf8() else {
                continue;
            };
            if !name.is_empty() {
                baggage.push(KeyValueMetadata::new(
                    name.to_ascii_lowercase(),
                    value.trim().to_string(),
                    "",
                ));
            }
        }
        if baggage.len() == before {
            cx
        } else {
            cx.with_baggage(baggage)
        }
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
        for (key, (value, _)) in cx.baggage().iter() {
            injector.set(
                &format!("{UBER_BAGGAGE_PREFIX}{}", key.as_str()),
                utf8_percent_encode(value.as_str(), BAGGAGE_ENCODE).to_string(),
            );
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let cx = match extractor.get(UBER_TRACE_ID).and_then(Self::parse) {
            Some((t, s, sampled)) => remote(cx, t, s, sampled),
            None => cx.clone(),
        };
        Self::extract_baggage(cx, extractor)
    }

    fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
        static FIELDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        opentelemetry::propagation::text_map_propagator::FieldIter::new(
            FIELDS.get_or_init(|| vec![UBER_TRACE_ID.to_string()]),
        )
    }
}
