//! Agents in other languages join the same trace: a Rust MCP client (`.traced()`) calling a
//! server built on the official Python SDK (`mcp` 2.x, whose OpenTelemetry middleware reads
//! `params._meta`), and a Python MCP client calling a Rust `TracedService`, each a real child
//! process over stdio, both sides exporting to the test receiver.
//!
//! Also A2A both ways: a Rust `#[a2a_call]` calling an agent on the official Python A2A SDK
//! (`a2a-sdk` 1.3, JSON-RPC, with the `A2A-Version` header; uvicorn with Starlette's
//! OpenTelemetry instrumentation), and the SDK's client (httpx, instrumented) calling a Rust
//! agent behind `TraceLayer` and `a2a::serve`.
//!
//! Needs `python3` with the packages in `PIP` (`.ci/run` installs them). Without them each
//! test says SKIPPED and passes, except in CI (`CI=true`), where a missing package fails it.

use std::process::Stdio;
use std::time::Duration;

use agent_trace::mcp::McpClientExt as _;
use agent_trace::receiver::{OtlpReceiver, ReceivedSpan};
use agent_trace::{agent_phase, Protocol};
use agent_trace_tests::peers::{
    assert_printed, runtime, serve_rust_agent, wait_listening, KillOnDrop,
};
use rmcp::model::CallToolRequestParams;
use rmcp::transport::{ConfigureCommandExt as _, TokioChildProcess};
use rmcp::ServiceExt as _;

fn python_ready() -> bool {
    agent_trace_tests::python_ready()
}

fn script(name: &str) -> String {
    format!("{}/python/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn span<'a>(spans: &'a [ReceivedSpan], service: &str, name: &str) -> &'a ReceivedSpan {
    spans
        .iter()
        .find(|s| s.service == service && s.name == name)
        .unwrap_or_else(|| {
            let all: Vec<_> = spans.iter().map(|s| (&s.service, &s.name)).collect();
            panic!("no {name:?} from {service}: {all:?}")
        })
}

#[agent_phase("ask python")]
async fn ask_python(client: &rmcp::Peer<rmcp::RoleClient>) -> String {
    let args = serde_json::json!({"a": 2, "b": 3});
    let serde_json::Value::Object(args) = args else {
        unreachable!()
    };
    let result = client
        .traced()
        .call_tool(CallToolRequestParams::new("add").with_arguments(args))
        .await
        .expect("tools/call");
    serde_json::to_value(&result.content)
        .expect("content")
        .to_string()
}

#[test]
fn rust_mcp_client_to_python_mcp_server_is_one_trace() {
    agent_trace::isolate!();
    if !python_ready() {
        return;
    }
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "rust-client", Protocol::Grpc);
    let runtime = runtime();
    let answer = runtime.block_on(async {
        let cmd = tokio::process::Command::new("python3").configure(|c| {
            c.arg(script("mcp_server.py"))
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", rx.http_endpoint());
        });
        let (transport, _) = TokioChildProcess::builder(cmd)
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the Python MCP server");
        let client = ().serve(transport).await.expect("initialize");
        let answer = ask_python(client.peer()).await;
        client.cancel().await.expect("close"); // the server sees EOF, flushes and exits
        answer
    });
    guard.shutdown().expect("delivered");
    assert!(answer.contains('5'), "2 + 3 from Python: {answer}");

    let spans = rx.wait_for_spans(4, Duration::from_secs(20));
    let phase = span(&spans, "rust-client", "agent_phase ask python");
    let client = span(&spans, "rust-client", "tools/call add");
    let server = span(&spans, "python-mcp", "tools/call add");
    let body = span(&spans, "python-mcp", "add body");
    assert_eq!(client.kind, "CLIENT");
    assert_eq!(server.kind, "SERVER");
    for s in [client, server, body] {
        assert_eq!(s.trace_id, phase.trace_id, "one trace: {s:?}");
    }
    assert_eq!(
        client.parent_span_id.as_deref(),
        Some(phase.span_id.as_str())
    );
    assert_eq!(
        server.parent_span_id.as_deref(),
        Some(client.span_id.as_str()),
        "the Python server's span is the child of the Rust CLIENT span (through _meta)"
    );
    assert_eq!(
        body.parent_span_id.as_deref(),
        Some(server.span_id.as_str())
    );
    assert_eq!(server.attr("mcp.method.name"), Some("tools/call"));
    assert_eq!(server.attr("gen_ai.tool.name"), Some("add"));
    assert_eq!(
        server.attr("jsonrpc.request.id"),
        client.attr("jsonrpc.request.id"),
        "both sides name the same request"
    );
}

#[test]
fn python_mcp_client_to_rust_traced_service_is_one_trace() {
    if !python_ready() {
        return;
    }
    let rx = OtlpReceiver::start().expect("receiver");
    let out = std::process::Command::new("python3")
        .arg(script("mcp_client.py"))
        .arg(env!("CARGO_BIN_EXE_mcp_server"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rx.http_endpoint())
        // The Rust server's environment: no TRACEPARENT, so its parent can only come
        // through `_meta`.
        .env("SERVER_ENV_OTEL_EXPORTER_OTLP_ENDPOINT", rx.grpc_endpoint())
        .env("SERVER_ENV_OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("SERVER_ENV_OTEL_BSP_SCHEDULE_DELAY", "10")
        .env("SERVER_ENV_RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run the Python client");
    assert_printed(&out, "answer: 5");
    let spans = rx.wait_for_spans(4, Duration::from_secs(20));
    let root = span(&spans, "python-client", "python agent");
    let client = span(&spans, "python-client", "MCP send tools/call add");
    let server = span(&spans, "mcp-server", "tools/call add");
    let tool = span(&spans, "mcp-server", "execute_tool add_numbers");
    for s in [client, server, tool] {
        assert_eq!(s.trace_id, root.trace_id, "one trace: {s:?}");
    }
    assert_eq!(
        server.parent_span_id.as_deref(),
        Some(client.span_id.as_str()),
        "the Rust SERVER span is the child of the Python client's span (through _meta)"
    );
    assert_eq!(
        tool.parent_span_id.as_deref(),
        Some(server.span_id.as_str())
    );
    assert_eq!(server.kind, "SERVER");
    assert_eq!(server.attr("mcp.method.name"), Some("tools/call"));
    assert_eq!(
        server.attr("jsonrpc.request.id"),
        client.attr("jsonrpc.request.id")
    );
}

fn traced_client() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(agent_trace::client::TraceMiddleware::default())
        .build()
}

/// A Rust `#[a2a_call]` asks an agent built on the official Python A2A SDK.
#[agent_trace::a2a_call(target = "upper", url = url)]
async fn ask_upper(url: &str, text: &str) -> Result<serde_json::Value, reqwest_middleware::Error> {
    let request = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "SendMessage",
        "params": {"message": {"messageId": "m-1", "role": "ROLE_USER", "parts": [{"text": text}]}}});
    agent_trace::a2a::send(&traced_client(), url, &request).await
}

/// The same agent, asked with `SendStreamingMessage`: the answers of its server-sent events.
#[agent_trace::a2a_call(target = "upper", url = url)]
async fn stream_upper(url: &str, text: &str) -> Vec<serde_json::Value> {
    use futures_util::StreamExt as _;
    let request = serde_json::json!({"jsonrpc": "2.0", "id": 2, "method": "SendStreamingMessage",
        "params": {"message": {"messageId": "m-2", "role": "ROLE_USER", "parts": [{"text": text}]}}});
    agent_trace::a2a::send_stream(&traced_client(), url, &request)
        .filter_map(|event| async move { event.ok() })
        .collect()
        .await
}

/// Starts the Python A2A agent (tests/python/a2a_server.py) on a free loopback port,
/// exporting to `rx`; returns it (stopped by its PID when dropped) and its URL.
fn start_python_a2a(rx: &OtlpReceiver) -> (KillOnDrop, String) {
    let port = agent_trace_tests::free_port();
    let server = KillOnDrop(
        std::process::Command::new("python3")
            .arg(script("a2a_server.py"))
            .arg(port.to_string())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", rx.http_endpoint())
            .stdin(Stdio::null())
            .spawn()
            .expect("start the Python A2A server"),
    );
    wait_listening(port);
    (server, format!("http://127.0.0.1:{port}/a2a"))
}

/// Runs `call` (given the agent's URL) in a traced Rust process against the Python A2A agent;
/// returns its output and the spans of both sides.
fn against_python_a2a<T, F: std::future::Future<Output = T>>(
    call: impl FnOnce(String) -> F,
) -> (T, Vec<ReceivedSpan>) {
    let rx = OtlpReceiver::start().expect("receiver");
    let (_server, url) = start_python_a2a(&rx);
    let guard = agent_trace_tests::init_to(&rx, "rust-caller", Protocol::Grpc);
    let runtime = runtime();
    let out = runtime.block_on(call(url));
    guard.shutdown().expect("delivered");
    (out, spans_after_python_server(&rx))
}

/// The spans received once the Python side's HTTP SERVER span (it ends last) is in.
fn spans_after_python_server(rx: &OtlpReceiver) -> Vec<ReceivedSpan> {
    let started = std::time::Instant::now();
    loop {
        let spans = rx.spans();
        let done = spans
            .iter()
            .any(|s| s.service == "python-a2a" && s.name == "POST /a2a");
        if done || started.elapsed() > Duration::from_secs(20) {
            return spans;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Checks the chain invoke_agent > {method} CLIENT > POST CLIENT > Python `POST /a2a` SERVER
/// > Python `upper body`, all in one trace; returns the A2A CLIENT span.
fn assert_a2a_chain<'a>(spans: &'a [ReceivedSpan], method: &str) -> &'a ReceivedSpan {
    let agent = span(spans, "rust-caller", "invoke_agent upper");
    let a2a = span(spans, "rust-caller", method);
    let post = spans
        .iter()
        .find(|s| s.service == "rust-caller" && s.kind == "CLIENT" && s.name == "POST")
        .expect("the HTTP CLIENT span");
    let server = span(spans, "python-a2a", "POST /a2a");
    assert_eq!(server.kind, "SERVER", "{server:?}");
    let body = span(spans, "python-a2a", "upper body");
    for s in [a2a, post, server, body] {
        assert_eq!(s.trace_id, agent.trace_id, "one trace: {s:?}");
    }
    assert_eq!(a2a.kind, "CLIENT");
    assert_eq!(a2a.parent_span_id.as_deref(), Some(agent.span_id.as_str()));
    assert_eq!(post.parent_span_id.as_deref(), Some(a2a.span_id.as_str()));
    assert_eq!(
        server.parent_span_id.as_deref(),
        Some(post.span_id.as_str()),
        "the Python server's span is the child of the Rust HTTP CLIENT span"
    );
    assert_eq!(a2a.attr("a2a.method.name"), Some(method));
    assert_eq!(a2a.attr("a2a.protocol.version"), Some("1.0"));
    a2a
}

#[test]
fn rust_a2a_call_to_python_a2a_server_is_one_trace() {
    agent_trace::isolate!();
    if !python_ready() {
        return;
    }
    let (answer, spans) = against_python_a2a(|url| async move { ask_upper(&url, "hello").await });
    let answer = answer.expect("an answer");
    let task = &answer["result"]["task"];
    assert_eq!(
        task["artifacts"][0]["parts"][0]["text"], "HELLO",
        "{answer}"
    );
    let a2a = assert_a2a_chain(&spans, "SendMessage");
    // The A2A attributes, recorded from the real answer.
    assert_eq!(a2a.attr("a2a.task.state"), Some("TASK_STATE_COMPLETED"));
    assert_eq!(a2a.attr("a2a.task.id"), task["id"].as_str());
}

#[test]
fn rust_streaming_a2a_call_to_python_a2a_server_is_one_trace() {
    agent_trace::isolate!();
    if !python_ready() {
        return;
    }
    let (events, spans) =
        against_python_a2a(|url| async move { stream_upper(&url, "hello").await });
    // The SDK streams the task, then status and artifact updates until the task completes.
    let last = events.last().expect("events");
    assert_eq!(
        last["result"]["statusUpdate"]["status"]["state"], "TASK_STATE_COMPLETED",
        "{events:#?}"
    );
    let artifacts = events
        .iter()
        .filter(|e| e["result"].get("artifactUpdate").is_some())
        .count();
    let updates = events
        .iter()
        .filter(|e| e["result"].get("statusUpdate").is_some())
        .count();
    assert!(artifacts >= 1 && updates >= 2, "{events:#?}");

    let a2a = assert_a2a_chain(&spans, "SendStreamingMessage");
    // Recorded from the real stream: every update an event, the last state, no error.
    let count = |name: &str| a2a.events.iter().filter(|(n, _)| n == name).count();
    assert_eq!(count("a2a.status_update"), updates);
    assert_eq!(count("a2a.artifact_update"), artifacts);
    assert_eq!(a2a.attr("a2a.task.state"), Some("TASK_STATE_COMPLETED"));
    assert_eq!(
        a2a.attr("a2a.task.id"),
        last["result"]["statusUpdate"]["taskId"].as_str()
    );
    assert_eq!(a2a.status_code, 0, "{}", a2a.status_message);
    // The span covers the stream: it ends after the Python server's HTTP span started.
    let server = span(&spans, "python-a2a", "POST /a2a");
    assert!(a2a.end_ns >= server.start_ns);
}

/// A Rust A2A agent: `TraceLayer` on the route, `a2a::serve` around the handler.
async fn rust_agent(body: String) -> String {
    let request: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let text = request["params"]["message"]["parts"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_uppercase();
    let id = request["id"].clone();
    agent_trace::a2a::serve(&request, async move {
        serde_json::json!({"jsonrpc": "2.0", "id": id, "result": {"task": {
            "id": "t-rust", "contextId": "c-rust",
            "status": {"state": "TASK_STATE_COMPLETED"},
            "artifacts": [{"artifactId": "a-1", "parts": [{"text": text}]}]}}})
    })
    .await
    .to_string()
}

#[test]
fn python_a2a_client_to_rust_a2a_serve_is_one_trace() {
    agent_trace::isolate!();
    if !python_ready() {
        return;
    }
    let rx = OtlpReceiver::start().expect("receiver");
    let (guard, _rt, url) = serve_rust_agent(&rx, rust_agent);
    let out = std::process::Command::new("python3")
        .arg(script("a2a_client.py"))
        .arg(url)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rx.http_endpoint())
        .stdin(Stdio::null())
        .output()
        .expect("run the Python A2A client");
    assert_printed(&out, "answer: t-rust HELLO");
    guard.shutdown().expect("delivered");
    let spans = rx.spans();
    let root = span(&spans, "python-a2a-client", "python caller");
    let http = spans
        .iter()
        .find(|s| s.service == "python-a2a-client" && s.kind == "CLIENT")
        .expect("the Python HTTP CLIENT span");
    let server = span(&spans, "rust-agent", "POST /a2a");
    let a2a = span(&spans, "rust-agent", "SendMessage");
    for s in [http, server, a2a] {
        assert_eq!(s.trace_id, root.trace_id, "one trace: {s:?}");
    }
    assert_eq!(
        server.parent_span_id.as_deref(),
        Some(http.span_id.as_str()),
        "the Rust SERVER span is the child of the Python client's HTTP span"
    );
    assert_eq!(a2a.parent_span_id.as_deref(), Some(server.span_id.as_str()));
    assert_eq!(a2a.attr("a2a.method.name"), Some("SendMessage"));
    assert_eq!(a2a.attr("a2a.task.state"), Some("TASK_STATE_COMPLETED"));
}
