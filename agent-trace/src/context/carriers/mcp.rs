//! Trace context inside an MCP request's `params._meta`, as the MCP specification (SEP-414)
//! and the OpenTelemetry MCP semantic conventions say: `traceparent`, `tracestate` and
//! `baggage` as string members of the `_meta` object.
//!
//! This carrier works on the JSON object itself (`serde_json::Map`), so it serves any MCP
//! implementation. With the `rmcp` feature, [`crate::mcp`] uses it for rmcp clients and
//! servers, so most users never call it directly.
//!
//! ```
//! use serde_json::{Map, Value};
//!
//! let mut meta: Map<String, Value> = Map::new();
//! agent_trace::carriers::mcp::inject(&mut meta); // outside any span: nothing is added
//! assert!(meta.is_empty());
//!
//! meta.insert(
//!     "traceparent".into(),
//!     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
//! );
//! # agent_trace::opentelemetry::global::set_text_map_propagator(
//! #     agent_trace::propagation::propagator_for(&[agent_trace::Propagator::TraceContext]));
//! let cx = agent_trace::carriers::mcp::extract(&meta);
//! use agent_trace::opentelemetry::trace::TraceContextExt as _;
//! assert_eq!(
//!     cx.span().span_context().trace_id().to_string(),
//!     "4bf92f3577b34da6a3ce929d0e0e4736"
//! );
//! ```
//!
//! Bad input never fails: members that are not strings are ignored, an invalid
//! `traceparent` gives a context without a remote parent (a new trace starts), and the
//! propagators' own limits apply (`tracestate` members, baggage bytes; see docs/protocols.md's
//! "Limits on incoming context"). The work is linear in the size of the values read.

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::Context;
use serde_json::{Map, Value};

/// The `_meta` members this carrier writes with the default propagators.
pub const KEYS: [&str; 3] = ["traceparent", "tracestate", "baggage"];

struct MetaInjector<'a>(&'a mut Map<String, Value>);

impl Injector for MetaInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), Value::String(value));
    }
}

struct MetaExtractor<'a>(&'a Map<String, Value>);

impl Extractor for MetaExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(_, v)| v.is_string())
            .map(|(k, _)| k.as_str())
            .collect()
    }
}

/// Writes the current context into `meta` (the request's `params._meta` object), replacing
/// any `traceparent`/`tracestate`/`baggage` already there.
pub fn inject(meta: &mut Map<String, Value>) {
    inject_context(&Context::current(), meta);
}

/// Writes `cx` into `meta`. Members of an earlier context (for example a `tracestate` the
/// new context does not have) are removed first, so the members always describe one context.
pub fn inject_context(cx: &Context, meta: &mut Map<String, Value>) {
    for k in KEYS {
        meta.remove(k);
    }
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(cx, &mut MetaInjector(meta))
    });
}

/// Reads the context from `meta`. An absent, non-string or invalid `traceparent` gives a
/// context without a remote parent, never an error.
pub fn extract(meta: &Map<String, Value>) -> Context {
    extract_with_context(&Context::new(), meta)
}

/// Reads the context from `meta` on top of `cx`.
pub fn extract_with_context(cx: &Context, meta: &Map<String, Value>) -> Context {
    opentelemetry::global::get_text_map_propagator(|p| {
        p.extract_with_context(cx, &MetaExtractor(meta))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::propagation::propagator_for;
    use crate::Propagator;
    use opentelemetry::trace::{SpanContext, TraceContextExt as _, TraceFlags, TraceState};
    use opentelemetry::trace::{SpanId, TraceId};

    fn with_w3c<R>(f: impl FnOnce() -> R) -> R {
        opentelemetry::global::set_text_map_propagator(propagator_for(&[
            Propagator::TraceContext,
            Propagator::Baggage,
        ]));
        f()
    }

    fn remote(trace: u128, span: u64) -> Context {
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(trace),
            SpanId::from(span),
            TraceFlags::SAMPLED,
            true,
            TraceState::from_key_value([("vendor", "x")]).unwrap(),
        ))
    }

    #[test]
    fn round_trip_replaces_an_older_context() {
        with_w3c(|| {
            let mut meta = Map::new();
            meta.insert("tracestate".into(), "stale=1".into());
            meta.insert("progressToken".into(), 7.into());
            inject_context(&remote(1, 2), &mut meta);
            assert_eq!(
                meta["traceparent"],
                "00-00000000000000000000000000000001-0000000000000002-01"
            );
            assert_eq!(meta["tracestate"], "vendor=x");
            assert_eq!(meta["progressToken"], 7, "other members are kept");
            let cx = extract(&meta);
            let sc = cx.span().span_context().clone();
            assert_eq!(sc.trace_id(), TraceId::from(1u128));
            assert_eq!(sc.span_id(), SpanId::from(2u64));
            assert!(sc.is_remote());

            // A context without tracestate removes the old member.
            let plain = Context::new().with_remote_span_context(SpanContext::new(
                TraceId::from(3u128),
                SpanId::from(4u64),
                TraceFlags::SAMPLED,
                true,
                TraceState::NONE,
            ));
            inject_context(&plain, &mut meta);
            assert!(!meta.contains_key("tracestate"));
        });
    }

    #[test]
    fn garbage_gives_no_parent() {
        with_w3c(|| {
            let cases: Vec<Value> = vec![
                serde_json::json!({"traceparent": 12}),
                serde_json::json!({"traceparent": "garbage"}),
                serde_json::json!({"traceparent": ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]}),
                serde_json::json!({"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}),
                serde_json::json!({"traceparent": "x".repeat(1 << 20), "tracestate": "a=".repeat(100_000)}),
                serde_json::json!({}),
            ];
            for case in cases {
                let Value::Object(meta) = case else {
                    unreachable!()
                };
                let cx = extract(&meta);
                assert!(
                    !cx.span().span_context().is_valid(),
                    "{:?}",
                    meta.keys().collect::<Vec<_>>()
                );
            }
        });
    }

    #[test]
    fn oversized_tracestate_keeps_the_parent_and_drops_the_list() {
        with_w3c(|| {
            let mut meta = Map::new();
            meta.insert(
                "traceparent".into(),
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
            );
            let members: Vec<String> = (0..50_000).map(|i| format!("k{i}=v")).collect();
            meta.insert("tracestate".into(), members.join(",").into());
            let cx = extract(&meta);
            let sc = cx.span().span_context().clone();
            assert!(sc.is_valid());
            assert_eq!(sc.trace_state().header(), "");
        });
    }
}
