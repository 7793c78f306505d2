//! What the cross-language tests share: the runtime, finding spans, checking parents, and
//! the peer processes (stopped by their PID, whatever happens).

use std::time::Duration;

use agent_trace::receiver::ReceivedSpan;

/// A multi-threaded Tokio runtime, two workers, with timers and I/O.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The span of `service` named `name` of `kind` (`CLIENT`, `SERVER`, ...).
pub fn span<'a>(
    spans: &'a [ReceivedSpan],
    service: &str,
    name: &str,
    kind: &str,
) -> &'a ReceivedSpan {
    spans
        .iter()
        .find(|s| s.service == service && s.name == name && s.kind == kind)
        .unwrap_or_else(|| {
            let all: Vec<_> = spans
                .iter()
                .map(|s| (&s.service, &s.name, s.kind))
                .collect();
            panic!("no {kind} {name:?} from {service}: {all:?}")
        })
}

/// Asserts that `parent` is the parent of `child`.
pub fn assert_child_of(child: &ReceivedSpan, parent: &ReceivedSpan) {
    assert_eq!(
        child.parent_span_id.as_deref(),
        Some(parent.span_id.as_str()),
        "{} [{}] under {} [{}]",
        child.name,
        child.service,
        parent.name,
        parent.service
    );
}

/// Checks the chain of one MCP `tools/call add` from the Rust client `rust-client` to the
/// server `server` over streamable HTTP: phase → CLIENT → the HTTP `POST` that carries it,
/// and CLIENT → the server's SERVER span → its `add body`, with the same JSON-RPC request id
/// on both sides. Returns the phase span.
pub fn assert_mcp_add_over_http<'a>(spans: &'a [ReceivedSpan], server: &str) -> &'a ReceivedSpan {
    let phase = span(spans, "rust-client", "agent_phase ask peer", "INTERNAL");
    let client = span(spans, "rust-client", "tools/call add", "CLIENT");
    let post = spans
        .iter()
        .find(|s| s.name == "POST" && s.parent_span_id.as_ref() == Some(&client.span_id))
        .expect("the HTTP POST of tools/call");
    let server_span = span(spans, server, "tools/call add", "SERVER");
    let body = span(spans, server, "add body", "INTERNAL");
    assert_child_of(client, phase);
    assert_eq!(post.attr("http.response.status_code"), Some("200"));
    assert_child_of(server_span, client);
    assert_child_of(body, server_span);
    assert_eq!(
        server_span.attr("jsonrpc.request.id"),
        client.attr("jsonrpc.request.id")
    );
    phase
}

/// Kills the child when dropped (stopped by its PID, whatever happens).
#[derive(Debug)]
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (at most 30 s) until something listens on `port` of 127.0.0.1.
pub fn wait_listening(port: u16) {
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A Rust agent: `handler` at `/a2a` behind `TraceLayer`, on a free port of 127.0.0.1, in a
/// process traced as `rust-agent` exporting to `rx`. Returns the guard, the runtime the
/// server runs in (keep both until the peer is done) and the agent's URL.
pub fn serve_rust_agent<H, T>(
    rx: &agent_trace::receiver::OtlpReceiver,
    handler: H,
) -> (agent_trace::TraceGuard, tokio::runtime::Runtime, String)
where
    H: axum::handler::Handler<T, ()>,
    T: 'static,
{
    let guard = crate::init_to(rx, "rust-agent", agent_trace::Protocol::HttpProtobuf);
    let rt = runtime();
    let addr = rt.block_on(crate::serve(
        axum::Router::new()
            .route("/a2a", axum::routing::post(handler))
            .layer(agent_trace::server::TraceLayer::new()),
    ));
    (guard, rt, format!("http://{addr}/a2a"))
}

/// The Rust MCP server process over streamable HTTP (`src/bin/mcp_http_server.rs`, given as
/// `binary`: `env!("CARGO_BIN_EXE_mcp_http_server")`), in `mode` (`stateful` or
/// `stateless`), exporting to `rx`.
pub fn rust_mcp_http_server(
    rx: &agent_trace::receiver::OtlpReceiver,
    binary: &str,
    mode: &str,
) -> crate::Peer {
    let mut rust = std::process::Command::new(binary);
    rust.arg(mode)
        .env_clear()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rx.http_endpoint())
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .env("OTEL_METRICS_EXPORTER", "none")
        .env("RUST_LOG", "warn");
    crate::Peer::start(rust)
}

/// Asserts that a peer's run succeeded and printed `expected`.
pub fn assert_printed(out: &std::process::Output, expected: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(expected),
        "want {expected:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Opens an MCP session over streamable HTTP with the server at `url` and calls its `add`
/// tool through `.traced()` (2 + 3), all inside one phase span (`agent_phase ask peer`): the
/// session's setup carries this span's context too. Returns the answer's text.
#[agent_trace::agent_phase("ask peer")]
pub async fn add_over_http(url: &str) -> String {
    use agent_trace::mcp::McpClientExt as _;
    use rmcp::ServiceExt as _;
    let client = ().serve(agent_trace::mcp::http_transport(url)).await.expect("connect");
    let serde_json::Value::Object(args) = serde_json::json!({"a": 2, "b": 3}) else {
        unreachable!()
    };
    let result = client
        .traced()
        .over_http(url)
        .call_tool(rmcp::model::CallToolRequestParams::new("add").with_arguments(args))
        .await
        .expect("tools/call");
    client.cancel().await.expect("close");
    result.content[0].as_text().expect("text").text.clone()
}
