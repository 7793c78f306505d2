//! `.traced()`: CLIENT spans for requests an rmcp client sends, context injected into `_meta`.

use super::*;

/// `.traced()` on an rmcp client (`Peer<RoleClient>`, and so on a `RunningService`).
pub trait McpClientExt {
    /// Requests sent through the returned handle get CLIENT spans and carry the current
    /// trace context in `params._meta`.
    fn traced(&self) -> TracedClient<'_>;
}

impl McpClientExt for Peer<RoleClient> {
    fn traced(&self) -> TracedClient<'_> {
        TracedClient {
            peer: self,
            transport: Transport::Unknown,
        }
    }
}

/// Sends traced requests on an rmcp client; see the [module docs](crate::mcp).
#[derive(Debug, Clone, Copy)]
pub struct TracedClient<'a> {
    peer: &'a Peer<RoleClient>,
    transport: Transport<'a>,
}

/// How the client reaches its server (rmcp's client handle does not say).
#[derive(Debug, Clone, Copy)]
enum Transport<'a> {
    Unknown,
    Stdio,
    Http(&'a str),
}

impl<'a> TracedClient<'a> {
    /// The server is a child process spoken to over stdio: spans get
    /// `network.transport=pipe`.
    ///
    /// ```no_run
    /// # async fn run(client: &rmcp::Peer<rmcp::RoleClient>) -> Result<(), rmcp::ServiceError> {
    /// use agent_trace::mcp::McpClientExt as _;
    /// let tools = client.traced().over_stdio().list_tools(None).await?;
    /// # Ok(()) }
    /// ```
    pub fn over_stdio(mut self) -> Self {
        self.transport = Transport::Stdio;
        self
    }

    /// The server is reached over streamable HTTP at `url`: spans get
    /// `network.transport=tcp`, `network.protocol.name=http`, `server.address` and
    /// `server.port`.
    pub fn over_http(mut self, url: &'a str) -> Self {
        self.transport = Transport::Http(url);
        self
    }

    fn transport_attributes(&self, attrs: &mut Vec<KeyValue>) {
        match self.transport {
            Transport::Unknown => {}
            Transport::Stdio => attrs.push(KeyValue::new(k::NETWORK_TRANSPORT, "pipe")),
            Transport::Http(url) => {
                attrs.push(KeyValue::new(k::NETWORK_TRANSPORT, "tcp"));
                attrs.push(KeyValue::new(k::NETWORK_PROTOCOL_NAME, "http"));
                crate::span::server_attributes(url, attrs);
            }
        }
    }
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
        let parent = crate::span::current_or_process_parent();
        let span = if crate::is_enabled() {
            let Described { name, mut attrs } = describe(&request);
            if let Some(info) = self.peer.peer_info() {
                let v = text::cut(info.protocol_version.as_str(), NAME_LIMIT);
                attrs.push(KeyValue::new(k::MCP_PROTOCOL_VERSION, v));
            }
            self.transport_attributes(&mut attrs);
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
        crate::context::carriers::mcp::inject_context(&cx, &mut request.get_meta_mut().0 .0);
        let peer = self.peer.clone();
        let exchange = async move {
            let handle = peer
                .send_request_with_option(request, PeerRequestOptions::no_options())
                .await?;
            crate::record(k::JSONRPC_REQUEST_ID, handle.id.to_string());
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
            Err(ServiceError::McpError(e)) => record_jsonrpc_error(e, span, false),
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
