//! The Python reference SDKs over HTTP, both directions, one trace each:
//! - MCP over streamable HTTP with the official Python SDK (`mcp` 2.3, whose OpenTelemetry
//!   middleware reads and writes `params._meta`): a Rust client (`.traced()` over
//!   `mcp::http_transport`) calling a Python server, and a Python client calling a Rust
//!   `TracedService` behind axum and `TraceLayer` (in its own process);
//! - A2A streaming: the Python `a2a-sdk` client in streaming mode (`SendStreamingMessage`)
//!   calling a Rust `a2a::serve_stream` behind `TraceLayer`. (The other direction, a Rust
//!   `a2a::send_stream` to the Python SDK's streaming server, is in `cross_language.rs`.)
//!
//! Needs `python3` with the pinned packages (`.ci/run` installs them); without them each test
//! says SKIPPED and passes, except in CI (`CI=true`), where that fails it.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use agent_trace::receiver::{OtlpReceiver, ReceivedSpan};
use agent_trace::Protocol;
use agent_trace_tests::peers::{
    add_over_http, assert_child_of, assert_mcp_add_over_http, assert_printed, runtime,
    rust_mcp_http_server, serve_rust_agent, span, wait_listening, KillOnDrop,
};
use agent_trace_tests::{free_port, python_ready};

mod streaming_agent {
    //! The Rust streaming A2A agent the JavaScript test uses too.
    include!("common/streaming_agent.rs");
}

fn python(script: &str, rx: &OtlpReceiver) -> Command {
    let mut c = Command::new("python3");
    c.arg(format!("{}/python/{script}", env!("CARGO_MANIFEST_DIR")))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rx.http_endpoint())
        .stdin(Stdio::null());
    c
}

/// Every span of `services` in `trace_id`: nothing of theirs in a trace of its own.
fn all_in(spans: &[ReceivedSpan], services: &[&str], trace_id: &str) {
    let stray: BTreeSet<_> = spans
        .iter()
        .filter(|s| services.contains(&s.service.as_str()) && s.trace_id != trace_id)
        .map(|s| format!("{} [{} {}]", s.name, s.service, s.kind))
        .collect();
    assert!(stray.is_empty(), "spans outside the trace: {stray:?}");
}

#[test]
fn rust_mcp_client_to_python_server_over_http_is_one_trace() {
    agent_trace::isolate!();
    if !python_ready() {
        return;
    }
    let rx = OtlpReceiver::start().expect("receiver");
    let port = free_port();
    let _server = KillOnDrop(
        python("mcp_server.py", &rx)
            .args(["http", &port.to_string()])
            .spawn()
            .expect("start the Python MCP server"),
    );
    wait_listening(port);
    let guard = agent_trace_tests::init_to(&rx, "rust-client", Protocol::HttpProtobuf);
    let url = format!("http://127.0.0.1:{port}/mcp");
    let answer = runtime().block_on(add_over_http(&url));
    guard.shutdown().expect("delivered");
    assert_eq!(answer, "5", "2 + 3 from Python");
    let spans = rx.wait_for_spans(7, Duration::from_secs(20));
    let phase = assert_mcp_add_over_http(&spans, "python-mcp");
    // The Python SDK traces the session's setup: in the caller's trace, under its phase.
    let setup = span(&spans, "python-mcp", "initialize", "SERVER");
    assert_eq!(setup.trace_id, phase.trace_id);
    all_in(&spans, &["rust-client", "python-mcp"], &phase.trace_id);
}

#[test]
fn python_mcp_client_to_rust_server_over_http_is_one_trace() {
    agent_trace::isolate!();
    if !python_ready() {
        return;
    }
    let rx = OtlpReceiver::start().expect("receiver");
    let server = rust_mcp_http_server(&rx, env!("CARGO_BIN_EXE_mcp_http_server"), "stateless");
    let out = python("mcp_client.py", &rx)
        .args(["--http", &format!("http://127.0.0.1:{}/mcp", server.port)])
        .output()
        .expect("run the Python client");
    server.stop();
    assert_printed(&out, "answer: 5");
    let spans = rx.wait_for_spans(4, Duration::from_secs(20));
    let root = span(&spans, "python-client", "python agent", "INTERNAL");
    let client = span(&spans, "python-client", "MCP send tools/call add", "CLIENT");
    let server = span(&spans, "mcp-http-server", "tools/call add", "SERVER");
    let tool = span(
        &spans,
        "mcp-http-server",
        "execute_tool add_numbers",
        "INTERNAL",
    );
    assert_child_of(server, client);
    assert_child_of(tool, server);
    // The Python session's setup (server/discover, or initialize) and plumbing leave nothing
    // of their own on the Rust server.
    all_in(&spans, &["mcp-http-server"], &root.trace_id);
    assert_eq!(server.trace_id, root.trace_id);
}

#[test]
fn python_streaming_a2a_client_to_rust_serve_stream_is_one_trace() {
    agent_trace::isolate!();
    if !python_ready() {
        return;
    }
    let rx = OtlpReceiver::start().expect("receiver");
    let (guard, _rt, url) = serve_rust_agent(&rx, streaming_agent::rust_streaming_agent);
    let out = python("a2a_client.py", &rx)
        .args([url, "--stream".to_string()])
        .output()
        .expect("run the Python client");
    assert_printed(&out, "streamed: 4 TASK_STATE_COMPLETED HELLO");
    guard.shutdown().expect("delivered");
    let spans = rx.spans();
    let root = span(&spans, "python-a2a-client", "python caller", "INTERNAL");
    // httpx's HTTP CLIENT span (the SDK's own telemetry adds CLIENT spans around it).
    let http = span(&spans, "python-a2a-client", "POST", "CLIENT");
    let server = span(&spans, "rust-agent", "POST /a2a", "SERVER");
    let a2a = span(&spans, "rust-agent", "SendStreamingMessage", "SERVER");
    assert_child_of(server, http);
    assert_child_of(a2a, server);
    all_in(&spans, &["rust-agent", "python-a2a-client"], &root.trace_id);
    assert_eq!(a2a.attr("a2a.task.state"), Some("TASK_STATE_COMPLETED"));
    let updates = a2a
        .events
        .iter()
        .filter(|(n, _)| n == "a2a.status_update")
        .count();
    assert_eq!(updates, 2, "{a2a:#?}");
}
