//! A collector that is down, late, hanging or erroring never blocks, panics or loses count.
//! Assertions are on counts (`exported + dropped + pending == ended`), never on wall-clock time.

use std::net::SocketAddr;
use std::time::Duration;

use agent_trace::receiver::{Behavior, OtlpReceiver};
use agent_trace::Protocol;
use agent_trace_tests::{balanced, builder_for, free_port, loss as incomplete, work};

fn endpoint(protocol: Protocol, port: u16) -> String {
    let _ = protocol;
    format!("http://127.0.0.1:{port}")
}

fn closed_port_at_start(protocol: Protocol) {
    let port = free_port();
    let guard = builder_for("down", &endpoint(protocol, port), protocol)
        .export_timeout(Duration::from_millis(600))
        .install()
        .expect("install succeeds even though nothing listens");
    let total: u64 = (0..50).map(work).sum();
    assert_eq!(total, 2450, "the application's calls complete");
    let s = incomplete(guard.shutdown_with_timeout(Duration::from_secs(10)));
    assert_eq!(s.ended, 50);
    assert_eq!(s.exported, 0);
    balanced(&s);
}

#[test]
fn grpc_port_closed_at_start() {
    agent_trace::isolate!();
    closed_port_at_start(Protocol::Grpc);
}

#[test]
fn http_port_closed_at_start() {
    agent_trace::isolate!();
    closed_port_at_start(Protocol::HttpProtobuf);
}

fn receiver_started_later(protocol: Protocol) {
    let (gp, hp) = (free_port(), free_port());
    let port = if protocol == Protocol::Grpc { gp } else { hp };
    let guard = builder_for("late", &endpoint(protocol, port), protocol)
        .export_timeout(Duration::from_millis(300))
        .install()
        .expect("install");
    work(1);
    let before = agent_trace::force_flush(Duration::from_secs(10));
    let before = incomplete(before);
    assert_eq!(before.failed, 1, "nothing listens yet: {before:?}");

    let rx = OtlpReceiver::start_on(
        SocketAddr::from(([127, 0, 0, 1], gp)),
        SocketAddr::from(([127, 0, 0, 1], hp)),
    )
    .expect("receiver on the reserved ports");
    for i in 0..5 {
        work(i);
    }
    let spans = rx.wait_for_spans(5, Duration::from_secs(20));
    assert_eq!(spans.len(), 5, "new spans arrive once the collector is up");
    let s = incomplete(guard.shutdown());
    assert_eq!((s.ended, s.exported, s.failed), (6, 5, 1));
    balanced(&s);
}

#[test]
fn grpc_receiver_started_later() {
    agent_trace::isolate!();
    receiver_started_later(Protocol::Grpc);
}

#[test]
fn http_receiver_started_later() {
    agent_trace::isolate!();
    receiver_started_later(Protocol::HttpProtobuf);
}

fn hanging_receiver(protocol: Protocol) {
    let rx = OtlpReceiver::start().expect("receiver");
    rx.set_behavior(Behavior::Hang);
    let ep = if protocol == Protocol::Grpc {
        rx.grpc_endpoint()
    } else {
        rx.http_endpoint()
    };
    let guard = builder_for("hang", &ep, protocol)
        .export_timeout(Duration::from_millis(400))
        .install()
        .expect("install");
    for i in 0..20 {
        work(i);
    }
    assert!(
        rx.wait_for_requests(1, Duration::from_secs(20)) >= 1,
        "the export reached the collector"
    );
    let s = incomplete(guard.shutdown_with_timeout(Duration::from_millis(800)));
    assert_eq!(s.ended, 20);
    assert_eq!(s.exported, 0);
    balanced(&s);
}

#[test]
fn grpc_receiver_that_never_answers() {
    agent_trace::isolate!();
    hanging_receiver(Protocol::Grpc);
}

#[test]
fn http_receiver_that_never_answers() {
    agent_trace::isolate!();
    hanging_receiver(Protocol::HttpProtobuf);
}

fn recovers_after_errors(protocol: Protocol, behavior: Behavior) {
    let rx = OtlpReceiver::start().expect("receiver");
    rx.set_behavior(behavior);
    let ep = if protocol == Protocol::Grpc {
        rx.grpc_endpoint()
    } else {
        rx.http_endpoint()
    };
    let guard = builder_for("flaky", &ep, protocol)
        .install()
        .expect("install");
    for i in 0..10 {
        work(i);
    }
    let s = guard.shutdown().expect("retried until accepted");
    assert_eq!((s.ended, s.exported), (10, 10));
    assert_eq!(rx.rejected(), 2, "two scripted failures, then success");
    assert_eq!(rx.spans().len(), 10, "each span stored once");
}

#[test]
fn grpc_unavailable_then_recovers() {
    agent_trace::isolate!();
    recovers_after_errors(
        Protocol::Grpc,
        Behavior::Fail {
            times: 2,
            grpc_code: 14,
            http_status: 503,
            retry_after: None,
        },
    );
}

#[test]
fn http_503_with_retry_after_then_recovers() {
    agent_trace::isolate!();
    recovers_after_errors(
        Protocol::HttpProtobuf,
        Behavior::Fail {
            times: 2,
            grpc_code: 14,
            http_status: 503,
            retry_after: Some(0),
        },
    );
}

fn not_retried(protocol: Protocol, grpc_code: i32, http_status: u16) {
    let rx = OtlpReceiver::start().expect("receiver");
    rx.set_behavior(Behavior::Fail {
        times: 1,
        grpc_code,
        http_status,
        retry_after: None,
    });
    let ep = if protocol == Protocol::Grpc {
        rx.grpc_endpoint()
    } else {
        rx.http_endpoint()
    };
    let guard = builder_for("bad", &ep, protocol)
        .install()
        .expect("install");
    work(1);
    let flushed = incomplete(agent_trace::force_flush(Duration::from_secs(10)));
    assert_eq!(flushed.failed, 1);
    assert_eq!(rx.requests(), 1, "a non-retryable answer is not retried");
    work(2);
    let s = incomplete(guard.shutdown());
    assert_eq!(
        (s.ended, s.exported, s.failed),
        (2, 1, 1),
        "export goes on afterwards"
    );
    balanced(&s);
}

#[test]
fn grpc_invalid_argument_is_not_retried() {
    agent_trace::isolate!();
    not_retried(Protocol::Grpc, 3, 400);
}

#[test]
fn http_400_is_not_retried() {
    agent_trace::isolate!();
    not_retried(Protocol::HttpProtobuf, 3, 400);
}

#[test]
fn full_queue_drops_and_counts_without_blocking() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    rx.set_behavior(Behavior::Hang);
    let guard = builder_for("flood", &rx.grpc_endpoint(), Protocol::Grpc)
        .max_queue_size(16)
        .max_export_batch_size(4)
        .export_timeout(Duration::from_millis(300))
        .install()
        .expect("install");
    for i in 0..10_000 {
        work(i);
    }
    let live = agent_trace::export_stats();
    assert_eq!(live.ended, 10_000);
    assert!(live.dropped_queue_full > 9_000, "{live:?}");
    balanced(&live);
    let s = incomplete(guard.shutdown_with_timeout(Duration::from_millis(500)));
    balanced(&s);
}
