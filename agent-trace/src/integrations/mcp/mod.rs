//! MCP (Model Context Protocol) through [rmcp](https://docs.rs/rmcp), the official Rust SDK
//! (feature `rmcp`): client and server spans per the OpenTelemetry MCP semantic conventions,
//! and trace context carried in each request's `params._meta`.
//!
//! **Server side**: wrap any rmcp service (a `ServerHandler`) in [`TracedService`]. Each
//! request gets a SERVER span named `{mcp.method.name} {target}` (`tools/call search`,
//! `prompts/get review`, `tools/list`), current while the handler runs, so
//! `#[traced_tool]` functions called inside nest under it. Its parent comes from
//! `params._meta`; over streamable HTTP the transport's own context (the HTTP request's
//! `traceparent`) is added as a link, or used as the parent when `_meta` has none. With
//! neither (rmcp's own `initialize`, say), a stdio server started with
//! [`CommandExt::with_trace_context`](crate::context::carriers::env::CommandExt) uses the span that
//! spawned it, as every root span of that process does; otherwise a new trace starts.
//! Works with every rmcp transport: stdio, streamable HTTP, any `Transport`.
//!
//! ```no_run
//! # #[cfg(feature = "rmcp")] {
//! use agent_trace::mcp::TracedService;
//! use rmcp::ServiceExt as _;
//!
//! #[derive(Clone)]
//! struct Tools;
//! impl rmcp::ServerHandler for Tools {}
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! # let (transport, _client_end) = tokio::io::duplex(4096);
//! // Any rmcp transport: `rmcp::transport::stdio()`, a child's pipes, a socket...
//! let server = TracedService::new(Tools).serve(transport).await?;
//! server.waiting().await?;
//! # Ok(()) }
//! # }
//! ```
//!
//! **Client side**: send requests through [`McpClientExt::traced`]. Each gets a CLIENT span
//! (same name and attributes) and carries the current context in its `_meta`:
//!
//! ```no_run
//! use agent_trace::mcp::McpClientExt as _;
//! use rmcp::model::CallToolRequestParams;
//!
//! # async fn run(client: rmcp::service::RunningService<rmcp::RoleClient, ()>)
//! # -> Result<(), rmcp::ServiceError> {
//! let result = client
//!     .traced()
//!     .call_tool(CallToolRequestParams::new("search"))
//!     .await?;
//! # let _ = result; Ok(()) }
//! ```
//!
//! Requests sent with rmcp's own methods (`client.call_tool(..)`) are not traced: rmcp hands
//! them to its service task, where the caller's context is gone, and offers no hook before
//! that. [`TracedClient::send_request`] takes any `ClientRequest`.
//!
//! **Outcomes**: a JSON-RPC error sets `error.type` and `rpc.response.status_code` to its
//! code and the status to its message; a `tools/call` result with `isError: true` sets
//! `error.type=tool_error` and the status to its text; a transport failure sets
//! `error.type` to `transport_closed`, `transport_send`, `timeout`, `cancelled` or
//! `unexpected_response`. With content capture on
//! (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`), `tools/call` spans also record
//! `gen_ai.tool.call.arguments` and `gen_ai.tool.call.result` as JSON (cut at
//! [`CAPTURE_LIMIT`](crate::CAPTURE_LIMIT) characters; redacted before export).
//!
//! **Bad `_meta`** (missing, not strings, invalid `traceparent`, oversized `tracestate`) is
//! treated as absent (the fallbacks above: usually a new trace) and never fails or changes
//! the request.
//!
//! **Metrics** (feature `metrics`): `mcp.client.operation.duration` and
//! `mcp.server.operation.duration` (seconds), by `mcp.method.name` (`_OTHER` outside the
//! specification's methods), `mcp.protocol.version`, `network.transport` (server) and
//! `error.type`; the client's also by `gen_ai.tool.name`/`gen_ai.prompt.name` (the server's
//! not: a peer could send any name).
//!
//! Notifications are passed through untraced.
//!
//! # Over streamable HTTP
//!
//! rmcp sends an MCP request from its transport worker, where the caller's context is gone,
//! and its HTTP client puts no `traceparent` on the wire: without help, every HTTP request of
//! a session would be a trace of its own on a server with
//! [`TraceLayer`](crate::server::TraceLayer). [`TracedHttpClient`] wraps any rmcp
//! `StreamableHttpClient` ([`http_transport`] builds rmcp's transport with one): each message
//! that carries a context in `params._meta` (every request sent through
//! [`traced()`](McpClientExt::traced)) gets an HTTP `POST` CLIENT span as its child, and that
//! span's context on the HTTP request, as the MCP conventions draw it: MCP CLIENT → HTTP
//! CLIENT → HTTP SERVER, and the MCP SERVER span under the MCP CLIENT span, linked to the HTTP
//! SERVER span. The session's setup (`initialize` and `notifications/initialized`, or
//! `server/discover`), which rmcp sends itself, gets the context that was current when the
//! client was made. Other messages without a context (notifications, the `GET` event stream,
//! the closing `DELETE`) go out untouched, and `TraceLayer` gives such MCP requests no span:
//! a session leaves no trace of its own on the server.
//!
//! Layers, bottom up: `client`, `over_http`, `server`. None imports another
//! (`tests/layout.rs`); what they share is here.

use std::borrow::Cow;
use std::future::Future;

use opentelemetry::trace::{FutureExt as _, Link, SpanKind, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};
use rmcp::model::*;
use rmcp::service::{
    MaybeSendFuture, NotificationContext, Peer, PeerRequestOptions, RequestContext, RoleClient,
    RoleServer, ServiceError, SubscriptionContext,
};
use rmcp::{ErrorData, ServerHandler};

use crate::span::text;
use crate::span::{instrument, start_span_measured, ActiveSpan, Measure};

use crate::span::semconv as k;

mod over_http;
#[cfg(feature = "reqwest")]
pub use over_http::http_transport;
pub use over_http::TracedHttpClient;

/// Span names and targets longer than this (they come from the peer) are cut.
const NAME_LIMIT: usize = 128;

/// What a request says about itself, for span names and attributes.
struct Described {
    name: String,
    attrs: Vec<KeyValue>,
}

impl Described {
    /// A request whose span is named by its method alone.
    fn method(method: &str) -> Self {
        let method = text::cut(method, NAME_LIMIT);
        let mut attrs = Vec::with_capacity(8);
        attrs.push(KeyValue::new(k::MCP_METHOD_NAME, method.clone()));
        Described {
            name: method,
            attrs,
        }
    }

    /// `tools/call {tool}`, with the tool attributes of `execute_tool` spans.
    fn tool(name: &str, arguments: Option<&rmcp::model::JsonObject>) -> Self {
        let tool = text::cut(name, NAME_LIMIT);
        let mut d = Described::method("tools/call");
        d.name = format!("tools/call {tool}");
        d.attrs
            .push(KeyValue::new(k::GEN_AI_OPERATION_NAME, k::OP_EXECUTE_TOOL));
        d.attrs.push(KeyValue::new(k::GEN_AI_TOOL_NAME, tool));
        if crate::state::capture_message_content() {
            if let Some(args) = arguments {
                d.attrs
                    .push(KeyValue::new(k::GEN_AI_TOOL_CALL_ARGUMENTS, json_cut(args)));
            }
        }
        d
    }

    /// `prompts/get {prompt}`.
    fn prompt(name: &str) -> Self {
        let prompt = text::cut(name, NAME_LIMIT);
        let mut d = Described::method("prompts/get");
        d.name = format!("prompts/get {prompt}");
        d.attrs.push(KeyValue::new(k::GEN_AI_PROMPT_NAME, prompt));
        d
    }

    /// A request about a resource: the URI is an attribute, not part of the name (it would
    /// make too many distinct names).
    fn resource(method: &str, uri: &str) -> Self {
        let mut d = Described::method(method);
        let uri = text::cut(uri, crate::CAPTURE_LIMIT);
        d.attrs.push(KeyValue::new(k::MCP_RESOURCE_URI, uri));
        d
    }
}

fn describe(request: &ClientRequest) -> Described {
    let method = request.method();
    match request {
        ClientRequest::CallToolRequest(r) => {
            Described::tool(&r.params.name, r.params.arguments.as_ref())
        }
        ClientRequest::GetPromptRequest(r) => Described::prompt(&r.params.name),
        ClientRequest::ReadResourceRequest(r) => Described::resource(method, &r.params.uri),
        ClientRequest::SubscribeRequest(r) => Described::resource(method, &r.params.uri),
        ClientRequest::UnsubscribeRequest(r) => Described::resource(method, &r.params.uri),
        ClientRequest::GetSkillRequest(r) => Described::resource(method, &r.params.uri),
        _ => Described::method(method),
    }
}

/// The MCP methods of the 2025-2026 specifications; others are `_OTHER` in metrics.
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "server/discover",
    "completion/complete",
    "logging/setLevel",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "resources/directory/read",
    "subscriptions/listen",
    "tools/call",
    "tools/list",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "skills/list",
    "skills/get",
];

/// The attributes of `mcp.{client,server}.operation.duration`: the method (`_OTHER` for
/// one outside the specification: a peer could otherwise mint a time series per request),
/// the protocol version and transport, and, on the client (whose own code names its tools),
/// the tool or prompt. `error.type` is added when the request ends.
fn metric_attributes(span_attrs: &[KeyValue], server: bool) -> Vec<KeyValue> {
    let mut out = Vec::with_capacity(4);
    for kv in span_attrs {
        match kv.key.as_str() {
            k::MCP_METHOD_NAME => {
                let method = kv.value.as_str();
                let known = KNOWN_METHODS.iter().find(|m| **m == method.as_ref());
                out.push(KeyValue::new(
                    k::MCP_METHOD_NAME,
                    *known.unwrap_or(&"_OTHER"),
                ));
            }
            k::MCP_PROTOCOL_VERSION
            | k::NETWORK_TRANSPORT
            | k::NETWORK_PROTOCOL_NAME
            | k::GEN_AI_OPERATION_NAME => out.push(kv.clone()),
            k::GEN_AI_TOOL_NAME | k::GEN_AI_PROMPT_NAME if !server => out.push(kv.clone()),
            _ => {}
        }
    }
    out
}

/// A JSON value as an attribute string that stays valid JSON: whole when it fits the capture
/// limit, else the JSON string of its cut text (bounded work either way).
fn json_cut<T: serde::Serialize + ?Sized>(value: &T) -> String {
    text::json(value, crate::CAPTURE_LIMIT)
        .unwrap_or(serde_json::Value::Null)
        .to_string()
}

/// The text of an `isError` tool result, for the span status.
fn tool_error_text(r: &CallToolResult) -> String {
    let text: Vec<&str> = r
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
        .collect();
    if text.is_empty() {
        "the tool reported an error".to_string()
    } else {
        text::cut(&text.join("\n"), crate::CAPTURE_LIMIT)
    }
}

/// Records a request's outcome from the server's answer; shared by both sides.
fn record_answer(result: &ServerResult, span: &mut ActiveSpan) {
    match result {
        ServerResult::CallToolResult(r) => record_tool_answer(Some(r), span),
        _ => span.record_ok(),
    }
}

/// Records the outcome of a successful answer: `isError` tool results are errors.
fn record_tool_answer(result: Option<&CallToolResult>, span: &mut ActiveSpan) {
    if let Some(r) = result {
        if r.is_error == Some(true) {
            span.record_error(k::ERROR_TYPE_TOOL_ERROR.into(), tool_error_text(r));
            return;
        }
        if crate::state::capture_message_content() {
            let value = match &r.structured_content {
                Some(v) => json_cut(v),
                None => json_cut(&r.content),
            };
            span.set_attribute(KeyValue::new(k::GEN_AI_TOOL_CALL_RESULT, value));
        }
    }
    span.record_ok();
}

/// JSON-RPC error codes by which a server says the caller sent what it cannot serve; the MCP
/// conventions say a SERVER span does not count them as errors (a client span does).
const CALLER_FAULT_CODES: [i32; 5] = [-32700, -32600, -32601, -32602, -32002];

/// Records a JSON-RPC error answer: `rpc.response.status_code` always; the error (status,
/// `error.type`, exception event) on every client span and on a server span unless the code
/// is one of [`CALLER_FAULT_CODES`].
fn record_jsonrpc_error(e: &ErrorData, span: &mut ActiveSpan, server: bool) {
    let code = e.code.0.to_string();
    span.set_attribute(KeyValue::new(k::RPC_RESPONSE_STATUS_CODE, code.clone()));
    if server && CALLER_FAULT_CODES.contains(&e.code.0) {
        span.record_ok();
        return;
    }
    span.record_error(code.into(), text::cut(&e.message, crate::CAPTURE_LIMIT));
}

mod client;
mod server;

pub use client::{McpClientExt, TracedClient};
pub use server::TracedService;

#[cfg(test)]
mod tests {
    /// MCP tool arguments and results stay valid JSON however long they are.
    #[test]
    fn long_json_content_stays_valid_json() {
        let short = serde_json::json!({"a": 1, "b": "x"});
        assert_eq!(super::json_cut(&short), short.to_string());
        let long = serde_json::json!({"text": "y".repeat(100_000)});
        let cut = super::json_cut(&long);
        let parsed: serde_json::Value = serde_json::from_str(&cut).expect("valid JSON");
        let inner = parsed
            .as_str()
            .expect("the cut JSON text, as a JSON string");
        assert!(
            inner.starts_with("{\"text\":\"yyy") && inner.ends_with('…'),
            "{inner}"
        );
        assert!(cut.len() < 4 * crate::CAPTURE_LIMIT);
    }
}
