//! Metrics at the receiver (feature `metrics`): OTLP/gRPC `MetricsService` and OTLP/HTTP
//! `/v1/metrics`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::wire::{decode_request, metrics_from_request};
use super::{Behavior, Grpc, Store};

#[tonic::async_trait]
impl opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::MetricsService
    for Grpc
{
    async fn export(
        &self,
        request: tonic::Request<
            opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
        >,
    ) -> Result<
        tonic::Response<
            opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse,
        >,
        tonic::Status,
    > {
        if matches!(self.0.lock().behavior, Behavior::Hang) {
            return std::future::pending().await; // hangs metrics too, like a dead collector
        }
        let metrics = metrics_from_request(request.get_ref());
        self.0.lock().metrics.extend(metrics);
        self.0.changed.notify_all();
        Ok(tonic::Response::new(Default::default()))
    }
}

pub(super) async fn http_metrics(
    axum::extract::State(store): axum::extract::State<Arc<Store>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest as Req;
    if matches!(store.lock().behavior, Behavior::Hang) {
        return std::future::pending().await; // hangs metrics too, like a dead collector
    }
    let decoded = decode_request::<Req>(&headers, body);
    match decoded {
        Ok(req) => {
            store.lock().metrics.extend(metrics_from_request(&req));
            store.changed.notify_all();
            (
                [(header::CONTENT_TYPE, "application/x-protobuf")],
                Vec::<u8>::new(),
            )
                .into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            format!("invalid OTLP protobuf: {e}"),
        )
            .into_response(),
    }
}
