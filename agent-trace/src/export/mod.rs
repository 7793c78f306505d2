//! Exporters the pipeline can send spans through, besides any OpenTelemetry SDK
//! `SpanExporter` given to [`Builder::span_exporter`](crate::Builder::span_exporter).

mod console;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) mod otlp;

pub use console::ConsoleExporter;
