//! Trace context in HTTP headers, through the globally installed propagator.
//!
//! ```
//! use agent_trace::carriers::http::{extract, inject_context};
//! let mut incoming = http::HeaderMap::new();
//! incoming.insert(
//!     "traceparent",
//!     "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".parse().unwrap(),
//! );
//! let _ = agent_trace::init("svc"); // installs the W3C propagator even when tracing is off
//! let cx = extract(&incoming);
//! let mut outgoing = http::HeaderMap::new();
//! inject_context(&cx, &mut outgoing);
//! assert!(outgoing["traceparent"].to_str().unwrap().contains("0af7651916cd43dd8448eb211c80319c"));
//! ```

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::Context;

/// The request-id header the server layer reads and answers, and the client forwards.
#[cfg_attr(not(any(feature = "tower", feature = "reqwest")), allow(dead_code))]
pub(crate) const REQUEST_ID: &str = "x-request-id";

/// The id of the request being served: `X-Request-ID` if the client sent a usable one, else
/// the trace id, else a fresh UUID. The server layer puts it in the request's extensions, on
/// the response as `X-Request-ID`, in every log line written while the request is handled, and
/// the client middleware forwards it on outgoing calls.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(pub(crate) String);

impl RequestId {
    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The request id of the current context, if a request is being served.
    pub fn current() -> Option<RequestId> {
        Context::current().get::<RequestId>().cloned()
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The HTTP SERVER span a request is served in, put in the request's extensions by the server
/// layer: what runs under it on another task (an MCP handler behind rmcp's streamable-HTTP
/// service) links to it as the transport's context.
#[derive(Debug, Clone)]
#[cfg_attr(not(any(feature = "tower", feature = "rmcp")), allow(dead_code))]
pub(crate) struct TransportSpan(pub(crate) opentelemetry::trace::SpanContext);

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        // A value the propagator produced but HTTP cannot carry is skipped, not a panic.
        if let (Ok(name), Ok(val)) = (
            http::header::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, val);
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all: Vec<&str> = self
            .0
            .get_all(key)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!all.is_empty()).then_some(all)
    }
}

/// Writes the current context into `headers` (traceparent, tracestate, baggage, ... as
/// configured by `OTEL_PROPAGATORS`).
pub fn inject(headers: &mut http::HeaderMap) {
    inject_context(&Context::current(), headers);
}

/// Writes `cx` into `headers`.
pub fn inject_context(cx: &Context, headers: &mut http::HeaderMap) {
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(cx, &mut HeaderInjector(headers))
    });
}

/// Reads the context from incoming `headers`. Invalid headers give a context without a
/// remote parent (a new trace starts), never an error.
pub fn extract(headers: &http::HeaderMap) -> Context {
    extract_with_context(&Context::current(), headers)
}

/// Reads the context from `headers` on top of `cx`.
pub fn extract_with_context(cx: &Context, headers: &http::HeaderMap) -> Context {
    opentelemetry::global::get_text_map_propagator(|p| {
        p.extract_with_context(cx, &HeaderExtractor(headers))
    })
}
