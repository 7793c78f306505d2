//! The pipeline works the same under any runtime, or none, and survives repeated or
//! concurrent init and shutdown.

use std::time::Duration;

use agent_trace::receiver::OtlpReceiver;
use agent_trace::{traced_tool, Protocol};
use agent_trace_tests::{export_threads, init_to};

#[traced_tool]
fn step(n: u32) -> u32 {
    n + 1
}

#[traced_tool]
async fn async_step(n: u32) -> u32 {
    tokio::task::yield_now().await;
    n + 1
}

#[test]
fn plain_main_without_runtime_grpc_and_http() {
    agent_trace::isolate!();
    for protocol in [Protocol::Grpc, Protocol::HttpProtobuf] {
        let rx = OtlpReceiver::start().expect("receiver");
        let guard = init_to(&rx, "sync-main", protocol);
        step(1);
        let s = guard.shutdown().expect("delivered");
        assert_eq!(s.exported, 1);
        assert_eq!(rx.spans().len(), 1);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn current_thread_runtime_flushes_from_its_own_thread() {
    agent_trace::isolate!();
    // The SDK's own batch processor blocks here for 5 s and loses the spans.
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = init_to(&rx, "current-thread", Protocol::Grpc);
    async_step(1).await;
    step(2);
    let s = guard
        .shutdown()
        .expect("delivered from the runtime's own thread");
    assert_eq!((s.ended, s.exported), (2, 2));
    assert_eq!(rx.spans().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_runtime() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = init_to(&rx, "multi-thread", Protocol::HttpProtobuf);
    let handles: Vec<_> = (0..8).map(|i| tokio::spawn(async_step(i))).collect();
    for h in handles {
        h.await.expect("task");
    }
    let s = guard.shutdown().expect("delivered");
    assert_eq!(s.exported, 8);
}

#[test]
fn init_twice_gives_one_pipeline_alive_until_the_last_guard() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let first = init_to(&rx, "twice", Protocol::Grpc);
    let second = init_to(&rx, "twice", Protocol::Grpc);
    assert_eq!(export_threads(), 1);
    drop(first);
    assert!(agent_trace::is_enabled(), "one guard remains");
    step(1);
    let s = second.shutdown().expect("delivered");
    assert_eq!(s.exported, 1);
    assert!(!agent_trace::is_enabled());
}

#[test]
fn init_from_eight_threads_at_once() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let endpoint = rx.grpc_endpoint();
    let guards: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let ep = endpoint.clone();
                scope.spawn(move || {
                    let g = agent_trace_tests::builder_for("eight", &ep, Protocol::Grpc)
                        .install()
                        .expect("install");
                    step(1);
                    g
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect()
    });
    assert_eq!(export_threads(), 1, "one pipeline");
    let s = agent_trace::force_flush(Duration::from_secs(10)).expect("flushed");
    assert_eq!(s.exported, 8);
    drop(guards);
    assert!(!agent_trace::is_enabled());
}

#[test]
fn shutdown_twice_is_harmless_and_reports_the_same_counts() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let a = init_to(&rx, "shutdown-twice", Protocol::Grpc);
    let b = init_to(&rx, "shutdown-twice", Protocol::Grpc);
    step(1);
    let first = a.shutdown().expect("delivered");
    let second = b.shutdown().expect("same counts");
    assert_eq!(first, second);
    step(2); // tracing is off now: no span, no panic
    assert_eq!(rx.spans().len(), 1);
}

#[test]
fn guard_dropped_during_a_panic_still_flushes() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let endpoint = rx.grpc_endpoint();
    let result = std::panic::catch_unwind(move || {
        let _guard = agent_trace_tests::builder_for("panicking", &endpoint, Protocol::Grpc)
            .install()
            .expect("install");
        step(1);
        panic!("application bug");
    });
    assert!(result.is_err());
    assert_eq!(rx.spans().len(), 1, "flushed while unwinding");
}

#[test]
fn disabled_starts_no_thread() {
    agent_trace::isolate!();
    let _guard = agent_trace::builder()
        .service_name("off")
        .env(|_| None)
        .install()
        .expect("install");
    assert!(!agent_trace::is_enabled());
    assert_eq!(export_threads(), 0);
    assert_eq!(step(1), 2);
    assert_eq!(agent_trace::export_stats().ended, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_and_drop_inside_async_code_never_panic() {
    agent_trace::isolate!();
    // Metrics are on (OTLP exporter): their exporter's runtime must not be dropped here.
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = init_to(&rx, "async-shutdown", Protocol::Grpc);
    async_step(1).await;
    guard.shutdown().expect("delivered");
    let again = init_to(&rx, "async-drop", Protocol::HttpProtobuf);
    async_step(2).await;
    drop(again);
    assert_eq!(rx.spans().len(), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn drop_inside_current_thread_runtime_never_panics() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = init_to(&rx, "ct-drop", Protocol::Grpc);
    async_step(1).await;
    drop(guard);
    assert_eq!(rx.spans().len(), 1);
}

#[test]
fn a_conflicting_second_init_is_an_error_and_changes_nothing() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let other = OtlpReceiver::start().expect("receiver");
    let first = init_to(&rx, "svc-a", Protocol::Grpc);
    // Another service name: refused, named.
    let e = agent_trace_tests::builder_for("svc-b", &rx.grpc_endpoint(), Protocol::Grpc)
        .install()
        .unwrap_err();
    assert!(
        matches!(&e, agent_trace::InitError::Conflict { setting: "service name", installed, requested }
            if installed == "svc-a" && requested == "svc-b"),
        "{e}"
    );
    // Another endpoint: refused too.
    let e = agent_trace_tests::builder_for("svc-a", &other.grpc_endpoint(), Protocol::Grpc)
        .install()
        .unwrap_err();
    assert!(
        matches!(
            e,
            agent_trace::InitError::Conflict {
                setting: "endpoint",
                ..
            }
        ),
        "{e}"
    );
    // The same settings: the same pipeline, as before.
    let second = init_to(&rx, "svc-a", Protocol::Grpc);
    step(1);
    drop(first);
    let s = second.shutdown().expect("delivered");
    assert_eq!(s.exported, 1);
    let spans = rx.spans();
    assert_eq!(spans.len(), 1);
    assert_eq!(
        spans[0].service, "svc-a",
        "spans stay with the first init's service"
    );
    assert!(other.spans().is_empty());
    // After the last guard is gone, another service may install.
    let third = init_to(&other, "svc-b", Protocol::Grpc);
    step(2);
    assert_eq!(third.shutdown().expect("delivered").exported, 1);
    assert_eq!(other.spans()[0].service, "svc-b");
}
