//! MCP over streamable HTTP: the HTTP request an MCP request rides in joins its trace.
//!
//! rmcp sends an MCP request from its transport worker, where the caller's context is gone,
//! and its HTTP client puts no `traceparent` on the wire: without help, every HTTP request of
//! a session would be a trace of its own on a server with `TraceLayer`. [`TracedHttpClient`]
//! wraps any rmcp `StreamableHttpClient` and, for each message that carries a trace context
//! in `params._meta` (every request sent through [`traced()`](super::McpClientExt::traced)),
//! starts an HTTP `POST` CLIENT span as its child and puts that span's context on the HTTP
//! request, as the MCP conventions draw it: MCP CLIENT → HTTP CLIENT → HTTP SERVER.
//!
//! The session's setup (`initialize` and `notifications/initialized`, or `server/discover`)
//! is sent by rmcp itself, with no context: it gets the context that was current when the
//! client was made (usually where the session is opened), in its `_meta` and on its HTTP
//! request, so a server that traces its setup (the Python SDK does) puts it in that trace.
//! Other messages without a context (notifications, the `GET` event stream, the closing
//! `DELETE`) go out untouched; `TraceLayer` leaves such requests out, so they make no trace of
//! their own (see [`crate::server`]).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use ::http::{HeaderName, HeaderValue};
use rmcp::model::{
    ClientJsonRpcMessage, ClientNotification, ClientRequest, GetMeta as _, JsonRpcMessage,
};
use rmcp::transport::common::client_side_sse::BoxedSseResponse;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
    StreamableHttpResponseLimits,
};

use super::*;

/// An rmcp streamable-HTTP client whose requests join the trace of the MCP request they
/// carry (see [MCP over streamable HTTP](crate::mcp#over-streamable-http)). Wrap the client
/// you give rmcp's transport:
///
/// ```no_run
/// use agent_trace::mcp::{McpClientExt as _, TracedHttpClient};
/// use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
/// use rmcp::transport::StreamableHttpClientTransport;
/// use rmcp::ServiceExt as _;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let url = "http://127.0.0.1:8080/mcp";
/// let transport = StreamableHttpClientTransport::with_client(
///     TracedHttpClient::new(reqwest::Client::new()),
///     StreamableHttpClientTransportConfig::with_uri(url),
/// );
/// let client = ().serve(transport).await?;
/// let tools = client.traced().over_http(url).list_tools(None).await?;
/// # let _ = tools; Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct TracedHttpClient<C> {
    inner: C,
    /// The context current when the client was made: the parent of the session's setup.
    setup: Context,
}

impl<C> TracedHttpClient<C> {
    /// Wraps `inner` (`reqwest::Client` with rmcp's `transport-streamable-http-client-reqwest`
    /// feature, or your own `StreamableHttpClient`). The context current here becomes the
    /// parent of the session's setup messages.
    pub fn new(inner: C) -> Self {
        TracedHttpClient {
            inner,
            setup: crate::span::current_or_process_parent(),
        }
    }

    /// The wrapped client.
    pub fn inner(&self) -> &C {
        &self.inner
    }
}

/// The trace context a message carries in `params._meta` (invalid when it carries none).
fn message_context(message: &ClientJsonRpcMessage) -> Context {
    let meta = match message {
        JsonRpcMessage::Request(r) => &r.request.get_meta().0 .0,
        JsonRpcMessage::Notification(n) => &n.notification.get_meta().0 .0,
        _ => return Context::new(),
    };
    crate::context::carriers::mcp::extract(meta)
}

/// Puts `setup` in the `_meta` of the session's setup messages (`initialize`,
/// `notifications/initialized`, `server/discover`), which rmcp sends without a context.
fn with_setup_context(message: &mut ClientJsonRpcMessage, setup: &Context) {
    use crate::context::carriers::mcp::inject_context;
    match message {
        JsonRpcMessage::Request(r) => {
            if matches!(
                r.request,
                ClientRequest::InitializeRequest(_) | ClientRequest::DiscoverRequest(_)
            ) {
                inject_context(setup, &mut r.request.get_meta_mut().0 .0);
            }
        }
        JsonRpcMessage::Notification(n) => {
            if matches!(
                n.notification,
                ClientNotification::InitializedNotification(_)
            ) {
                inject_context(setup, &mut n.notification.get_meta_mut().0 .0);
            }
        }
        _ => {}
    }
}

/// The HTTP CLIENT span of a message with a context, and the headers that carry the span's
/// context (or, with tracing off, the message's own) to the server. A setup message gets the
/// context the client was made in first.
fn http_span(
    uri: &str,
    message: &mut ClientJsonRpcMessage,
    setup: &Context,
    mut headers: HashMap<HeaderName, HeaderValue>,
) -> (Option<ActiveSpan>, HashMap<HeaderName, HeaderValue>) {
    let mut parent = message_context(message);
    if !parent.span().span_context().is_valid() && setup.span().span_context().is_valid() {
        with_setup_context(message, setup);
        parent = message_context(message);
    }
    if !parent.span().span_context().is_valid() {
        return (None, headers);
    }
    let mut attrs = vec![
        KeyValue::new(k::HTTP_REQUEST_METHOD, "POST"),
        KeyValue::new(
            k::URL_FULL,
            text::cut(&without_credentials(uri), NAME_LIMIT * 8),
        ),
    ];
    crate::span::server_attributes(uri, &mut attrs);
    let span = crate::span::start_span("POST".into(), SpanKind::Client, attrs, &parent);
    let cx = span.as_ref().map_or(&parent, |s| s.context());
    let mut carried = ::http::HeaderMap::new();
    crate::context::carriers::http::inject_context(cx, &mut carried);
    for (name, value) in &carried {
        headers.insert(name.clone(), value.clone());
    }
    (span, headers)
}

/// A URL without its user name and password (the HTTP conventions never record them).
fn without_credentials(uri: &str) -> String {
    match uri.parse::<::http::Uri>() {
        Ok(u) if u.authority().is_some_and(|a| a.as_str().contains('@')) => {
            let authority = u.authority().map_or("", |a| a.as_str());
            let host = authority.rsplit('@').next().unwrap_or_default();
            uri.replacen(authority, &format!("REDACTED:REDACTED@{host}"), 1)
        }
        _ => uri.to_string(),
    }
}

/// Records what came back: the status the MCP specification prescribes for each kind of
/// answer (rmcp's client does not hand the status on: 202 for an accepted notification,
/// 200 for a JSON or event-stream answer), or the error.
fn record_post<E: std::error::Error + Send + Sync + 'static>(
    result: &Result<StreamableHttpPostResponse, StreamableHttpError<E>>,
    span: &mut ActiveSpan,
) {
    match result {
        Ok(answer) => {
            let status = match answer {
                StreamableHttpPostResponse::Accepted => 202,
                _ => 200,
            };
            span.set_attribute(KeyValue::new(k::HTTP_RESPONSE_STATUS_CODE, status));
        }
        Err(e) => {
            let error_type: Cow<'static, str> = match e {
                StreamableHttpError::HttpStatus(s) => {
                    span.set_attribute(KeyValue::new(
                        k::HTTP_RESPONSE_STATUS_CODE,
                        i64::from(s.status),
                    ));
                    s.status.to_string().into()
                }
                StreamableHttpError::Io(_) | StreamableHttpError::Client(_) => "transport".into(),
                StreamableHttpError::Sse(_) | StreamableHttpError::UnexpectedEndOfStream => {
                    "stream".into()
                }
                StreamableHttpError::AuthRequired(_) => "401".into(),
                StreamableHttpError::InsufficientScope(_) => "403".into(),
                _ => "unexpected_response".into(),
            };
            span.record_error(error_type, text::display(e, text::MESSAGE_LIMIT));
        }
    }
}

type PostResult<E> = Result<StreamableHttpPostResponse, StreamableHttpError<E>>;

/// `post` in the span of its message (when it has one).
fn traced_post<'a, E: std::error::Error + Send + Sync + 'static>(
    span: Option<ActiveSpan>,
    post: impl Future<Output = PostResult<E>> + Send + 'a,
) -> impl Future<Output = PostResult<E>> + Send + 'a {
    instrument(span, post, record_post)
}

impl<C: StreamableHttpClient> StreamableHttpClient for TracedHttpClient<C> {
    type Error = C::Error;

    fn post_message(
        &self,
        uri: Arc<str>,
        mut message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> impl Future<Output = PostResult<Self::Error>> + Send + '_ {
        let (span, headers) = http_span(&uri, &mut message, &self.setup, custom_headers);
        let post = self
            .inner
            .post_message(uri, message, session_id, auth_header, headers);
        traced_post(span, post)
    }

    fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        mut message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> impl Future<Output = PostResult<Self::Error>> + Send + '_ {
        let (span, headers) = http_span(&uri, &mut message, &self.setup, custom_headers);
        let post = self.inner.post_message_with_max_sse_event_size(
            uri,
            message,
            session_id,
            auth_header,
            headers,
            max_sse_event_size,
        );
        traced_post(span, post)
    }

    fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        mut message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> impl Future<Output = PostResult<Self::Error>> + Send + '_ {
        let (span, headers) = http_span(&uri, &mut message, &self.setup, custom_headers);
        let post = self.inner.post_message_with_response_limits(
            uri,
            message,
            session_id,
            auth_header,
            headers,
            limits,
        );
        traced_post(span, post)
    }

    fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> impl Future<Output = Result<(), StreamableHttpError<Self::Error>>> + Send + '_ {
        self.inner
            .delete_session(uri, session_id, auth_header, custom_headers)
    }

    fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> impl Future<Output = Result<BoxedSseResponse, StreamableHttpError<Self::Error>>> + Send + '_
    {
        self.inner
            .get_stream(uri, session_id, last_event_id, auth_header, custom_headers)
    }

    fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> impl Future<Output = Result<BoxedSseResponse, StreamableHttpError<Self::Error>>> + Send + '_
    {
        self.inner.get_stream_with_max_sse_event_size(
            uri,
            session_id,
            last_event_id,
            auth_header,
            custom_headers,
            max_sse_event_size,
        )
    }
}

/// An rmcp streamable-HTTP client transport to `uri` whose requests join the trace of the
/// MCP request they carry: rmcp's `StreamableHttpClientTransport::from_uri(uri)`, with its
/// reqwest client wrapped in [`TracedHttpClient`] (features `rmcp` and `reqwest`). Made where
/// the session is opened, so the session's setup joins the trace current there.
///
/// ```no_run
/// use agent_trace::mcp::McpClientExt as _;
/// use rmcp::ServiceExt as _;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let url = "http://127.0.0.1:8080/mcp";
/// let client = ().serve(agent_trace::mcp::http_transport(url)).await?;
/// let tools = client.traced().over_http(url).list_tools(None).await?;
/// # let _ = tools; Ok(()) }
/// ```
#[cfg(feature = "reqwest")]
pub fn http_transport(
    uri: impl Into<Arc<str>>,
) -> rmcp::transport::StreamableHttpClientTransport<TracedHttpClient<reqwest::Client>> {
    rmcp::transport::StreamableHttpClientTransport::with_client(
        TracedHttpClient::new(reqwest::Client::default()),
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(uri),
    )
}
