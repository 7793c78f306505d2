//! Transports the export thread sends batches through.

pub(crate) mod console;
#[cfg(feature = "otlp-grpc")]
pub(crate) mod grpc;
#[cfg(feature = "otlp-http")]
pub(crate) mod http;

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use opentelemetry_sdk::trace::SpanData;

/// Converts a batch to the OTLP request message (done once per batch, before any retry).
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) fn to_request(
    batch: Vec<SpanData>,
    resource: &ResourceAttributesWithSchema,
) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(batch, resource),
    }
}
