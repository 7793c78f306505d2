//! Server side of HTTP: a tower [`Layer`](tower_layer::Layer) for axum, hyper or any
//! `tower::Service<http::Request<_>>`.
//!
//! For each request it takes the parent context from the incoming headers, starts a SERVER
//! span `{method} {route}` (the route from axum's `MatchedPath` when present), keeps that span
//! current while the handler runs, sets a [`RequestId`], and records the response status
//! (5xx is an error). With tracing off it still passes the incoming context through, so the
//! handler's outgoing calls continue the caller's trace.
//!
//! **MCP over streamable HTTP.** An MCP session sends HTTP requests that belong to no call:
//! `initialize`, notifications, the `GET` event stream, the closing `DELETE`. An MCP request
//! (one with an `Mcp-Session-Id` or `MCP-Protocol-Version` header, or a `POST` that accepts
//! both `application/json` and `text/event-stream`, as the MCP specification has clients send
//! them) that brings no trace context gets no span, so a session leaves no one-span traces
//! behind; requests sent through `client.traced()` with
//! [`TracedHttpClient`](crate::mcp::TracedHttpClient) bring theirs and are traced as usual.
//! [`TraceLayer::mcp_plumbing`] traces them anyway. An MCP server span under the layer links
//! to the HTTP span its request came in.
//!
//! ```
//! use agent_trace::server::{RequestId, TraceLayer};
//! use axum::{routing::post, Extension, Router};
//!
//! async fn handle(Extension(id): Extension<RequestId>) -> String {
//!     format!("request {}", id.as_str())
//! }
//!
//! let app: Router = Router::new()
//!     .route("/a2a/tasks", post(handle))
//!     .layer(TraceLayer::new());
//! ```

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};

use crate::span::{start_span, ActiveSpan};

pub use crate::context::carriers::http::RequestId;
use crate::context::carriers::http::{TransportSpan, REQUEST_ID};
use crate::span::semconv as k;

/// Paths [`TraceLayer`] leaves out unless told otherwise: health, liveness and readiness
/// probes, which would otherwise each become a one-span trace every few seconds.
pub const DEFAULT_SKIPPED_PATHS: &[&str] = &["/health", "/healthz", "/livez", "/ready", "/readyz"];

/// Traces every request of the wrapped service but those to [skipped
/// paths](TraceLayer::skip_paths). See the [module docs](self).
#[derive(Debug, Clone)]
pub struct TraceLayer {
    response_traceparent: bool,
    mcp_plumbing: bool,
    skipped: Arc<[String]>,
}

impl Default for TraceLayer {
    fn default() -> Self {
        TraceLayer {
            response_traceparent: false,
            mcp_plumbing: false,
            skipped: DEFAULT_SKIPPED_PATHS
                .iter()
                .map(|p| p.to_string())
                .collect(),
        }
    }
}

impl TraceLayer {
    /// The layer, leaving out [`DEFAULT_SKIPPED_PATHS`].
    pub fn new() -> Self {
        TraceLayer::default()
    }

    /// Requests whose path is exactly one of `paths` get no span (their trace context still
    /// passes through to the handler's outgoing calls). Replaces the default list
    /// ([`DEFAULT_SKIPPED_PATHS`]); an empty list traces every request.
    ///
    /// ```
    /// use agent_trace::server::TraceLayer;
    /// let layer = TraceLayer::new().skip_paths(["/healthz", "/metrics"]);
    /// let everything = TraceLayer::new().skip_paths(Vec::<String>::new());
    /// # let _ = (layer, everything);
    /// ```
    pub fn skip_paths<I, P>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.skipped = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Also send the server span's `traceparent` back on the response, so a client can
    /// report the trace id (for example in an error message).
    pub fn with_response_traceparent(mut self, on: bool) -> Self {
        self.response_traceparent = on;
        self
    }

    /// Whether MCP requests that bring no trace context (the streamable-HTTP session's
    /// `initialize`, notifications, event stream and `DELETE`) get a span, each the root of a
    /// trace of its own. Off by default (see the [module docs](self)).
    pub fn mcp_plumbing(mut self, traced: bool) -> Self {
        self.mcp_plumbing = traced;
        self
    }
}

/// Whether a request comes from an MCP streamable-HTTP client: the headers the MCP
/// specification has clients send (`Mcp-Session-Id`, `MCP-Protocol-Version`), or a `POST`
/// that accepts both a JSON answer and an event stream.
fn is_mcp<B>(req: &http::Request<B>) -> bool {
    let headers = req.headers();
    if headers.contains_key("mcp-session-id") || headers.contains_key("mcp-protocol-version") {
        return true;
    }
    let accept = headers
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .fold((false, false), |(json, sse), v| {
            (
                json || v.contains("application/json"),
                sse || v.contains("text/event-stream"),
            )
        });
    req.method() == http::Method::POST && accept == (true, true)
}

impl<S> tower_layer::Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> TraceService<S> {
        TraceService {
            inner,
            response_traceparent: self.response_traceparent,
            mcp_plumbing: self.mcp_plumbing,
            skipped: self.skipped.clone(),
        }
    }
}

/// The service [`TraceLayer`] makes.
#[derive(Debug, Clone)]
pub struct TraceService<S> {
    inner: S,
    response_traceparent: bool,
    mcp_plumbing: bool,
    skipped: Arc<[String]>,
}

/// With tracing off, a request that brought no trace context still gets one: fresh ids, not
/// sampled (Level 2 `random` set), nothing recorded. Its trace id is then in every log line
/// written while it is served, and travels on in `traceparent`, so the logs of services that
/// do not trace still join across services. (A downstream service that samples by its
/// parent will not sample such a request: the caller recorded nothing of it either.)
fn ids_while_off(parent: Context) -> Context {
    use opentelemetry::trace::{SpanContext, TraceFlags, TraceState};
    use opentelemetry_sdk::trace::{IdGenerator as _, RandomIdGenerator};
    if parent.span().span_context().is_valid() {
        return parent;
    }
    let ids = RandomIdGenerator::default();
    parent.with_remote_span_context(SpanContext::new(
        ids.new_trace_id(),
        ids.new_span_id(),
        TraceFlags::new(0x02),
        false,
        TraceState::NONE,
    ))
}

/// The longest `X-Request-ID` taken from a request; a longer one is replaced.
pub const REQUEST_ID_MAX_LEN: usize = 128;

/// An incoming `X-Request-ID`, if it is at most [`REQUEST_ID_MAX_LEN`] characters of
/// `A-Z a-z 0-9 - _ . : / + @`: it ends up in log lines and the response, so quotes, `=`,
/// `,`, spaces and control characters (log-line forgery) are refused and a new id is made.
/// The HTTP server attributes read from the request: `server.address` and `server.port` from
/// the `Host` header (or the URI's authority), `network.protocol.version`,
/// `user_agent.original`, and `client.address` when axum's `ConnectInfo` is there.
fn request_attrs<B>(req: &http::Request<B>, attrs: &mut Vec<KeyValue>) {
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    if let Some((host, port)) = host.and_then(split_host_port) {
        attrs.push(KeyValue::new(k::SERVER_ADDRESS, host.to_string()));
        if let Some(port) = port {
            attrs.push(KeyValue::new(k::SERVER_PORT, i64::from(port)));
        }
    }
    attrs.push(KeyValue::new(
        k::NETWORK_PROTOCOL_VERSION,
        k::http_version(req.version()),
    ));
    if let Some(ua) = req
        .headers()
        .get(http::header::USER_AGENT)
        .and_then(|h| h.to_str().ok())
    {
        attrs.push(KeyValue::new(k::USER_AGENT_ORIGINAL, ua.to_string()));
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(peer)) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        attrs.push(KeyValue::new(k::CLIENT_ADDRESS, peer.ip().to_string()));
    }
}

/// `host[:port]` or `[v6][:port]` split in one pass; `None` for an empty or malformed host
/// (a port that is not a number drops the whole value rather than guess).
fn split_host_port(value: &str) -> Option<(&str, Option<u16>)> {
    let value = value.trim();
    let (host, rest) = match value.strip_prefix('[') {
        Some(v6) => {
            let (host, rest) = v6.split_once(']')?;
            (host, rest)
        }
        None => match value.rsplit_once(':') {
            Some((host, _)) => (host, &value[host.len()..]),
            None => (value, ""),
        },
    };
    if host.is_empty() || host.contains(':') && !value.starts_with('[') {
        return None;
    }
    let port = match rest.strip_prefix(':') {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None if rest.is_empty() => None,
        None => return None,
    };
    Some((host, port))
}

fn usable_request_id(v: &http::HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?.trim();
    let ok = !s.is_empty()
        && s.len() <= REQUEST_ID_MAX_LEN
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'@')
        });
    ok.then(|| s.to_string())
}

/// `(http.request.method, http.request.method_original)`: a method outside the standard set
/// is `_OTHER`, with the original (cut to 64 characters) beside it.
fn known_method(m: &http::Method) -> (&'static str, Option<String>) {
    const KNOWN: [&str; 10] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY",
    ];
    match KNOWN.iter().find(|k| **k == m.as_str()) {
        Some(k) => (k, None),
        None => ("_OTHER", Some(crate::span::text::cut(m.as_str(), 64))),
    }
}

fn route_of<B>(req: &http::Request<B>) -> Option<String> {
    #[cfg(feature = "axum")]
    if let Some(p) = req.extensions().get::<axum::extract::MatchedPath>() {
        return Some(p.as_str().to_string());
    }
    req.extensions().get::<Route>().map(|r| r.0.to_string())
}

/// Set this in a request's extensions to name the route, for servers without axum's
/// `MatchedPath` (the span name would otherwise be the method alone: paths with ids in them
/// make too many distinct names).
#[derive(Debug, Clone)]
pub struct Route(pub Cow<'static, str>);

impl<S, B, RB> tower_service::Service<http::Request<B>> for TraceService<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Error: std::fmt::Display,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TraceFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        // Start from an empty context: whatever the server's thread had is not our parent.
        let parent =
            crate::context::carriers::http::extract_with_context(&Context::new(), req.headers());
        // A client chooses the method: only the known ones name spans (the HTTP semantic
        // conventions' `_OTHER` rule), so a 100 KB method cannot become a 100 KB span name.
        let (method, original) = known_method(req.method());
        let route = route_of(&req);
        let name: Cow<'static, str> = match (&route, method) {
            (Some(r), "_OTHER") => format!("HTTP {r}").into(),
            (Some(r), m) => format!("{m} {r}").into(),
            (None, "_OTHER") => "HTTP".into(),
            (None, m) => m.into(),
        };
        let mut attrs = vec![
            KeyValue::new(k::HTTP_REQUEST_METHOD, method),
            KeyValue::new(k::URL_PATH, req.uri().path().to_string()),
            KeyValue::new(
                k::URL_SCHEME,
                req.uri().scheme_str().unwrap_or("http").to_string(),
            ),
        ];
        if let Some(original) = original {
            attrs.push(KeyValue::new(k::HTTP_REQUEST_METHOD_ORIGINAL, original));
        }
        if let Some(r) = route {
            attrs.push(KeyValue::new(k::HTTP_ROUTE, r));
        }
        request_attrs(&req, &mut attrs);
        let skipped = self.skipped.iter().any(|p| p == req.uri().path())
            || (!self.mcp_plumbing && !parent.span().span_context().is_valid() && is_mcp(&req));
        let mut span = match skipped {
            true => None,
            false => start_span(name, SpanKind::Server, attrs, &parent),
        };
        let ids = match &span {
            Some(s) => s.context().clone(),
            None => ids_while_off(parent),
        };
        let request_id = req
            .headers()
            .get(REQUEST_ID)
            .and_then(usable_request_id)
            .or_else(|| {
                let sc = ids.span().span_context().clone();
                sc.is_valid().then(|| sc.trace_id().to_string())
            })
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let request_id = RequestId(request_id);
        req.extensions_mut().insert(request_id.clone());
        // The handler finds the request id in the context it runs in (logs, the client
        // middleware forwarding it).
        let cx = ids.with_value(request_id.clone());
        let inner = match &mut span {
            Some(s) => {
                s.set_attribute(KeyValue::new(
                    k::AGENT_TRACE_REQUEST_ID,
                    request_id.0.clone(),
                ));
                s.add_value(request_id.clone());
                let transport = TransportSpan(s.context().span().span_context().clone());
                req.extensions_mut().insert(transport);
                crate::span::call(&mut span, || self.inner.call(req))
            }
            None => {
                let _g = cx.clone().attach();
                self.inner.call(req)
            }
        };
        TraceFuture {
            inner,
            cx,
            span,
            request_id,
            response_traceparent: self.response_traceparent,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`TraceService`].
    pub struct TraceFuture<F> {
        #[pin]
        inner: F,
        cx: Context,
        span: Option<ActiveSpan>,
        request_id: RequestId,
        response_traceparent: bool,
    }

    impl<F> PinnedDrop for TraceFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(mut s) = this.project().span.take() {
                s.record_cancelled();
            }
        }
    }
}

impl<F> std::fmt::Debug for TraceFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceFuture")
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl<F, RB, E> Future for TraceFuture<F>
where
    F: Future<Output = Result<http::Response<RB>, E>>,
    E: std::fmt::Display,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let polled = match this.span.is_some() {
            // Our span, current and innermost, so the handler's `tracing` events land on it.
            true => crate::span::call(this.span, || inner.poll(task)),
            // No span of ours (tracing off, a probe): the ids the request carries or got.
            false => {
                let _cx = this.cx.clone().attach();
                inner.poll(task)
            }
        };
        let Poll::Ready(mut result) = polled else {
            return Poll::Pending;
        };
        let span = this.span.take();
        match &mut result {
            Ok(resp) => {
                let status = resp.status();
                if let Ok(v) = http::HeaderValue::from_str(&this.request_id.0) {
                    resp.headers_mut().insert(REQUEST_ID, v);
                }
                if *this.response_traceparent {
                    crate::context::carriers::http::inject_context(this.cx, resp.headers_mut());
                }
                if let Some(s) = &span {
                    s.set_attribute(KeyValue::new(
                        k::HTTP_RESPONSE_STATUS_CODE,
                        i64::from(status.as_u16()),
                    ));
                    if status.is_server_error() {
                        s.set_attribute(KeyValue::new(k::ERROR_TYPE, status.as_str().to_string()));
                        s.context()
                            .span()
                            .set_status(Status::error(format!("HTTP {status}")));
                    }
                }
            }
            Err(e) => {
                if let Some(mut s) = span {
                    let message = crate::span::text::display(e, crate::span::text::MESSAGE_LIMIT);
                    s.record_error("service_error".into(), message);
                    return Poll::Ready(result);
                }
            }
        }
        drop(span); // ends the span
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::split_host_port;

    /// An error whose text is a megabyte, written a byte at a time.
    #[derive(Debug)]
    struct Huge;
    impl std::fmt::Display for Huge {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            for _ in 0..1_000_000 {
                f.write_str("x")?;
            }
            Ok(())
        }
    }

    struct Failing;
    impl tower_service::Service<http::Request<()>> for Failing {
        type Response = http::Response<()>;
        type Error = Huge;
        type Future = std::future::Ready<Result<Self::Response, Huge>>;
        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Huge>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: http::Request<()>) -> Self::Future {
            std::future::ready(Err(Huge))
        }
    }

    #[test]
    fn a_service_errors_text_is_bounded_like_every_other_message() {
        use futures_util::FutureExt as _;
        use tower_layer::Layer as _;
        use tower_service::Service as _;
        let cap = crate::testing::Capture::start();
        let mut svc = super::TraceLayer::new().layer(Failing);
        let mut request = http::Request::builder()
            .uri("/x")
            .body(())
            .expect("request");
        crate::carriers::http::inject_context(&cap.context(), request.headers_mut());
        let answer = svc.call(request).now_or_never().expect("ready");
        assert!(answer.is_err(), "the service's error is passed on as it is");
        let spans = cap.spans();
        let span = spans
            .iter()
            .find(|s| s.kind == opentelemetry::trace::SpanKind::Server);
        let span = span.expect("the server span");
        let opentelemetry::trace::Status::Error { description } = &span.status else {
            panic!("an error status: {:?}", span.status);
        };
        let limit = crate::span::text::MESSAGE_LIMIT;
        assert!(
            description.len() <= limit + 4,
            "{} bytes",
            description.len()
        );
        assert!(description.starts_with("xxx"), "{description:.40}");
    }

    #[test]
    fn host_header_splits_into_address_and_port() {
        assert_eq!(
            split_host_port("127.0.0.1:3000"),
            Some(("127.0.0.1", Some(3000)))
        );
        assert_eq!(split_host_port("example.com"), Some(("example.com", None)));
        assert_eq!(split_host_port("[::1]:8080"), Some(("::1", Some(8080))));
        assert_eq!(split_host_port("[::1]"), Some(("::1", None)));
        for bad in [
            "",
            ":80",
            "host:port",
            "host:99999",
            "[::1",
            "[::1]x",
            "a:b:c",
        ] {
            assert_eq!(split_host_port(bad), None, "{bad:?}");
        }
        let long = "h".repeat(100_000) + ":1";
        assert_eq!(split_host_port(&long).map(|(_, p)| p), Some(Some(1)));
    }
}
