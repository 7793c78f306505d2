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
    /// Absolute source paths of bridged spans made relative (unless
    /// `AGENT_TRACE_BRIDGE_DETAILS`).
    pub(crate) relative_paths: bool,
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
        if self.relative_paths {
            batch.iter_mut().for_each(relative_source_paths);
        }
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

/// Source paths (`code.file.path`, on a span and its events) made relative when they are
/// absolute: a library's file in the cargo registry or a git checkout keeps its crate
/// directory (`…/registry/src/index…/rmcp-3.11.0/src/service.rs` → `rmcp-3.11.0/src/
/// service.rs`), any other keeps the directory above its `src` (`…/app/src/main.rs` →
/// `app/src/main.rs`), else its file name. Paths of the workspace's own crates are relative
/// already (`file!()`) and stay as they are.
pub(crate) fn relative_source_paths(span: &mut SpanData) {
    let relative = |kv: &mut KeyValue| {
        if kv.key.as_str() == crate::span::semconv::CODE_FILE_PATH {
            if let Value::String(s) = &kv.value {
                if let Some(r) = relative_path(s.as_str()) {
                    kv.value = Value::String(r.into());
                }
            }
        }
    };
    span.attributes.iter_mut().for_each(relative);
    for event in span.events.events.iter_mut() {
        event.attributes.iter_mut().for_each(relative);
    }
}

/// The relative form of an absolute path (`/` or a Windows drive), `None` for a relative one.
pub(crate) fn relative_path(path: &str) -> Option<String> {
    let absolute =
        path.starts_with('/') || path.get(1..3) == Some(":\\") || path.get(1..3) == Some(":/");
    if !absolute {
        return None;
    }
    let parts: Vec<&str> = path.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    // After `registry/src/<index>/` or `git/checkouts/<repo>/<rev>/`: the crate's directory on.
    let after = |marker: [&str; 2], skip: usize| {
        parts
            .windows(2)
            .rposition(|w| w == marker)
            .map(|i| i + 2 + skip)
            .filter(|&i| i < parts.len())
    };
    let start = after(["registry", "src"], 1)
        .or_else(|| after(["git", "checkouts"], 2))
        .or_else(|| {
            parts
                .iter()
                .rposition(|p| *p == "src")
                .map(|i| i.saturating_sub(1))
        })
        .unwrap_or(parts.len().saturating_sub(1));
    Some(parts[start..].join("/"))
}

#[cfg(test)]
mod tests {
    use super::relative_path;

    #[test]
    fn source_paths_outside_the_workspace_become_relative() {
        let cases = [
            (
                "/home/dev/.cargo/registry/src/index.crates.io-0123456789abcdef/rmcp-3.11.0/src/service.rs",
                Some("rmcp-3.11.0/src/service.rs"),
            ),
            (
                "/home/u/.cargo/git/checkouts/rmcp-0a1b/3c4d5e6/crates/rmcp/src/lib.rs",
                Some("crates/rmcp/src/lib.rs"),
            ),
            ("/srv/app/src/main.rs", Some("app/src/main.rs")),
            ("/tmp/generated.rs", Some("generated.rs")),
            (
                "C:\\Users\\u\\.cargo\\registry\\src\\index\\tokio-1.0.0\\src\\lib.rs",
                Some("tokio-1.0.0/src/lib.rs"),
            ),
            ("src/main.rs", None),
            ("examples/src/lib.rs", None),
            ("", None),
            ("/", Some("")),
        ];
        for (path, want) in cases {
            assert_eq!(relative_path(path).as_deref(), want, "{path}");
        }
        // Linear in the path, whatever it holds.
        let long = "/a".repeat(100_000) + "/src/x.rs";
        assert_eq!(relative_path(&long).as_deref(), Some("a/src/x.rs"));
    }
}
