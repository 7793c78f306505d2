//! Client side of HTTP: a [`reqwest_middleware`] middleware that starts a CLIENT span for each
//! request and sends the context in its headers, and the id of the request being served as
//! `X-Request-ID`.
//!
//! (reqwest-tracing's middleware does not inject headers with opentelemetry 0.33, so the next
//! agent would start a new trace; this one does.)
//!
//! ```
//! use agent_trace::client::TraceMiddleware;
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(TraceMiddleware::default())
//!     .build();
//! # drop(client);
//! ```

use opentelemetry::trace::{FutureExt as _, SpanKind, Status, TraceContextExt as _};
use opentelemetry::KeyValue;
use reqwest_middleware::{Middleware, Next};

use crate::span::semconv as k;
use crate::span::start_span;

/// The middleware. See the [module docs](self).
#[derive(Debug, Clone, Default)]
pub struct TraceMiddleware {
    _private: (),
}

#[async_trait::async_trait]
impl Middleware for TraceMiddleware {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let parent = crate::span::current_or_process_parent();
        let method = req.method().as_str().to_string();
        let url = req.url();
        let mut attrs = vec![
            KeyValue::new(k::HTTP_REQUEST_METHOD, method.clone()),
            KeyValue::new(k::URL_FULL, redact(url)),
        ];
        if let Some(host) = url.host_str() {
            attrs.push(KeyValue::new(k::SERVER_ADDRESS, host.to_string()));
        }
        if let Some(port) = url.port_or_known_default() {
            attrs.push(KeyValue::new(k::SERVER_PORT, i64::from(port)));
        }
        let span = start_span(method.into(), SpanKind::Client, attrs, &parent);
        let cx = span.as_ref().map(|s| s.context().clone()).unwrap_or(parent);
        crate::context::carriers::http::inject_context(&cx, req.headers_mut());
        // The request being served passes its id on, unless the caller set one.
        if let Some(id) = cx.get::<crate::context::carriers::http::RequestId>() {
            if let (false, Ok(v)) = (
                req.headers()
                    .contains_key(crate::context::carriers::http::REQUEST_ID),
                http::HeaderValue::from_str(id.as_str()),
            ) {
                req.headers_mut()
                    .insert(crate::context::carriers::http::REQUEST_ID, v);
            }
        }
        let sent = next.run(req, extensions);
        match span {
            // The span is current while the request runs (through the one path the panic
            // hook knows), and the response or error is recorded on it.
            Some(_) => crate::span::instrument(span, sent, record_response).await,
            // No span of ours: the caller's context, so what runs inside still continues it.
            None => sent.with_context(cx).await,
        }
    }
}

/// Records the answer (status, protocol, peer) or the error of a request on its span.
fn record_response(
    result: &reqwest_middleware::Result<reqwest::Response>,
    s: &mut crate::span::ActiveSpan,
) {
    match result {
        Ok(resp) => {
            let status = resp.status();
            s.set_attribute(KeyValue::new(
                k::HTTP_RESPONSE_STATUS_CODE,
                i64::from(status.as_u16()),
            ));
            s.set_attribute(KeyValue::new(
                k::NETWORK_PROTOCOL_VERSION,
                k::http_version(resp.version()),
            ));
            if let Some(peer) = resp.remote_addr() {
                s.set_attribute(KeyValue::new(
                    k::NETWORK_PEER_ADDRESS,
                    peer.ip().to_string(),
                ));
                s.set_attribute(KeyValue::new(k::NETWORK_PEER_PORT, i64::from(peer.port())));
            }
            if status.is_client_error() || status.is_server_error() {
                s.set_attribute(KeyValue::new(k::ERROR_TYPE, status.as_str().to_string()));
                s.context()
                    .span()
                    .set_status(Status::error(format!("HTTP {status}")));
            }
        }
        Err(e) => {
            let kind = match e {
                reqwest_middleware::Error::Reqwest(r) if r.is_timeout() => "timeout",
                reqwest_middleware::Error::Reqwest(r) if r.is_connect() => "connect",
                _ => "request_error",
            };
            s.record_error(
                kind.into(),
                crate::span::text::display(e, crate::span::text::MESSAGE_LIMIT),
            );
        }
    }
}

/// The URL without credentials (semantic conventions: never record them).
fn redact(url: &reqwest::Url) -> String {
    if url.password().is_none() && url.username().is_empty() {
        return url.to_string();
    }
    let mut u = url.clone();
    let _ = u.set_username("REDACTED");
    let _ = u.set_password(Some("REDACTED"));
    u.to_string()
}
