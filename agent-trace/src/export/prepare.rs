//! What the export thread does to a span before the exporter sees it: every string cut to
//! the value limit, one value per attribute key, then redaction and the OpenInference
//! copies. None of it runs on the application's threads.

use opentelemetry::trace::Status;
use opentelemetry::{Key, KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;

pub(crate) use crate::span::text::cut_point;

/// What the export thread does to each span before the exporter sees it: redaction first,
/// then the OpenInference attributes, copied from the redacted values (so no copy can hold a
/// secret, and redaction never has to look into the copies' JSON).
#[derive(Debug, Clone, Default)]
pub(crate) struct BeforeExport {
    pub(crate) openinference: bool,
    pub(crate) redactor: Option<crate::export::redact::Redactor>,
}

/// One value per attribute key, the later write winning (the SDK appends on every
/// `set_attribute`; the specification says a later value replaces the earlier one, and a
/// backend keeps an arbitrary one of two). The first occurrence keeps its place. Linear in the
/// number of attributes; up to 16 of them are compared directly, without allocating.
pub(crate) fn unique_keys(span: &mut SpanData) {
    let attrs = &mut span.attributes;
    let n = attrs.len();
    let repeated = if n <= 16 {
        (1..n).any(|i| attrs[..i].iter().any(|kv| kv.key == attrs[i].key))
    } else {
        let mut seen = std::collections::HashSet::with_capacity(n);
        attrs.iter().any(|kv| !seen.insert(&kv.key))
    };
    if !repeated {
        return;
    }
    let mut last: std::collections::HashMap<Key, Value> = std::collections::HashMap::new();
    for kv in attrs.iter() {
        last.insert(kv.key.clone(), kv.value.clone());
    }
    let mut out = Vec::with_capacity(last.len());
    for kv in attrs.drain(..) {
        if let Some(value) = last.remove(&kv.key) {
            out.push(KeyValue::new(kv.key, value));
        }
    }
    *attrs = out;
}

impl BeforeExport {
    pub(crate) fn apply(&self, batch: &mut [SpanData]) {
        batch.iter_mut().for_each(unique_keys);
        if let Some(r) = &self.redactor {
            batch.iter_mut().for_each(|span| r.span(span));
        }
        if self.openinference {
            batch
                .iter_mut()
                .for_each(crate::export::openinference::enrich);
        }
    }
}

/// Cuts every string a span carries to `limit` characters: its name, its status description,
/// and string values of span, event and link attributes (and event names). A client-chosen
/// HTTP method or a huge error message must not make a span, or the batch it is sent in,
/// too large to export.
pub(crate) fn truncate_span(span: &mut SpanData, limit: usize) {
    if let Some(cut) = cut_point(&span.name, limit) {
        span.name = span.name[..cut].to_string().into();
    }
    if let Status::Error { description } = &mut span.status {
        if let Some(cut) = cut_point(description, limit) {
            *description = description[..cut].to_string().into();
        }
    }
    for kv in span.attributes.iter_mut() {
        truncate_value(kv, limit);
    }
    for event in span.events.events.iter_mut() {
        if let Some(cut) = cut_point(&event.name, limit) {
            event.name = event.name[..cut].to_string().into();
        }
        for kv in event.attributes.iter_mut() {
            truncate_value(kv, limit);
        }
    }
    for link in span.links.links.iter_mut() {
        for kv in link.attributes.iter_mut() {
            truncate_value(kv, limit);
        }
    }
}

fn truncate_value(kv: &mut KeyValue, limit: usize) {
    match &mut kv.value {
        Value::String(s) => {
            if let Some(cut) = cut_point(s.as_str(), limit) {
                *s = s.as_str()[..cut].to_string().into();
            }
        }
        Value::Array(opentelemetry::Array::String(items)) => {
            for s in items.iter_mut() {
                if let Some(cut) = cut_point(s.as_str(), limit) {
                    *s = s.as_str()[..cut].to_string().into();
                }
            }
        }
        _ => {}
    }
}
