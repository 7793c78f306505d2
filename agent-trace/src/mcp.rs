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
//! [`CommandExt::with_trace_context`](crate::carriers::env::CommandExt) uses the span that
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

use crate::private::{instrument, start_span_measured, ActiveSpan, Measure};
use crate::text;

/// Attribute keys of the MCP semantic conventions.
pub mod keys {
    /// `mcp.method.name`: `tools/call`, `initialize`, ...
    pub const MCP_METHOD_NAME: &str = "mcp.method.name";
    /// `mcp.session.id`: the streamable HTTP session (`Mcp-Session-Id`).
    pub const MCP_SESSION_ID: &str = "mcp.session.id";
    /// `mcp.protocol.version`: the negotiated protocol version.
    pub const MCP_PROTOCOL_VERSION: &str = "mcp.protocol.version";
    /// `mcp.resource.uri`: the resource of `resources/read`, `resources/subscribe`, ...
    pub const MCP_RESOURCE_URI: &str = "mcp.resource.uri";
    /// `jsonrpc.request.id`.
    pub const JSONRPC_REQUEST_ID: &str = "jsonrpc.request.id";
    /// `rpc.response.status_code`: the JSON-RPC error code.
    pub const RPC_RESPONSE_STATUS_CODE: &str = "rpc.response.status_code";
    /// `gen_ai.prompt.name`: the prompt of `prompts/get`.
    pub const GEN_AI_PROMPT_NAME: &str = "gen_ai.prompt.name";
    pub use crate::semconv::{GEN_AI_TOOL_CALL_ARGUMENTS, GEN_AI_TOOL_CALL_RESULT};
    /// `network.transport`: `pipe` for stdio, `tcp` for HTTP.
    pub const NETWORK_TRANSPORT: &str = "network.transport";
    /// `network.protocol.name`: `http` over streamable HTTP.
    pub const NETWORK_PROTOCOL_NAME: &str = "network.protocol.name";
    /// `error.type` of a `tools/call` whose result has `isError: true`.
    pub const TOOL_ERROR: &str = "tool_error";
}

use crate::semconv as k;
use keys::*;

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
        attrs.push(KeyValue::new(MCP_METHOD_NAME, method.clone()));
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
        if crate::private::capture_message_content() {
            if let Some(args) = arguments {
                d.attrs
                    .push(KeyValue::new(GEN_AI_TOOL_CALL_ARGUMENTS, json_cut(args)));
            }
        }
        d
    }

    /// `prompts/get {prompt}`.
    fn prompt(name: &str) -> Self {
        let prompt = text::cut(name, NAME_LIMIT);
        let mut d = Described::method("prompts/get");
        d.name = format!("prompts/get {prompt}");
        d.attrs.push(KeyValue::new(GEN_AI_PROMPT_NAME, prompt));
        d
    }

    /// A request about a resource: the URI is an attribute, not part of the name (it would
    /// make too many distinct names).
    fn resource(method: &str, uri: &str) -> Self {
        let mut d = Described::method(method);
        let uri = text::cut(uri, crate::CAPTURE_LIMIT);
        d.attrs.push(KeyValue::new(MCP_RESOURCE_URI, uri));
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
            MCP_METHOD_NAME => {
                let method = kv.value.as_str();
                let known = KNOWN_METHODS.iter().find(|m| **m == method.as_ref());
                out.push(KeyValue::new(MCP_METHOD_NAME, *known.unwrap_or(&"_OTHER")));
            }
            MCP_PROTOCOL_VERSION | NETWORK_TRANSPORT => out.push(kv.clone()),
            k::GEN_AI_TOOL_NAME | GEN_AI_PROMPT_NAME if !server => out.push(kv.clone()),
            _ => {}
        }
    }
    out
}

/// A JSON value as an attribute string, cut at the capture limit.
fn json_cut<T: serde::Serialize + ?Sized>(value: &T) -> String {
    let json = serde_json::to_string(value).unwrap_or_default();
    text::cut(&json, crate::CAPTURE_LIMIT)
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
            span.record_error(TOOL_ERROR.into(), tool_error_text(r));
            return;
        }
        if crate::private::capture_message_content() {
            let value = match &r.structured_content {
                Some(v) => json_cut(v),
                None => json_cut(&r.content),
            };
            span.set_attribute(KeyValue::new(GEN_AI_TOOL_CALL_RESULT, value));
        }
    }
    span.record_ok();
}

fn record_jsonrpc_error(e: &ErrorData, span: &mut ActiveSpan) {
    let code = e.code.0.to_string();
    span.set_attribute(KeyValue::new(RPC_RESPONSE_STATUS_CODE, code.clone()));
    span.record_error(code.into(), text::cut(&e.message, crate::CAPTURE_LIMIT));
}

// ---------------------------------------------------------------- server

/// An rmcp server handler whose requests are traced: see the [module docs](self).
///
/// `TracedService<S>` is itself a `ServerHandler` that forwards every method to `S`, so it
/// goes wherever `S` went: `TracedService::new(handler).serve(transport)`, or
/// `StreamableHttpService::new(|| Ok(TracedService::new(Handler::new())), ..)`.
///
/// It forwards every method rmcp 3.9 defines. The dependency is held to `~3.9`: a later
/// rmcp could add a handler method this wrapper would not forward, silently bypassing your
/// override of it, so a new rmcp minor version needs a release of this crate.
#[derive(Debug, Clone, Default)]
pub struct TracedService<S> {
    inner: S,
}

impl<S> TracedService<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        TracedService { inner }
    }

    /// The wrapped handler.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Unwraps the handler.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// Parent and links of a server span: the `_meta` context is the parent; the transport's
/// (HTTP headers) is linked, or is the parent when `_meta` carries none; with neither, the
/// process's own parent (`TRACEPARENT`, for a stdio server spawned with
/// [`CommandExt::with_trace_context`](crate::carriers::env::CommandExt)), else a new trace.
fn server_parent(meta: &Context, transport: Option<Context>) -> (Context, Vec<Link>) {
    let transport = transport.filter(|t| t.span().span_context().is_valid());
    if meta.span().span_context().is_valid() {
        let links = transport
            .map(|t| vec![Link::with_context(t.span().span_context().clone())])
            .unwrap_or_default();
        (meta.clone(), links)
    } else {
        let fallback = transport.unwrap_or_else(crate::state::process_parent);
        (fallback, Vec::new())
    }
}

/// The SERVER span of one request (`None` while tracing is off) and the context its handler
/// runs in.
fn server_span(
    described: impl FnOnce() -> Described,
    context: &RequestContext<RoleServer>,
) -> (Context, Option<ActiveSpan>) {
    let meta_cx = crate::carriers::mcp::extract(&context.meta.0 .0);
    let parts = context.extensions.get::<http::request::Parts>();
    let transport_cx =
        parts.map(|p| crate::carriers::http::extract_with_context(&Context::new(), &p.headers));
    let (parent, links) = server_parent(&meta_cx, transport_cx);
    if !crate::is_enabled() {
        return (parent, None);
    }
    let Described { name, mut attrs } = described();
    attrs.push(KeyValue::new(JSONRPC_REQUEST_ID, context.id.to_string()));
    match parts {
        Some(p) => {
            attrs.push(KeyValue::new(NETWORK_TRANSPORT, "tcp"));
            attrs.push(KeyValue::new(NETWORK_PROTOCOL_NAME, "http"));
            let session = p
                .headers
                .get("mcp-session-id")
                .and_then(|v| v.to_str().ok());
            if let Some(id) = session {
                attrs.push(KeyValue::new(MCP_SESSION_ID, text::cut(id, NAME_LIMIT)));
            }
        }
        None => attrs.push(KeyValue::new(NETWORK_TRANSPORT, "pipe")),
    }
    let version = context
        .meta
        .protocol_version()
        .or_else(|| context.peer.peer_info().map(|i| i.protocol_version.clone()));
    if let Some(v) = version {
        let v = text::cut(v.as_str(), NAME_LIMIT);
        attrs.push(KeyValue::new(MCP_PROTOCOL_VERSION, v));
    }
    let measure = Measure::Mcp {
        server: true,
        attributes: metric_attributes(&attrs, true),
    };
    let span = start_span_measured(
        name.into(),
        SpanKind::Server,
        attrs,
        links,
        &parent,
        Some(measure),
    );
    let cx = span.as_ref().map(|s| s.context().clone()).unwrap_or(parent);
    (cx, span)
}

/// Runs one handler method in its SERVER span. `tool_result` finds a `tools/call` result in
/// the answer, for `isError` and the opt-in result attribute.
fn serve_traced<'a, T: 'a, F>(
    described: impl FnOnce() -> Described,
    context: &RequestContext<RoleServer>,
    tool_result: fn(&T) -> Option<&CallToolResult>,
    handle: impl FnOnce() -> F,
) -> impl Future<Output = Result<T, ErrorData>> + MaybeSendFuture + 'a
where
    F: Future<Output = Result<T, ErrorData>> + MaybeSendFuture + 'a,
{
    let (cx, span) = server_span(described, context);
    // The handler is created and polled in the span (with tracing off, in the caller's
    // context, so its own outgoing calls still continue the trace).
    let handled = {
        let _cx = cx.clone().attach();
        handle()
    };
    instrument(span, handled.with_context(cx), move |out, span| match out {
        Ok(answer) => record_tool_answer(tool_result(answer), span),
        Err(e) => record_jsonrpc_error(e, span),
    })
}

fn no_tool_result<T>(_: &T) -> Option<&CallToolResult> {
    None
}

fn complete_tool_result(r: &CallToolResponse) -> Option<&CallToolResult> {
    match r {
        CallToolResponse::Complete(r) => Some(r),
        _ => None,
    }
}

/// Forwards a request method to the inner handler inside a SERVER span.
macro_rules! traced_request {
    ($method:ident($params:ty) -> $answer:ty, $described:expr) => {
        traced_request!($method($params) -> $answer, $described, no_tool_result);
    };
    ($method:ident($params:ty) -> $answer:ty, $described:expr, $tool_result:expr) => {
        fn $method(
            &self,
            request: $params,
            context: RequestContext<RoleServer>,
        ) -> impl Future<Output = Result<$answer, ErrorData>> + MaybeSendFuture + '_ {
            let describe: fn(&$params) -> Described = $described;
            let described = describe(&request);
            serve_traced(|| described, &context.clone(), $tool_result, move || {
                self.inner.$method(request, context)
            })
        }
    };
}

/// Forwards a notification method untraced.
macro_rules! forward_notification {
    ($method:ident($($param:ident: $ty:ty),*)) => {
        fn $method(
            &self,
            $($param: $ty,)*
            context: NotificationContext<RoleServer>,
        ) -> impl Future<Output = ()> + MaybeSendFuture + '_ {
            self.inner.$method($($param,)* context)
        }
    };
}

#[allow(deprecated)] // forwards `subscribe`/`unsubscribe` for older protocol versions
impl<S: ServerHandler> ServerHandler for TracedService<S> {
    fn ping(
        &self,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), ErrorData>> + MaybeSendFuture + '_ {
        serve_traced(
            || Described::method("ping"),
            &context.clone(),
            no_tool_result,
            move || self.inner.ping(context),
        )
    }

    fn discover(
        &self,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<DiscoverResult, ErrorData>> + MaybeSendFuture + '_ {
        let describe = || Described::method("server/discover");
        serve_traced(describe, &context.clone(), no_tool_result, move || {
            self.inner.discover(context)
        })
    }

    traced_request!(initialize(InitializeRequestParams) -> InitializeResult,
        |_| Described::method("initialize"));
    traced_request!(complete(CompleteRequestParams) -> CompleteResult,
        |_| Described::method("completion/complete"));
    traced_request!(set_level(SetLevelRequestParams) -> (),
        |_| Described::method("logging/setLevel"));
    traced_request!(get_prompt(GetPromptRequestParams) -> GetPromptResponse,
        |r| Described::prompt(&r.name));
    traced_request!(
        list_prompts(Option<PaginatedRequestParams>) -> ListPromptsResult,
        |_| Described::method("prompts/list")
    );
    traced_request!(
        list_resources(Option<PaginatedRequestParams>) -> ListResourcesResult,
        |_| Described::method("resources/list")
    );
    traced_request!(
        list_resource_templates(Option<PaginatedRequestParams>) -> ListResourceTemplatesResult,
        |_| Described::method("resources/templates/list")
    );
    traced_request!(read_resource(ReadResourceRequestParams) -> ReadResourceResponse,
        |r| Described::resource("resources/read", &r.uri));
    traced_request!(subscribe(SubscribeRequestParams) -> (),
        |r| Described::resource("resources/subscribe", &r.uri));
    traced_request!(unsubscribe(UnsubscribeRequestParams) -> (),
        |r| Described::resource("resources/unsubscribe", &r.uri));
    traced_request!(call_tool(CallToolRequestParams) -> CallToolResponse,
        |r| Described::tool(&r.name, r.arguments.as_ref()), complete_tool_result);
    traced_request!(
        list_tools(Option<PaginatedRequestParams>) -> ListToolsResult,
        |_| Described::method("tools/list")
    );
    traced_request!(on_custom_request(CustomRequest) -> CustomResult,
        |r| Described::method(&r.method));
    traced_request!(get_task(GetTaskParams) -> GetTaskResult,
        |_| Described::method("tasks/get"));
    traced_request!(update_task(UpdateTaskParams) -> (),
        |_| Described::method("tasks/update"));
    traced_request!(cancel_task(CancelTaskParams) -> (),
        |_| Described::method("tasks/cancel"));
    traced_request!(
        list_skills(Option<PaginatedRequestParams>) -> ListSkillsResult,
        |_| Described::method("skills/list")
    );
    traced_request!(get_skill(GetSkillRequestParams) -> GetSkillResult,
        |r| Described::resource("skills/get", &r.uri));
    traced_request!(read_resource_directory(ReadResourceDirectoryRequestParams) -> ReadResourceDirectoryResult,
        |r| Described::resource("resources/directory/read", &r.uri));

    fn negotiate_initialize(
        &self,
        request: &InitializeRequestParams,
    ) -> Result<InitializeResult, ErrorData> {
        self.inner.negotiate_initialize(request)
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        self.inner.supported_protocol_versions()
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        self.inner.accepted_subscription_filter(requested)
    }

    fn listen(
        &self,
        context: SubscriptionContext,
    ) -> impl Future<Output = Result<(), ErrorData>> + MaybeSendFuture + '_ {
        self.inner.listen(context)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.get_tool(name)
    }

    forward_notification!(on_cancelled(notification: CancelledNotificationParam));
    forward_notification!(on_progress(notification: ProgressNotificationParam));
    forward_notification!(on_initialized());
    forward_notification!(on_roots_list_changed());
    forward_notification!(on_custom_notification(notification: CustomNotification));

    fn get_info(&self) -> ServerConfig {
        self.inner.get_info()
    }
}

// ---------------------------------------------------------------- client

/// `.traced()` on an rmcp client (`Peer<RoleClient>`, and so on a `RunningService`).
pub trait McpClientExt {
    /// Requests sent through the returned handle get CLIENT spans and carry the current
    /// trace context in `params._meta`.
    fn traced(&self) -> TracedClient<'_>;
}

impl McpClientExt for Peer<RoleClient> {
    fn traced(&self) -> TracedClient<'_> {
        TracedClient { peer: self }
    }
}

/// Sends traced requests on an rmcp client; see the [module docs](self).
#[derive(Debug, Clone, Copy)]
pub struct TracedClient<'a> {
    peer: &'a Peer<RoleClient>,
}

/// Sends `notifications/cancelled` for a request whose caller stopped waiting, as rmcp's own
/// methods do, so dropping a traced call behaves like dropping an untraced one.
struct CancelOnDrop {
    peer: Peer<RoleClient>,
    id: Option<rmcp::model::RequestId>,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let peer = self.peer.clone();
        rt.spawn(async move {
            let param = CancelledNotificationParam::new(
                Some(id),
                Some("the caller stopped waiting".to_string()),
            );
            let _ = peer.notify_cancelled(param).await;
        });
    }
}

fn service_error_type(e: &ServiceError) -> Cow<'static, str> {
    match e {
        ServiceError::McpError(e) => e.code.0.to_string().into(),
        ServiceError::TransportSend(_) => "transport_send".into(),
        ServiceError::TransportClosed => "transport_closed".into(),
        ServiceError::UnexpectedResponse => "unexpected_response".into(),
        ServiceError::Cancelled { .. } => k::ERROR_TYPE_CANCELLED.into(),
        ServiceError::Timeout { .. } => "timeout".into(),
        _ => "_OTHER".into(),
    }
}

impl TracedClient<'_> {
    /// Sends any request and waits for the answer, in a CLIENT span with the current context
    /// in its `_meta`. A JSON-RPC error answer is `Err(ServiceError::McpError(..))`, as with
    /// rmcp's own methods.
    pub async fn send_request(
        &self,
        mut request: ClientRequest,
    ) -> Result<ServerResult, ServiceError> {
        let parent = crate::private::current_or_process_parent();
        let span = if crate::is_enabled() {
            let Described { name, mut attrs } = describe(&request);
            if let Some(info) = self.peer.peer_info() {
                let v = text::cut(info.protocol_version.as_str(), NAME_LIMIT);
                attrs.push(KeyValue::new(MCP_PROTOCOL_VERSION, v));
            }
            let measure = Measure::Mcp {
                server: false,
                attributes: metric_attributes(&attrs, false),
            };
            start_span_measured(
                name.into(),
                SpanKind::Client,
                attrs,
                Vec::new(),
                &parent,
                Some(measure),
            )
        } else {
            None
        };
        let cx = span.as_ref().map(|s| s.context().clone()).unwrap_or(parent);
        crate::carriers::mcp::inject_context(&cx, &mut request.get_meta_mut().0 .0);
        let peer = self.peer.clone();
        let exchange = async move {
            let handle = peer
                .send_request_with_option(request, PeerRequestOptions::no_options())
                .await?;
            crate::record(JSONRPC_REQUEST_ID, handle.id.to_string());
            let mut guard = CancelOnDrop {
                peer: peer.clone(),
                id: Some(handle.id.clone()),
            };
            let answer = handle.await_response().await;
            guard.id = None;
            answer
        };
        instrument(span, exchange, |out, span| match out {
            Ok(result) => record_answer(result, span),
            Err(ServiceError::McpError(e)) => record_jsonrpc_error(e, span),
            Err(e) => {
                let message = text::display(e, crate::CAPTURE_LIMIT);
                span.record_error(service_error_type(e), message);
            }
        })
        .await
    }

    /// `tools/call`. A result with `isError: true` is `Ok` (the tool ran and said it
    /// failed), with the span marked as an error. Multi-round (`input_required`) results
    /// are returned as [`ServiceError::UnexpectedResponse`]: use
    /// [`send_request`](Self::send_request) for them.
    pub async fn call_tool(
        &self,
        params: CallToolRequestParams,
    ) -> Result<CallToolResult, ServiceError> {
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        match self.send_request(request).await? {
            ServerResult::CallToolResult(r) => Ok(r),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }

    /// `tools/list` (one page).
    pub async fn list_tools(
        &self,
        params: Option<PaginatedRequestParams>,
    ) -> Result<ListToolsResult, ServiceError> {
        let request = ClientRequest::ListToolsRequest(ListToolsRequest {
            method: Default::default(),
            params,
            extensions: Default::default(),
        });
        match self.send_request(request).await? {
            ServerResult::ListToolsResult(r) => Ok(r),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }

    /// `prompts/get`.
    pub async fn get_prompt(
        &self,
        params: GetPromptRequestParams,
    ) -> Result<GetPromptResult, ServiceError> {
        let request = ClientRequest::GetPromptRequest(GetPromptRequest::new(params));
        match self.send_request(request).await? {
            ServerResult::GetPromptResult(r) => Ok(r),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }

    /// `resources/read`.
    pub async fn read_resource(
        &self,
        params: ReadResourceRequestParams,
    ) -> Result<ReadResourceResult, ServiceError> {
        let request = ClientRequest::ReadResourceRequest(ReadResourceRequest::new(params));
        match self.send_request(request).await? {
            ServerResult::ReadResourceResult(r) => Ok(r),
            _ => Err(ServiceError::UnexpectedResponse),
        }
    }
}
