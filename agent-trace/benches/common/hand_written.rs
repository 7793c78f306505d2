//! The baseline the overhead benchmarks compare with: the span `#[traced_tool(name = "bench")]`
//! makes, started by hand against the SDK (the same name and the four attributes it records
//! at the start; the caller sets `tool.success` at the end, the fifth).

use opentelemetry::trace::{TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;

/// Starts the hand-written span and returns the context that holds it. Inlined, so each
/// benchmark's baseline compiles to what it would be written out in place.
#[inline(always)]
pub(crate) fn start(tracer: &SdkTracer) -> Context {
    let span = tracer
        .span_builder("execute_tool bench")
        .with_attributes([
            KeyValue::new("gen_ai.operation.name", "execute_tool"),
            KeyValue::new("gen_ai.tool.name", "bench"),
            KeyValue::new("gen_ai.tool.type", "function"),
            KeyValue::new("tool.name", "bench"),
        ])
        .start(tracer);
    Context::current_with_span(span)
}
