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
