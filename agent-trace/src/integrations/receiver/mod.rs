//! An OTLP trace receiver on 127.0.0.1: gRPC and HTTP/protobuf, the real wire format
//! (feature `receiver`). `agent-trace view` is built on it, and tests use it to check what goes
//! over the wire.
//!
//! It runs on a thread of its own with its own runtime, so sync tests, async tests and
//! examples can all use it. Its [`Behavior`] can be changed at any time to script faults:
//! answer with an error status, or accept a request and never answer.
//!
//! ```
//! use agent_trace::receiver::OtlpReceiver;
//! let rx = OtlpReceiver::start().unwrap();
//! assert!(rx.grpc_endpoint().starts_with("http://127.0.0.1:"));
//! assert!(rx.spans().is_empty());
//! ```
//!
//! Layers, bottom up: `tls`, `wire` < `logs`, `metrics`. (`tests/layout.rs`)

use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;

/// How the receiver answers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Behavior {
    /// Accept and store every request.
    Accept,
    /// Answer the next `times` requests with an error (gRPC `grpc_code`, HTTP `http_status`
    /// with an optional `Retry-After` in seconds), storing nothing; then accept again.
    Fail {
        /// Requests left to fail.
        times: u32,
        /// gRPC status code (`tonic::Code` as i32, e.g. 14 for UNAVAILABLE).
        grpc_code: i32,
        /// HTTP status, e.g. 503.
        http_status: u16,
        /// `Retry-After` seconds for HTTP.
        retry_after: Option<u32>,
    },
    /// Read each request (traces and metrics) and never answer it.
    Hang,
    /// Answer every request correctly, but only after `delay_ms`.
    Slow {
        /// Delay before each answer.
        delay_ms: u64,
    },
    /// Answer the next `times` requests "slow down": gRPC `RESOURCE_EXHAUSTED` with a
    /// `RetryInfo` detail, HTTP 429 with `Retry-After`, both saying `delay_secs`; then accept.
    Throttle {
        /// Requests left to throttle.
        times: u32,
        /// The delay the answer asks for.
        delay_secs: u32,
    },
    /// Store nothing and answer success with a body that is not OTLP (HTTP), or an empty
    /// success (gRPC).
    GarbageOk,
    /// Store the spans, but answer an OTLP partial success saying `rejected` of them were
    /// rejected (gRPC and HTTP).
    PartialSuccess {
        /// `rejected_spans` in the answer.
        rejected: i64,
    },
}

#[cfg(feature = "logs")]
mod logs;
#[cfg(feature = "metrics")]
mod metrics;
#[cfg(feature = "tls")]
mod tls;
mod wire;

#[cfg(feature = "logs")]
pub use wire::ReceivedLog;
use wire::{http_answer, partial, request_body};
pub use wire::{spans_from_request, ReceivedMetric, ReceivedSpan};

/// How many raw requests wait for `take_requests` before the oldest are dropped.
const MAX_RAW_REQUESTS: usize = 10_000;
/// How many requests' headers [`OtlpReceiver::request_headers`] keeps (the latest); none in
/// count-only mode. A long-running viewer must not grow with every request.
pub const MAX_KEPT_HEADERS: usize = 1_000;

#[derive(Debug)]
struct Store {
    state: Mutex<StoreState>,
    changed: Condvar,
}

#[derive(Debug)]
struct StoreState {
    metrics: Vec<ReceivedMetric>,
    #[cfg(feature = "logs")]
    logs: Vec<ReceivedLog>,
    /// Store spans (tests, viewers) or only count them (throughput benchmarks).
    keep: bool,
    received: u64,
    spans: Vec<ReceivedSpan>,
    raw: std::collections::VecDeque<ExportTraceServiceRequest>,
    raw_dropped: u64,
    headers: std::collections::VecDeque<Vec<(String, String)>>,
    requests: u64,
    rejected: u64,
    behavior: Behavior,
}

impl Store {
    fn lock(&self) -> MutexGuard<'_, StoreState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What to do with the next request: `Ok(delay)` store it (after `delay`), `Err(Some(b))`
    /// answer as `b` says, `Err(None)` hang.
    fn decide(&self, headers: Vec<(String, String)>) -> Result<Duration, Option<Behavior>> {
        let mut st = self.lock();
        st.requests += 1;
        if st.keep {
            if st.headers.len() == MAX_KEPT_HEADERS {
                st.headers.pop_front();
            }
            st.headers.push_back(headers);
        }
        let decision = match &mut st.behavior {
            Behavior::Accept => Ok(Duration::ZERO),
            Behavior::Slow { delay_ms } => Ok(Duration::from_millis(*delay_ms)),
            Behavior::Hang => Err(None),
            Behavior::GarbageOk => Err(Some(Behavior::GarbageOk)),
            Behavior::PartialSuccess { .. } => Err(Some(st.behavior.clone())),
            Behavior::Fail { times, .. } | Behavior::Throttle { times, .. } if *times == 0 => {
                Ok(Duration::ZERO)
            }
            Behavior::Fail { times, .. } | Behavior::Throttle { times, .. } => {
                *times -= 1;
                Err(Some(st.behavior.clone()))
            }
        };
        if decision.is_err() && !matches!(st.behavior, Behavior::PartialSuccess { .. }) {
            st.rejected += 1;
        }
        drop(st);
        self.changed.notify_all();
        decision
    }

    fn add(&self, request: &ExportTraceServiceRequest, transport: &'static str) {
        let n: usize = request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        {
            let mut st = self.lock();
            st.received += n as u64;
            if !st.keep {
                drop(st);
                self.changed.notify_all();
                return;
            }
        }
        let spans = spans_from_request(request, transport);
        let mut st = self.lock();
        st.spans.extend(spans);
        // The raw requests are kept for `take_requests` (viewers), boundedly.
        if st.raw.len() >= MAX_RAW_REQUESTS {
            st.raw.pop_front();
            st.raw_dropped += 1;
        }
        st.raw.push_back(request.clone());
        drop(st);
        self.changed.notify_all();
    }
}

#[derive(Debug, Clone)]
struct Grpc(Arc<Store>);

#[tonic::async_trait]
impl TraceService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let headers = request
            .metadata()
            .clone()
            .into_headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        match self.0.decide(headers) {
            Ok(delay) => {
                tokio::time::sleep(delay).await;
                self.0.add(request.get_ref(), "grpc");
                Ok(tonic::Response::new(ExportTraceServiceResponse {
                    partial_success: None,
                }))
            }
            Err(Some(Behavior::Fail { grpc_code, .. })) => Err(tonic::Status::new(
                tonic::Code::from_i32(grpc_code),
                "scripted failure",
            )),
            Err(Some(Behavior::Throttle { delay_secs, .. })) => {
                use tonic_types::{ErrorDetails, StatusExt as _};
                Err(tonic::Status::with_error_details(
                    tonic::Code::ResourceExhausted,
                    "scripted throttling",
                    ErrorDetails::with_retry_info(Some(Duration::from_secs(u64::from(delay_secs)))),
                ))
            }
            Err(Some(Behavior::PartialSuccess { rejected })) => {
                self.0.add(request.get_ref(), "grpc");
                Ok(tonic::Response::new(partial(rejected)))
            }
            Err(Some(_)) => Ok(tonic::Response::new(ExportTraceServiceResponse {
                partial_success: None,
            })),
            Err(None) => std::future::pending().await,
        }
    }
}

/// The OTLP request of an HTTP export and whether it came as JSON, or the answer refusing it.
#[allow(clippy::result_large_err)] // the refusal is an HTTP response, built once
fn decode_http_export(
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(ExportTraceServiceRequest, bool), Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json = content_type.starts_with("application/json");
    if !json && !content_type.starts_with("application/x-protobuf") {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected content-type application/x-protobuf or application/json",
        )
            .into_response());
    }
    let body = match request_body(headers, body) {
        Ok(b) => b,
        Err(e) => return Err((StatusCode::BAD_REQUEST, e).into_response()),
    };
    let decoded = if json {
        serde_json::from_slice::<ExportTraceServiceRequest>(&body).map_err(|e| e.to_string())
    } else {
        ExportTraceServiceRequest::decode(body).map_err(|e| e.to_string())
    };
    match decoded {
        Ok(r) => Ok((r, json)),
        Err(e) => Err((
            StatusCode::BAD_REQUEST,
            format!("invalid OTLP request: {e}"),
        )
            .into_response()),
    }
}

async fn http_export(
    axum::extract::State(store): axum::extract::State<Arc<Store>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (request, json) = match decode_http_export(&headers, body) {
        Ok(decoded) => decoded,
        Err(refused) => return refused,
    };
    let header_list = headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    match store.decide(header_list) {
        Ok(delay) => {
            tokio::time::sleep(delay).await;
            store.add(&request, "http");
            http_answer(
                json,
                &ExportTraceServiceResponse {
                    partial_success: None,
                },
            )
        }
        Err(Some(Behavior::PartialSuccess { rejected })) => {
            store.add(&request, "http");
            http_answer(json, &partial(rejected))
        }
        Err(Some(Behavior::Fail {
            http_status,
            retry_after,
            ..
        })) => {
            let status =
                StatusCode::from_u16(http_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut resp = (status, "scripted failure").into_response();
            if let Some(s) = retry_after {
                if let Ok(v) = s.to_string().parse() {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            resp
        }
        Err(Some(Behavior::Throttle { delay_secs, .. })) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, delay_secs.to_string())],
            "scripted throttling",
        )
            .into_response(),
        Err(Some(_)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            vec![0xde, 0xad, 0xbe, 0xef],
        )
            .into_response(),
        Err(None) => std::future::pending().await,
    }
}

/// A running receiver; stops when dropped.
#[derive(Debug)]
pub struct OtlpReceiver {
    grpc: SocketAddr,
    http: SocketAddr,
    store: Arc<Store>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Store {
    fn new() -> Self {
        Store {
            state: Mutex::new(StoreState {
                metrics: Vec::new(),
                #[cfg(feature = "logs")]
                logs: Vec::new(),
                keep: true,
                received: 0,
                spans: Vec::new(),
                raw: std::collections::VecDeque::new(),
                raw_dropped: 0,
                headers: std::collections::VecDeque::new(),
                requests: 0,
                rejected: 0,
                behavior: Behavior::Accept,
            }),
            changed: Condvar::new(),
        }
    }
}

/// Serves OTLP over gRPC and HTTP on the two listeners until `stop` fires.
async fn serve(
    grpc_l: std::net::TcpListener,
    http_l: std::net::TcpListener,
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))] tls: Option<(Vec<u8>, Vec<u8>)>,
    st: Arc<Store>,
    stop_rx: tokio::sync::oneshot::Receiver<()>,
) {
    let grpc_l = match tokio::net::TcpListener::from_std(grpc_l) {
        Ok(l) => l,
        Err(_) => return,
    };
    let http_l = match tokio::net::TcpListener::from_std(http_l) {
        Ok(l) => l,
        Err(_) => return,
    };
    let mut server = tonic::transport::Server::builder();
    #[cfg(feature = "tls")]
    if let Some((cert, key)) = &tls {
        let identity = tonic::transport::Identity::from_pem(cert, key);
        match server.tls_config(tonic::transport::ServerTlsConfig::new().identity(identity)) {
            Ok(s) => server = s,
            Err(_) => return,
        }
    }
    let grpc_server = server.add_service(
        TraceServiceServer::new(Grpc(st.clone()))
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
    );
    #[cfg(feature = "metrics")]
        let grpc_server = grpc_server.add_service(
            opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::MetricsServiceServer::new(
                Grpc(st.clone()),
            )
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
        );
    #[cfg(feature = "logs")]
    let grpc_server = grpc_server.add_service(
        opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::LogsServiceServer::new(
            Grpc(st.clone()),
        )
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
    );
    let grpc_server = grpc_server
        // Without TCP_NODELAY small gRPC answers wait on delayed ACKs.
        .serve_with_incoming(
            tonic::transport::server::TcpIncoming::from(grpc_l).with_nodelay(Some(true)),
        );
    let app = axum::Router::new().route("/v1/traces", axum::routing::post(http_export));
    #[cfg(feature = "metrics")]
    let app = app.route("/v1/metrics", axum::routing::post(metrics::http_metrics));
    #[cfg(feature = "logs")]
    let app = app.route("/v1/logs", axum::routing::post(logs::http_logs));
    let app = app.with_state(st);
    #[cfg(feature = "tls")]
    if let Some((cert, key)) = &tls {
        let Ok(http_l) = tls::TlsListener::new(http_l, cert, key) else {
            return;
        };
        tokio::select! {
            _ = grpc_server => {}
            _ = axum::serve(http_l, app) => {}
            _ = stop_rx => {}
        }
        return;
    }
    tokio::select! {
        _ = grpc_server => {}
        _ = axum::serve(http_l, app) => {}
        _ = stop_rx => {}
    }
}

impl OtlpReceiver {
    /// Starts on two ephemeral ports of 127.0.0.1.
    pub fn start() -> std::io::Result<Self> {
        Self::start_on(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            SocketAddr::from(([127, 0, 0, 1], 0)),
        )
    }

    /// Starts on the given addresses (port 0 for an ephemeral one). Only loopback addresses
    /// are accepted.
    pub fn start_on(grpc: SocketAddr, http: SocketAddr) -> std::io::Result<Self> {
        Self::start_with(grpc, http, None)
    }

    /// Starts on two ephemeral ports of 127.0.0.1, with gRPC and HTTP both over TLS using
    /// `cert_pem` and `key_pem`. For testing exporters' TLS settings with a certificate made
    /// in the test. Feature `tls`.
    #[cfg(feature = "tls")]
    pub fn start_tls(cert_pem: &[u8], key_pem: &[u8]) -> std::io::Result<Self> {
        Self::start_with(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            SocketAddr::from(([127, 0, 0, 1], 0)),
            Some((cert_pem.to_vec(), key_pem.to_vec())),
        )
    }

    fn start_with(
        grpc: SocketAddr,
        http: SocketAddr,
        #[cfg_attr(not(feature = "tls"), allow(unused_variables))] tls: Option<(Vec<u8>, Vec<u8>)>,
    ) -> std::io::Result<Self> {
        if !grpc.ip().is_loopback() || !http.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the test receiver listens on loopback addresses only",
            ));
        }
        let grpc_l = std::net::TcpListener::bind(grpc)?;
        let http_l = std::net::TcpListener::bind(http)?;
        grpc_l.set_nonblocking(true)?;
        http_l.set_nonblocking(true)?;
        let (grpc, http) = (grpc_l.local_addr()?, http_l.local_addr()?);
        let store = Arc::new(Store::new());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .thread_name("otlp-receiver")
            .build()?;
        let st = store.clone();
        let thread = std::thread::Builder::new()
            .name("otlp-receiver".into())
            .spawn(move || {
                runtime.block_on(serve(grpc_l, http_l, tls, st, stop_rx));
                runtime.shutdown_timeout(Duration::from_millis(200));
            })?;
        Ok(OtlpReceiver {
            grpc,
            http,
            store,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Stops storing what arrives and only counts spans ([`received_spans`](Self::received_spans)),
    /// for throughput measurements that would otherwise fill memory.
    pub fn count_only(&self) {
        self.store.lock().keep = false;
    }

    /// How many spans have arrived (stored or only counted).
    pub fn received_spans(&self) -> u64 {
        self.store.lock().received
    }

    /// `http://127.0.0.1:PORT` for OTLP/gRPC.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// `http://127.0.0.1:PORT` for OTLP/HTTP (the exporter appends `/v1/traces`).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http)
    }

    /// The gRPC address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc
    }

    /// The HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    /// Changes how the following requests are answered.
    pub fn set_behavior(&self, behavior: Behavior) {
        self.store.lock().behavior = behavior;
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.store.lock().spans.clone()
    }

    /// Removes and returns the requests received since the last call, as sent (at most the
    /// last 10,000; older ones are counted in [`dropped_requests`](Self::dropped_requests)).
    /// Also forgets the flattened spans, so a long-running viewer does not grow.
    pub fn take_requests(&self) -> Vec<ExportTraceServiceRequest> {
        let mut st = self.store.lock();
        st.spans.clear();
        st.raw.drain(..).collect()
    }

    /// Requests dropped from the `take_requests` buffer because nobody took them.
    pub fn dropped_requests(&self) -> u64 {
        self.store.lock().raw_dropped
    }

    /// The headers (gRPC metadata) of each request received, in order: the latest
    /// [`MAX_KEPT_HEADERS`], and none received in count-only mode.
    pub fn request_headers(&self) -> Vec<Vec<(String, String)>> {
        self.store.lock().headers.iter().cloned().collect()
    }

    /// Every metric data point received so far (feature `metrics`).
    pub fn metrics(&self) -> Vec<ReceivedMetric> {
        self.store.lock().metrics.clone()
    }

    /// Every log record received so far (feature `logs`).
    #[cfg(feature = "logs")]
    pub fn logs(&self) -> Vec<ReceivedLog> {
        self.store.lock().logs.clone()
    }

    /// Waits until `n` log records arrived or `timeout` passed; returns all of them.
    #[cfg(feature = "logs")]
    pub fn wait_for_logs(&self, n: usize, timeout: Duration) -> Vec<ReceivedLog> {
        self.wait_until(timeout, |st| st.logs.len() >= n);
        self.logs()
    }

    /// Waits until a metric named `name` arrived or `timeout` passed; returns all metrics.
    pub fn wait_for_metric(&self, name: &str, timeout: Duration) -> Vec<ReceivedMetric> {
        self.wait_until(timeout, |st| st.metrics.iter().any(|m| m.name == name));
        self.metrics()
    }

    /// Requests received (accepted or not).
    pub fn requests(&self) -> u64 {
        self.store.lock().requests
    }

    /// Requests answered with a scripted failure or left hanging.
    pub fn rejected(&self) -> u64 {
        self.store.lock().rejected
    }

    /// Waits until at least `n` spans arrived or `timeout` passed; returns what arrived.
    pub fn wait_for_spans(&self, n: usize, timeout: Duration) -> Vec<ReceivedSpan> {
        self.wait_until(timeout, |st| st.spans.len() >= n);
        self.spans()
    }

    /// Waits until at least `n` requests arrived or `timeout` passed; returns the count.
    pub fn wait_for_requests(&self, n: u64, timeout: Duration) -> u64 {
        self.wait_until(timeout, |st| st.requests >= n);
        self.requests()
    }

    /// Waits until `n` spans have arrived (stored or only counted) or `timeout` passed;
    /// returns how many have.
    pub fn wait_for_count(&self, n: u64, timeout: Duration) -> u64 {
        self.wait_until(timeout, |st| st.received >= n);
        self.received_spans()
    }

    fn wait_until(&self, timeout: Duration, done: impl Fn(&StoreState) -> bool) {
        let deadline = crate::export::pipeline::deadline_after(timeout);
        let mut st = self.store.lock();
        while !done(&st) {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            st = self
                .store
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
