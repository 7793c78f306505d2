//! `TracedService`: an rmcp `ServerHandler` that opens a SERVER span per request.

use super::*;

/// An rmcp server handler whose requests are traced: see the [module docs](crate::mcp).
///
/// `TracedService<S>` is itself a `ServerHandler` that forwards every method to `S`, so it
/// goes wherever `S` went: `TracedService::new(handler).serve(transport)`, or
/// `StreamableHttpService::new(|| Ok(TracedService::new(Handler::new())), ..)`.
///
/// It forwards every method of rmcp 3.9 to 3.11, `get_info` included, so it advertises the
/// wrapped handler's capabilities exactly. A later rmcp 3.x could add a handler method this
/// wrapper does not forward (its default would then answer instead of your override): the
/// test `traced_service_forwards_every_server_handler_method` reads the trait from the rmcp
/// source the workspace resolves and fails on such a method, so updating the lock file finds
/// it before a release does.
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
/// [`CommandExt::with_trace_context`](crate::context::carriers::env::CommandExt)), else a new trace.
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
    only_in_a_trace: bool,
) -> (Context, Option<ActiveSpan>) {
    let meta_cx = crate::context::carriers::mcp::extract(&context.meta.0 .0);
    let parts = context.extensions.get::<http::request::Parts>();
    // The transport's context: the HTTP SERVER span the request came in under `TraceLayer`
    // (what the MCP conventions link to), else the HTTP request's own `traceparent`.
    let transport_cx = parts.map(|p| {
        match p
            .extensions
            .get::<crate::context::carriers::http::TransportSpan>()
        {
            Some(t) => Context::new().with_remote_span_context(t.0.clone()),
            None => {
                crate::context::carriers::http::extract_with_context(&Context::new(), &p.headers)
            }
        }
    });
    let (parent, links) = server_parent(&meta_cx, transport_cx);
    let has_parent = parent.span().span_context().is_valid();
    if !crate::is_enabled() || (only_in_a_trace && !has_parent) {
        return (parent, None);
    }
    let Described { name, mut attrs } = described();
    attrs.push(KeyValue::new(k::JSONRPC_REQUEST_ID, context.id.to_string()));
    match parts {
        Some(p) => {
            attrs.push(KeyValue::new(k::NETWORK_TRANSPORT, "tcp"));
            attrs.push(KeyValue::new(k::NETWORK_PROTOCOL_NAME, "http"));
            let session = p
                .headers
                .get("mcp-session-id")
                .and_then(|v| v.to_str().ok());
            if let Some(id) = session {
                attrs.push(KeyValue::new(k::MCP_SESSION_ID, text::cut(id, NAME_LIMIT)));
            }
        }
        None => attrs.push(KeyValue::new(k::NETWORK_TRANSPORT, "pipe")),
    }
    let version = context
        .meta
        .protocol_version()
        .or_else(|| context.peer.peer_info().map(|i| i.protocol_version.clone()));
    if let Some(v) = version {
        let v = text::cut(v.as_str(), NAME_LIMIT);
        attrs.push(KeyValue::new(k::MCP_PROTOCOL_VERSION, v));
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
    serve_in_span(server_span(described, context, false), tool_result, handle)
}

/// [`serve_traced`] for the session's lifecycle (`server/discover`): a span only when the
/// request comes with a trace context (a client that traces it); otherwise, as for
/// `initialize`, none, so a session's setup is never a trace of its own.
fn serve_lifecycle<'a, T: 'a, F>(
    described: impl FnOnce() -> Described,
    context: &RequestContext<RoleServer>,
    handle: impl FnOnce() -> F,
) -> impl Future<Output = Result<T, ErrorData>> + MaybeSendFuture + 'a
where
    F: Future<Output = Result<T, ErrorData>> + MaybeSendFuture + 'a,
{
    serve_in_span(
        server_span(described, context, true),
        no_tool_result,
        handle,
    )
}

/// Runs a handler in the span `server_span` made (or, without one, in its parent context).
fn serve_in_span<'a, T: 'a, F>(
    (cx, mut span): (Context, Option<ActiveSpan>),
    tool_result: fn(&T) -> Option<&CallToolResult>,
    handle: impl FnOnce() -> F,
) -> impl Future<Output = Result<T, ErrorData>> + MaybeSendFuture + 'a
where
    F: Future<Output = Result<T, ErrorData>> + MaybeSendFuture + 'a,
{
    // The handler is created and polled in the span; with tracing off, in the caller's
    // context (so its own outgoing calls still continue the trace).
    // (`with_context` matters only then: with a span, `instrument` makes it current.)
    let handled = match span.is_some() {
        true => crate::span::call(&mut span, handle),
        false => {
            let _cx = cx.clone().attach();
            handle()
        }
    };
    instrument(span, handled.with_context(cx), move |out, span| match out {
        Ok(answer) => record_tool_answer(tool_result(answer), span),
        Err(e) => record_jsonrpc_error(e, span, true),
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
    // The session's lifecycle (`initialize`, `ping`) is forwarded untraced: the MCP
    // conventions deprecate both method names (removed from the 2026-07-28 protocol), and a
    // span per handshake or keep-alive is noise. The negotiated protocol version is on every
    // later span as `mcp.protocol.version`. `server/discover`, the 2026-07-28 setup, is traced
    // only inside a trace its client started.
    fn ping(
        &self,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<(), ErrorData>> + MaybeSendFuture + '_ {
        self.inner.ping(context)
    }

    fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<InitializeResult, ErrorData>> + MaybeSendFuture + '_ {
        self.inner.initialize(request, context)
    }

    fn discover(
        &self,
        context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<DiscoverResult, ErrorData>> + MaybeSendFuture + '_ {
        let describe = || Described::method("server/discover");
        serve_lifecycle(describe, &context.clone(), move || {
            self.inner.discover(context)
        })
    }

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
