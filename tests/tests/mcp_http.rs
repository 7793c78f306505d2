//! MCP over streamable HTTP as it is deployed: an rmcp server in its own process (axum,
//! `TraceLayer` on the router, `TracedService` inside rmcp's `StreamableHttpService`), and an
//! rmcp client here that sends through `.traced()` over `agent_trace::mcp::http_transport`.
//! Both export over OTLP to one receiver, each as its own service. For both protocol
//! revisions rmcp 3.11 speaks (the stateful one with sessions, and the stateless 2026-07-28),
//! the server exports nothing outside the caller's traces: the session's plumbing
//! (`initialize`, notifications, the event stream, `DELETE`) leaves no trace of its own, and
//! each traced request draws as the MCP conventions draw it: MCP CLIENT → HTTP POST CLIENT →
//! HTTP POST SERVER, and MCP SERVER under the MCP CLIENT, linked to the HTTP SERVER span.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use agent_trace::mcp::McpClientExt as _;
use agent_trace::receiver::{OtlpReceiver, ReceivedSpan};
use agent_trace::{agent_phase, Protocol};
use rmcp::model::{CallToolRequestParams, ClientConfig, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt as _};
use rmcp::ServiceExt as _;
use serde_json::json;

const SERVER: &str = env!("CARGO_BIN_EXE_mcp_http_server");

/// The server process, exporting to `rx`; its port, read from its first line.
struct Server {
    child: std::process::Child,
    port: u16,
}

impl Server {
    fn start(rx: &OtlpReceiver, mode: &str) -> Server {
        let mut child = Command::new(SERVER)
            .arg(mode)
            .env_clear()
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", rx.http_endpoint())
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            .env("OTEL_METRICS_EXPORTER", "none")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the MCP HTTP server");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout).read_line(&mut line).expect("port");
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the server said {line:?}"));
        Server { child, port }
    }

    /// Closes its stdin (it flushes and exits) and waits for it, by its PID.
    fn stop(mut self) {
        drop(self.child.stdin.take());
        let status = self.child.wait().expect("the server exits");
        assert!(status.success(), "the server exited with {status}");
    }
}

#[agent_phase("use_tools")]
async fn use_tools(client: &rmcp::Peer<rmcp::RoleClient>, url: &str) -> String {
    let traced = client.traced().over_http(url);
    let args = match json!({"a": 2, "b": 3}) {
        serde_json::Value::Object(m) => m,
        _ => unreachable!(),
    };
    let sum = traced
        .call_tool(CallToolRequestParams::new("add").with_arguments(args))
        .await
        .expect("add");
    traced.list_tools(None).await.expect("tools/list");
    sum.content[0].as_text().expect("text").text.clone()
}

/// Runs one session at `revision` against a server in `mode`; returns every span received.
fn session(mode: &str, revision: ProtocolVersion) -> Vec<ReceivedSpan> {
    let rx = OtlpReceiver::start().expect("receiver");
    let server = Server::start(&rx, mode);
    let guard = agent_trace_tests::init_to(&rx, "mcp-caller", Protocol::HttpProtobuf);
    let url = format!("http://127.0.0.1:{}/mcp", server.port);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(connect_and_use(&url, revision));
    drop(rt);
    guard.shutdown().expect("delivered");
    server.stop();
    rx.wait_for_spans(usize::MAX, Duration::from_millis(500))
}

/// Connects and uses the tools, all inside one trace: rmcp's own `tracing` span for the
/// session (`serve_inner`) is bridged into it.
#[agent_phase("mcp_session")]
async fn connect_and_use(url: &str, revision: ProtocolVersion) {
    {
        let transport = agent_trace::mcp::http_transport(url);
        // The stateless revision has no `initialize`: rmcp's client discovers the server.
        let info = ClientConfig::new(Default::default(), rmcp::model::Implementation::default())
            .with_protocol_version(revision.clone());
        let client = if revision == ProtocolVersion::V_2026_07_28 {
            let discover = ClientLifecycleMode::Discover {
                preferred_versions: vec![revision],
            };
            info.serve_with_lifecycle(transport, discover).await
        } else {
            info.serve(transport).await
        }
        .expect("connect");
        assert_eq!(use_tools(client.peer(), url).await, "5");
        client.cancel().await.expect("close the session");
    }
}

fn by<'a>(spans: &'a [ReceivedSpan], service: &str) -> Vec<&'a ReceivedSpan> {
    spans.iter().filter(|s| s.service == service).collect()
}

fn one<'a>(spans: &'a [ReceivedSpan], service: &str, name: &str, kind: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| s.service == service && s.name == name && s.kind == kind)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {kind} {name:?} of {service}: {spans:#?}"
    );
    found[0]
}

/// The shape both revisions must have.
fn one_trace_per_call(spans: &[ReceivedSpan]) {
    let caller = by(spans, "mcp-caller");
    let server = by(spans, "mcp-http-server");
    assert!(!server.is_empty(), "the server exported: {spans:#?}");
    let traces = |s: &[&ReceivedSpan]| {
        s.iter()
            .map(|s| s.trace_id.clone())
            .collect::<BTreeSet<_>>()
    };
    // Nothing of the server's outside the caller's traces: no plumbing roots.
    let stray: Vec<_> = server
        .iter()
        .filter(|s| !traces(&caller).contains(&s.trace_id))
        .map(|s| format!("{} [{}]", s.name, s.kind))
        .collect();
    assert!(
        stray.is_empty(),
        "server spans in traces of their own: {stray:?}"
    );
    assert_eq!(
        traces(&caller).len(),
        1,
        "the caller's one trace: {caller:#?}"
    );

    let mcp_client = one(spans, "mcp-caller", "tools/call add", "CLIENT");
    let http_client = spans
        .iter()
        .find(|s| {
            s.kind == "CLIENT"
                && s.name == "POST"
                && s.parent_span_id.as_ref() == Some(&mcp_client.span_id)
        })
        .expect("the HTTP POST of tools/call under its MCP CLIENT span");
    assert_eq!(http_client.attr("http.response.status_code"), Some("200"));
    let http_server = spans
        .iter()
        .find(|s| s.kind == "SERVER" && s.parent_span_id.as_ref() == Some(&http_client.span_id))
        .expect("the server's HTTP span under the caller's HTTP POST");
    assert_eq!(http_server.name, "POST /mcp");
    assert_eq!(http_server.service, "mcp-http-server");
    let mcp_server = one(spans, "mcp-http-server", "tools/call add", "SERVER");
    assert_eq!(
        mcp_server.parent_span_id.as_ref(),
        Some(&mcp_client.span_id)
    );
    assert!(
        mcp_server
            .links
            .iter()
            .any(|(_, span)| span == &http_server.span_id),
        "the MCP SERVER span links the HTTP SERVER span: {mcp_server:#?}"
    );
    let tool = one(
        spans,
        "mcp-http-server",
        "execute_tool add_numbers",
        "INTERNAL",
    );
    assert_eq!(tool.parent_span_id.as_ref(), Some(&mcp_server.span_id));
    quiet_library_spans(spans);
}

/// rmcp's `tracing` spans bridged into the trace carry no thread ids, no busy/idle times and
/// no absolute source paths.
fn quiet_library_spans(spans: &[ReceivedSpan]) {
    let bridged: Vec<_> = spans
        .iter()
        .filter(|s| {
            s.attr("code.module.name")
                .is_some_and(|m| m.starts_with("rmcp"))
        })
        .collect();
    assert!(
        !bridged.is_empty(),
        "rmcp's session span was bridged: {spans:#?}"
    );
    for s in bridged {
        for key in ["thread.id", "thread.name", "busy_ns", "idle_ns"] {
            assert_eq!(s.attr(key), None, "{key} on {}: {s:#?}", s.name);
        }
        let path = s.attr("code.file.path").expect("a source location");
        assert!(
            path.starts_with("rmcp-") && !path.starts_with('/'),
            "a relative path: {path}"
        );
    }
}

#[test]
fn the_stateful_revision_leaves_only_the_callers_traces() {
    agent_trace::isolate!();
    let spans = session("stateful", ProtocolVersion::V_2025_11_25);
    one_trace_per_call(&spans);
    let server = one(&spans, "mcp-http-server", "tools/call add", "SERVER");
    assert_eq!(server.attr("mcp.protocol.version"), Some("2025-11-25"));
    assert!(
        server.attr("mcp.session.id").is_some_and(|s| !s.is_empty()),
        "a session: {server:#?}"
    );
}

#[test]
fn the_stateless_revision_leaves_only_the_callers_traces() {
    agent_trace::isolate!();
    let spans = session("stateless", ProtocolVersion::V_2026_07_28);
    one_trace_per_call(&spans);
    let server = one(&spans, "mcp-http-server", "tools/call add", "SERVER");
    assert_eq!(server.attr("mcp.protocol.version"), Some("2026-07-28"));
    for s in spans.iter().filter(|s| s.attr("mcp.method.name").is_some()) {
        assert_eq!(
            s.attr("mcp.session.id"),
            None,
            "no session, no attribute: {s:#?}"
        );
    }
}
