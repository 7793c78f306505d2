//! One crash per integration: each mode panics while that integration's span is open, in a
//! process built with `panic = "abort"`. The test checks that every span arrives ended, the
//! one that was running the panicking code marked `error.type=panic`.

use std::time::Duration;

use agent_trace::carriers::envelope;
use agent_trace::client::TraceMiddleware;
use agent_trace::mcp::{McpClientExt as _, TracedService};
use agent_trace::server::TraceLayer;
use agent_trace::{a2a_call, agent_phase, agent_run, llm_call, traced_tool};
use axum::body::{Body, Bytes};
use axum::response::Response;
use axum::routing::post;
use futures_util::{Stream, StreamExt as _};
use rmcp::model::{CallToolRequestParams, CallToolResponse, ServerCapabilities, ServerConfig};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt as _};
use serde_json::{json, Value};

/// The modes this file runs.
pub(crate) const MODES: [&str; 6] = [
    "stream",
    "http",
    "a2a-server",
    "a2a-client",
    "envelope",
    "mcp",
];

/// Runs `mode`; `false` when it is not one of [`MODES`].
pub(crate) fn run(mode: &str) -> bool {
    if !MODES.contains(&mode) {
        return false;
    }
    let _guard = agent_trace::init("crash-child").expect("init");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        match mode {
            "stream" => stream().await,
            "http" => http().await,
            "a2a-server" => a2a(true).await,
            "a2a-client" => a2a(false).await,
            "envelope" => envelope().await,
            _ => mcp().await,
        }
    });
    true
}

/// Work done inside each integration's span before it crashes: it must arrive ended, as the
/// child of that span.
#[traced_tool]
fn step(i: u32) -> u32 {
    i
}

// ---- a traced stream ----

#[llm_call(model = "stand-in")]
async fn tokens() -> Result<impl Stream<Item = u32>, String> {
    Ok(futures_util::stream::iter(0..3).map(|i| {
        step(i);
        assert!(i < 1, "the decoder broke on token {i}");
        i
    }))
}

#[agent_run(name = "writer")]
async fn write() -> usize {
    tokens().await.expect("stream").count().await
}

async fn stream() {
    write().await;
}

// ---- an HTTP server under TraceLayer, called through TraceMiddleware ----

/// Serves `app` on a free loopback port; returns its base URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn client() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TraceMiddleware::default())
        .build()
}

async fn work() -> &'static str {
    step(1);
    panic!("the handler failed hard");
}

#[a2a_call(target = "worker")]
async fn call_worker(url: String) -> Result<String, reqwest_middleware::Error> {
    Ok(client().post(url).send().await?.text().await?)
}

async fn http() {
    let app = axum::Router::new()
        .route("/work", post(work))
        .layer(TraceLayer::new());
    let base = serve(app).await;
    let _ = call_worker(format!("{base}/work")).await;
    // The panic aborts the process before the answer could come.
    tokio::time::sleep(Duration::from_secs(30)).await;
}

// ---- A2A streaming, the server's stream or the client's consumer panicking ----

/// Three status updates, 20 ms apart; with `fail`, the second panics while it is made.
fn updates(fail: bool) -> impl Stream<Item = Value> + Send {
    futures_util::stream::iter(0..3u32).then(move |i| async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        step(i);
        assert!(!(fail && i == 1), "the writer failed while streaming");
        let state = if i == 2 {
            "TASK_STATE_COMPLETED"
        } else {
            "TASK_STATE_WORKING"
        };
        json!({"jsonrpc": "2.0", "id": 1, "result": {"statusUpdate": {
            "taskId": "t-1", "contextId": "c-1", "status": {"state": state}}}})
    })
}

async fn handle_a2a(body: Bytes, fail: bool) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answers = agent_trace::a2a::serve_stream(&request, updates(fail));
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(agent_trace::a2a::sse_frames(answers)))
        .expect("response")
}

#[a2a_call(target = "writer")]
async fn ask_writer(url: String, consumer_fails: bool) -> usize {
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": "SendStreamingMessage",
        "params": {"message": {"messageId": "m-1", "contextId": "c-1", "role": "ROLE_USER",
                               "parts": [{"text": "write"}]}}});
    let mut events = std::pin::pin!(agent_trace::a2a::send_stream(&client(), &url, &request));
    let mut n = 0;
    while let Some(_event) = events.next().await {
        n += 1;
        assert!(!consumer_fails, "the reader failed on the first update");
    }
    n
}

async fn a2a(server_fails: bool) {
    let app = axum::Router::new()
        .route(
            "/a2a",
            post(move |body: Bytes| handle_a2a(body, server_fails)),
        )
        .layer(TraceLayer::new());
    let base = serve(app).await;
    // The client's task is spawned so the panic of either side happens on its own task.
    let url = format!("{base}/a2a");
    let _ = tokio::spawn(ask_writer(url, !server_fails)).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
}

// ---- a message handler under consume ----

#[agent_phase("queue")]
fn produce() -> Vec<u8> {
    envelope::produce("tasks", &json!({"task": 1})).expect("produce")
}

async fn envelope() {
    let message = produce();
    let _ = envelope::consume_async("tasks", &message, |task: Value| async move {
        step(1);
        panic!("the consumer failed on {task}");
    })
    .await;
}

// ---- a tool of a TracedService ----

#[derive(Debug, Clone)]
struct Tools;

impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn call_tool(
        &self,
        _request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        step(1);
        panic!("the MCP tool failed hard");
    }
}

#[agent_run(name = "mcp-caller")]
async fn call_mcp(client: &rmcp::Peer<rmcp::RoleClient>) {
    let _ = client
        .traced()
        .call_tool(CallToolRequestParams::new("explode"))
        .await;
}

async fn mcp() {
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        if let Ok(running) = TracedService::new(Tools).serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = ().serve(client_io).await.expect("initialize");
    call_mcp(client.peer()).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
}
