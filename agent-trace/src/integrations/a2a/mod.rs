//! A2A (Agent2Agent protocol) over JSON-RPC: the attributes of the OpenTelemetry A2A
//! semantic conventions, read from the requests and responses themselves.
//!
//! - **Client**: inside an [`#[a2a_call]`](crate::a2a_call) function (or `a2a_span!`), make
//!   the request with [`send`] (reqwest, feature `reqwest`) or wrap your own client's call in
//!   [`call`]: a CLIENT span named after the A2A method (`SendMessage`) beneath the
//!   `invoke_agent` span, with `a2a.method.name`, `a2a.message.id`, `a2a.task.id`,
//!   `a2a.task.state`, `gen_ai.conversation.id` (the A2A `contextId`), `server.address` and
//!   `server.port`, and, for a JSON-RPC error, `error.type` (its code) and an error status.
//!   With content capture on (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`), the
//!   message's and the answer's text parts as `gen_ai.input.messages` and
//!   `gen_ai.output.messages`. With a client you cannot wrap, [`record_request`] and
//!   [`record_response`] put the same attributes on the current span.
//! - **Server**: wrap the handler of a JSON-RPC request in [`serve`]: a SERVER span named
//!   after the A2A method (`SendMessage`, `GetTask`, ...) with the same attributes, current
//!   while the handler runs. Under the HTTP server layer ([`crate::server::TraceLayer`]) it
//!   is a child of the HTTP span, as the conventions describe.
//!
//! Both A2A 1.0 (`SendMessage`, `{"task": {...}}`, `TASK_STATE_COMPLETED`) and 0.3
//! (`message/send`, `{"kind": "task", ...}`, `completed`) shapes are understood; 0.3 method
//! names and task states are reported under their 1.0 names, as the conventions require.
//! Fields that are missing or of the wrong type are skipped; nothing here fails or panics,
//! and only the few fields named above are looked at (values are cut at
//! [`CAPTURE_LIMIT`](crate::CAPTURE_LIMIT) characters).
//!
//! ```
//! use serde_json::json;
//!
//! #[agent_trace::a2a_call(target = "coder")]
//! async fn ask_coder(task: &str) -> Result<serde_json::Value, std::io::Error> {
//!     let request = json!({
//!         "jsonrpc": "2.0", "id": 1, "method": "SendMessage",
//!         "params": {"message": {"messageId": "m-1", "contextId": "c-1", "role": "ROLE_USER",
//!                                "parts": [{"text": task}]}},
//!     });
//!     agent_trace::a2a::record_request(&request);
//!     let response = json!({"jsonrpc": "2.0", "id": 1, "result": {"task": {
//!         "id": "t-1", "contextId": "c-1", "status": {"state": "TASK_STATE_COMPLETED"}}}});
//!     agent_trace::a2a::record_response(&response);
//!     Ok(response)
//! }
//!
//! // The server side, in a JSON-RPC handler:
//! async fn handle(request: serde_json::Value) -> serde_json::Value {
//!     agent_trace::a2a::serve(&request, async {
//!         json!({"jsonrpc": "2.0", "id": request["id"].clone(), "result": {"message": {
//!             "messageId": "m-2", "role": "ROLE_AGENT", "parts": [{"text": "done"}]}}})
//!     })
//!     .await
//! }
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # rt.block_on(ask_coder("fix the bug")).unwrap();
//! # rt.block_on(handle(json!({"id": 1, "method": "SendMessage"})));
//! ```
//!
//! Layers, bottom up: `stream` < `sse`. (`tests/layout.rs`)

use std::borrow::Cow;
use std::future::Future;

use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};
use serde_json::Value;

use crate::span::semconv as k;
use crate::span::text;
use crate::span::{current_or_process_parent, instrument, start_span, ActiveSpan};

#[cfg(feature = "reqwest")]
mod sse;
mod stream;

#[cfg(feature = "reqwest")]
pub use sse::{send_stream, SseEvents};
pub use stream::{call_stream, serve_stream, sse_frames, A2aEvent, A2aStream};

/// Method names and ids longer than this are cut.
const ID_LIMIT: usize = 256;

/// The HTTP header that names the A2A protocol version of a request. Send it with
/// [`PROTOCOL_VERSION`] on every A2A call: servers built on the official SDKs (a2a-sdk 1.x for
/// Python) treat a request without it as A2A 0.3 and refuse the 1.0 methods (`SendMessage`)
/// with `-32009 VersionNotSupported`.
///
/// ```
/// let request = http::Request::post("http://127.0.0.1:8081/a2a")
///     .header(agent_trace::a2a::VERSION_HEADER, agent_trace::a2a::PROTOCOL_VERSION)
///     .body(())
///     .unwrap();
/// assert_eq!(request.headers()["a2a-version"], "1.0");
/// ```
pub const VERSION_HEADER: &str = "A2A-Version";

/// The A2A protocol version whose method names and shapes agent-trace's helpers use.
pub const PROTOCOL_VERSION: &str = "1.0";

/// The A2A 1.0 operation name for a JSON-RPC method: 0.3 names (`message/send`) are mapped,
/// anything else is kept (cut at 256 characters).
///
/// ```
/// assert_eq!(agent_trace::a2a::method_name("message/send"), "SendMessage");
/// assert_eq!(agent_trace::a2a::method_name("GetTask"), "GetTask");
/// ```
pub fn method_name(jsonrpc_method: &str) -> Cow<'static, str> {
    let mapped = match jsonrpc_method {
        "message/send" => "SendMessage",
        "message/stream" => "SendStreamingMessage",
        "tasks/get" => "GetTask",
        "tasks/list" => "ListTasks",
        "tasks/cancel" => "CancelTask",
        "tasks/resubscribe" => "SubscribeToTask",
        "tasks/pushNotificationConfig/set" => "CreateTaskPushNotificationConfig",
        "tasks/pushNotificationConfig/get" => "GetTaskPushNotificationConfig",
        "tasks/pushNotificationConfig/list" => "ListTaskPushNotificationConfigs",
        "tasks/pushNotificationConfig/delete" => "DeleteTaskPushNotificationConfig",
        "agent/getAuthenticatedExtendedCard" => "GetExtendedAgentCard",
        other => return text::cut(other, ID_LIMIT).into(),
    };
    mapped.into()
}

/// A task state under its 1.0 name (`completed` → `TASK_STATE_COMPLETED`).
fn task_state(state: &str) -> String {
    if state.starts_with("TASK_STATE_") {
        return text::cut(state, ID_LIMIT);
    }
    let upper: String = state
        .chars()
        .take(ID_LIMIT)
        .map(|c| match c {
            '-' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    match upper.as_str() {
        "CANCELLED" => "TASK_STATE_CANCELED".to_string(),
        _ => format!("TASK_STATE_{upper}"),
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn push_str(attrs: &mut Vec<KeyValue>, key: &'static str, value: Option<&str>) {
    if let Some(v) = value {
        attrs.push(KeyValue::new(key, text::cut(v, ID_LIMIT)));
    }
}

/// The JSON-RPC id as a string (numbers and strings; null and absent give none).
fn request_id(request: &Value) -> Option<String> {
    match request.get("id")? {
        Value::String(s) => Some(text::cut(s, ID_LIMIT)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The attributes a JSON-RPC request carries: method, message, task, context, tenant.
fn request_attributes(request: &Value) -> (Option<Cow<'static, str>>, Vec<KeyValue>) {
    let mut attrs = Vec::with_capacity(6);
    let method = str_at(request, "method").map(method_name);
    if let Some(m) = &method {
        attrs.push(KeyValue::new(k::A2A_METHOD_NAME, m.clone()));
    }
    if let Some(id) = request_id(request) {
        attrs.push(KeyValue::new(k::JSONRPC_REQUEST_ID, id));
    }
    let params = request.get("params").unwrap_or(&Value::Null);
    let message = params.get("message").unwrap_or(&Value::Null);
    push_str(&mut attrs, k::A2A_MESSAGE_ID, str_at(message, "messageId"));
    let task = str_at(message, "taskId").or_else(|| str_at(params, "id"));
    push_str(&mut attrs, k::A2A_TASK_ID, task);
    let context = str_at(message, "contextId").or_else(|| str_at(params, "contextId"));
    push_str(&mut attrs, k::GEN_AI_CONVERSATION_ID, context);
    push_str(&mut attrs, k::A2A_TENANT, str_at(params, "tenant"));
    if crate::state::capture_message_content() {
        if let Some(text) = parts_text(message) {
            attrs.push(KeyValue::new(
                k::GEN_AI_INPUT_MESSAGES,
                messages("user", text),
            ));
        }
    }
    (method, attrs)
}

/// The text parts of an A2A message or artifact (1.0 `{"text"}` and 0.3
/// `{"kind": "text", "text"}` parts), joined and cut; `None` without any.
fn parts_text(holder: &Value) -> Option<String> {
    let parts = holder.get("parts")?.as_array()?;
    let text: Vec<&str> = parts.iter().filter_map(|p| str_at(p, "text")).collect();
    (!text.is_empty()).then(|| text::cut(&text.join("\n"), crate::CAPTURE_LIMIT))
}

/// One message in the GenAI conventions' JSON shape.
fn messages(role: &str, text: String) -> String {
    serde_json::json!([{"role": role, "parts": [{"type": "text", "content": text}]}]).to_string()
}

/// What a JSON-RPC response says: task id, state and context, or the error.
enum Answer {
    Result(Vec<KeyValue>),
    Error { code: String, message: String },
}

fn response_attributes(response: &Value) -> Answer {
    if let Some(error) = response.get("error") {
        let code = match error.get("code") {
            Some(Value::Number(n)) => n.to_string(),
            _ => "_OTHER".to_string(),
        };
        let message = str_at(error, "message").unwrap_or("A2A error");
        return Answer::Error {
            code,
            message: text::cut(message, crate::CAPTURE_LIMIT),
        };
    }
    let mut attrs = Vec::with_capacity(4);
    let result = response.get("result").unwrap_or(&Value::Null);
    // 1.0: {"task": {..}} or {"message": {..}}; 0.3: the task or message itself, with "kind".
    let kind = str_at(result, "kind");
    let task = result
        .get("task")
        .or_else(|| (kind == Some("task") || result.get("status").is_some()).then_some(result));
    let message = result
        .get("message")
        .or_else(|| (kind == Some("message")).then_some(result));
    if crate::state::capture_message_content() {
        let text = match (task, message) {
            (Some(task), _) => task
                .get("artifacts")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().find_map(parts_text)),
            (None, Some(message)) => parts_text(message),
            (None, None) => None,
        };
        if let Some(text) = text {
            attrs.push(KeyValue::new(
                k::GEN_AI_OUTPUT_MESSAGES,
                messages("assistant", text),
            ));
        }
    }
    if let Some(task) = task {
        push_str(&mut attrs, k::A2A_TASK_ID, str_at(task, "id"));
        let state = task.get("status").and_then(|s| str_at(s, "state"));
        if let Some(s) = state {
            attrs.push(KeyValue::new(k::A2A_TASK_STATE, task_state(s)));
        }
        let context = str_at(task, "contextId");
        push_str(&mut attrs, k::GEN_AI_CONVERSATION_ID, context);
    } else if let Some(message) = message {
        push_str(&mut attrs, k::A2A_TASK_ID, str_at(message, "taskId"));
        let context = str_at(message, "contextId");
        push_str(&mut attrs, k::GEN_AI_CONVERSATION_ID, context);
    }
    Answer::Result(attrs)
}

/// Records what a JSON-RPC A2A request says on the current span (the `#[a2a_call]` span).
/// Does nothing while tracing is off or outside any span.
pub fn record_request(request: &Value) {
    if !crate::is_enabled() {
        return;
    }
    let cx = Context::current();
    let span = cx.span();
    if span.is_recording() {
        span.set_attributes(request_attributes(request).1);
    }
}

/// Records what a JSON-RPC A2A response says on the current span: task id, state and
/// context, or, for an error response, `error.type` (the JSON-RPC code) and an error status
/// with its message.
pub fn record_response(response: &Value) {
    if !crate::is_enabled() {
        return;
    }
    let cx = Context::current();
    let span = cx.span();
    if !span.is_recording() {
        return;
    }
    match response_attributes(response) {
        Answer::Result(attrs) => span.set_attributes(attrs),
        Answer::Error { code, message } => {
            span.set_attribute(KeyValue::new(k::ERROR_TYPE, code));
            span.set_status(Status::error(message));
        }
    }
}

fn record_answer(response: &Value, span: &mut ActiveSpan) {
    match response_attributes(response) {
        Answer::Result(attrs) => {
            for kv in attrs {
                span.set_attribute(kv);
            }
            span.record_ok();
        }
        Answer::Error { code, message } => span.record_error(code.into(), message),
    }
}

/// Serves one A2A JSON-RPC request in a SERVER span named after its method (`SendMessage`;
/// `A2A` when the request names none), current while `handler` runs, and records the
/// response's task, state, context or error. The response is returned unchanged. A panic
/// or a dropped future is recorded too.
pub fn serve<'a, F>(request: &Value, handler: F) -> impl Future<Output = Value> + 'a
where
    F: Future<Output = Value> + 'a,
{
    instrument(
        a2a_span(request, SpanKind::Server, Vec::new()),
        handler,
        record_answer,
    )
}

/// The span of one A2A request, unary or streaming, client or server side: named after its
/// method (`A2A` when the request names none), with the request's attributes and `extra`;
/// `None` while tracing is off.
fn a2a_span(request: &Value, kind: SpanKind, extra: Vec<KeyValue>) -> Option<ActiveSpan> {
    if !crate::is_enabled() {
        return None;
    }
    let (method, mut attrs) = request_attributes(request);
    attrs.extend(extra);
    let name = method.unwrap_or(Cow::Borrowed("A2A"));
    start_span(name, kind, attrs, &current_or_process_parent())
}

/// Makes one A2A JSON-RPC call in a CLIENT span named after its method (`SendMessage`; `A2A`
/// when the request names none), with the A2A attributes of the request, and records from
/// the answer the task id, state and context, or the JSON-RPC error (`error.type` is its
/// code). `send` is your own client's call, best an `async` block: it runs inside the span,
/// so an HTTP client span (`client::TraceMiddleware`) nests under it and the `traceparent`
/// it sends names it. An `Err` of `send` marks the span with `error.type` = the error's type
/// name; the answer and the error are returned unchanged.
///
/// Inside an [`#[a2a_call]`](crate::a2a_call) this gives the shape the A2A conventions
/// describe: the agent-level `invoke_agent` CLIENT span, and beneath it the A2A request's
/// own `SendMessage` CLIENT span. With `reqwest`, [`send`] builds the request too.
///
/// ```
/// use serde_json::{json, Value};
///
/// #[agent_trace::a2a_call(target = "coder")]
/// async fn ask_coder(task: &str) -> Result<Value, std::io::Error> {
///     let request = json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage",
///         "params": {"message": {"messageId": "m-1", "role": "ROLE_USER",
///                                "parts": [{"text": task}]}}});
///     agent_trace::a2a::call(&request, async {
///         // your HTTP client here, with the A2A-Version header
///         Ok::<_, std::io::Error>(json!({"jsonrpc": "2.0", "id": 1, "result": {"task": {
///             "id": "t-1", "status": {"state": "TASK_STATE_COMPLETED"}}}}))
///     })
///     .await
/// }
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(ask_coder("fix the bug")).unwrap();
/// ```
pub fn call<'a, F, E>(request: &Value, send: F) -> impl Future<Output = Result<Value, E>> + 'a
where
    F: Future<Output = Result<Value, E>> + 'a,
    E: std::fmt::Display + 'a,
{
    call_at(request, None, send)
}

fn call_at<'a, F, E>(
    request: &Value,
    url: Option<&str>,
    send: F,
) -> impl Future<Output = Result<Value, E>> + 'a
where
    F: Future<Output = Result<Value, E>> + 'a,
    E: std::fmt::Display + 'a,
{
    let extra = url.map(address_attributes).unwrap_or_default();
    let span = a2a_span(request, SpanKind::Client, extra);
    instrument(span, send, |out: &Result<Value, E>, span| match out {
        Ok(answer) => record_answer(answer, span),
        Err(e) => span.record_error(
            Cow::Borrowed(std::any::type_name::<E>()),
            text::cut(&e.to_string(), crate::CAPTURE_LIMIT),
        ),
    })
}

/// `server.address` and `server.port` of the URL an A2A request goes to, and
/// `a2a.protocol.version` (the helpers that know the URL send [`VERSION_HEADER`]).
fn address_attributes(url: &str) -> Vec<KeyValue> {
    let mut attrs = vec![KeyValue::new(k::A2A_PROTOCOL_VERSION, PROTOCOL_VERSION)];
    crate::span::server_attributes(url, &mut attrs);
    attrs
}

/// Posts one A2A JSON-RPC request to `url` with `client` (keep
/// [`TraceMiddleware`](crate::client::TraceMiddleware) on it for the HTTP span and the
/// `traceparent`), with the [`VERSION_HEADER`] the official SDKs need, in the CLIENT span
/// of [`call`], and returns the JSON-RPC answer, a JSON-RPC error answer included (it is
/// recorded on the span). A transport error, a non-2xx status or a body that is not JSON is
/// the `Err` (feature `reqwest`).
///
/// ```no_run
/// # async fn run() -> Result<(), reqwest_middleware::Error> {
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(agent_trace::client::TraceMiddleware::default())
///     .build();
/// let request = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage",
///     "params": {"message": {"messageId": "m-1", "role": "ROLE_USER",
///                            "parts": [{"text": "fix the bug"}]}}});
/// let answer = agent_trace::a2a::send(&client, "http://127.0.0.1:8081/a2a", &request).await?;
/// # Ok(()) }
/// ```
#[cfg(feature = "reqwest")]
pub async fn send(
    client: &reqwest_middleware::ClientWithMiddleware,
    url: &str,
    request: &Value,
) -> Result<Value, reqwest_middleware::Error> {
    let post = async {
        let body = serde_json::to_vec(request).map_err(reqwest_middleware::Error::middleware)?;
        let response = client
            .post(url)
            .header(VERSION_HEADER, PROTOCOL_VERSION)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?
            .error_for_status()?;
        let bytes = response.bytes().await?;
        serde_json::from_slice::<Value>(&bytes).map_err(reqwest_middleware::Error::middleware)
    };
    call_at(request, Some(url), post).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(attrs: &[KeyValue], key: &str) -> Option<String> {
        attrs
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    }

    #[test]
    fn requests_of_both_versions() {
        let v1 = serde_json::json!({"jsonrpc": "2.0", "id": 9, "method": "SendMessage",
            "params": {"tenant": "billing", "message": {"messageId": "m", "taskId": "t",
            "contextId": "c"}}});
        let (m, a) = request_attributes(&v1);
        assert_eq!(m.as_deref(), Some("SendMessage"));
        assert_eq!(get(&a, k::A2A_MESSAGE_ID).as_deref(), Some("m"));
        assert_eq!(get(&a, k::A2A_TASK_ID).as_deref(), Some("t"));
        assert_eq!(get(&a, "gen_ai.conversation.id").as_deref(), Some("c"));
        assert_eq!(get(&a, k::A2A_TENANT).as_deref(), Some("billing"));
        assert_eq!(get(&a, k::JSONRPC_REQUEST_ID).as_deref(), Some("9"));

        let v03 = serde_json::json!({"id": "r", "method": "tasks/get", "params": {"id": "t9"}});
        let (m, a) = request_attributes(&v03);
        assert_eq!(m.as_deref(), Some("GetTask"));
        assert_eq!(get(&a, k::A2A_TASK_ID).as_deref(), Some("t9"));
        assert_eq!(get(&a, k::JSONRPC_REQUEST_ID).as_deref(), Some("r"));
    }

    #[test]
    fn responses_of_both_versions_and_errors() {
        let v1 = serde_json::json!({"result": {"task": {"id": "t", "contextId": "c",
            "status": {"state": "TASK_STATE_WORKING"}}}});
        let Answer::Result(a) = response_attributes(&v1) else {
            panic!()
        };
        assert_eq!(
            get(&a, k::A2A_TASK_STATE).as_deref(),
            Some("TASK_STATE_WORKING")
        );
        assert_eq!(get(&a, k::A2A_TASK_ID).as_deref(), Some("t"));

        let v03 = serde_json::json!({"result": {"kind": "task", "id": "t", "contextId": "c",
            "status": {"state": "input-required"}}});
        let Answer::Result(a) = response_attributes(&v03) else {
            panic!()
        };
        assert_eq!(
            get(&a, k::A2A_TASK_STATE).as_deref(),
            Some("TASK_STATE_INPUT_REQUIRED")
        );
        assert_eq!(get(&a, "gen_ai.conversation.id").as_deref(), Some("c"));

        let err = serde_json::json!({"error": {"code": -32001, "message": "Task not found"}});
        let Answer::Error { code, message } = response_attributes(&err) else {
            panic!()
        };
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("-32001", "Task not found")
        );
    }

    #[test]
    fn wrong_shapes_are_skipped_not_fatal() {
        for v in [
            serde_json::json!(null),
            serde_json::json!([1, 2]),
            serde_json::json!({"method": 5, "params": "x", "id": [1]}),
            serde_json::json!({"params": {"message": {"messageId": {"deep": 1}}}}),
            serde_json::json!({"error": "nope"}),
            serde_json::json!({"result": {"task": 3, "status": 4}}),
        ] {
            let (m, a) = request_attributes(&v);
            assert!(m.is_none() && a.is_empty(), "{v}");
            let _ = response_attributes(&v);
        }
        let long = "x".repeat(100_000);
        assert_eq!(method_name(&long).chars().count(), ID_LIMIT + 1); // cut, with '…'
    }
}
