//! The GenAI events agent-trace emits itself, as the conventions define events: OpenTelemetry
//! log records with an event name, on the logs signal (feature `logs`, `OTEL_LOGS_EXPORTER`),
//! carrying the trace and span ids of the operation they are about. Without the logs signal
//! nothing is emitted.

use opentelemetry::trace::SpanContext;
use opentelemetry::Value;

use super::semconv as k;

/// Emits the event `name` about `about` with `attributes` (values already bounded); `false`
/// when nothing was emitted (no logs signal, or an invalid span context).
#[cfg_attr(not(feature = "logs"), allow(unused_variables))]
pub(crate) fn emit(
    name: &'static str,
    error: bool,
    about: &SpanContext,
    attributes: Vec<(&'static str, Value)>,
) -> bool {
    #[cfg(feature = "logs")]
    {
        use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, Severity};
        if !about.is_valid() || crate::state::in_export_thread() {
            return false;
        }
        let bridge = crate::state::LOG_BRIDGE.load();
        let Some(b) = bridge.as_deref() else {
            return false;
        };
        let mut r = b.logger.create_log_record();
        r.set_event_name(name);
        let (number, text) = match error {
            true => (Severity::Error, "ERROR"),
            false => (Severity::Info, "INFO"),
        };
        r.set_severity_number(number);
        r.set_severity_text(text);
        r.set_trace_context(about.trace_id(), about.span_id(), Some(about.trace_flags()));
        for (key, value) in attributes {
            let value = match value {
                Value::Bool(b) => AnyValue::Boolean(b),
                Value::I64(n) => AnyValue::Int(n),
                Value::F64(f) => AnyValue::Double(f),
                other => AnyValue::String(other.as_str().into_owned().into()),
            };
            r.add_attribute(key, value);
        }
        b.counts
            .emitted
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        b.logger.emit(r);
        true
    }
    #[cfg(not(feature = "logs"))]
    false
}

/// `gen_ai.client.operation.exception`, when a model call fails: the exception's type and
/// message, `error.type`, and the call's operation, model and provider.
pub(crate) fn model_call_failed(
    about: &SpanContext,
    error_type: &str,
    message: &str,
    model: &'static str,
    provider: Option<&'static str>,
) -> bool {
    let mut attributes = vec![
        (k::EXCEPTION_TYPE, Value::from(error_type.to_string())),
        (k::EXCEPTION_MESSAGE, Value::from(message.to_string())),
        (k::ERROR_TYPE, Value::from(error_type.to_string())),
        (k::GEN_AI_OPERATION_NAME, Value::from(k::OP_CHAT)),
        (k::GEN_AI_REQUEST_MODEL, Value::from(model)),
    ];
    if let Some(p) = provider {
        attributes.push((k::GEN_AI_PROVIDER_NAME, Value::from(p)));
    }
    emit(
        k::GEN_AI_CLIENT_OPERATION_EXCEPTION_EVENT,
        true,
        about,
        attributes,
    )
}

/// What a model call's `gen_ai.client.inference.operation.details` event carries, gathered
/// while the call runs: the request's attributes at its start, then its usage, response
/// model and output messages as they are recorded. Kept in the call's context only with
/// content capture and the logs signal on; keyed by the call's span, so spans started inside
/// it never add to it.
#[derive(Debug)]
pub(crate) struct Details {
    span: opentelemetry::trace::SpanId,
    attributes: std::sync::Mutex<Vec<opentelemetry::KeyValue>>,
}

/// For a model call starting with `attributes`: its details record, when content capture and
/// the logs signal are on (else `None`, and nothing is kept).
pub(crate) fn details_for(
    attributes: &[opentelemetry::KeyValue],
) -> Option<Vec<opentelemetry::KeyValue>> {
    if !cfg!(feature = "logs") || !crate::state::capture_message_content() {
        return None;
    }
    #[cfg(feature = "logs")]
    if crate::state::LOG_BRIDGE.load().is_none() {
        return None;
    }
    let chat = attributes
        .iter()
        .any(|kv| kv.key.as_str() == k::GEN_AI_OPERATION_NAME && kv.value.as_str() == k::OP_CHAT);
    chat.then(|| attributes.to_vec())
}

/// `cx` holding the details record of its span.
pub(crate) fn keep_details(
    cx: opentelemetry::Context,
    attributes: Vec<opentelemetry::KeyValue>,
) -> opentelemetry::Context {
    use opentelemetry::trace::TraceContextExt as _;
    let span = cx.span().span_context().span_id();
    cx.with_value(Details {
        span,
        attributes: std::sync::Mutex::new(attributes),
    })
}

/// Adds what a model call recorded to the details record of its span, if it keeps one.
pub(crate) fn note_details(
    cx: &opentelemetry::Context,
    attributes: impl IntoIterator<Item = opentelemetry::KeyValue>,
) {
    if let Some(list) = own_details(cx) {
        list.lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(attributes);
    }
}

fn own_details(
    cx: &opentelemetry::Context,
) -> Option<&std::sync::Mutex<Vec<opentelemetry::KeyValue>>> {
    use opentelemetry::trace::TraceContextExt as _;
    let d = cx.get::<Details>()?;
    (d.span == cx.span().span_context().span_id()).then_some(&d.attributes)
}

/// At the end of a model call that kept a details record: the
/// `gen_ai.client.inference.operation.details` event, with one value per key (the later
/// write wins, as on the span).
pub(crate) fn emit_details(cx: &opentelemetry::Context) {
    use opentelemetry::trace::TraceContextExt as _;
    let Some(list) = own_details(cx) else { return };
    let list = std::mem::take(&mut *list.lock().unwrap_or_else(|p| p.into_inner()));
    let mut attributes: Vec<(&'static str, Value)> = Vec::with_capacity(list.len());
    for kv in list.into_iter().rev() {
        let Some(key) = static_key(kv.key.as_str()) else {
            continue;
        };
        if !attributes.iter().any(|(k, _)| *k == key) {
            attributes.push((key, kv.value));
        }
    }
    attributes.reverse();
    let about = cx.span().span_context().clone();
    emit(
        k::GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS_EVENT,
        false,
        &about,
        attributes,
    );
}

/// The `&'static` form of a key the details event carries (the GenAI keys agent-trace
/// writes on a model call); `None` for any other.
fn static_key(key: &str) -> Option<&'static str> {
    k::MODEL_CALL_KEYS.iter().copied().find(|k| *k == key)
}
