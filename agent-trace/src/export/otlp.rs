//! The default exporters: `opentelemetry-otlp`'s, configured from [`Config`].
//!
//! opentelemetry-otlp does the wire: protobuf (or JSON) encoding, gRPC through tonic and HTTP
//! through a client we choose explicitly, the OTLP retry table with `RetryInfo` and
//! `Retry-After` (both forms), jitter, compression and TLS. Two things it does not do are
//! added here, for HTTP, through its `HttpClient` extension point:
//!
//! - OTLP partial success: it only logs `rejected_spans`; [`ReportingClient`] reads them from
//!   the answer and reports them to the pipeline, which counts those spans as failed;
//! - a 2xx answer whose body dribbles in: the status already says the batch was accepted, so
//!   the body is read for at most [`BODY_GRACE`] and not waited for beyond that.
//!
//! The gRPC exporter has no such hook (tonic's channel is concrete), but it reports a partial
//! success as a `tracing` event (`TonicTracesClient.PartialSuccess`, with `rejected_spans`;
//! its `internal-logs` feature). [`PartialSuccessTap`] reads that event on the export thread,
//! where each gRPC export runs under it, and forwards every event and span to the
//! subscriber that was current, so the application's logs see the same as before.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_otlp::WithExportConfig as _;
#[cfg(feature = "otlp-http")]
use opentelemetry_otlp::WithHttpConfig as _;

use crate::config::{Config, Protocol};
use crate::export::pipeline::{DynExporter, ExportTarget, Failing};

/// How long the body of an accepted (2xx) HTTP answer is read before it is given up on.
#[cfg(feature = "otlp-http")]
pub(crate) const BODY_GRACE: Duration = Duration::from_millis(500);

/// Builds the OTLP exporter for `config`. Runs on the export thread, inside its runtime.
pub(crate) fn exporter(config: &Config, resource: &opentelemetry_sdk::Resource) -> ExportTarget {
    // Spans the collector rejected in answers it otherwise accepted (OTLP partial success).
    let rejected = Arc::new(AtomicU64::new(0));
    let built = match config.protocol {
        #[cfg(feature = "otlp-grpc")]
        Protocol::Grpc => grpc(config).map(|e| {
            let tap = PartialSuccessTap::dispatch(rejected.clone());
            Box::new(TappedGrpc { inner: e, tap }) as Box<dyn DynExporter>
        }),
        #[cfg(feature = "otlp-http")]
        Protocol::HttpProtobuf | Protocol::HttpJson => {
            http(config, rejected.clone()).map(|e| Box::new(e) as Box<dyn DynExporter>)
        }
        #[allow(unreachable_patterns)]
        other => Err(format!(
            "this build has no exporter for {other:?}: {}",
            crate::config::missing_feature(other)
        )),
    };
    match built {
        Ok(mut exporter) => {
            exporter.set_resource(resource);
            ExportTarget {
                exporter,
                rejected: Some(rejected),
            }
        }
        Err(reason) => ExportTarget {
            exporter: Box::new(Failing(reason)),
            rejected: None,
        },
    }
}

/// `OTEL_EXPORTER_OTLP_HEADERS` as gRPC metadata (names lowercased).
#[cfg(feature = "otlp-grpc")]
pub(crate) fn grpc_metadata(
    headers: &[(String, String)],
) -> Result<tonic::metadata::MetadataMap, String> {
    let mut metadata = tonic::metadata::MetadataMap::new();
    for (k, v) in headers {
        match (
            tonic::metadata::MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes()),
            tonic::metadata::MetadataValue::try_from(v.as_str()),
        ) {
            (Ok(k), Ok(v)) => {
                metadata.insert(k, v);
            }
            _ => return Err(format!("header {k:?} cannot be sent as gRPC metadata")),
        }
    }
    Ok(metadata)
}

#[cfg(feature = "otlp-grpc")]
fn grpc(config: &Config) -> Result<opentelemetry_otlp::SpanExporter, String> {
    use opentelemetry_otlp::WithTonicConfig as _;
    let metadata = grpc_metadata(&config.headers)?;
    let builder = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(config.endpoint.clone())
        .with_timeout(config.export_timeout)
        .with_metadata(metadata);
    #[cfg(feature = "gzip")]
    let builder = match config.compression {
        Some(crate::config::Compression::Gzip) => {
            builder.with_compression(opentelemetry_otlp::Compression::Gzip)
        }
        None => builder,
    };
    #[cfg(feature = "tls")]
    let builder = match tls_config(config)? {
        Some(tls) => builder.with_tls_config(tls),
        None => builder,
    };
    builder.build().map_err(|e| e.to_string())
}

/// The name opentelemetry-otlp's gRPC trace exporter gives its partial-success event.
#[cfg(feature = "otlp-grpc")]
const PARTIAL_SUCCESS_EVENT: &str = "TonicTracesClient.PartialSuccess";

/// opentelemetry-otlp's gRPC exporter, each export run under [`PartialSuccessTap`].
#[cfg(feature = "otlp-grpc")]
#[derive(Debug)]
struct TappedGrpc {
    inner: opentelemetry_otlp::SpanExporter,
    tap: tracing::Dispatch,
}

#[cfg(feature = "otlp-grpc")]
impl opentelemetry_sdk::trace::SpanExporter for TappedGrpc {
    async fn export(
        &self,
        batch: Vec<opentelemetry_sdk::trace::SpanData>,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        use tracing::instrument::WithSubscriber as _;
        let export = opentelemetry_sdk::trace::SpanExporter::export(&self.inner, batch);
        export.with_subscriber(self.tap.clone()).await
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.inner.force_flush()
    }
    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        opentelemetry_sdk::trace::SpanExporter::set_resource(&mut self.inner, resource)
    }
}

/// A `tracing` subscriber for the export thread: it adds the `rejected_spans` of
/// opentelemetry-otlp's partial-success events to `rejected` and hands everything, those
/// events included, to the subscriber that was current when it was made.
#[cfg(feature = "otlp-grpc")]
struct PartialSuccessTap {
    inner: tracing::Dispatch,
    rejected: Arc<AtomicU64>,
}

#[cfg(feature = "otlp-grpc")]
impl PartialSuccessTap {
    fn dispatch(rejected: Arc<AtomicU64>) -> tracing::Dispatch {
        let inner = tracing::dispatcher::get_default(Clone::clone);
        tracing::Dispatch::new(PartialSuccessTap { inner, rejected })
    }

    fn is_partial_success(meta: &tracing::Metadata<'_>) -> bool {
        meta.name() == PARTIAL_SUCCESS_EVENT
    }
}

#[cfg(feature = "otlp-grpc")]
impl tracing::Subscriber for PartialSuccessTap {
    fn register_callsite(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        match Self::is_partial_success(meta) {
            true => tracing::subscriber::Interest::always(),
            false => self.inner.register_callsite(meta),
        }
    }
    fn enabled(&self, meta: &tracing::Metadata<'_>) -> bool {
        Self::is_partial_success(meta) || self.inner.enabled(meta)
    }
    fn event(&self, event: &tracing::Event<'_>) {
        if Self::is_partial_success(event.metadata()) {
            struct Rejected(u64);
            impl tracing::field::Visit for Rejected {
                fn record_i64(&mut self, f: &tracing::field::Field, v: i64) {
                    if f.name() == "rejected_spans" {
                        self.0 = u64::try_from(v).unwrap_or(0);
                    }
                }
                fn record_u64(&mut self, f: &tracing::field::Field, v: u64) {
                    if f.name() == "rejected_spans" {
                        self.0 = v;
                    }
                }
                fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
            }
            let mut n = Rejected(0);
            event.record(&mut n);
            self.rejected.fetch_add(n.0, Ordering::Relaxed);
        }
        if self.inner.enabled(event.metadata()) {
            self.inner.event(event);
        }
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        self.inner.new_span(span)
    }
    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        self.inner.record(span, values)
    }
    fn record_follows_from(&self, span: &tracing::span::Id, follows: &tracing::span::Id) {
        self.inner.record_follows_from(span, follows)
    }
    fn enter(&self, span: &tracing::span::Id) {
        self.inner.enter(span)
    }
    fn exit(&self, span: &tracing::span::Id) {
        self.inner.exit(span)
    }
    fn clone_span(&self, id: &tracing::span::Id) -> tracing::span::Id {
        self.inner.clone_span(id)
    }
    fn try_close(&self, id: tracing::span::Id) -> bool {
        self.inner.try_close(id)
    }
}

#[cfg(all(feature = "otlp-grpc", feature = "tls"))]
fn tls_config(config: &Config) -> Result<Option<tonic::transport::ClientTlsConfig>, String> {
    use tonic::transport::{Certificate, ClientTlsConfig, Identity};
    if !config.endpoint.starts_with("https://") {
        return Ok(None);
    }
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
    };
    let mut tls = ClientTlsConfig::new().with_webpki_roots();
    if let Some(ca) = &config.tls.certificate {
        tls = tls.ca_certificate(Certificate::from_pem(read(ca)?));
    }
    if let (Some(cert), Some(key)) = (&config.tls.client_certificate, &config.tls.client_key) {
        tls = tls.identity(Identity::from_pem(read(cert)?, read(key)?));
    }
    Ok(Some(tls))
}

#[cfg(feature = "otlp-http")]
fn http(
    config: &Config,
    rejected: Arc<AtomicU64>,
) -> Result<opentelemetry_otlp::SpanExporter, String> {
    // An explicit client: feature unification elsewhere in the application cannot swap it,
    // and it never goes through a proxy to reach a collector on this machine's network.
    let client = reqwest::Client::builder().no_proxy();
    #[cfg(feature = "tls")]
    let client = {
        let mut client = client;
        let read = |path: &std::path::Path| {
            std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
        };
        if let Some(ca) = &config.tls.certificate {
            let cert = reqwest::Certificate::from_pem(&read(ca)?).map_err(|e| e.to_string())?;
            client = client.add_root_certificate(cert);
        }
        if let (Some(cert), Some(key)) = (&config.tls.client_certificate, &config.tls.client_key) {
            let mut pem = read(cert)?;
            pem.extend_from_slice(&read(key)?);
            client = client.identity(reqwest::Identity::from_pem(&pem).map_err(|e| e.to_string())?);
        }
        client
    };
    let client = client.build().map_err(|e| e.to_string())?;
    let builder = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(ReportingClient {
            client,
            rejected,
            json: config.protocol == Protocol::HttpJson,
        })
        .with_endpoint(config.endpoint.clone())
        .with_timeout(config.export_timeout)
        .with_headers(config.headers.iter().cloned().collect())
        .with_protocol(match config.protocol {
            Protocol::HttpJson => opentelemetry_otlp::Protocol::HttpJson,
            _ => opentelemetry_otlp::Protocol::HttpBinary,
        });
    #[cfg(feature = "gzip")]
    let builder = match config.compression {
        Some(crate::config::Compression::Gzip) => {
            builder.with_compression(opentelemetry_otlp::Compression::Gzip)
        }
        None => builder,
    };
    builder.build().map_err(|e| e.to_string())
}

/// Builds an opentelemetry-otlp exporter of another signal (`$exporter::builder()`: metrics,
/// logs) for `config`'s protocol, headers and timeout, to `endpoint`, each builder also given
/// `$extra` (`with_temporality(..)` for metrics). Used inside a function returning `Option`:
/// `None` when this build lacks the transport or the settings are rejected.
#[cfg(any(feature = "metrics", feature = "logs"))]
macro_rules! signal_exporter {
    ($exporter:path, $config:expr, $endpoint:expr $(, $extra:ident($arg:expr))*) => {{
        use opentelemetry_otlp::WithExportConfig as _;
        #[allow(unused_imports)]
        use $crate::config::Protocol;
        let config = $config;
        let built = match config.protocol {
            #[cfg(feature = "otlp-grpc")]
            Protocol::Grpc => {
                use opentelemetry_otlp::WithTonicConfig as _;
                let metadata = $crate::export::otlp::grpc_metadata(&config.headers).ok()?;
                <$exporter>::builder()
                    .with_tonic()
                    .with_endpoint($endpoint)
                    .with_timeout(config.export_timeout)
                    .with_metadata(metadata)
                    $(.$extra($arg))*
                    .build()
            }
            #[cfg(feature = "otlp-http")]
            p @ (Protocol::HttpProtobuf | Protocol::HttpJson) => {
                use opentelemetry_otlp::WithHttpConfig as _;
                let client =
                    $crate::export::otlp::ReportingClient::direct(p == Protocol::HttpJson)?;
                <$exporter>::builder()
                    .with_http()
                    .with_http_client(client)
                    .with_endpoint($endpoint)
                    .with_timeout(config.export_timeout)
                    .with_headers(config.headers.iter().cloned().collect())
                    .with_protocol(match p {
                        Protocol::HttpJson => opentelemetry_otlp::Protocol::HttpJson,
                        _ => opentelemetry_otlp::Protocol::HttpBinary,
                    })
                    $(.$extra($arg))*
                    .build()
            }
            #[allow(unreachable_patterns)]
            _ => return None,
        };
        built.ok()?
    }};
}
#[cfg(any(feature = "metrics", feature = "logs"))]
pub(crate) use signal_exporter;

/// opentelemetry-otlp's HTTP client: reqwest, reporting `rejected_spans` of partial successes
/// and not waiting on the body of an accepted answer past [`BODY_GRACE`].
#[cfg(feature = "otlp-http")]
#[derive(Debug, Clone)]
pub(crate) struct ReportingClient {
    client: reqwest::Client,
    rejected: Arc<AtomicU64>,
    json: bool,
}

#[cfg(feature = "otlp-http")]
impl ReportingClient {
    /// A client whose partial-success reports go nowhere (metrics, logs); no proxy (the
    /// collector is addressed directly, as the span exporter does).
    #[cfg_attr(not(any(feature = "metrics", feature = "logs")), allow(dead_code))]
    pub(crate) fn direct(json: bool) -> Option<Self> {
        let client = reqwest::Client::builder().no_proxy().build().ok()?;
        Some(ReportingClient {
            client,
            rejected: Arc::new(AtomicU64::new(0)),
            json,
        })
    }
}

/// The private current-thread runtime an exporter that the SDK calls from a thread of its own
/// (the metrics reader, the batch log processor) runs its tonic or reqwest calls on; its
/// thread is an export thread (nothing there is traced).
#[cfg_attr(not(any(feature = "metrics", feature = "logs")), allow(dead_code))]
pub(crate) fn io_runtime(name: &str) -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name(name)
        .on_thread_start(crate::state::mark_export_thread)
        .build()
        .ok()
}

/// Answers larger than this are not read (an OTLP answer is a few bytes).
#[cfg(feature = "otlp-http")]
const MAX_BODY: usize = 64 * 1024;

#[cfg(feature = "otlp-http")]
#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for ReportingClient {
    async fn send_bytes(
        &self,
        request: http::Request<bytes::Bytes>,
    ) -> Result<http::Response<bytes::Bytes>, opentelemetry_http::HttpError> {
        let request: reqwest::Request = request.try_into()?;
        let mut response = self.client.execute(request).await?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let read = async {
            let mut body = bytes::BytesMut::new();
            while let Ok(Some(chunk)) = response.chunk().await {
                if body.len() + chunk.len() > MAX_BODY {
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            body.freeze()
        };
        let body = tokio::time::timeout(BODY_GRACE, read)
            .await
            .unwrap_or_default();
        if status.is_success() {
            let n = rejected_spans(&body, self.json);
            if n > 0 {
                self.rejected.fetch_add(n, Ordering::Relaxed);
            }
        }
        let mut out = http::Response::builder().status(status).body(body)?;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

/// `partial_success.rejected_spans` of an export answer; 0 when absent or unreadable.
#[cfg(feature = "otlp-http")]
fn rejected_spans(body: &[u8], json: bool) -> u64 {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
    if body.is_empty() {
        return 0;
    }
    let response = if json {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .map(|v| {
                v.pointer("/partialSuccess/rejectedSpans")
                    .and_then(|n| n.as_u64().or_else(|| n.as_str()?.parse().ok()))
                    .unwrap_or(0)
            })
    } else {
        <ExportTraceServiceResponse as prost::Message>::decode(body)
            .ok()
            .map(|r| {
                r.partial_success
                    .map_or(0, |p| p.rejected_spans.max(0) as u64)
            })
    };
    response.unwrap_or(0)
}

#[cfg(all(test, feature = "otlp-http"))]
mod tests {
    use super::*;

    #[test]
    fn rejected_spans_from_protobuf_and_json_answers() {
        use opentelemetry_proto::tonic::collector::trace::v1::{
            ExportTracePartialSuccess, ExportTraceServiceResponse,
        };
        let answer = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 3,
                error_message: "too old".into(),
            }),
        };
        assert_eq!(
            rejected_spans(&prost::Message::encode_to_vec(&answer), false),
            3
        );
        assert_eq!(
            rejected_spans(br#"{"partialSuccess":{"rejectedSpans":"2"}}"#, true),
            2
        );
        assert_eq!(
            rejected_spans(br#"{"partialSuccess":{"rejectedSpans":4}}"#, true),
            4
        );
        assert_eq!(rejected_spans(b"\xff\xff garbage", false), 0);
        assert_eq!(rejected_spans(b"", false), 0);
    }
}
