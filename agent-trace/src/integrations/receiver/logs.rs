//! Logs at the receiver (feature `logs`): OTLP/gRPC `LogsService` and OTLP/HTTP `/v1/logs`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::wire::{decode_request, logs_from_request};
use super::{Behavior, Grpc, Store};

#[tonic::async_trait]
impl opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::LogsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<
            opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest,
        >,
    ) -> Result<
        tonic::Response<opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse>,
        tonic::Status,
    > {
        if matches!(self.0.lock().behavior, Behavior::Hang) {
            return std::future::pending().await; // hangs logs too, like a dead collector
        }
        let logs = logs_from_request(request.get_ref());
        self.0.lock().logs.extend(logs);
        self.0.changed.notify_all();
        Ok(tonic::Response::new(Default::default()))
    }
}

/// OTLP/HTTP logs, protobuf or JSON.
pub(super) async fn http_logs(
    axum::extract::State(store): axum::extract::State<Arc<Store>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest as Req;
    if matches!(store.lock().behavior, Behavior::Hang) {
        return std::future::pending().await; // hangs logs too, like a dead collector
    }
    let decoded = decode_request::<Req>(&headers, body);
    match decoded {
        Ok(req) => {
            store.lock().logs.extend(logs_from_request(&req));
            store.changed.notify_all();
            (
                [(header::CONTENT_TYPE, "application/x-protobuf")],
                Vec::<u8>::new(),
            )
                .into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("invalid OTLP logs: {e}")).into_response(),
    }
}
