//! OTLP/gRPC transport (tonic), with the OTLP retry table for gRPC status codes.

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_sdk::trace::SpanData;
use prost::Message as _;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tonic::Code;

use crate::pipeline::{with_retries, Attempt, BoxFuture, ExportResult, Transport};

pub(crate) struct GrpcTransport {
    client: tonic::client::Grpc<Channel>,
    resource: ResourceAttributesWithSchema,
    metadata: MetadataMap,
}

impl GrpcTransport {
    /// Must be called inside a Tokio runtime context (the export thread's).
    pub(crate) fn new(
        endpoint: &str,
        headers: &[(String, String)],
        timeout: Duration,
        resource: ResourceAttributesWithSchema,
    ) -> Result<Self, String> {
        let channel = Endpoint::from_shared(endpoint.to_string())
            .map_err(|e| format!("invalid gRPC endpoint {endpoint}: {e}"))?
            .connect_timeout(timeout)
            .timeout(timeout)
            // A batch is hundreds of KB: the default 64 KB HTTP/2 windows stall it on
            // WINDOW_UPDATE round trips.
            .initial_stream_window_size(Some(4 << 20))
            .initial_connection_window_size(Some(8 << 20))
            .tcp_nodelay(true)
            .connect_lazy();
        let mut metadata = MetadataMap::new();
        for (k, v) in headers {
            let key = MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes())
                .map_err(|e| format!("invalid header name {k}: {e}"))?;
            let value = MetadataValue::try_from(v.as_str())
                .map_err(|e| format!("invalid header {k}: {e}"))?;
            metadata.insert(key, value);
        }
        Ok(GrpcTransport {
            client: tonic::client::Grpc::new(channel),
            resource,
            metadata,
        })
    }
}

impl Transport for GrpcTransport {
    fn send(&mut self, batch: Vec<SpanData>, deadline: Instant) -> BoxFuture<'_, ExportResult> {
        // Encoded once: a retry resends these bytes instead of re-cloning the message.
        let body = bytes::Bytes::from(super::to_request(batch, &self.resource).encode_to_vec());
        Box::pin(async move {
            with_retries(deadline, || {
                let mut req = tonic::Request::new(body.clone());
                *req.metadata_mut() = self.metadata.clone();
                req.set_timeout(deadline.saturating_duration_since(Instant::now()));
                let mut client = self.client.clone();
                async move {
                    let call = async {
                        client
                            .ready()
                            .await
                            .map_err(|e| tonic::Status::unavailable(format!("connection: {e}")))?;
                        client.unary(req, EXPORT_PATH.clone(), PreEncoded).await
                    };
                    match call.await {
                        Ok(resp) => {
                            if let Some(p) = resp.into_inner().partial_success {
                                if p.rejected_spans > 0 {
                                    // Not retryable per spec; the collector dropped them on purpose.
                                    return Attempt::Fatal(format!(
                                        "collector rejected {} spans: {}",
                                        p.rejected_spans, p.error_message
                                    ));
                                }
                            }
                            Attempt::Done
                        }
                        Err(status) => classify(&status),
                    }
                }
            })
            .await
        })
    }
}

static EXPORT_PATH: std::sync::LazyLock<http::uri::PathAndQuery> = std::sync::LazyLock::new(|| {
    http::uri::PathAndQuery::from_static(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    )
});

/// Sends an already encoded `ExportTraceServiceRequest`; decodes the response with prost.
#[derive(Debug, Clone, Copy, Default)]
struct PreEncoded;

#[derive(Debug)]
struct BytesEncoder;

impl tonic::codec::Encoder for BytesEncoder {
    type Item = bytes::Bytes;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: bytes::Bytes,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        bytes::BufMut::put(dst, item);
        Ok(())
    }
}

impl tonic::codec::Codec for PreEncoded {
    type Encode = bytes::Bytes;
    type Decode = ExportTraceServiceResponse;
    type Encoder = BytesEncoder;
    type Decoder = tonic_prost::ProstDecoder<ExportTraceServiceResponse>;

    fn encoder(&mut self) -> Self::Encoder {
        BytesEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        tonic::codec::Codec::decoder(&mut tonic_prost::ProstCodec::<
            ExportTraceServiceRequest,
            ExportTraceServiceResponse,
        >::default())
    }
}

/// The OTLP/gRPC retry table.
fn classify(status: &tonic::Status) -> Attempt {
    let reason = format!("gRPC {:?}: {}", status.code(), status.message());
    match status.code() {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss => Attempt::Retry {
            reason,
            after: retry_info(status),
        },
        // Retryable only when the server says when (RetryInfo); otherwise it is a hard limit.
        Code::ResourceExhausted => match retry_info(status) {
            Some(after) => Attempt::Retry {
                reason,
                after: Some(after),
            },
            None => Attempt::Fatal(reason),
        },
        _ => Attempt::Fatal(reason),
    }
}

fn retry_info(status: &tonic::Status) -> Option<Duration> {
    use tonic_types::StatusExt;
    status
        .get_details_retry_info()
        .and_then(|ri| ri.retry_delay)
        .map(|d| d.min(Duration::from_secs(30)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::StatusExt as _;

    #[test]
    fn retry_table() {
        let retry =
            |c: Code| matches!(classify(&tonic::Status::new(c, "x")), Attempt::Retry { .. });
        assert!(retry(Code::Unavailable));
        assert!(retry(Code::DeadlineExceeded));
        assert!(!retry(Code::ResourceExhausted), "only with RetryInfo");
        assert!(!retry(Code::InvalidArgument));
        assert!(!retry(Code::Unauthenticated));
        let with_info = tonic::Status::with_error_details(
            Code::ResourceExhausted,
            "slow down",
            tonic_types::ErrorDetails::with_retry_info(Some(Duration::from_millis(250))),
        );
        match classify(&with_info) {
            Attempt::Retry { after, .. } => assert_eq!(after, Some(Duration::from_millis(250))),
            other => panic!("expected retry, got {other:?}"),
        }
    }
}
