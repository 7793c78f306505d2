//! Running the demo as a user runs it, exporting to a receiver in the test.

use std::process::{Command, Output};

use agent_trace::receiver::OtlpReceiver;
use agent_trace_tests::RedisServer;

/// The demo binary.
pub(crate) const DEMO: &str = env!("CARGO_BIN_EXE_multi-agent");

/// Runs the demo to its end, exporting over OTLP/gRPC to `rx`, with Redis when there is
/// one (else an address where none listens: the demo skips the queue hop) and `env` set.
pub(crate) fn run_demo(
    rx: &OtlpReceiver,
    redis: Option<&RedisServer>,
    env: &[(&str, &str)],
) -> Output {
    let mut cmd = Command::new(DEMO);
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", rx.grpc_endpoint())
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env_remove("TRACEPARENT")
        .envs(env.iter().copied());
    match redis {
        Some(r) => cmd.env("REDIS_URL", &r.url),
        None => cmd.env("REDIS_URL", "redis://127.0.0.1:9/"),
    };
    let out = cmd.output().expect("run the demo");
    assert!(
        out.status.success(),
        "demo failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
