//! W3C Baggage: extracted by the SDK's propagator, injected here.

use super::*;

/// What baggage keys and values are percent-encoded with: controls, space, the delimiters
/// `"`, `,`, `;`, `=`, `\`, and `%` (so a literal `%41` survives) and `+` (which Python's SDK
/// reads as a space).
pub(super) const BAGGAGE_ENCODE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b',')
    .add(b';')
    .add(b'=')
    .add(b'\\')
    .add(b'%')
    .add(b'+');

/// W3C Baggage: extraction is the SDK's `BaggagePropagator` (linear, headers over
/// [`BAGGAGE_MAX_LEN`] bytes dropped, at most [`BAGGAGE_MAX_ENTRIES`] entries); injection
/// percent-encodes `+` and `%` as well, which the SDK's does not, so values round-trip through
/// every SDK (Python's reads a raw `+` as a space).
#[derive(Debug, Default)]
pub struct W3cBaggage {
    sdk: BaggagePropagator,
}

impl W3cBaggage {
    /// A W3C Baggage propagator.
    pub fn new() -> Self {
        W3cBaggage::default()
    }
}

impl TextMapPropagator for W3cBaggage {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let baggage = cx.baggage();
        if baggage.is_empty() {
            return;
        }
        let mut header = String::new();
        for (name, (value, metadata)) in baggage.iter() {
            if !header.is_empty() {
                header.push(',');
            }
            header.extend(utf8_percent_encode(name.as_str().trim(), BAGGAGE_ENCODE));
            header.push('=');
            header.extend(utf8_percent_encode(value.as_str().trim(), BAGGAGE_ENCODE));
            let metadata = metadata.as_str().trim();
            if !metadata.is_empty() {
                header.push(';');
                header.push_str(metadata);
            }
        }
        injector.set("baggage", header);
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        self.sdk.extract_with_context(cx, extractor)
    }

    fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
        self.sdk.fields()
    }
}
