//! A collector that is slow, dribbles its answer, answers garbage or retryable codes, or an
//! exporter that panics: the failure-safe promise holds (a collector that is down or
//! erroring is in `collector_down_or_erroring.rs`). Loopback only, bounded, no wall-clock assertions: counts, statuses, memory.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use agent_trace::receiver::{Behavior, OtlpReceiver};
use agent_trace::Protocol;
use agent_trace_tests::{balanced, builder_for, loss, work};

fn endpoint(rx: &OtlpReceiver, p: Protocol) -> String {
    if p == Protocol::Grpc {
        rx.grpc_endpoint()
    } else {
        rx.http_endpoint()
    }
}

const BOTH: [Protocol; 2] = [Protocol::Grpc, Protocol::HttpProtobuf];

#[test]
fn slow_collector_within_the_timeout_gets_everything() {
    agent_trace::isolate!();
    for p in BOTH {
        let rx = OtlpReceiver::start().expect("receiver");
        rx.set_behavior(Behavior::Slow { delay_ms: 300 });
        let guard = builder_for("slow", &endpoint(&rx, p), p)
            .export_timeout(Duration::from_secs(10))
            .install()
            .expect("install");
        for i in 0..20 {
            work(i);
        }
        let s = guard.shutdown().expect("delivered");
        assert_eq!((s.ended, s.exported), (20, 20));
    }
}

#[test]
fn slow_collector_past_the_timeout_is_a_counted_failure() {
    agent_trace::isolate!();
    for p in BOTH {
        let rx = OtlpReceiver::start().expect("receiver");
        rx.set_behavior(Behavior::Slow { delay_ms: 3_000 });
        let guard = builder_for("too-slow", &endpoint(&rx, p), p)
            .export_timeout(Duration::from_millis(300))
            .install()
            .expect("install");
        work(1);
        let s = loss(agent_trace::force_flush(Duration::from_secs(10)));
        assert_eq!(s.failed, 1, "{p:?}: {s:?}");
        balanced(&s);
        drop(guard);
    }
}

/// A "collector" that answers one byte every 200 ms (at most 150 bytes, then it stops by
/// itself). With `head` it first sends a complete 200 header and dribbles the body; without,
/// it dribbles the status line itself.
fn dribbling_server(head: bool) -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let h = std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let bytes: &[u8] = if head {
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 1000\r\n\r\n",
            );
            &[0u8; 150]
        } else {
            b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n"
        };
        for b in bytes {
            if s.write_all(&[*b]).is_err() {
                return; // the client hung up
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    (port, h)
}

#[test]
fn dribbled_status_line_times_out_without_hanging_export_or_shutdown() {
    agent_trace::isolate!();
    let (port, server) = dribbling_server(false);
    let guard = builder_for(
        "dribble",
        &format!("http://127.0.0.1:{port}"),
        Protocol::HttpProtobuf,
    )
    .export_timeout(Duration::from_millis(800))
    .install()
    .expect("install");
    for i in 0..5 {
        work(i);
    }
    let s = loss(guard.shutdown_with_timeout(Duration::from_secs(5)));
    assert_eq!(s.exported, 0);
    assert_eq!(s.ended, 5);
    balanced(&s);
    server.join().expect("server thread ends by itself");
}

#[test]
fn status_200_with_a_dribbled_body_is_delivered_without_waiting_for_the_body() {
    agent_trace::isolate!();
    let (port, server) = dribbling_server(true);
    let guard = builder_for(
        "dribble-body",
        &format!("http://127.0.0.1:{port}"),
        Protocol::HttpProtobuf,
    )
    .export_timeout(Duration::from_secs(5))
    .install()
    .expect("install");
    work(1);
    // A 2xx status is success by the OTLP spec; the (dribbling) body is not awaited.
    let s = guard
        .shutdown_with_timeout(Duration::from_secs(5))
        .expect("delivered");
    assert_eq!(s.exported, 1);
    server.join().expect("server thread ends by itself");
}

#[test]
fn resource_exhausted_is_retried_only_with_retry_info() {
    agent_trace::isolate!();
    // With RetryInfo: retried after the delay it asks for, then accepted.
    let rx = OtlpReceiver::start().expect("receiver");
    rx.set_behavior(Behavior::Throttle {
        times: 1,
        delay_secs: 1,
    });
    let guard = builder_for("throttled", &rx.grpc_endpoint(), Protocol::Grpc)
        .install()
        .expect("install");
    work(1);
    let s = guard.shutdown().expect("delivered after the throttle");
    assert_eq!(s.exported, 1);
    assert_eq!((rx.requests(), rx.rejected()), (2, 1));

    // Without RetryInfo: a hard limit, not retried.
    let rx = OtlpReceiver::start().expect("receiver");
    rx.set_behavior(Behavior::Fail {
        times: 1,
        grpc_code: 8,
        http_status: 429,
        retry_after: None,
    });
    let guard = builder_for("exhausted", &rx.grpc_endpoint(), Protocol::Grpc)
        .install()
        .expect("install");
    work(1);
    let s = loss(guard.shutdown());
    assert_eq!((s.failed, rx.requests()), (1, 1));
}

#[test]
fn http_retry_table() {
    agent_trace::isolate!();
    // (status, Retry-After, retried?)
    let cases: [(u16, Option<u32>, bool); 7] = [
        (429, Some(0), true),
        (429, None, true),
        (502, None, true),
        (503, Some(1), true),
        (504, None, true),
        (401, None, false),
        (500, None, false),
    ];
    for (status, retry_after, retried) in cases {
        let rx = OtlpReceiver::start().expect("receiver");
        rx.set_behavior(Behavior::Fail {
            times: 1,
            grpc_code: 14,
            http_status: status,
            retry_after,
        });
        let guard = builder_for("http-table", &rx.http_endpoint(), Protocol::HttpProtobuf)
            .install()
            .expect("install");
        work(1);
        let r = guard.shutdown();
        if retried {
            assert_eq!(r.expect("retried and delivered").exported, 1, "{status}");
            assert_eq!(rx.requests(), 2, "{status}");
        } else {
            assert_eq!(loss(r).failed, 1, "{status}");
            assert_eq!(rx.requests(), 1, "{status} must not be retried");
        }
    }
}

#[test]
fn garbage_success_body_is_no_crash() {
    agent_trace::isolate!();
    for p in BOTH {
        let rx = OtlpReceiver::start().expect("receiver");
        rx.set_behavior(Behavior::GarbageOk);
        let guard = builder_for("garbage", &endpoint(&rx, p), p)
            .install()
            .expect("install");
        work(1);
        // A 2xx is success by the OTLP spec; the body is not needed to know that.
        let s = guard.shutdown().expect("counted as delivered");
        assert_eq!(s.exported, 1);
    }
}

/// A user's exporter, plugged in through the public builder, that panics on its second call.
#[derive(Debug, Default)]
struct PanicsOnSecond {
    calls: std::sync::atomic::AtomicU32,
}
impl agent_trace::opentelemetry_sdk::trace::SpanExporter for PanicsOnSecond {
    async fn export(
        &self,
        _batch: Vec<agent_trace::opentelemetry_sdk::trace::SpanData>,
    ) -> agent_trace::opentelemetry_sdk::error::OTelSdkResult {
        let calls = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        assert!(calls != 2, "exporter bug on call 2");
        Ok(())
    }
}

#[test]
fn exporter_panicking_on_its_second_call_does_not_end_tracing() {
    agent_trace::isolate!();
    let guard = agent_trace::builder()
        .service_name("panicky")
        .env(|_| None)
        .span_exporter(PanicsOnSecond::default())
        .install()
        .expect("install");
    for i in 0..4 {
        work(i);
        let _ = agent_trace::force_flush(Duration::from_secs(10));
    }
    let s = loss(guard.shutdown());
    assert_eq!((s.ended, s.exported, s.failed), (4, 3, 1));
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("resident pages");
    pages * 4096
}

#[test]
fn a_million_spans_with_the_collector_down_keep_memory_bounded() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    rx.set_behavior(Behavior::Hang);
    let guard = builder_for("flood", &rx.grpc_endpoint(), Protocol::Grpc)
        .export_timeout(Duration::from_secs(60))
        .install()
        .expect("install");
    for i in 0..10_000 {
        work(i); // fill the queue and warm up allocator pools first
    }
    let before = resident_bytes();
    for i in 0..1_000_000 {
        work(i);
    }
    let grown = resident_bytes().saturating_sub(before);
    let s = agent_trace::export_stats();
    assert_eq!(s.ended, 1_010_000);
    assert!(s.dropped_queue_full >= 1_000_000 - 2048, "{s:?}");
    balanced(&s);
    // The queue holds at most 2048 spans (a few MB); a leak of 1M spans would be hundreds.
    assert!(
        grown < 64 * 1024 * 1024,
        "resident memory grew by {} MiB",
        grown / (1024 * 1024)
    );
    let _ = guard.shutdown_with_timeout(Duration::from_millis(200));
}

const CHILD: &str = env!("CARGO_BIN_EXE_child_agent");

fn run_child(endpoint: &str, extra: &[(&str, &str)]) -> std::process::ExitStatus {
    let mut child = Command::new(CHILD)
        .env_clear()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_BSP_SCHEDULE_DELAY", "10")
        .env("RUST_LOG", "trace")
        .envs(extra.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    for _ in 0..600 {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("child with RUST_LOG=trace did not finish within 60 s (deadlock?)");
}

#[test]
fn rust_log_trace_neither_deadlocks_nor_exports_the_exporters_own_spans() {
    agent_trace::isolate!();
    // Collector down: the child finishes and reports the loss (exit code 3).
    let port = agent_trace_tests::free_port();
    let status = run_child(
        &format!("http://127.0.0.1:{port}"),
        &[("OTEL_EXPORTER_OTLP_TIMEOUT", "500")],
    );
    assert_eq!(status.code(), Some(3), "shutdown reported the loss");

    // Collector up: only the application's span arrives, none from h2/hyper/tonic.
    let rx = OtlpReceiver::start().expect("receiver");
    let status = run_child(&rx.grpc_endpoint(), &[]);
    assert!(status.success());
    let names: Vec<String> = rx.spans().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["execute_tool child_step"]);
}
