//! MCP through rmcp, for real: an rmcp client and server, over stdio (the server a child
//! process) and over streamable HTTP on 127.0.0.1, exporting over OTLP to the test receiver.
//! One trace across the hop, exact parents, errors marked, and bad `_meta` never failing a
//! request.

use std::process::Stdio;
use std::time::Duration;

use agent_trace::carriers::env::CommandExt as _;
use agent_trace::mcp::{McpClientExt as _, TracedService};
use agent_trace::receiver::{OtlpReceiver, ReceivedSpan};
use agent_trace::{agent_phase, Protocol};
use agent_trace_tests::mcp::Tools;
use agent_trace_tests::peers::runtime;
use rmcp::model::{CallToolRequestParams, ClientRequest, RequestMetaObject, ServerResult};
use rmcp::service::{PeerRequestOptions, RunningService};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::transport::{ConfigureCommandExt as _, StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceError, ServiceExt as _};
use serde_json::json;

const SERVER: &str = env!("CARGO_BIN_EXE_mcp_server");

type Client = RunningService<RoleClient, ()>;

/// The MCP server as a child process, exporting to `rx`. Its environment is cleared: no
/// `TRACEPARENT`, so any parent it finds came through `_meta`.
async fn stdio_client(rx: &OtlpReceiver) -> Client {
    stdio_client_with(rx, false).await
}

/// `stdio_client`, with `TRACEPARENT` from the current span when `inherit` is set.
async fn stdio_client_with(rx: &OtlpReceiver, inherit: bool) -> Client {
    let cmd = tokio::process::Command::new(SERVER).configure(|c| {
        c.env_clear()
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", rx.grpc_endpoint())
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
            .env("OTEL_BSP_SCHEDULE_DELAY", "10")
            .env("RUST_LOG", "warn");
        if inherit {
            c.with_trace_context();
        }
    });
    let (transport, _) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the MCP server");
    ().serve(transport).await.expect("initialize")
}

/// The test tools behind `TracedService`, over streamable HTTP at `/mcp` on 127.0.0.1.
async fn serve_mcp(config: StreamableHttpServerConfig) -> std::net::SocketAddr {
    let service: StreamableHttpService<TracedService<Tools>, LocalSessionManager> =
        StreamableHttpService::new(
            || Ok(TracedService::new(Tools::default())),
            Default::default(),
            config,
        );
    agent_trace_tests::serve(axum::Router::new().nest_service("/mcp", service)).await
}

fn args(v: serde_json::Value) -> CallToolRequestParams {
    let serde_json::Value::Object(map) = v else {
        panic!("arguments must be an object")
    };
    CallToolRequestParams::new("add").with_arguments(map)
}

#[derive(Debug)]
struct Outcomes {
    sum: String,
    fail_is_error: Option<bool>,
    reject_code: Option<i32>,
    tools: usize,
}

#[agent_phase("use_tools")]
async fn use_tools(client: &Client, url: Option<&str>) -> Outcomes {
    let traced = match url {
        Some(url) => client.traced().over_http(url),
        None => client.traced().over_stdio(),
    };
    let sum = traced
        .call_tool(args(json!({"a": 2, "b": 3})))
        .await
        .expect("add");
    let fail = traced
        .call_tool(CallToolRequestParams::new("fail"))
        .await
        .expect("an isError result is still a result");
    let reject = traced.call_tool(CallToolRequestParams::new("reject")).await;
    let tools = traced.list_tools(None).await.expect("tools/list");
    Outcomes {
        sum: sum.content[0].as_text().expect("text").text.clone(),
        fail_is_error: fail.is_error,
        reject_code: match reject {
            Err(ServiceError::McpError(e)) => Some(e.code.0),
            other => panic!("expected a JSON-RPC error, got {other:?}"),
        },
        tools: tools.tools.len(),
    }
}

fn one<'a>(spans: &'a [ReceivedSpan], name: &str, kind: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| s.name == name && s.kind == kind)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "want one {kind} span {name:?}; have {:#?}",
        spans
            .iter()
            .map(|s| (&s.name, s.kind, &s.service))
            .collect::<Vec<_>>()
    );
    found[0]
}

/// The client and server spans of one call: same trace, the server's parent is the client
/// span, the client's parent is `parent`, and both sides agree on the request id.
fn assert_hop<'a>(
    spans: &'a [ReceivedSpan],
    name: &str,
    parent: &ReceivedSpan,
) -> (&'a ReceivedSpan, &'a ReceivedSpan) {
    let client = one(spans, name, "CLIENT");
    let server = one(spans, name, "SERVER");
    assert_eq!(client.trace_id, parent.trace_id, "{name}: client trace");
    assert_eq!(
        client.parent_span_id.as_deref(),
        Some(parent.span_id.as_str())
    );
    assert_eq!(server.trace_id, parent.trace_id, "{name}: server trace");
    assert_eq!(
        server.parent_span_id.as_deref(),
        Some(client.span_id.as_str()),
        "{name}: the server span's parent is the client span"
    );
    for s in [client, server] {
        assert_eq!(
            s.attr("mcp.method.name"),
            Some(name.split(' ').next().unwrap())
        );
        assert!(s.attr("jsonrpc.request.id").is_some(), "{name}: request id");
        assert!(
            s.attr("mcp.protocol.version").is_some(),
            "{name}: protocol version"
        );
    }
    assert_eq!(
        client.attr("jsonrpc.request.id"),
        server.attr("jsonrpc.request.id")
    );
    (client, server)
}

/// Everything `use_tools` must have produced, whatever the transport.
fn assert_use_tools_trace(spans: &[ReceivedSpan], server_service: &str, transport: &str) {
    let phase = one(spans, "agent_phase use_tools", "INTERNAL");

    let (client, server) = assert_hop(spans, "tools/call add", phase);
    assert_eq!(server.service, server_service);
    assert_eq!(server.attr("network.transport"), Some(transport));
    assert_eq!(client.attr("network.transport"), Some(transport));
    for s in [client, server] {
        assert_eq!(s.attr("gen_ai.operation.name"), Some("execute_tool"));
        assert_eq!(s.attr("gen_ai.tool.name"), Some("add"));
        assert_eq!(s.status_code, 0, "a successful call is not an error");
    }
    // The tool's own span nests under the MCP server span.
    let work = one(spans, "execute_tool add_numbers", "INTERNAL");
    assert_eq!(
        work.parent_span_id.as_deref(),
        Some(server.span_id.as_str())
    );
    assert_eq!(work.trace_id, phase.trace_id);

    let (client, server) = assert_hop(spans, "tools/call fail", phase);
    for s in [client, server] {
        assert_eq!(s.status_code, 2, "isError marks the span: {}", s.kind);
        assert_eq!(s.attr("error.type"), Some("tool_error"));
        assert!(
            s.status_message.contains("Atlantis"),
            "{}",
            s.status_message
        );
    }

    // Invalid params: an error for the client; for the server the caller's fault, which the
    // MCP conventions say a SERVER span does not count as an error.
    let (client, server) = assert_hop(spans, "tools/call reject", phase);
    assert_eq!(client.status_code, 2);
    assert_eq!(client.attr("error.type"), Some("-32602"));
    assert!(client.status_message.contains("must not be empty"));
    assert_eq!(server.status_code, 0);
    assert_eq!(server.attr("error.type"), None);
    for s in [client, server] {
        assert_eq!(s.attr("rpc.response.status_code"), Some("-32602"));
    }

    assert_hop(spans, "tools/list", phase);
}

#[test]
fn stdio_calls_make_one_trace_across_the_process_boundary() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "mcp-client", Protocol::Grpc);
    let outcomes = runtime().block_on(async {
        let client = stdio_client(&rx).await;
        let outcomes = use_tools(&client, None).await;
        client.cancel().await.expect("close"); // closes stdin: the server flushes and exits
        outcomes
    });
    guard.shutdown().expect("delivered");
    assert_eq!(outcomes.sum, "5");
    assert_eq!(outcomes.fail_is_error, Some(true));
    assert_eq!(outcomes.reject_code, Some(-32602));
    assert_eq!(outcomes.tools, 3);

    // Client side: phase + 4 CLIENT spans. Server side: 4 SERVER + the tool (the session's
    // `initialize` is not traced).
    let spans = rx.wait_for_spans(10, Duration::from_secs(20));
    assert_use_tools_trace(&spans, "mcp-server", "pipe");

    // The operation-duration metrics of both sides, with the outcome as error.type.
    let named = |all: Vec<agent_trace::receiver::ReceivedMetric>, name: &str| {
        all.into_iter()
            .filter(|m| m.name == name)
            .collect::<Vec<_>>()
    };
    let client = named(
        rx.wait_for_metric("mcp.client.operation.duration", Duration::from_secs(20)),
        "mcp.client.operation.duration",
    );
    let point = |tool: &str| {
        client
            .iter()
            .find(|m| m.attr("gen_ai.tool.name") == Some(tool))
            .unwrap_or_else(|| panic!("no client point for {tool}: {client:#?}"))
    };
    assert_eq!(point("add").count, 1);
    assert_eq!(point("add").attr("error.type"), None);
    assert_eq!(point("fail").attr("error.type"), Some("tool_error"));
    assert_eq!(point("reject").attr("error.type"), Some("-32602"));
    assert!(point("add").attr("mcp.method.name") == Some("tools/call"));
    let server = named(
        rx.wait_for_metric("mcp.server.operation.duration", Duration::from_secs(20)),
        "mcp.server.operation.duration",
    );
    let calls: u64 = server
        .iter()
        .filter(|m| m.attr("mcp.method.name") == Some("tools/call"))
        .map(|m| m.count)
        .sum();
    assert_eq!(calls, 3, "{server:#?}");
    assert!(server.iter().all(|m| m.attr("gen_ai.tool.name").is_none()));
    assert!(
        server
            .iter()
            .all(|m| m.attr("error.type") != Some("-32602")),
        "invalid params are the caller's fault, not a server error: {server:#?}"
    );
    assert!(server
        .iter()
        .all(|m| m.attr("network.transport") == Some("pipe")));
    assert!(server.iter().all(|m| m.service == "mcp-server"));
}

#[test]
fn streamable_http_calls_make_one_trace() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "mcp-both", Protocol::Grpc);
    let mut port = 0;
    runtime().block_on(async {
        let addr = serve_mcp(StreamableHttpServerConfig::default()).await;
        let transport = StreamableHttpClientTransport::from_uri(format!("http://{addr}/mcp"));
        let client: Client = ().serve(transport).await.expect("initialize");
        let outcomes = use_tools(&client, Some(&format!("http://{addr}/mcp"))).await;
        assert_eq!(outcomes.sum, "5");
        assert_eq!(outcomes.fail_is_error, Some(true));
        assert_eq!(outcomes.reject_code, Some(-32602));
        client.cancel().await.expect("close");
        port = addr.port();
    });
    guard.shutdown().expect("delivered");
    let spans = rx.spans();
    assert_use_tools_trace(&spans, "mcp-both", "tcp");
    let client = one(&spans, "tools/call add", "CLIENT");
    assert_eq!(client.attr("server.address"), Some("127.0.0.1"));
    assert_eq!(client.attr("server.port"), Some(port.to_string().as_str()));
    assert_eq!(client.attr("network.protocol.name"), Some("http"));
    let server = one(&spans, "tools/call add", "SERVER");
    assert!(
        server.attr("mcp.session.id").is_some_and(|s| !s.is_empty()),
        "streamable HTTP sessions are recorded"
    );
    assert_eq!(server.attr("network.protocol.name"), Some("http"));
}

/// A `tools/call add` sent with rmcp's own API and `meta` as its `_meta`: the request must
/// succeed whatever `meta` holds.
async fn add_with_meta(client: &Client, meta: serde_json::Value) -> String {
    let serde_json::Value::Object(meta) = meta else {
        panic!("meta must be an object")
    };
    let request = ClientRequest::CallToolRequest(rmcp::model::CallToolRequest::new(args(
        json!({"a": 40, "b": 2}),
    )));
    let mut options = PeerRequestOptions::no_options();
    options.meta = Some(RequestMetaObject(rmcp::model::MetaObject(meta)));
    let answer = client
        .send_request_with_option(request, options)
        .await
        .expect("sent")
        .await_response()
        .await
        .expect("bad _meta never fails the request");
    match answer {
        ServerResult::CallToolResult(r) => r.content[0].as_text().expect("text").text.clone(),
        other => panic!("unexpected {other:?}"),
    }
}

#[agent_phase("send_bad_meta")]
async fn send_bad_meta(client: &Client) -> Vec<String> {
    let mut answers = Vec::new();
    for meta in [
        json!({"traceparent": "garbage", "tracestate": "k=v,".repeat(30_000)}),
        json!({"traceparent": 12, "baggage": ["not", "a", "string"]}),
        json!({"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}),
        json!({"traceparent": "x".repeat(1 << 20)}),
    ] {
        answers.push(add_with_meta(client, meta).await);
    }
    answers
}

#[test]
fn bad_meta_starts_a_new_trace_and_never_fails_the_request() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "mcp-client", Protocol::Grpc);
    let answers = runtime().block_on(async {
        let client = stdio_client(&rx).await;
        let answers = send_bad_meta(&client).await;
        client.cancel().await.expect("close");
        answers
    });
    guard.shutdown().expect("delivered");
    assert_eq!(answers, vec!["42"; 4]);

    // phase + 4 × (server span + tool span)
    let spans = rx.wait_for_spans(9, Duration::from_secs(20));
    let phase = one(&spans, "agent_phase send_bad_meta", "INTERNAL");
    let servers: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "tools/call add" && s.kind == "SERVER")
        .collect();
    assert_eq!(servers.len(), 4);
    for s in &servers {
        assert_eq!(s.parent_span_id, None, "a new trace: no parent");
        assert_ne!(s.trace_id, phase.trace_id);
        assert_eq!(s.status_code, 0);
    }
    let mut traces: Vec<_> = servers.iter().map(|s| &s.trace_id).collect();
    traces.dedup();
    assert_eq!(traces.len(), 4, "each request its own trace");
}

const TRACE_IN_META: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_IN_META: &str = "00f067aa0ba902b7";
const TRACE_IN_HEADER: &str = "0af7651916cd43dd8448eb211c80319c";
const SPAN_IN_HEADER: &str = "b7ad6b7169203331";

/// One stateless `tools/call` over raw HTTP, with `meta` in `_meta` and `traceparent` as an
/// HTTP header when given. Returns the JSON-RPC answer.
async fn raw_call(url: &str, meta: serde_json::Value, header: Option<&str>) -> serde_json::Value {
    let mut meta = meta;
    meta["io.modelcontextprotocol/protocolVersion"] = json!("2026-07-28");
    meta["io.modelcontextprotocol/clientInfo"] = json!({"name": "raw", "version": "1"});
    meta["io.modelcontextprotocol/clientCapabilities"] = json!({});
    let body = json!({
        "jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 1, "b": 1}, "_meta": meta},
    });
    let mut request = reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2026-07-28")
        .header("Mcp-Method", "tools/call")
        .header("Mcp-Name", "add")
        .body(body.to_string());
    if let Some(tp) = header {
        request = request.header("traceparent", tp);
    }
    let response = request.send().await.expect("POST");
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON answer")
}

#[test]
fn over_http_the_meta_context_is_the_parent_and_the_transport_context_a_link() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "mcp-server", Protocol::Grpc);
    let header = format!("00-{TRACE_IN_HEADER}-{SPAN_IN_HEADER}-01");
    let meta_tp = format!("00-{TRACE_IN_META}-{SPAN_IN_META}-01");
    let answers = runtime().block_on(async {
        let config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None);
        let addr = serve_mcp(config).await;
        let url = format!("http://{addr}/mcp");
        vec![
            // Both: `_meta` wins, the header is linked.
            raw_call(&url, json!({"traceparent": meta_tp}), Some(&header)).await,
            // Only the header: it is the parent.
            raw_call(&url, json!({}), Some(&header)).await,
            // Garbage `_meta`, no header: a new trace, and the call still works.
            raw_call(
                &url,
                json!({"traceparent": "00-zz", "tracestate": "a=b,".repeat(50_000)}),
                None,
            )
            .await,
        ]
    });
    guard.shutdown().expect("delivered");
    for a in &answers {
        assert_eq!(a["result"]["content"][0]["text"], "2", "{a}");
    }
    let spans = rx.spans();
    let mut servers: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "tools/call add" && s.kind == "SERVER")
        .collect();
    assert_eq!(servers.len(), 3);
    servers.sort_by_key(|s| s.start_ns);

    assert_eq!(servers[0].trace_id, TRACE_IN_META);
    assert_eq!(servers[0].parent_span_id.as_deref(), Some(SPAN_IN_META));
    assert_eq!(
        servers[0].links,
        vec![(TRACE_IN_HEADER.to_string(), SPAN_IN_HEADER.to_string())]
    );
    assert_eq!(servers[0].attr("jsonrpc.request.id"), Some("7"));

    assert_eq!(servers[1].trace_id, TRACE_IN_HEADER);
    assert_eq!(servers[1].parent_span_id.as_deref(), Some(SPAN_IN_HEADER));
    assert!(servers[1].links.is_empty());

    assert_eq!(servers[2].parent_span_id, None);
    assert_ne!(servers[2].trace_id, TRACE_IN_META);
    assert_ne!(servers[2].trace_id, TRACE_IN_HEADER);
}

#[agent_phase("start_mcp_server")]
async fn start_and_use(rx: &OtlpReceiver) -> String {
    let client = stdio_client_with(rx, true).await;
    let answer = add_with_meta(&client, json!({})).await;
    client.cancel().await.expect("close");
    answer
}

#[test]
fn requests_without_meta_join_the_span_that_spawned_a_stdio_server() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "mcp-client", Protocol::Grpc);
    let answer = runtime().block_on(start_and_use(&rx));
    guard.shutdown().expect("delivered");
    assert_eq!(answer, "42");
    // phase + tools/call + the tool's span (the session's `initialize` is not traced)
    let spans = rx.wait_for_spans(3, Duration::from_secs(20));
    let phase = one(&spans, "agent_phase start_mcp_server", "INTERNAL");
    assert!(spans.iter().all(|s| s.name != "initialize"), "{spans:#?}");
    let s = one(&spans, "tools/call add", "SERVER");
    assert_eq!(s.trace_id, phase.trace_id);
    assert_eq!(s.parent_span_id.as_deref(), Some(phase.span_id.as_str()));
}

/// The target triple of the host, from `rustc -vV`.
fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = std::process::Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("rustc -vV");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .trim()
        .to_string()
}

/// `TracedService` forwards every method of rmcp's `ServerHandler` in the rmcp this workspace
/// resolves (read from its source), so a method a later rmcp adds cannot bypass the user's
/// handler unnoticed: this test fails until it is forwarded.
#[test]
fn traced_service_forwards_every_server_handler_method() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Only this platform's packages: offline, `cargo metadata` fails for a package of another
    // platform (an Android-only dependency of a dependency) that was never downloaded.
    let host = host_triple();
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", &host])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let rmcp = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "rmcp")
        .expect("rmcp is a dependency");
    let manifest = std::path::Path::new(rmcp["manifest_path"].as_str().expect("path"));
    let source = std::fs::read_to_string(manifest.with_file_name("src/handler/server.rs"))
        .expect("rmcp's handler/server.rs");
    // The trait's methods are declared in the `server_handler_methods!` macro.
    let start = source
        .find("macro_rules! server_handler_methods")
        .expect("rmcp declares ServerHandler's methods in server_handler_methods!");
    let block = &source[start..];
    let block = &block[..block[1..]
        .find("macro_rules!")
        .map_or(block.len(), |e| e + 1)];
    let methods: Vec<&str> = block
        .split("fn ")
        .skip(1)
        .filter_map(|rest| rest.split('(').next())
        .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .collect();
    assert!(methods.len() >= 20, "found {methods:?}");
    let ours: String = include_str!("../../agent-trace/src/integrations/mcp/server.rs")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let missing: Vec<&str> = methods
        .iter()
        .copied()
        .filter(|m| !ours.contains(&format!("fn{m}(")) && !ours.contains(&format!("!({m}(")))
        .collect();
    assert!(
        missing.is_empty(),
        "rmcp {} has ServerHandler methods TracedService does not forward: {missing:?}",
        rmcp["version"]
    );
}

/// rmcp 3.11 answers a method whose capability the server did not advertise with an error
/// before any handler runs. `TracedService` advertises exactly what the wrapped handler does
/// (here: tools only), so a client sees the same answers with and without it.
#[test]
fn traced_service_advertises_exactly_the_inner_capabilities() {
    agent_trace::isolate!();
    async fn answers(traced: bool) -> (bool, Option<i32>, usize) {
        let (server_io, client_io) = tokio::io::duplex(64 * 1024);
        let server = tokio::spawn(async move {
            match traced {
                true => {
                    if let Ok(r) = TracedService::new(Tools::default()).serve(server_io).await {
                        let _ = r.waiting().await;
                    }
                }
                false => {
                    if let Ok(r) = Tools::default().serve(server_io).await {
                        let _ = r.waiting().await;
                    }
                }
            }
        });
        let client = ().serve(client_io).await.expect("initialize");
        let caps = client.peer_info().map(|i| {
            (
                i.capabilities.tools.is_some(),
                i.capabilities.prompts.is_some(),
            )
        });
        let prompts = client.list_prompts(None).await;
        let code = match prompts {
            Err(ServiceError::McpError(e)) => Some(e.code.0),
            _ => None,
        };
        let tools = client.list_tools(None).await.expect("tools").tools.len();
        client.cancel().await.expect("close");
        server.abort();
        assert_eq!(caps, Some((true, false)), "tools advertised, prompts not");
        (caps.is_some(), code, tools)
    }
    let rt = runtime();
    let bare = rt.block_on(answers(false));
    let traced = rt.block_on(answers(true));
    assert_eq!(traced, bare);
    assert!(
        bare.1.is_some(),
        "an unadvertised method is refused: {bare:?}"
    );
    assert_eq!(bare.2, 3);
}
