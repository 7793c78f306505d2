//! Agents built on the JavaScript reference SDKs join the same trace, over real HTTP on
//! 127.0.0.1, both directions:
//! - MCP over streamable HTTP with the official TypeScript SDK (`@modelcontextprotocol/sdk`):
//!   a Rust client (`.traced()` over `mcp::http_transport`) calling a TypeScript server, and a
//!   TypeScript client calling a Rust `TracedService` behind axum and `TraceLayer` (in its own
//!   process). The TypeScript side carries the context in `params._meta` with OpenTelemetry
//!   JS, as the MCP semantic conventions define.
//! - A2A streaming with the official JavaScript SDK (`@a2a-js/sdk`, A2A 1.0): a Rust
//!   `a2a::send_stream` to a JavaScript agent, and the JavaScript client's
//!   `sendMessageStream` to a Rust `a2a::serve_stream`.
//!
//! The peers are in `tests/js` (versions pinned in its `package.json` and lock file; `.ci/run`
//! installs them with `npm ci`). Without Node.js 20 or the packages each test says SKIPPED
//! and passes, except in CI (`CI=true`), where that fails it.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use agent_trace::receiver::{OtlpReceiver, ReceivedSpan};
use agent_trace::Protocol;
use agent_trace_tests::peers::{
    add_over_http, assert_child_of, assert_mcp_add_over_http, assert_printed, runtime,
    rust_mcp_http_server, serve_rust_agent, span,
};
use agent_trace_tests::{js_dir, node_ready, Peer};
use serde_json::{json, Value};

mod streaming_agent {
    //! The Rust streaming A2A agent the Python test uses too.
    include!("common/streaming_agent.rs");
}

fn node(script: &str, rx: &OtlpReceiver) -> Command {
    let mut c = Command::new("node");
    c.arg(js_dir().join(script))
        .current_dir(js_dir())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rx.http_endpoint());
    c
}

/// Every span in one trace, each with its parent among them (but the root).
fn one_connected_trace(spans: &[ReceivedSpan]) {
    let traces: BTreeSet<_> = spans.iter().map(|s| &s.trace_id).collect();
    assert_eq!(traces.len(), 1, "one trace: {spans:#?}");
    let roots: Vec<_> = spans
        .iter()
        .filter(|s| match &s.parent_span_id {
            None => true,
            Some(p) => !spans.iter().any(|q| &q.span_id == p),
        })
        .collect();
    assert_eq!(roots.len(), 1, "one root, no orphan: {roots:#?}");
}

#[test]
fn rust_mcp_client_to_typescript_server_over_http_is_one_trace() {
    agent_trace::isolate!();
    if !node_ready() {
        return;
    }
    let rx = OtlpReceiver::start().expect("receiver");
    let server = Peer::start(node("mcp_server.mjs", &rx));
    let guard = agent_trace_tests::init_to(&rx, "rust-client", Protocol::HttpProtobuf);
    let url = format!("http://127.0.0.1:{}/mcp", server.port);
    let answer = runtime().block_on(add_over_http(&url));
    guard.shutdown().expect("delivered");
    server.stop();
    assert_eq!(answer, "5", "2 + 3 from TypeScript");
    // Also the HTTP POSTs of the session's setup (initialize, initialized) and rmcp's own
    // `serve_inner` span (bridged from `tracing`), all under the phase.
    let spans = rx.wait_for_spans(8, Duration::from_secs(20));
    assert_eq!(spans.len(), 8, "{spans:#?}");
    assert!(spans.iter().any(|s| s.name == "serve_inner"), "{spans:#?}");
    one_connected_trace(&spans);
    assert_mcp_add_over_http(&spans, "js-mcp");
}

#[test]
fn typescript_mcp_client_to_rust_server_over_http_is_one_trace() {
    agent_trace::isolate!();
    if !node_ready() {
        return;
    }
    let rx = OtlpReceiver::start().expect("receiver");
    let server = rust_mcp_http_server(&rx, env!("CARGO_BIN_EXE_mcp_http_server"), "stateful");
    let out = node("mcp_client.mjs", &rx)
        .arg(format!("http://127.0.0.1:{}/mcp", server.port))
        .output()
        .expect("run the TypeScript client");
    server.stop();
    assert_printed(&out, "answer: 5");
    let spans = rx.wait_for_spans(4, Duration::from_secs(20));
    assert_eq!(spans.len(), 4, "{spans:#?}");
    // The TypeScript session's plumbing (initialize, notifications, the event stream,
    // DELETE) leaves nothing of its own on the Rust server: one trace.
    one_connected_trace(&spans);
    let root = span(&spans, "js-client", "js agent", "INTERNAL");
    let client = span(&spans, "js-client", "tools/call add", "CLIENT");
    let server = span(&spans, "mcp-http-server", "tools/call add", "SERVER");
    let tool = span(
        &spans,
        "mcp-http-server",
        "execute_tool add_numbers",
        "INTERNAL",
    );
    assert_child_of(client, root);
    assert_child_of(server, client);
    assert_child_of(tool, server);
    assert!(server.attr("mcp.session.id").is_some_and(|s| !s.is_empty()));
}

fn traced_http() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(agent_trace::client::TraceMiddleware::default())
        .build()
}

/// A Rust `#[a2a_call]` that streams the answer of the agent at `url`.
#[agent_trace::a2a_call(target = "upper", url = url)]
async fn stream_upper(url: &str) -> Vec<Value> {
    use futures_util::StreamExt as _;
    let request = json!({"jsonrpc": "2.0", "id": 7, "method": "SendStreamingMessage",
        "params": {"message": {"messageId": "m-rust", "role": "ROLE_USER",
                               "parts": [{"text": "hello"}]}}});
    agent_trace::a2a::send_stream(&traced_http(), url, &request)
        .filter_map(|e| async move { e.ok() })
        .collect()
        .await
}

#[test]
fn rust_streaming_a2a_call_to_javascript_agent_is_one_trace() {
    agent_trace::isolate!();
    if !node_ready() {
        return;
    }
    let rx = OtlpReceiver::start().expect("receiver");
    let agent = Peer::start(node("a2a_server.mjs", &rx));
    let guard = agent_trace_tests::init_to(&rx, "rust-caller", Protocol::HttpProtobuf);
    let url = format!("http://127.0.0.1:{}/a2a", agent.port);
    let events = runtime().block_on(stream_upper(&url));
    guard.shutdown().expect("delivered");
    agent.stop();
    let spans = rx.wait_for_spans(5, Duration::from_secs(20));
    assert_eq!(spans.len(), 5, "{spans:#?}");
    let last = events.last().expect("events");
    assert_eq!(
        last["result"]["statusUpdate"]["status"]["state"], "TASK_STATE_COMPLETED",
        "{events:#?}"
    );
    one_connected_trace(&spans);
    let invoke = span(&spans, "rust-caller", "invoke_agent upper", "CLIENT");
    let a2a = span(&spans, "rust-caller", "SendStreamingMessage", "CLIENT");
    let post = span(&spans, "rust-caller", "POST", "CLIENT");
    let server = span(&spans, "js-a2a", "POST /a2a", "SERVER");
    let body = span(&spans, "js-a2a", "upper body", "INTERNAL");
    assert_child_of(a2a, invoke);
    assert_child_of(post, a2a);
    assert_child_of(server, post);
    assert_child_of(body, server);
    // What the stream said, recorded on the A2A span as it went by.
    let updates = a2a
        .events
        .iter()
        .filter(|(n, _)| n == "a2a.status_update")
        .count();
    let artifacts = a2a
        .events
        .iter()
        .filter(|(n, _)| n == "a2a.artifact_update")
        .count();
    assert_eq!((updates, artifacts), (2, 1), "{a2a:#?}");
    assert_eq!(a2a.attr("a2a.task.state"), Some("TASK_STATE_COMPLETED"));
    assert!(
        a2a.end_ns >= server.start_ns,
        "the span lasted as long as the stream"
    );
}

#[test]
fn javascript_streaming_a2a_client_to_rust_serve_stream_is_one_trace() {
    agent_trace::isolate!();
    if !node_ready() {
        return;
    }
    let rx = OtlpReceiver::start().expect("receiver");
    let (guard, _rt, url) = serve_rust_agent(&rx, streaming_agent::rust_streaming_agent);
    let out = node("a2a_client.mjs", &rx)
        .arg(url)
        .output()
        .expect("run the JavaScript client");
    assert_printed(&out, "answer: 4 TASK_STATE_COMPLETED HELLO");
    guard.shutdown().expect("delivered");
    let spans = rx.wait_for_spans(4, Duration::from_secs(20));
    assert_eq!(spans.len(), 4, "{spans:#?}");
    one_connected_trace(&spans);
    let root = span(&spans, "js-a2a-client", "js caller", "INTERNAL");
    let client = span(&spans, "js-a2a-client", "SendStreamingMessage", "CLIENT");
    let http = span(&spans, "rust-agent", "POST /a2a", "SERVER");
    let a2a = span(&spans, "rust-agent", "SendStreamingMessage", "SERVER");
    assert_child_of(client, root);
    assert_child_of(http, client);
    assert_child_of(a2a, http);
    assert_eq!(a2a.attr("a2a.task.state"), Some("TASK_STATE_COMPLETED"));
    assert_eq!(
        a2a.events
            .iter()
            .filter(|(n, _)| n == "a2a.status_update")
            .count(),
        2
    );
    assert_eq!(a2a.status_code, 0, "{}", a2a.status_message);
}
