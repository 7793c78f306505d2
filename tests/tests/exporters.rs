//! Export through opentelemetry-otlp under agent-trace's pipeline, and users' own exporters
//! and processors plugged in through the builder; all against a real receiver on 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent_trace::opentelemetry_sdk::error::OTelSdkResult;
use agent_trace::opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use agent_trace::opentelemetry_sdk::Resource;
use agent_trace::receiver::{Behavior, OtlpReceiver};
use agent_trace::testing::Capture;
use agent_trace::{traced_tool, Compression, Protocol};
use agent_trace_tests::builder_for;

#[traced_tool]
fn step(i: u32) -> u32 {
    i + 1
}

/// A user's exporter: keeps what it gets, and the resource the pipeline gave it.
#[derive(Debug, Clone, Default)]
struct Keeping {
    spans: Arc<Mutex<Vec<SpanData>>>,
    service: Arc<Mutex<Option<String>>>,
}

impl SpanExporter for Keeping {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.spans.lock().unwrap().extend(batch);
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        let name = resource
            .get(&agent_trace::opentelemetry::Key::from_static_str(
                "service.name",
            ))
            .map(|v| v.to_string());
        *self.service.lock().unwrap() = name;
    }
}

/// A user's processor: counts starts and ends.
#[derive(Debug, Clone, Default)]
struct Counting {
    started: Arc<AtomicUsize>,
    ended: Arc<AtomicUsize>,
}

impl SpanProcessor for Counting {
    fn on_start(&self, _span: &mut Span, _cx: &agent_trace::opentelemetry::Context) {
        self.started.fetch_add(1, Ordering::SeqCst);
    }
    fn on_end(&self, _span: SpanData) {
        self.ended.fetch_add(1, Ordering::SeqCst);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

#[test]
fn a_users_exporter_and_processor_plug_in_through_the_builder() {
    agent_trace::isolate!();
    let exporter = Keeping::default();
    let processor = Counting::default();
    let guard = agent_trace::builder()
        .service_name("plugged")
        .span_exporter(exporter.clone())
        .span_processor(processor.clone())
        .install_subscriber(false)
        .env(|_| None)
        .install()
        .expect("install");
    assert!(agent_trace::is_enabled(), "an exporter turns tracing on");
    for i in 0..5 {
        step(i);
    }
    let stats = guard.shutdown().expect("all delivered");
    assert_eq!((stats.ended, stats.exported), (5, 5));
    let spans = exporter.spans.lock().unwrap();
    assert_eq!(spans.len(), 5);
    assert!(spans.iter().all(|s| s.name == "execute_tool step"));
    assert_eq!(exporter.service.lock().unwrap().as_deref(), Some("plugged"));
    assert_eq!(processor.started.load(Ordering::SeqCst), 5);
    assert_eq!(processor.ended.load(Ordering::SeqCst), 5);
}

#[test]
fn capture_hooks_into_a_real_pipeline_through_span_processor() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = builder_for("captured", &rx.grpc_endpoint(), Protocol::Grpc)
        .span_processor(Capture::processor())
        .install()
        .expect("install");
    let cap = Capture::start();
    cap.in_scope(|| step(1));
    assert_eq!(cap.spans().len(), 1, "the capture saw the span");
    let stats = guard.shutdown().expect("delivered");
    assert_eq!(stats.exported, 1, "and the collector got it too");
    assert_eq!(rx.spans().len(), 1);
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn http_json_and_gzip_over_both_transports() {
    agent_trace::isolate!();
    for (protocol, compression) in [
        (Protocol::HttpJson, None),
        (Protocol::HttpJson, Some(Compression::Gzip)),
        (Protocol::HttpProtobuf, Some(Compression::Gzip)),
        (Protocol::Grpc, Some(Compression::Gzip)),
    ] {
        let rx = OtlpReceiver::start().expect("receiver");
        let endpoint = match protocol {
            Protocol::Grpc => rx.grpc_endpoint(),
            _ => rx.http_endpoint(),
        };
        let guard = builder_for("formats", &endpoint, protocol)
            .compression(compression)
            .metrics(false)
            .install()
            .expect("install");
        for i in 0..3 {
            step(i);
        }
        let stats = guard.shutdown().expect("delivered");
        assert_eq!(stats.exported, 3, "{protocol:?} {compression:?}");
        let spans = rx.spans();
        assert_eq!(spans.len(), 3, "{protocol:?} {compression:?}");
        assert!(spans.iter().all(|s| s.service == "formats"));
        let headers = rx.request_headers();
        let first = &headers[0];
        match protocol {
            Protocol::Grpc => assert_eq!(header(first, "grpc-encoding"), Some("gzip")),
            _ => {
                let json = protocol == Protocol::HttpJson;
                let ct = header(first, "content-type").unwrap_or_default();
                assert_eq!(ct.starts_with("application/json"), json, "{ct}");
                let gz = header(first, "content-encoding");
                assert_eq!(gz, compression.map(|_| "gzip"), "{protocol:?}");
            }
        }
    }
}

#[test]
fn compression_from_the_environment() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let endpoint = rx.http_endpoint();
    let guard = agent_trace::builder()
        .service_name("env-gzip")
        .install_subscriber(false)
        .env(move |name| match name {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.clone()),
            "OTEL_EXPORTER_OTLP_PROTOCOL" => Some("http/json".into()),
            "OTEL_EXPORTER_OTLP_COMPRESSION" => Some("gzip".into()),
            "OTEL_METRICS_EXPORTER" => Some("none".into()),
            _ => None,
        })
        .install()
        .expect("install");
    step(1);
    assert_eq!(guard.shutdown().expect("delivered").exported, 1);
    let headers = rx.request_headers();
    assert_eq!(header(&headers[0], "content-encoding"), Some("gzip"));
    assert!(header(&headers[0], "content-type")
        .unwrap_or_default()
        .starts_with("application/json"));
}

#[test]
fn partial_success_counts_rejected_spans_as_failed() {
    agent_trace::isolate!();
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf, Protocol::HttpJson] {
        let rx = OtlpReceiver::start().expect("receiver");
        rx.set_behavior(Behavior::PartialSuccess { rejected: 2 });
        let endpoint = match protocol {
            Protocol::Grpc => rx.grpc_endpoint(),
            _ => rx.http_endpoint(),
        };
        let guard = builder_for("partial", &endpoint, protocol)
            .max_export_batch_size(5)
            .metrics(false)
            .install()
            .expect("install");
        for i in 0..5 {
            step(i);
        }
        let stats = agent_trace::force_flush(Duration::from_secs(10)).unwrap_err();
        let agent_trace::ShutdownError::Incomplete(s) = stats else {
            unreachable!()
        };
        assert_eq!((s.ended, s.exported, s.failed), (5, 3, 2), "{protocol:?}");
        assert_eq!(
            s.ended,
            s.exported + s.dropped() + s.pending + s.sampled_out
        );
        drop(guard);
    }
}

#[test]
fn shutdown_is_bounded_with_metrics_on_and_a_collector_that_never_answers() {
    agent_trace::isolate!();
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
        let rx = OtlpReceiver::start().expect("receiver");
        rx.set_behavior(Behavior::Hang);
        let endpoint = match protocol {
            Protocol::Grpc => rx.grpc_endpoint(),
            _ => rx.http_endpoint(),
        };
        let guard = builder_for("hung", &endpoint, protocol)
            .metrics(true)
            .install()
            .expect("install");
        for i in 0..3 {
            step(i);
        }
        let timeout = Duration::from_millis(1500);
        let started = Instant::now();
        let r = guard.shutdown_with_timeout(timeout);
        let took = started.elapsed();
        assert!(r.is_err(), "nothing was delivered");
        // The bug this guards against took timeout + 5 s (the SDK's fixed metrics wait).
        assert!(
            took < timeout + Duration::from_millis(1500),
            "{protocol:?}: shutdown took {took:?} with a {timeout:?} timeout"
        );
    }
}

#[test]
fn shutdown_with_an_unbounded_timeout_does_not_panic() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = builder_for("forever", &rx.grpc_endpoint(), Protocol::Grpc)
        .install()
        .expect("install");
    step(1);
    let stats = guard
        .shutdown_with_timeout(Duration::MAX)
        .expect("delivered");
    assert_eq!(stats.exported, 1);
}

/// CPU time (user + system, in clock ticks) of this process's thread named `name`.
fn thread_cpu_ticks(name: &str) -> Option<u64> {
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == name {
            let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
            // Fields after the `(comm)`: state is 3rd, utime 14th, stime 15th.
            let rest = &stat[stat.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split(' ').collect();
            return Some(f[11].parse::<u64>().ok()? + f[12].parse::<u64>().ok()?);
        }
    }
    None
}

#[test]
fn a_zero_schedule_delay_does_not_spin_while_idle() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = builder_for("idle", &rx.grpc_endpoint(), Protocol::Grpc)
        .schedule_delay(Duration::ZERO)
        .metrics(false)
        .install()
        .expect("install");
    step(1);
    assert_eq!(
        rx.wait_for_spans(1, Duration::from_secs(10)).len(),
        1,
        "delay 0 still exports"
    );
    let before = thread_cpu_ticks("agent-trace-exp").expect("the export thread");
    std::thread::sleep(Duration::from_secs(1));
    let after = thread_cpu_ticks("agent-trace-exp").expect("the export thread");
    // A spinning thread burns ~100 ticks in this second; a sleeping one ~0.
    assert!(
        after - before < 30,
        "export thread used {} ticks idle",
        after - before
    );
    step(2);
    let stats = guard.shutdown().expect("delivered");
    assert_eq!(stats.exported, 2);
}

/// A self-signed certificate for 127.0.0.1 and localhost, made here: (cert PEM, key PEM).
fn certificate() -> (String, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("certificate");
    (cert.cert.pem(), cert.signing_key.serialize_pem())
}

/// Exports over TLS to the receiver, trusting its certificate from the environment, then
/// without trusting it.
fn over_tls(protocol: Protocol) {
    let (cert, key) = certificate();
    let dir = std::env::temp_dir().join(format!(
        "agent-trace-tls-{}-{}",
        protocol.name().replace('/', "-"),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &cert).unwrap();
    let rx = OtlpReceiver::start_tls(cert.as_bytes(), key.as_bytes()).expect("TLS receiver");
    let port = match protocol {
        Protocol::Grpc => rx.grpc_addr().port(),
        _ => rx.http_addr().port(),
    };
    let endpoint = format!("https://localhost:{port}");

    // Trusting the test's certificate: delivered over TLS.
    let (ep, ca_path) = (endpoint.clone(), ca.to_string_lossy().into_owned());
    let guard = agent_trace::builder()
        .service_name("tls")
        .install_subscriber(false)
        .metrics(false)
        .env(move |name| match name {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(ep.clone()),
            "OTEL_EXPORTER_OTLP_PROTOCOL" => Some(protocol.name().into()),
            "OTEL_EXPORTER_OTLP_CERTIFICATE" => Some(ca_path.clone()),
            _ => None,
        })
        .install()
        .expect("install");
    step(1);
    let stats = guard.shutdown().expect("delivered over TLS");
    assert_eq!(stats.exported, 1);
    assert_eq!(rx.spans().len(), 1);

    // Not trusting it: the handshake fails and the span is counted as failed, not sent.
    let guard = agent_trace::builder()
        .service_name("tls-untrusted")
        .install_subscriber(false)
        .metrics(false)
        .export_timeout(Duration::from_secs(2))
        .env(move |name| match name {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.clone()),
            "OTEL_EXPORTER_OTLP_PROTOCOL" => Some(protocol.name().into()),
            _ => None,
        })
        .install()
        .expect("install");
    step(2);
    let r = guard.shutdown_with_timeout(Duration::from_secs(5));
    let Err(agent_trace::ShutdownError::Incomplete(s)) = r else {
        panic!("an untrusted certificate must not be accepted: {r:?}")
    };
    assert_eq!((s.exported, s.failed), (0, 1));
    assert_eq!(rx.spans().len(), 1, "nothing more arrived");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn grpc_over_tls_with_a_certificate_from_the_environment() {
    agent_trace::isolate!();
    over_tls(Protocol::Grpc);
}

#[test]
fn http_over_tls_with_a_certificate_from_the_environment() {
    agent_trace::isolate!();
    over_tls(Protocol::HttpProtobuf);
}

#[traced_tool(links = sources)]
fn merge(sources: &[agent_trace::opentelemetry::trace::SpanContext]) -> usize {
    sources.len()
}

#[test]
fn links_are_exported() {
    agent_trace::isolate!();
    use agent_trace::opentelemetry::trace::{SpanContext, TraceFlags, TraceState};
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = builder_for("links", &rx.grpc_endpoint(), Protocol::Grpc)
        .metrics(false)
        .install()
        .expect("install");
    let other = SpanContext::new(
        0x4bf92f3577b34da6a3ce929d0e0e4736u128.into(),
        0x00f067aa0ba902b7u64.into(),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    assert_eq!(merge(&[other]), 1);
    guard.shutdown().expect("delivered");
    let spans = rx.spans();
    assert_eq!(
        spans[0].links,
        vec![(
            "4bf92f3577b34da6a3ce929d0e0e4736".to_string(),
            "00f067aa0ba902b7".to_string()
        )]
    );
}
