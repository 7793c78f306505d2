//! Streaming A2A (`SendStreamingMessage`, `SubscribeToTask`): a span that lasts until the
//! stream of JSON-RPC events ends or is dropped, with the task's status and artifact updates
//! as span events and its last state as `a2a.task.state`.

use std::borrow::Cow;
use std::fmt;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures_core::Stream;
use opentelemetry::trace::{SpanKind, TraceContextExt as _};
use opentelemetry::KeyValue;
use serde_json::Value;

use super::{a2a_span, record_answer, str_at, task_state, Answer, ID_LIMIT};
use crate::span::semconv as k;
use crate::span::text;
use crate::span::ActiveSpan;

/// One item of an A2A event stream: a JSON-RPC answer, or (on the client) the error that
/// ended the transport.
pub trait A2aEvent {
    /// The JSON-RPC answer, or the error's type name and message.
    fn event(&self) -> Result<&Value, (Cow<'static, str>, String)>;
}

impl A2aEvent for Value {
    fn event(&self) -> Result<&Value, (Cow<'static, str>, String)> {
        Ok(self)
    }
}

impl<E: fmt::Display> A2aEvent for Result<Value, E> {
    fn event(&self) -> Result<&Value, (Cow<'static, str>, String)> {
        self.as_ref().map_err(|e| {
            (
                Cow::Borrowed(std::any::type_name::<E>()),
                text::cut(&e.to_string(), crate::CAPTURE_LIMIT),
            )
        })
    }
}

pin_project_lite::pin_project! {
    /// A stream of A2A events in its span (see [`call_stream`], [`serve_stream`]): the span is
    /// current while the stream is polled, ends with the stream, and is marked cancelled
    /// (`error.type=cancelled`) when the stream is dropped before its end.
    pub struct A2aStream<S> {
        #[pin]
        inner: S,
        span: Option<ActiveSpan>,
        failed: bool,
    }

    impl<S> PinnedDrop for A2aStream<S> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(mut span) = this.span.take() {
                span.record_cancelled();
            }
        }
    }
}

impl<S> A2aStream<S> {
    pub(super) fn new(inner: S, span: Option<ActiveSpan>) -> Self {
        A2aStream {
            inner,
            span,
            failed: false,
        }
    }
}

impl<S> fmt::Debug for A2aStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("A2aStream")
            .field("open", &self.span.is_some())
            .finish_non_exhaustive()
    }
}

impl<S> Stream for A2aStream<S>
where
    S: Stream,
    S::Item: A2aEvent,
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let inner = this.inner;
        // Current while polled, through the one path the panic hook knows; a panic in the
        // handler's stream is recorded on the span, which ends before the unwind goes on.
        let polled = crate::span::call(this.span, || inner.poll_next(cx));
        match polled {
            Poll::Ready(Some(item)) => {
                if let Some(span) = this.span.as_mut() {
                    *this.failed |= record_event(&item, span);
                }
                Poll::Ready(Some(item))
            }
            Poll::Ready(None) => {
                if let Some(mut span) = this.span.take() {
                    if !*this.failed {
                        span.record_ok();
                    }
                }
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Records one event; `true` when it is an error (a JSON-RPC error or a transport error).
fn record_event(item: &dyn A2aEvent, span: &mut ActiveSpan) -> bool {
    let answer = match item.event() {
        Ok(answer) => answer,
        Err((error_type, message)) => {
            span.record_error(error_type, message);
            return true;
        }
    };
    let result = answer.get("result").unwrap_or(&Value::Null);
    // 1.0: {"statusUpdate": {..}} / {"artifactUpdate": {..}}; 0.3: "kind": "status-update".
    let kind = str_at(result, "kind");
    let status = result
        .get("statusUpdate")
        .or_else(|| (kind == Some("status-update")).then_some(result));
    let artifact = result
        .get("artifactUpdate")
        .or_else(|| (kind == Some("artifact-update")).then_some(result));
    if let Some(update) = status {
        let mut attrs = Vec::with_capacity(2);
        if let Some(state) = update.get("status").and_then(|s| str_at(s, "state")) {
            let state = task_state(state);
            span.set_attribute(KeyValue::new(k::A2A_TASK_STATE, state.clone()));
            attrs.push(KeyValue::new(k::A2A_TASK_STATE, state));
        }
        if let Some(id) = str_at(update, "taskId") {
            span.set_attribute(KeyValue::new(k::A2A_TASK_ID, text::cut(id, ID_LIMIT)));
        }
        span.context()
            .span()
            .add_event(k::A2A_STATUS_UPDATE_EVENT, attrs);
        return false;
    }
    if let Some(update) = artifact {
        let mut attrs = Vec::with_capacity(1);
        let id = update.get("artifact").and_then(|a| str_at(a, "artifactId"));
        if let Some(id) = id {
            attrs.push(KeyValue::new(
                k::AGENT_TRACE_A2A_ARTIFACT_ID,
                text::cut(id, ID_LIMIT),
            ));
        }
        span.context()
            .span()
            .add_event(k::A2A_ARTIFACT_UPDATE_EVENT, attrs);
        return false;
    }
    // A task, a message or an error: as a unary answer, without ending the span.
    match super::response_attributes(answer) {
        Answer::Result(attrs) => {
            for kv in attrs {
                span.set_attribute(kv);
            }
            false
        }
        Answer::Error { .. } => {
            record_answer(answer, span);
            true
        }
    }
}

/// A streaming A2A call (`SendStreamingMessage`, `SubscribeToTask`) from the client side:
/// a CLIENT span named after the method that lasts until `events` (your client's stream of
/// JSON-RPC answers, one per server-sent event) ends. Each task status update becomes an
/// `a2a.status_update` span event with its `a2a.task.state`, each artifact update an
/// `a2a.artifact_update` event; the last state is `a2a.task.state`. A JSON-RPC error or an
/// `Err` item marks the span as an error; dropping the stream before its end marks it
/// cancelled. The items pass through unchanged. With reqwest, `send_stream` (feature `reqwest`) makes the
/// request and reads the events too.
///
/// ```
/// use futures_util::StreamExt as _;
/// use serde_json::json;
///
/// # async fn run() {
/// let request = json!({"jsonrpc": "2.0", "id": 1, "method": "SendStreamingMessage",
///     "params": {"message": {"messageId": "m-1", "parts": [{"text": "hi"}]}}});
/// let events = futures_util::stream::iter([
///     Ok::<_, std::io::Error>(json!({"result": {"statusUpdate": {"taskId": "t-1",
///         "status": {"state": "TASK_STATE_WORKING"}}}})),
///     Ok(json!({"result": {"statusUpdate": {"taskId": "t-1",
///         "status": {"state": "TASK_STATE_COMPLETED"}}}})),
/// ]);
/// let answers: Vec<_> = agent_trace::a2a::call_stream(&request, events).collect().await;
/// assert_eq!(answers.len(), 2);
/// # }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run());
/// ```
pub fn call_stream<S>(request: &Value, events: S) -> A2aStream<S>
where
    S: Stream,
    S::Item: A2aEvent,
{
    A2aStream::new(events, a2a_span(request, SpanKind::Client, Vec::new()))
}

/// The server side of [`call_stream`]: a SERVER span named after the method, current while
/// `events` (the JSON-RPC answers your handler streams back) is polled, until it ends or the
/// client goes away (then it is marked cancelled).
pub fn serve_stream<S>(request: &Value, events: S) -> A2aStream<S>
where
    S: Stream<Item = Value>,
{
    A2aStream::new(events, a2a_span(request, SpanKind::Server, Vec::new()))
}

/// Server-sent event frames (`data: {json}\n\n`) of a stream of JSON-RPC answers, for the
/// body of a streaming A2A response (`Content-Type: text/event-stream`), such as the stream
/// [`serve_stream`] returns. The span stays with the stream: it ends when the last frame has
/// been produced, or when the client goes away and the body is dropped.
///
/// ```
/// use futures_util::StreamExt as _;
/// use serde_json::json;
///
/// # async fn run() {
/// let request = json!({"jsonrpc": "2.0", "id": 1, "method": "SendStreamingMessage"});
/// let answers = futures_util::stream::iter([json!({"jsonrpc": "2.0", "id": 1, "result": {
///     "statusUpdate": {"taskId": "t-1", "status": {"state": "TASK_STATE_COMPLETED"}}}})]);
/// let frames = agent_trace::a2a::sse_frames(agent_trace::a2a::serve_stream(&request, answers));
/// // axum: axum::body::Body::from_stream(frames), with `content-type: text/event-stream`
/// let frames: Vec<_> = frames.collect().await;
/// assert!(frames[0].as_ref().unwrap().starts_with(b"data: {"));
/// # }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run());
/// ```
pub fn sse_frames<S>(
    answers: S,
) -> impl Stream<Item = Result<bytes::Bytes, std::convert::Infallible>> + Send
where
    S: Stream<Item = Value> + Send,
{
    SseFrames { inner: answers }
}

pin_project_lite::pin_project! {
    /// The frames of [`sse_frames`].
    struct SseFrames<S> {
        #[pin]
        inner: S,
    }
}

impl<S: Stream<Item = Value>> Stream for SseFrames<S> {
    type Item = Result<bytes::Bytes, std::convert::Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.project().inner.poll_next(cx).map(|answer| {
            answer.map(|a| {
                // JSON never holds a raw newline, so one `data:` line carries the whole answer.
                let mut frame = b"data: ".to_vec();
                frame.extend_from_slice(a.to_string().as_bytes());
                frame.extend_from_slice(b"\n\n");
                Ok(bytes::Bytes::from(frame))
            })
        })
    }
}
