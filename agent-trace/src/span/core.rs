//! The span core: starting a span as the child of a context, keeping it current, recording
//! its outcome, and ending it. Used by the macros' starters (`start.rs`), the futures and
//! streams (`run.rs`), and every integration and carrier that opens a span of its own.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;

use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};

use super::instruments::Measure;
#[cfg(feature = "metrics")]
use super::ledger::Call;
use super::ledger::{self, Counts};
use super::outcome::LlmResponse;
use super::semconv as k;
use super::text;
use super::CAPTURE_LIMIT;
use crate::state::capture_message_content;

/// The model and provider a model call names (`#[llm_call(model = .., provider = ..)]`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LlmModel {
    pub(crate) model: &'static str,
    pub(crate) provider: Option<&'static str>,
}

/// A started span and the context it is current in.
pub struct ActiveSpan {
    pub(super) cx: Context,
    /// Its name when static (every macro span's), for the JSON log lines' `spans`.
    pub(super) name: Option<&'static str>,
    pub(super) tool: bool,
    /// A model call (`#[llm_call]`): its request model and provider, for its cost; a stream it
    /// returns is described with the GenAI streaming attributes.
    pub(super) llm: Option<LlmModel>,
    /// An in-process agent invocation (`#[agent_run]`), whose context holds its ledger.
    pub(super) agent: bool,
    /// Known not to record (made by a fast path of `head.rs`): nothing to set or end (ending
    /// even a non-recording span reads the clock).
    pub(super) bare: bool,
    /// Recorded by agent-trace (`record.rs`): ended with [`record::end_now`](super::record::end_now).
    pub(super) recorded: bool,
    /// A tool's success, recorded as `tool.success=true` when the span ends (with its end, in
    /// one call, when the span is recorded by agent-trace).
    pub(super) ok: bool,
    #[cfg(feature = "metrics")]
    pub(super) metrics: Option<super::instruments::SpanMetrics>,
    /// Its slot among the open spans the panic hook ends (`panic = "abort"` builds only;
    /// `usize::MAX` when it is not recording).
    #[cfg(panic = "abort")]
    pub(super) open: usize,
}

impl fmt::Debug for ActiveSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActiveSpan")
            .field("span", self.cx.span().span_context())
            .finish()
    }
}

/// The current context, or, when it has no span, the context this process was started in
/// (`TRACEPARENT` from the parent process).
pub(crate) fn current_or_process_parent() -> Context {
    let current = Context::current();
    if current.has_active_span()
        || !crate::state::HAS_PROCESS_PARENT.load(std::sync::atomic::Ordering::Relaxed)
    {
        return current;
    }
    match crate::state::PROCESS_PARENT.load().as_ref() {
        Some(p) => Context::clone(p),
        None => current,
    }
}

/// Starts a span of any name and kind as a child of `parent`; `None` while tracing is off or
/// on the export threads. Used by the HTTP server layer, client middleware and carriers.
pub(crate) fn start_span(
    name: Cow<'static, str>,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
    parent: &Context,
) -> Option<ActiveSpan> {
    start_span_with_links(name, kind, attributes, Vec::new(), parent)
}

/// [`start_span`] with links to other spans (batch consumption).
pub(crate) fn start_span_with_links(
    name: Cow<'static, str>,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
    links: Vec<opentelemetry::trace::Link>,
    parent: &Context,
) -> Option<ActiveSpan> {
    start_span_measured(name, kind, attributes, links, parent, None)
}

/// [`start_span_with_links`], also measuring the span's duration into a metric.
pub(crate) fn start_span_measured(
    name: Cow<'static, str>,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
    links: Vec<opentelemetry::trace::Link>,
    parent: &Context,
    measure: Option<Measure>,
) -> Option<ActiveSpan> {
    let active = crate::state::ACTIVE.load();
    let installed = active.as_ref()?;
    if crate::state::in_export_thread() {
        return None;
    }
    let static_name = match &name {
        Cow::Borrowed(s) => Some(*s),
        Cow::Owned(_) => None,
    };
    let mut attributes = attributes;
    let conversation = super::conversation::join(parent, &mut attributes);
    let (cx, recorded) = super::record::start_in(installed, name, kind, attributes, links, parent);
    let cx = match conversation {
        Some(id) => super::conversation::carry(cx, id),
        None => cx,
    };
    #[cfg(not(feature = "metrics"))]
    let _ = measure;
    let mut span = ActiveSpan::new(
        cx,
        static_name,
        false,
        #[cfg(feature = "metrics")]
        span_metrics(measure, installed),
    );
    span.recorded = recorded;
    Some(span)
}

/// The measurement of a span, when it measures one and metrics are on.
#[cfg(feature = "metrics")]
pub(super) fn span_metrics(
    measure: Option<Measure>,
    installed: &crate::state::Installed,
) -> Option<super::instruments::SpanMetrics> {
    match (measure, &installed.metrics) {
        (Some(measure), Some(instruments)) => Some(super::instruments::SpanMetrics {
            instruments: instruments.clone(),
            measure,
            started: std::time::Instant::now(),
            error_type: None,
            usage: None,
            response_model: None,
        }),
        _ => None,
    }
}

/// Keeps a span current (its context attached, and it marked innermost) until dropped.
pub(crate) struct Attached {
    _context: opentelemetry::ContextGuard,
}

impl Drop for Attached {
    fn drop(&mut self) {
        crate::state::pop_ours();
    }
}

/// Whether the current span of `cx` is an agent-trace span (a macro, server, client or
/// message span) that is innermost: `tracing` events then belong to it.
pub(crate) fn ours_is_innermost(cx: &Context) -> bool {
    crate::state::innermost().is_some_and(|id| cx.span().span_context().span_id() == id)
}

/// Marks the span of `cx` as failed: status, `error.type`, an `exception` event, and for a
/// tool `tool.success=false`.
pub(crate) fn mark_error(cx: &Context, tool: bool, error_type: Cow<'static, str>, message: String) {
    let span = cx.span();
    if tool {
        span.set_attribute(KeyValue::new(k::TOOL_SUCCESS, false));
    }
    span.set_attribute(KeyValue::new(k::ERROR_TYPE, error_type.clone()));
    span.add_event(
        k::EXCEPTION_EVENT,
        vec![
            KeyValue::new(k::EXCEPTION_TYPE, error_type),
            KeyValue::new(k::EXCEPTION_MESSAGE, message.clone()),
        ],
    );
    span.set_status(Status::error(message));
}

impl ActiveSpan {
    /// A started span in its context. Under `panic = "abort"` a recording span is also noted
    /// among the open spans, which the panic hook ends before the process aborts (nothing
    /// unwinds there, so no destructor would); with unwinding that costs nothing.
    #[inline]
    pub(super) fn new(
        cx: Context,
        name: Option<&'static str>,
        tool: bool,
        #[cfg(feature = "metrics")] metrics: Option<super::instruments::SpanMetrics>,
    ) -> Self {
        #[cfg(panic = "abort")]
        let open = match cx.span().is_recording() {
            true => crate::state::register_open(cx.clone(), tool),
            false => usize::MAX,
        };
        ActiveSpan {
            cx,
            name,
            tool,
            llm: None,
            agent: false,
            bare: false,
            recorded: false,
            ok: false,
            #[cfg(feature = "metrics")]
            metrics,
            #[cfg(panic = "abort")]
            open,
        }
    }

    /// Makes this span current on this thread until the guard is dropped. The only place
    /// the runtime makes one of its spans current: [`call`](super::run::call) (sync bodies,
    /// and every poll of a traced future or stream) goes through it, so `tracing` events, the
    /// JSON log lines' `spans` and the panic hook all see the same spans.
    fn attach(&self) -> Attached {
        let id = self.cx.span().span_context().span_id();
        crate::state::push_ours(id, self.name);
        Attached {
            _context: self.cx.clone().attach(),
        }
    }

    /// Runs `f` with this span current, catching a panic: the caller records it on the span,
    /// ends the span and resumes the unwind ([`call`](super::run::call) does all three).
    #[inline(always)]
    pub(super) fn run<R>(&self, f: impl FnOnce() -> R) -> std::thread::Result<R> {
        let guard = self.attach();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        drop(guard);
        r
    }

    /// Adds a value to the context this span is current in (a request id, say), so code
    /// running in the span finds it with `Context::current().get()`.
    #[cfg(feature = "tower")]
    pub(crate) fn add_value<T: Send + Sync + 'static>(&mut self, value: T) {
        self.cx = self.cx.with_value(value);
    }

    /// The context in which this span is current.
    pub(crate) fn context(&self) -> &Context {
        &self.cx
    }

    /// Sets an attribute.
    #[cfg_attr(not(any(feature = "tower", feature = "reqwest")), allow(dead_code))]
    pub(crate) fn set_attribute(&self, kv: KeyValue) {
        self.cx.span().set_attribute(kv);
    }

    /// Marks the outcome as success (a tool's `tool.success=true`, set as the span ends).
    pub fn record_ok(&mut self) {
        if self.tool && !self.bare {
            self.ok = true;
        }
    }

    /// Marks the outcome as an error: status, `error.type`, `exception` event; for a model
    /// call, also the `gen_ai.client.operation.exception` event (with the logs signal).
    pub fn record_error(&mut self, error_type: Cow<'static, str>, message: String) {
        self.ok = false;
        #[cfg(feature = "metrics")]
        if let Some(m) = &mut self.metrics {
            m.error_type = Some(error_type.clone());
        }
        if let Some(llm) = self.llm {
            let about = self.cx.span().span_context().clone();
            super::events::model_call_failed(
                &about,
                &error_type,
                &message,
                llm.model,
                llm.provider,
            );
        }
        mark_error(&self.cx, self.tool, error_type, message);
    }

    /// Records a panic payload; the caller resumes unwinding.
    pub fn record_panic(&mut self, payload: &(dyn Any + Send)) {
        self.record_error(k::ERROR_TYPE_PANIC.into(), panic_message(payload));
    }

    /// Records that the future was dropped before it completed: `cancelled`, or `panic` when
    /// it is dropped by a panic unwinding through its owner (the panic's message, when the
    /// hook `init` installs saw it).
    pub fn record_cancelled(&mut self) {
        if std::thread::panicking() {
            let message = crate::state::panic_message_of_thread()
                .unwrap_or_else(|| "a panic unwound through it".to_string());
            self.record_error(k::ERROR_TYPE_PANIC.into(), message);
            return;
        }
        self.record_error(
            k::ERROR_TYPE_CANCELLED.into(),
            "cancelled: the future was dropped before it completed".to_string(),
        );
    }

    /// Records what a model response says about itself.
    pub fn record_llm(&mut self, r: &dyn LlmResponse) {
        // The response's accessors are user code: a panic in them costs the attributes only.
        let usage = text::contained(None, || r.usage());
        let response_model = text::contained(None, || r.response_model());
        #[cfg(feature = "metrics")]
        if let Some(m) = &mut self.metrics {
            m.usage = usage;
            m.response_model = response_model.clone();
        }
        let span = self.cx.span();
        let counts = Counts {
            input: usage.map(|u| u.input_tokens),
            output: usage.map(|u| u.output_tokens),
            cache_read: text::contained(None, || r.cache_read_input_tokens()),
            cache_write: text::contained(None, || r.cache_write_input_tokens()),
            reasoning: text::contained(None, || r.reasoning_output_tokens()),
        };
        for kv in counts.attributes() {
            span.set_attribute(kv);
        }
        self.record_usage(&counts, response_model.as_deref());
        super::events::note_details(&self.cx, counts.attributes());
        if let Some(m) = &response_model {
            let model = KeyValue::new(k::GEN_AI_RESPONSE_MODEL, m.clone());
            super::events::note_details(&self.cx, [model]);
        }
        if let Some(m) = response_model {
            span.set_attribute(KeyValue::new(k::GEN_AI_RESPONSE_MODEL, m));
        }
        if let Some(id) = text::contained(None, || r.response_id()) {
            span.set_attribute(KeyValue::new(k::GEN_AI_RESPONSE_ID, text::cut(&id, 256)));
        }
        let reasons = text::contained(Vec::new(), || r.finish_reasons());
        if !reasons.is_empty() {
            let reasons = reasons.iter().take(64).map(|r| text::cut(r, 256)).collect();
            span.set_attribute(KeyValue::new(
                k::GEN_AI_RESPONSE_FINISH_REASONS,
                text::string_array(reasons),
            ));
        }
        if capture_message_content() {
            if let Some(output) = text::contained(None, || r.output_text()) {
                // The finish reason is `gen_ai.response.finish_reasons`; the output-messages
                // schema no longer carries it.
                let output = KeyValue::new(
                    k::GEN_AI_OUTPUT_MESSAGES,
                    text_messages("assistant", text::cut(&output, CAPTURE_LIMIT)),
                );
                super::events::note_details(&self.cx, [output.clone()]);
                span.set_attribute(output);
            }
        }
    }

    /// A model call's usage: its cost with the installed prices, and both added to the agent
    /// it ran in.
    pub(super) fn record_usage(&self, counts: &Counts, response_model: Option<&str>) {
        let Some(llm) = self.llm else { return };
        let models: &[&str] = match response_model {
            Some(m) => &[m, llm.model],
            None => &[llm.model],
        };
        ledger::record_usage(&self.cx, counts, models, llm.provider);
    }

    /// Records a value under `key` (Debug, cut to [`CAPTURE_LIMIT`]). A tool's captured
    /// result is also `gen_ai.tool.call.result` (a JSON string) when content capture is on.
    pub fn record_value(&mut self, key: &'static str, value: &dyn fmt::Debug) {
        self.record_text(key, text::debug(value, CAPTURE_LIMIT));
    }

    /// [`record_value`](Self::record_value) with the value already formatted and bounded.
    pub fn record_text(&mut self, key: &'static str, text: String) {
        self.record_with_json(key, text, text::json_of_debug);
    }

    /// [`record_text`](Self::record_text) with the JSON form of the value given (a string's
    /// raw text) for `gen_ai.tool.call.result`.
    pub fn record_with_json(
        &mut self,
        key: &'static str,
        text: String,
        json: impl FnOnce(&str) -> serde_json::Value,
    ) {
        let span = self.cx.span();
        if self.tool && key == k::AGENT_TRACE_RESULT && capture_message_content() {
            let json = json(&text).to_string();
            span.set_attribute(KeyValue::new(k::GEN_AI_TOOL_CALL_RESULT, json));
        }
        span.set_attribute(KeyValue::new(key, text));
    }
}

/// An optional span whose drop, when it is empty, is one inlined check: the drop glue of an
/// `Option<ActiveSpan>` is an out-of-line call even for `None`, paid on every call of a
/// traced function while tracing is off. The expansions of the macros and [`Instrumented`]
/// hold their span in one.
///
/// [`Instrumented`]: super::run::Instrumented
pub struct SpanSlot(std::mem::ManuallyDrop<Option<ActiveSpan>>);

impl SpanSlot {
    /// Holds `span`.
    #[inline(always)]
    pub fn new(span: Option<ActiveSpan>) -> Self {
        SpanSlot(std::mem::ManuallyDrop::new(span))
    }

    /// The span, if any.
    #[inline(always)]
    pub fn get_mut(&mut self) -> &mut Option<ActiveSpan> {
        &mut self.0
    }

    /// Takes the span out (it then ends when the caller drops it).
    #[inline(always)]
    pub fn take(&mut self) -> Option<ActiveSpan> {
        self.0.take()
    }
}

impl Drop for SpanSlot {
    #[inline(always)]
    fn drop(&mut self) {
        if self.0.is_some() {
            end_slot(&mut self.0);
        }
    }
}

/// Ends a span still in its slot, dropping it where it lies (`take` would first move its
/// couple of hundred bytes out); what is left in the `ManuallyDrop` is `None`.
#[inline(never)]
fn end_slot(slot: &mut Option<ActiveSpan>) {
    *slot = None;
}

impl fmt::Debug for SpanSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SpanSlot").field(&*self.0).finish()
    }
}

impl Drop for ActiveSpan {
    fn drop(&mut self) {
        // A model call's details event (with content capture and the logs signal on).
        if self.llm.is_some() {
            super::events::emit_details(&self.cx);
        }
        // An agent's own totals go on its span before it ends.
        let calls = match self.agent {
            true => ledger::finish(&self.cx),
            false => None,
        };
        if !self.bare {
            let span = self.cx.span();
            if self.recorded {
                span.end_with_timestamp(super::record::end_now(self.ok));
            } else {
                if self.ok {
                    span.set_attribute(KeyValue::new(k::TOOL_SUCCESS, true));
                }
                span.end();
            }
        }
        #[cfg(panic = "abort")]
        if self.open != usize::MAX {
            crate::state::close_open(self.open);
        }
        #[cfg(feature = "metrics")]
        if let Some(m) = &self.metrics {
            // Model and tool calls count against the agent they ran in (for its metrics).
            if self.llm.is_some() {
                ledger::count_call(&self.cx, Call::Inference);
            } else if self.tool {
                ledger::count_call(&self.cx, Call::Tool);
            }
            m.record(calls);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = calls;
    }
}

/// One text message in the GenAI semantic conventions' JSON shape, as the attribute value:
/// `[{"role":..,"parts":[{"type":"text","content":..}]}]`. The text is cut before it is
/// serialized, so the JSON stays valid.
pub(super) fn text_messages(role: &str, content: String) -> String {
    #[derive(serde::Serialize)]
    struct Message<'a> {
        role: &'a str,
        parts: [Part<'a>; 1],
    }
    #[derive(serde::Serialize)]
    struct Part<'a> {
        r#type: &'static str,
        content: &'a str,
    }
    let message = [Message {
        role,
        parts: [Part {
            r#type: "text",
            content: &content,
        }],
    }];
    // Written once into a buffer of about its size (no map, no regrowth).
    let mut out = Vec::with_capacity(content.len() + content.len() / 8 + 64);
    match serde_json::to_writer(&mut out, &message) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The message of a panic payload (`&str` or `String`; anything else is described).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        text::cut(s, text::MESSAGE_LIMIT)
    } else if let Some(s) = payload.downcast_ref::<String>() {
        text::cut(s, text::MESSAGE_LIMIT)
    } else {
        "panic with a non-string payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// The messages JSON is the conventions' shape, whatever the text holds.
        #[test]
        fn text_messages_are_the_conventions_json(text in "\\PC{0,300}|[\"\\\\\u{0}-\u{1f}]{0,20}") {
            let json: serde_json::Value =
                serde_json::from_str(&super::text_messages("user", text.clone())).unwrap();
            proptest::prop_assert_eq!(
                json,
                serde_json::json!([{"role": "user", "parts": [{"type": "text", "content": text}]}])
            );
        }
    }
}
