//! Agents in other languages join the same trace: a Rust MCP client (`.traced()`) calling a
//! server built on the official Python SDK (`mcp` 2.x, whose OpenTelemetry middleware reads
//! `params._meta`), as a real child process over stdio, both exporting to the test receiver.
//!
//! Needs `python3` with `mcp`, `opentelemetry-sdk` and `opentelemetry-exporter-otlp-proto-http`
//! (`.ci/run` installs pinned versions). Without them the test says SKIPPED and passes, except
//! in CI (`CI=true`), where a missing Python package fails it.

use std::process::Stdio;
use std::time::Duration;

use agent_trace::mcp::McpClientExt as _;
use agent_trace::testing::receiver::{OtlpReceiver, ReceivedSpan};
use agent_trace::{agent_phase, Protocol};
use rmcp::model::CallToolRequestParams;
use rmcp::transport::{ConfigureCommandExt as _, TokioChildProcess};
use rmcp::ServiceExt as _;

/// Whether python3 has the packages; `false` (after saying SKIPPED) outside CI, a failure in CI.
fn python_ready() -> bool {
    let ok = std::process::Command::new("python3")
        .args([
            "-c",
            "import mcp, opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http",
        ])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").is_err(),
            "python3 with mcp and opentelemetry-sdk is required in CI (.ci/run installs them)"
        );
        eprintln!(
            "SKIPPED: python3 with mcp, opentelemetry-sdk and opentelemetry-exporter-otlp-proto-http \
             is not installed (pip install mcp==2.3.0 opentelemetry-sdk==1.45.2 \
             opentelemetry-exporter-otlp-proto-http==1.45.2)"
        );
    }
    ok
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
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
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("answer: 5"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
