//! What the macro expansions call. Not a public API: names and signatures change freely.
//!
//! Everything a span does lives here, in ordinary Rust, so the expansions stay a few lines
//! long. The fast path while tracing is off is one atomic load in `start_*` returning `None`;
//! nothing allocates.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use opentelemetry::trace::{Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue, Value};

pub use opentelemetry::trace::SpanKind;

pub(crate) use crate::instruments::Measure;
pub use crate::outcome::{ErrorType, LlmResponse, TokenUsage};
use crate::semconv as k;
use crate::text;

/// How many characters of a captured argument or result are kept.
pub const CAPTURE_LIMIT: usize = crate::CAPTURE_LIMIT;

/// A started span and the context it is current in.
pub struct ActiveSpan {
    cx: Context,
    tool: bool,
    #[cfg(feature = "metrics")]
    metrics: Option<crate::instruments::SpanMetrics>,
}

impl fmt::Debug for ActiveSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActiveSpan")
            .field("span", self.cx.span().span_context())
            .finish()
    }
}

/// Attributes and links computed at call time (only when tracing is on and the span can be
/// sampled).
#[derive(Debug)]
pub struct Attrs(Vec<KeyValue>, Vec<opentelemetry::trace::Link>);

impl Attrs {
    /// A `fields(key = expr)` value.
    pub fn field<V: ToAttributeValue + ?Sized>(&mut self, key: &'static str, value: &V) {
        self.0.push(KeyValue::new(key, value.to_attribute_value()));
    }

    /// A `fields(key = ?expr)` value (Debug).
    pub fn field_debug(&mut self, key: &'static str, value: &dyn fmt::Debug) {
        self.0
            .push(KeyValue::new(key, text::debug(value, CAPTURE_LIMIT)));
    }

    /// A `fields(key = %expr)` value (Display).
    pub fn field_display(&mut self, key: &'static str, value: &dyn fmt::Display) {
        self.0
            .push(KeyValue::new(key, text::display(value, CAPTURE_LIMIT)));
    }

    /// A `capture(arg)` argument (Debug), cut to [`CAPTURE_LIMIT`].
    pub fn capture(&mut self, key: &'static str, value: &dyn fmt::Debug) {
        self.field_debug(key, value)
    }

    /// With content capture on, the `capture(..)`d arguments of a tool once more as
    /// `gen_ai.tool.call.arguments`: a JSON object of their `Debug` forms.
    fn tool_call_arguments(&mut self) {
        let mut args = serde_json::Map::new();
        for kv in &self.0 {
            if let Some(name) = kv.key.as_str().strip_prefix("agent_trace.arg.") {
                args.insert(name.to_string(), kv.value.as_str().into_owned().into());
            }
        }
        if !args.is_empty() {
            let json = serde_json::Value::Object(args).to_string();
            self.0
                .push(KeyValue::new(k::GEN_AI_TOOL_CALL_ARGUMENTS, json));
        }
    }

    /// `links = expr`: every valid context the expression yields becomes a link.
    pub fn links<I>(&mut self, links: I)
    where
        I: IntoIterator,
        I::Item: crate::IntoLink,
    {
        for l in links {
            if let Some(sc) = crate::IntoLink::span_context(&l) {
                self.1.push(opentelemetry::trace::Link::with_context(sc));
            }
        }
    }

    /// `gen_ai.tool.call.id`.
    pub fn tool_call_id<V: ToAttributeValue + ?Sized>(&mut self, value: &V) {
        self.field(k::GEN_AI_TOOL_CALL_ID, value)
    }

    /// `gen_ai.conversation.id`.
    pub fn conversation_id<V: ToAttributeValue + ?Sized>(&mut self, value: &V) {
        self.field(k::GEN_AI_CONVERSATION_ID, value)
    }

    /// The prompt, recorded only when message content capture is on, as the GenAI
    /// conventions' input messages: `[{"role":"user","parts":[{"type":"text","content":..}]}]`.
    pub fn prompt<V: fmt::Display + ?Sized>(&mut self, value: &V) {
        if capture_message_content() {
            self.0.push(KeyValue::new(
                k::GEN_AI_INPUT_MESSAGES,
                text_messages("user", text::display(&value, CAPTURE_LIMIT), None),
            ));
        }
    }

    /// System instructions, recorded only when message content capture is on, in the GenAI
    /// conventions' shape: `[{"type":"text","content":..}]`.
    pub fn system_instructions<V: fmt::Display + ?Sized>(&mut self, value: &V) {
        if capture_message_content() {
            let content = text::display(&value, CAPTURE_LIMIT);
            let parts = serde_json::json!([{ "type": "text", "content": content }]);
            self.0.push(KeyValue::new(
                k::GEN_AI_SYSTEM_INSTRUCTIONS,
                parts.to_string(),
            ));
        }
    }

    /// `agent.target_url`, `server.address`, `server.port` from a URL.
    pub fn url<U: AsRef<str> + ?Sized>(&mut self, url: &U) {
        let url = url.as_ref();
        self.0.push(KeyValue::new(
            k::AGENT_TARGET_URL,
            text::cut(url, CAPTURE_LIMIT),
        ));
        if let Ok(uri) = url.parse::<http::Uri>() {
            if let Some(host) = uri.host() {
                self.0
                    .push(KeyValue::new(k::SERVER_ADDRESS, host.to_string()));
                let port = uri.port_u16().or(match uri.scheme_str() {
                    Some("https") => Some(443),
                    Some("http") => Some(80),
                    _ => None,
                });
                if let Some(port) = port {
                    self.0.push(KeyValue::new(k::SERVER_PORT, i64::from(port)));
                }
            }
        }
    }
}

/// Values a `fields(key = expr)` expression may have. For anything else write `?expr`
/// (Debug) or `%expr` (Display).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a span attribute value directly",
    label = "not a string, number or bool",
    note = "write `key = ?expr` to record it with Debug, or `key = %expr` with Display"
)]
pub trait ToAttributeValue {
    /// The OpenTelemetry value.
    fn to_attribute_value(&self) -> Value;
}

macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl ToAttributeValue for $t {
            fn to_attribute_value(&self) -> Value {
                Value::I64(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_values!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, i128, u128);

impl ToAttributeValue for f32 {
    fn to_attribute_value(&self) -> Value {
        Value::F64(f64::from(*self))
    }
}
impl ToAttributeValue for f64 {
    fn to_attribute_value(&self) -> Value {
        Value::F64(*self)
    }
}
impl ToAttributeValue for bool {
    fn to_attribute_value(&self) -> Value {
        Value::Bool(*self)
    }
}
impl ToAttributeValue for str {
    fn to_attribute_value(&self) -> Value {
        Value::String(text::cut(self, CAPTURE_LIMIT).into())
    }
}
impl ToAttributeValue for String {
    fn to_attribute_value(&self) -> Value {
        self.as_str().to_attribute_value()
    }
}
impl ToAttributeValue for Cow<'_, str> {
    fn to_attribute_value(&self) -> Value {
        self.as_ref().to_attribute_value()
    }
}
impl<T: ToAttributeValue + ?Sized> ToAttributeValue for &T {
    fn to_attribute_value(&self) -> Value {
        (**self).to_attribute_value()
    }
}
impl<T: ToAttributeValue> ToAttributeValue for Option<T> {
    fn to_attribute_value(&self) -> Value {
        match self {
            Some(v) => v.to_attribute_value(),
            None => Value::String("".into()),
        }
    }
}

/// Starts an `execute_tool {tool}` span, or returns `None` while tracing is off.
#[inline(always)]
pub fn start_tool(
    span_name: &'static str,
    tool: &'static str,
    extra: impl FnOnce(&mut Attrs),
) -> Option<ActiveSpan> {
    start(
        span_name,
        SpanKind::Internal,
        true,
        Some(Measure::Tool(tool)),
        |a, _| {
            a.0.push(KeyValue::new(k::GEN_AI_OPERATION_NAME, k::OP_EXECUTE_TOOL));
            a.0.push(KeyValue::new(k::GEN_AI_TOOL_NAME, tool));
            a.0.push(KeyValue::new(k::TOOL_NAME, tool));
            extra(a);
            if capture_message_content() {
                a.tool_call_arguments();
            }
        },
    )
}

/// Starts an `invoke_agent {target}` CLIENT span, or returns `None` while tracing is off.
/// `source` defaults to the service name.
#[inline(always)]
pub fn start_a2a(
    span_name: &'static str,
    target: &'static str,
    source: Option<&'static str>,
    extra: impl FnOnce(&mut Attrs),
) -> Option<ActiveSpan> {
    start(
        span_name,
        SpanKind::Client,
        false,
        Some(Measure::Agent(target)),
        |a, service| {
            a.0.push(KeyValue::new(k::GEN_AI_OPERATION_NAME, k::OP_INVOKE_AGENT));
            a.0.push(KeyValue::new(k::GEN_AI_AGENT_NAME, target));
            let source: Value = match source {
                Some(s) => s.into(),
                None => Value::String(service.to_string().into()),
            };
            a.0.push(KeyValue::new(k::AGENT_SOURCE, source));
            a.0.push(KeyValue::new(k::AGENT_TARGET, target));
            extra(a)
        },
    )
}

/// Starts a `chat {model}` CLIENT span, or returns `None` while tracing is off.
#[inline(always)]
pub fn start_llm(
    span_name: &'static str,
    model: &'static str,
    provider: Option<&'static str>,
    extra: impl FnOnce(&mut Attrs),
) -> Option<ActiveSpan> {
    let measure = Some(Measure::Llm { model, provider });
    start(span_name, SpanKind::Client, false, measure, |a, _| {
        a.0.push(KeyValue::new(k::GEN_AI_OPERATION_NAME, k::OP_CHAT));
        a.0.push(KeyValue::new(k::GEN_AI_REQUEST_MODEL, model));
        if let Some(p) = provider {
            a.0.push(KeyValue::new(k::GEN_AI_PROVIDER_NAME, p));
        }
        extra(a)
    })
}

/// Starts an `invoke_agent {name}` INTERNAL span (an agent's own handler), or `None`.
#[inline(always)]
pub fn start_agent_run(
    span_name: &'static str,
    name: &'static str,
    extra: impl FnOnce(&mut Attrs),
) -> Option<ActiveSpan> {
    start(
        span_name,
        SpanKind::Internal,
        false,
        Some(Measure::Agent(name)),
        |a, _| {
            a.0.push(KeyValue::new(k::GEN_AI_OPERATION_NAME, k::OP_INVOKE_AGENT));
            a.0.push(KeyValue::new(k::GEN_AI_AGENT_NAME, name));
            extra(a)
        },
    )
}

static CAPTURE_MESSAGE_CONTENT: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Whether prompt and completion text may be recorded
/// (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`).
pub fn capture_message_content() -> bool {
    CAPTURE_MESSAGE_CONTENT.load(std::sync::atomic::Ordering::Relaxed)
}

pub(crate) fn set_capture_message_content(on: bool) {
    CAPTURE_MESSAGE_CONTENT.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// `#[llm_call]` on a `Result` whose `Ok` is an [`LlmResponse`].
pub trait LlmResult {
    /// Records usage and response attributes.
    fn __agent_trace_llm(&self, span: &mut ActiveSpan);
}
impl<T: LlmResponse, E> LlmResult for &&Probe<'_, Result<T, E>> {
    fn __agent_trace_llm(&self, span: &mut ActiveSpan) {
        if let Ok(v) = self.0 {
            span.record_llm(v);
        }
    }
}

/// `#[llm_call]` on a value that is an [`LlmResponse`].
pub trait LlmValue {
    /// Records usage and response attributes.
    fn __agent_trace_llm(&self, span: &mut ActiveSpan);
}
impl<T: LlmResponse> LlmValue for &Probe<'_, T> {
    fn __agent_trace_llm(&self, span: &mut ActiveSpan) {
        span.record_llm(self.0);
    }
}

/// `#[llm_call]` on anything else: nothing to read.
pub trait LlmAny {
    /// Records nothing.
    fn __agent_trace_llm(&self, span: &mut ActiveSpan);
}
impl<T: ?Sized> LlmAny for Probe<'_, T> {
    fn __agent_trace_llm(&self, _span: &mut ActiveSpan) {}
}

/// Starts an `agent_phase {phase}` span, or returns `None` while tracing is off.
#[inline(always)]
pub fn start_phase(
    span_name: &'static str,
    phase: &'static str,
    extra: impl FnOnce(&mut Attrs),
) -> Option<ActiveSpan> {
    start(span_name, SpanKind::Internal, false, None, |a, _| {
        a.0.push(KeyValue::new(k::AGENT_PHASE, phase));
        extra(a)
    })
}

/// The current context, or, when it has no span, the context this process was started in
/// (`TRACEPARENT` from the parent process).
pub(crate) fn current_or_process_parent() -> Context {
    let current = Context::current();
    if current.has_active_span() {
        return current;
    }
    match crate::state::PROCESS_PARENT.load().as_ref() {
        Some(p) => Context::clone(p),
        None => current,
    }
}

#[inline(always)]
fn start(
    span_name: &'static str,
    kind: SpanKind,
    tool: bool,
    measure: Option<Measure>,
    attrs: impl FnOnce(&mut Attrs, &str),
) -> Option<ActiveSpan> {
    if !crate::state::ENABLED.load(std::sync::atomic::Ordering::Relaxed) {
        return None;
    }
    let active = crate::state::ACTIVE.load();
    let installed = active.as_ref()?;
    if crate::state::in_export_thread() {
        return None;
    }
    let parent = current_or_process_parent();
    // A span the sampler will surely drop is started bare: its attributes (and the
    // expressions of `fields`/`capture`) are only computed for spans that are recorded.
    let mut a = Attrs(Vec::new(), Vec::new());
    if installed.head.may_sample(&parent) {
        a.0.reserve(8);
        attrs(&mut a, &installed.service_name);
    }
    let tracer = &installed.tracer;
    let span = tracer
        .span_builder(span_name)
        .with_kind(kind)
        .with_attributes(a.0)
        .with_links(a.1)
        .start_with_context(tracer, &parent);
    #[cfg(not(feature = "metrics"))]
    let _ = measure;
    Some(ActiveSpan {
        cx: parent.with_span(span),
        tool,
        #[cfg(feature = "metrics")]
        metrics: span_metrics(measure, installed),
    })
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
    let tracer = &installed.tracer;
    let span = tracer
        .span_builder(name)
        .with_kind(kind)
        .with_attributes(attributes)
        .with_links(links)
        .start_with_context(tracer, parent);
    #[cfg(not(feature = "metrics"))]
    let _ = measure;
    Some(ActiveSpan {
        cx: parent.with_span(span),
        tool: false,
        #[cfg(feature = "metrics")]
        metrics: span_metrics(measure, installed),
    })
}

/// The measurement of a span, when it measures one and metrics are on.
#[cfg(feature = "metrics")]
fn span_metrics(
    measure: Option<Measure>,
    installed: &crate::state::Installed,
) -> Option<crate::instruments::SpanMetrics> {
    match (measure, &installed.metrics) {
        (Some(measure), Some(instruments)) => Some(crate::instruments::SpanMetrics {
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
    previous: Option<opentelemetry::trace::SpanId>,
    _context: opentelemetry::ContextGuard,
}

impl Drop for Attached {
    fn drop(&mut self) {
        crate::state::replace_innermost(self.previous);
    }
}

/// Whether the current span of `cx` is an agent-trace span (a macro, server, client or
/// message span) that is innermost: `tracing` events then belong to it.
pub(crate) fn ours_is_innermost(cx: &Context) -> bool {
    crate::state::innermost().is_some_and(|id| cx.span().span_context().span_id() == id)
}

impl ActiveSpan {
    /// Makes this span current on this thread until the guard is dropped.
    pub(crate) fn attach(&self) -> Attached {
        let id = self.cx.span().span_context().span_id();
        let previous = crate::state::replace_innermost(Some(id));
        Attached {
            previous,
            _context: self.cx.clone().attach(),
        }
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

    /// Marks the outcome as success.
    pub fn record_ok(&mut self) {
        if self.tool {
            self.cx
                .span()
                .set_attribute(KeyValue::new(k::TOOL_SUCCESS, true));
        }
    }

    /// Marks the outcome as an error: status, `error.type`, `exception` event.
    pub fn record_error(&mut self, error_type: Cow<'static, str>, message: String) {
        #[cfg(feature = "metrics")]
        if let Some(m) = &mut self.metrics {
            m.error_type = Some(error_type.clone());
        }
        let span = self.cx.span();
        if self.tool {
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

    /// Records a panic payload; the caller resumes unwinding.
    pub fn record_panic(&mut self, payload: &(dyn Any + Send)) {
        self.record_error(k::ERROR_TYPE_PANIC.into(), panic_message(payload));
    }

    /// Records that the future was dropped before it completed.
    pub fn record_cancelled(&mut self) {
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
        if let Some(u) = usage {
            span.set_attribute(KeyValue::new(
                k::GEN_AI_USAGE_INPUT_TOKENS,
                i64::try_from(u.input_tokens).unwrap_or(i64::MAX),
            ));
            span.set_attribute(KeyValue::new(
                k::GEN_AI_USAGE_OUTPUT_TOKENS,
                i64::try_from(u.output_tokens).unwrap_or(i64::MAX),
            ));
        }
        if let Some(m) = response_model {
            span.set_attribute(KeyValue::new(k::GEN_AI_RESPONSE_MODEL, m));
        }
        let reasons = text::contained(Vec::new(), || r.finish_reasons());
        let reasons_first = reasons.first().cloned();
        if !reasons.is_empty() {
            let reasons: Vec<opentelemetry::StringValue> =
                reasons.into_iter().map(Into::into).collect();
            span.set_attribute(KeyValue::new(
                k::GEN_AI_RESPONSE_FINISH_REASONS,
                Value::Array(reasons.into()),
            ));
        }
        if capture_message_content() {
            if let Some(output) = text::contained(None, || r.output_text()) {
                let finish = reasons_first.as_deref().unwrap_or("stop");
                span.set_attribute(KeyValue::new(
                    k::GEN_AI_OUTPUT_MESSAGES,
                    text_messages("assistant", text::cut(&output, CAPTURE_LIMIT), Some(finish)),
                ));
            }
        }
    }

    /// Records a value under `key` (Debug, cut to [`CAPTURE_LIMIT`]). A tool's captured
    /// result is also `gen_ai.tool.call.result` (a JSON string) when content capture is on.
    pub fn record_value(&mut self, key: &'static str, value: &dyn fmt::Debug) {
        let text = text::debug(value, CAPTURE_LIMIT);
        let span = self.cx.span();
        if self.tool && key == "agent_trace.result" && capture_message_content() {
            let json = serde_json::Value::String(text.clone()).to_string();
            span.set_attribute(KeyValue::new(k::GEN_AI_TOOL_CALL_RESULT, json));
        }
        span.set_attribute(KeyValue::new(key, text));
    }
}

impl Drop for ActiveSpan {
    fn drop(&mut self) {
        self.cx.span().end();
        #[cfg(feature = "metrics")]
        if let Some(m) = &self.metrics {
            m.record();
        }
    }
}

/// One text message in the GenAI semantic conventions' JSON shape, as the attribute value:
/// `[{"role":..,"parts":[{"type":"text","content":..}]}]`, with `finish_reason` on output
/// messages. The text is cut before it is serialized, so the JSON stays valid.
fn text_messages(role: &str, content: String, finish_reason: Option<&str>) -> String {
    let mut message = serde_json::json!({
        "role": role,
        "parts": [{ "type": "text", "content": content }],
    });
    if let Some(reason) = finish_reason {
        message["finish_reason"] = reason.into();
    }
    serde_json::Value::Array(vec![message]).to_string()
}

/// The message of a panic payload (`&str` or `String`; anything else is described).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        text::cut(s, text::MESSAGE_LIMIT)
    } else if let Some(s) = payload.downcast_ref::<String>() {
        text::cut(s, text::MESSAGE_LIMIT)
    } else {
        "panic with a non-string payload".to_string()
    }
}

/// Runs a sync body with the span current; records a panic and lets it continue.
#[inline(always)]
pub fn call<R>(span: &mut Option<ActiveSpan>, body: impl FnOnce() -> R) -> R {
    let Some(s) = span.as_mut() else {
        return body();
    };
    let guard = s.attach();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(r) => {
            drop(guard);
            r
        }
        Err(payload) => {
            drop(guard);
            s.record_panic(&*payload);
            *span = None; // ends the span before the unwind continues
            resume_unwind(payload)
        }
    }
}

/// Wraps a future returned by a non-async function (`-> impl Future`, `-> Pin<Box<dyn Future>>`).
#[inline]
pub fn instrument<F: Future, R: FnOnce(&F::Output, &mut ActiveSpan)>(
    span: Option<ActiveSpan>,
    future: F,
    record: R,
) -> Instrumented<F, R> {
    Instrumented {
        inner: future,
        span,
        record: Some(record),
    }
}

pin_project_lite::pin_project! {
    /// A future whose span is current during each poll (and only then), ends when it completes,
    /// records a panic, and records `error.type=cancelled` if dropped before completion.
    pub struct Instrumented<F, R> {
        #[pin]
        inner: F,
        span: Option<ActiveSpan>,
        record: Option<R>,
    }

    impl<F, R> PinnedDrop for Instrumented<F, R> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(mut span) = this.span.take() {
                span.record_cancelled();
            }
        }
    }
}

impl<F, R> fmt::Debug for Instrumented<F, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instrumented")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

impl<F: Future, R: FnOnce(&F::Output, &mut ActiveSpan)> Future for Instrumented<F, R> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(span) = this.span.as_mut() else {
            return this.inner.poll(cx);
        };
        let guard = span.attach();
        let polled = catch_unwind(AssertUnwindSafe(|| this.inner.poll(cx)));
        drop(guard);
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => {
                if let (Some(mut span), Some(record)) = (this.span.take(), this.record.take()) {
                    record(&out, &mut span);
                }
                Poll::Ready(out)
            }
            Err(payload) => {
                if let Some(mut span) = this.span.take() {
                    span.record_panic(&*payload);
                }
                resume_unwind(payload)
            }
        }
    }
}

/// Wraps a stream returned by a traced function.
#[inline]
pub fn instrument_stream<S, R>(
    span: Option<ActiveSpan>,
    stream: S,
    record_item: R,
) -> InstrumentedStream<S, R>
where
    S: futures_core::Stream,
    R: FnMut(&S::Item, &mut ActiveSpan),
{
    InstrumentedStream {
        inner: stream,
        span,
        record_item,
        started: Instant::now(),
        items: 0,
    }
}

pin_project_lite::pin_project! {
    /// A stream whose span is current while it is polled and lasts until the stream ends or is
    /// dropped. It records `agent_trace.stream.time_to_first_item_ms`, a `first_item` event,
    /// `agent_trace.stream.items` and `agent_trace.stream.completed`; `Err` items mark the span
    /// as an error (the stream goes on).
    pub struct InstrumentedStream<S, R> {
        #[pin]
        inner: S,
        span: Option<ActiveSpan>,
        record_item: R,
        started: Instant,
        items: u64,
    }

    impl<S, R> PinnedDrop for InstrumentedStream<S, R> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(span) = this.span.take() {
                finish_stream(&span, *this.items, false);
            }
        }
    }
}

fn finish_stream(span: &ActiveSpan, items: u64, completed: bool) {
    span.cx.span().set_attribute(KeyValue::new(
        "agent_trace.stream.items",
        i64::try_from(items).unwrap_or(i64::MAX),
    ));
    span.cx
        .span()
        .set_attribute(KeyValue::new("agent_trace.stream.completed", completed));
}

impl<S, R> fmt::Debug for InstrumentedStream<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstrumentedStream")
            .field("items", &self.items)
            .finish_non_exhaustive()
    }
}

impl<S, R> futures_core::Stream for InstrumentedStream<S, R>
where
    S: futures_core::Stream,
    R: FnMut(&S::Item, &mut ActiveSpan),
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let Some(span) = this.span.as_mut() else {
            return this.inner.poll_next(cx);
        };
        let guard = span.attach();
        let polled = catch_unwind(AssertUnwindSafe(|| this.inner.poll_next(cx)));
        drop(guard);
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(Some(item))) => {
                if *this.items == 0 {
                    let ms = this.started.elapsed().as_secs_f64() * 1000.0;
                    span.cx.span().set_attribute(KeyValue::new(
                        "agent_trace.stream.time_to_first_item_ms",
                        ms,
                    ));
                    span.cx.span().add_event("first_item", vec![]);
                }
                *this.items += 1;
                (this.record_item)(&item, span);
                Poll::Ready(Some(item))
            }
            Ok(Poll::Ready(None)) => {
                if let Some(span) = this.span.take() {
                    finish_stream(&span, *this.items, true);
                }
                Poll::Ready(None)
            }
            Err(payload) => {
                if let Some(mut span) = this.span.take() {
                    span.record_panic(&*payload);
                    finish_stream(&span, *this.items, false);
                }
                resume_unwind(payload)
            }
        }
    }
}

/// Marks `Err` stream items; any other item is fine (autoref specialization, as for results).
pub trait RecordItemResult {
    /// Records the item.
    fn __agent_trace_item(&self, span: &mut ActiveSpan);
}
impl<T, E: fmt::Display> RecordItemResult for &Probe<'_, Result<T, E>> {
    fn __agent_trace_item(&self, span: &mut ActiveSpan) {
        if let Err(e) = self.0 {
            span.record_error(
                type_name_of::<E>(),
                text::display_alternate(e, text::MESSAGE_LIMIT),
            );
        }
    }
}

/// Any other stream item: nothing to record.
pub trait RecordItemAny {
    /// Records nothing.
    fn __agent_trace_item(&self, span: &mut ActiveSpan);
}
impl<T: ?Sized> RecordItemAny for Probe<'_, T> {
    fn __agent_trace_item(&self, _span: &mut ActiveSpan) {}
}

/// The Rust type name, with `Box<dyn Error ...>` shortened (it names no concrete type).
pub fn type_name_of<E: ?Sized>() -> Cow<'static, str> {
    let name = std::any::type_name::<E>();
    if name.starts_with("alloc::boxed::Box<dyn ") {
        Cow::Borrowed("Box<dyn Error>")
    } else {
        Cow::Borrowed(name)
    }
}

/// Wraps a return value so method resolution can pick how to record it (autoref
/// specialization): `Result<_, E: ErrorType>`, then `Result<_, E: Display>`, then anything.
#[derive(Debug)]
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// Highest priority: `Result` whose error chooses its `error.type` and has a `source()` chain.
pub trait RecordTypedErrorResult {
    /// Records the outcome.
    fn __agent_trace_record(&self, span: &mut ActiveSpan);
}
impl<T, E: ErrorType + std::error::Error + 'static> RecordTypedErrorResult
    for &&&&Probe<'_, Result<T, E>>
{
    fn __agent_trace_record(&self, span: &mut ActiveSpan) {
        match self.0 {
            Ok(_) => span.record_ok(),
            Err(e) => span.record_error(
                text::contained(type_name_of::<E>(), || e.error_type()),
                text::error_chain(e, text::MESSAGE_LIMIT),
            ),
        }
    }
}

/// Then: `Result` whose error chooses its `error.type`.
pub trait RecordTypedResult {
    /// Records the outcome.
    fn __agent_trace_record(&self, span: &mut ActiveSpan);
}
impl<T, E: ErrorType + fmt::Display> RecordTypedResult for &&&Probe<'_, Result<T, E>> {
    fn __agent_trace_record(&self, span: &mut ActiveSpan) {
        match self.0 {
            Ok(_) => span.record_ok(),
            Err(e) => span.record_error(
                text::contained(type_name_of::<E>(), || e.error_type()),
                text::display_alternate(e, text::MESSAGE_LIMIT),
            ),
        }
    }
}

/// Then: `Result` whose error is a `std::error::Error`: the message is the whole `source()`
/// chain (`reading config: No such file or directory`).
pub trait RecordErrorResult {
    /// Records the outcome.
    fn __agent_trace_record(&self, span: &mut ActiveSpan);
}
impl<T, E: std::error::Error + 'static> RecordErrorResult for &&Probe<'_, Result<T, E>> {
    fn __agent_trace_record(&self, span: &mut ActiveSpan) {
        match self.0 {
            Ok(_) => span.record_ok(),
            Err(e) => span.record_error(
                type_name_of::<E>(),
                text::error_chain(e, text::MESSAGE_LIMIT),
            ),
        }
    }
}

/// Then: any `Result` whose error is `Display` (`anyhow::Result`, aliases, boxes): its
/// alternate form, which for `anyhow` and `eyre` is the whole context chain.
pub trait RecordResult {
    /// Records the outcome.
    fn __agent_trace_record(&self, span: &mut ActiveSpan);
}
impl<T, E: fmt::Display> RecordResult for &Probe<'_, Result<T, E>> {
    fn __agent_trace_record(&self, span: &mut ActiveSpan) {
        match self.0 {
            Ok(_) => span.record_ok(),
            Err(e) => span.record_error(
                type_name_of::<E>(),
                text::display_alternate(e, text::MESSAGE_LIMIT),
            ),
        }
    }
}

/// `err(Debug)`, first: `Result` whose error chooses its `error.type`; the message is the
/// error's `Debug` form.
pub trait RecordDebugTypedResult {
    /// Records the outcome.
    fn __agent_trace_record(&self, span: &mut ActiveSpan);
}
impl<T, E: ErrorType + fmt::Debug> RecordDebugTypedResult for &&Probe<'_, Result<T, E>> {
    fn __agent_trace_record(&self, span: &mut ActiveSpan) {
        match self.0 {
            Ok(_) => span.record_ok(),
            Err(e) => span.record_error(
                text::contained(type_name_of::<E>(), || e.error_type()),
                text::debug(e, text::MESSAGE_LIMIT),
            ),
        }
    }
}

/// `err(Debug)`, then: any `Result` whose error is `Debug`.
pub trait RecordDebugResult {
    /// Records the outcome.
    fn __agent_trace_record(&self, span: &mut ActiveSpan);
}
impl<T, E: fmt::Debug> RecordDebugResult for &Probe<'_, Result<T, E>> {
    fn __agent_trace_record(&self, span: &mut ActiveSpan) {
        match self.0 {
            Ok(_) => span.record_ok(),
            Err(e) => span.record_error(type_name_of::<E>(), text::debug(e, text::MESSAGE_LIMIT)),
        }
    }
}

/// Last: any other value is a success.
pub trait RecordAny {
    /// Records the outcome.
    fn __agent_trace_record(&self, span: &mut ActiveSpan);
}
impl<T: ?Sized> RecordAny for Probe<'_, T> {
    fn __agent_trace_record(&self, span: &mut ActiveSpan) {
        span.record_ok();
    }
}

/// `capture_result` on a `Result`: records the `Ok` value.
pub trait CaptureOk {
    /// Records the value.
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str);
}
impl<T: fmt::Debug, E> CaptureOk for &Probe<'_, Result<T, E>> {
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str) {
        if let Ok(v) = self.0 {
            span.record_value(key, v);
        }
    }
}

/// `capture_result` on any other `Debug` value.
pub trait CaptureValue {
    /// Records the value.
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str);
}
impl<T: fmt::Debug> CaptureValue for Probe<'_, T> {
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str) {
        span.record_value(key, self.0);
    }
}
