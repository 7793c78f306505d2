//! Shared helpers for the integration tests: ports, pipelines pointed at an in-process
//! receiver, and counting the export threads.

use std::time::Duration;

use agent_trace::testing::receiver::OtlpReceiver;
use agent_trace::{Protocol, TraceGuard};

/// A loopback port that was free a moment ago (for "collector comes up later" tests).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A builder with short delays, exporting to `endpoint` over `protocol`, ignoring the
/// process environment.
pub fn builder_for(service: &str, endpoint: &str, protocol: Protocol) -> agent_trace::Builder {
    agent_trace::builder()
        .service_name(service)
        .endpoint(endpoint)
        .protocol(protocol)
        .schedule_delay(Duration::from_millis(20))
        .export_timeout(Duration::from_secs(5))
        .env(|_| None)
}

/// Installs a pipeline exporting to `rx` over `protocol`.
pub fn init_to(rx: &OtlpReceiver, service: &str, protocol: Protocol) -> TraceGuard {
    let endpoint = match protocol {
        Protocol::Grpc => rx.grpc_endpoint(),
        _ => rx.http_endpoint(),
    };
    builder_for(service, &endpoint, protocol)
        .install()
        .expect("install")
}

/// How many export threads this process runs (one per pipeline).
pub fn export_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .filter(|name| name.trim() == "agent-trace-exp")
        .count()
}
