//! The multi-agent demo: one user request crosses an orchestrator, two specialist agents (each
//! its own process and service, spoken to over A2A JSON-RPC), a stand-in LLM (one call
//! streams), tools (one fails and is retried), two MCP servers (one a child process over
//! stdio, one its own service over streamable HTTP), a helper subprocess and, when a Redis
//! server is reachable, a queue, and comes out as one trace.
//!
//! ```sh
//! cargo run --release -p agent-trace-examples --bin multi-agent
//! ```
//!
//! With no `OTEL_EXPORTER_OTLP_ENDPOINT`, it collects the spans of every process itself (an
//! OTLP receiver on 127.0.0.1) and draws the trace in the terminal. With the variable set,
//! every process exports there instead (Jaeger, Tempo, Phoenix, a collector).
//!
//! The same binary plays every part: `multi-agent` is the orchestrator and launcher,
//! `multi-agent agent <research|coder>` a specialist agent, `multi-agent mcp-docs` the MCP
//! server the research agent starts, `multi-agent mcp-lint` the MCP server over HTTP the coder
//! calls, `multi-agent helper <task>` the helper process the coder spawns.

use std::process::Stdio;
use std::time::Duration;

use agent_trace::carriers::env::CommandExt as _;
use agent_trace::export::{render_trace, RenderOptions};

use agent_trace::mcp::{McpClientExt as _, TracedService};
use agent_trace::receiver::{OtlpReceiver, ReceivedSpan};
use agent_trace::server::TraceLayer;
use agent_trace::{a2a_call, agent_phase, agent_run, traced_tool};
use agent_trace_examples::{chat, chat_judged, chat_streamed, http_client, serve, start_llm};
use anyhow::Context as _;
use axum::routing::post;
use axum::{Json, Router};
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolRequestParams, ServerCapabilities, ServerConfig};
use rmcp::transport::{ConfigureCommandExt as _, TokioChildProcess};
use rmcp::{schemars, tool, tool_handler, tool_router, ServiceExt as _};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt as _, BufReader};

const EVENTS: &str = "agent-events";

/// What a specialist agent answers: the text of its task's artifact.
#[derive(Debug)]
struct Answer {
    result: String,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        None => rt.block_on(launcher()),
        Some("agent") => rt.block_on(agent(args.get(1).map(String::as_str).unwrap_or(""))),
        Some("helper") => helper(args.get(1).map(String::as_str).unwrap_or("")),
        Some("mcp-docs") => rt.block_on(mcp_docs()),
        Some("mcp-lint") => rt.block_on(mcp_lint()),
        Some(other) => anyhow::bail!(
            "unknown command {other:?}: run without arguments (the demo), or `agent <research|coder>`, `mcp-docs`, `mcp-lint` or `helper <task>`"
        ),
    }
}

// ---------------------------------------------------------------- the orchestrator

async fn launcher() -> anyhow::Result<()> {
    let user_endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|v| !v.trim().is_empty());
    // No collector configured: collect every process's spans here, over real OTLP.
    let receiver = match &user_endpoint {
        Some(_) => None,
        None => Some(OtlpReceiver::start().context("starting the local OTLP receiver")?),
    };
    let mut child_env: Vec<(String, String)> = vec![
        ("OTEL_BSP_SCHEDULE_DELAY".into(), "100".into()),
        (
            "RUST_LOG".into(),
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        ),
    ];
    // The demo's made-up prices (examples/prices.json, LiteLLM's format) unless the user
    // names a prices file: every agent records what its model calls cost.
    if std::env::var_os("AGENT_TRACE_PRICES").is_none() {
        let demo_prices = concat!(env!("CARGO_MANIFEST_DIR"), "/prices.json");
        child_env.push(("AGENT_TRACE_PRICES".into(), demo_prices.into()));
    }
    let mut builder = agent_trace::builder()
        .service_name("orchestrator")
        .schedule_delay(Duration::from_millis(100));
    if std::env::var_os("AGENT_TRACE_PRICES").is_none() {
        let prices = agent_trace::Prices::from_litellm_json(include_str!("../../prices.json"))?;
        builder = builder.prices(prices);
    }
    let guard = match &receiver {
        Some(rx) => {
            child_env.push(("OTEL_EXPORTER_OTLP_ENDPOINT".into(), rx.grpc_endpoint()));
            child_env.push(("OTEL_EXPORTER_OTLP_PROTOCOL".into(), "grpc".into()));
            builder
                .endpoint(rx.grpc_endpoint())
                .protocol(agent_trace::Protocol::Grpc)
                .install()?
        }
        None => builder.install()?,
    };

    let llm = start_llm().await?;
    child_env.push(("DEMO_LLM_URL".into(), llm.clone()));
    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let redis = redis_connection(&redis_url).await;
    match &redis {
        Some(_) => child_env.push(("DEMO_REDIS_URL".into(), redis_url.clone())),
        None => eprintln!(
            "note: no Redis server at {redis_url}; skipping the queue hop (start redis-server or set REDIS_URL to include it)"
        ),
    }

    // The lint MCP server, its own service over streamable HTTP, that the coder calls.
    let lint = Agent::spawn_command(&["mcp-lint"], "lint-mcp", &child_env).await?;
    child_env.push(("DEMO_LINT_MCP_URL".into(), format!("{}/mcp", lint.url)));
    let research = Agent::spawn("research", &child_env).await?;
    // DEMO_PYTHON_CODER=1: the coder is an agent on the official Python A2A SDK
    // (examples/python/coder_agent.py), exporting OTLP/HTTP to the same place.
    let python_coder = std::env::var("DEMO_PYTHON_CODER").is_ok_and(|v| v == "1" || v == "true");
    let coder = match python_coder {
        true => {
            // The Python agent speaks OTLP/HTTP: to the local receiver, or to
            // DEMO_PYTHON_OTLP_ENDPOINT (a collector's OTLP/HTTP address) or the configured one.
            let otlp_http = match &receiver {
                Some(rx) => rx.http_endpoint(),
                None => std::env::var("DEMO_PYTHON_OTLP_ENDPOINT")
                    .ok()
                    .or_else(|| user_endpoint.clone())
                    .unwrap_or_default(),
            };
            Agent::spawn_python_coder(&otlp_http).await?
        }
        false => Agent::spawn("coder", &child_env).await?,
    };
    // The Python coder reports nothing on the queue: do not wait for it there.
    let redis = redis.filter(|_| !python_coder);
    eprintln!(
        "orchestrator: agents up (research on {}, coder on {}); handling one request...",
        research.url, coder.url
    );

    // One conversation: its id rides in the trace context's baggage, so every span of every
    // service the request reaches carries `gen_ai.conversation.id`.
    let conversation = agent_trace::in_conversation(format!("demo-{}", std::process::id()));
    let request = handle_request(
        "Explain Rust ownership and write an example",
        &llm,
        &research.url,
        &coder.url,
        redis,
    );
    let outcome =
        agent_trace::opentelemetry::trace::FutureExt::with_context(request, conversation).await;

    // Graceful stop: each agent flushes its spans before it exits.
    research.stop().await;
    coder.stop().await;
    lint.stop().await;
    let trace_id = agent_trace::current_trace_id(); // outside any span: None
    debug_assert!(trace_id.is_none());
    let stats = guard.shutdown();

    match outcome {
        Ok(answer) => println!("\nanswer: {answer}\n"),
        Err(e) => println!("\nrequest failed: {e:#}\n"),
    }
    match receiver {
        Some(rx) => print_traces(&rx.spans()),
        None => println!(
            "spans exported to {} (open your trace UI there)",
            user_endpoint.unwrap_or_default()
        ),
    }
    if let Err(e) = stats {
        eprintln!("warning: {e}");
    }
    Ok(())
}

fn print_traces(spans: &[ReceivedSpan]) {
    let mut traces: Vec<&str> = spans.iter().map(|s| s.trace_id.as_str()).collect();
    traces.sort_unstable();
    traces.dedup();
    for t in traces {
        let views: Vec<_> = spans
            .iter()
            .filter(|s| s.trace_id == t)
            .map(ReceivedSpan::to_view)
            .collect();
        println!("{}", render_trace(&views, RenderOptions::default()));
    }
}

async fn redis_connection(url: &str) -> Option<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(url).ok()?;
    tokio::time::timeout(
        Duration::from_secs(1),
        client.get_multiplexed_async_connection(),
    )
    .await
    .ok()?
    .ok()
}

#[agent_phase("handle_request", fields(demo.request.length = request.len()), capture(request), capture_result)]
async fn handle_request(
    request: &str,
    llm: &str,
    research_url: &str,
    coder_url: &str,
    redis: Option<redis::aio::MultiplexedConnection>,
) -> anyhow::Result<String> {
    tracing::info!(demo.request.length = request.len(), "handling a request");
    let route = chat_judged(llm, &format!("classify: {request}"), Some(judge_route)).await?;
    let findings = ask_research(research_url, request).await?;
    let code = ask_coder(coder_url, &findings.result).await?;
    if let Some(mut conn) = redis {
        if let Some(event) = next_event(&mut conn).await {
            tracing::info!(demo.coder.event = %event, "coder reported");
        }
    }
    Ok(format!("{route} | {} | {}", findings.result, code.result))
}

/// A stand-in evaluator of the routing answer: does it name where the request goes next?
/// (A real one would be a model judging the answer.)
fn judge_route(
    response: &agent_trace_examples::ChatResponse,
) -> agent_trace::evaluation::Evaluation {
    let text = response
        .choices
        .first()
        .map(|c| c.message.content.as_str())
        .unwrap_or("");
    let routed = text.contains("research") || text.contains("code");
    agent_trace::evaluation::Evaluation::new("routing")
        .score(if routed { 1.0 } else { 0.0 })
        .label(if routed { "routed" } else { "unrouted" })
        .explanation("the answer names the agents the request goes to")
}

#[a2a_call(target = "research-agent", url = format!("{url}/a2a"))]
async fn ask_research(url: &str, task: &str) -> anyhow::Result<Answer> {
    send_message(url, task).await
}

#[a2a_call(target = "coder-agent", url = format!("{url}/a2a"))]
async fn ask_coder(url: &str, task: &str) -> anyhow::Result<Answer> {
    send_message(url, task).await
}

/// An A2A `SendMessage` JSON-RPC call (A2A 1.0 shapes); the answer is a completed task whose
/// artifact holds the text.
async fn send_message(url: &str, task: &str) -> anyhow::Result<Answer> {
    // The A2A context is the conversation the request is in.
    let context = agent_trace::current_conversation_id().unwrap_or_else(|| {
        format!(
            "ctx-{}",
            agent_trace::current_trace_id().unwrap_or_default()
        )
    });
    let request = json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "SendMessage",
        "params": {"message": {
            "messageId": format!("msg-{}", agent_trace::current_span_id().unwrap_or_default()),
            "contextId": context,
            "role": "ROLE_USER",
            "parts": [{"text": task}],
        }},
    });
    // A `SendMessage` CLIENT span under the `invoke_agent` one, the A2A-Version header, and
    // the task id and state recorded from the answer.
    let response = agent_trace::a2a::send(&http_client(), &format!("{url}/a2a"), &request).await?;
    if let Some(error) = response.get("error") {
        anyhow::bail!("A2A error: {error}");
    }
    let text = response["result"]["task"]["artifacts"][0]["parts"][0]["text"]
        .as_str()
        .context("the answer has no text artifact")?;
    Ok(Answer {
        result: text.to_string(),
    })
}

#[traced_tool(name = "read_event")]
async fn next_event(conn: &mut redis::aio::MultiplexedConnection) -> Option<String> {
    let (_, item): (String, Vec<u8>) = redis::cmd("BRPOP")
        .arg(EVENTS)
        .arg(2)
        .query_async(conn)
        .await
        .ok()?;
    agent_trace::carriers::redis::consume_item(EVENTS, &item, |v: serde_json::Value| {
        v["event"].as_str().unwrap_or_default().to_string()
    })
    .ok()
}

/// A specialist agent process.
struct Agent {
    child: tokio::process::Child,
    url: String,
    /// The Python coder: stopped with SIGTERM (uvicorn then flushes its spans).
    python: bool,
}

/// The Python packages the Python coder needs.
const PYTHON_PIP: &str = "python3 -m pip install \"a2a-sdk[telemetry,http-server]==1.3.0\" \
    \"uvicorn==0.54.0\" \"opentelemetry-sdk==1.45.1\" \
    \"opentelemetry-exporter-otlp-proto-http==1.45.1\" \
    \"opentelemetry-instrumentation-starlette==0.66b1\"";

impl Agent {
    async fn spawn(name: &str, env: &[(String, String)]) -> anyhow::Result<Agent> {
        Agent::spawn_command(&["agent", name], name, env).await
    }

    /// Starts this binary with `args`; it prints `LISTENING PORT` when it serves.
    async fn spawn_command(
        args: &[&str],
        name: &str,
        env: &[(String, String)],
    ) -> anyhow::Result<Agent> {
        let exe = std::env::current_exe()?;
        let mut cmd = tokio::process::Command::new(exe);
        cmd.args(args)
            .envs(env.iter().cloned())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = cmd.spawn()?;
        let stdout = child.stdout.take().context("agent stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .with_context(|| format!("agent {name} did not start within 30 s"))??
            .with_context(|| format!("agent {name} exited before listening"))?;
        let port = line
            .strip_prefix("LISTENING ")
            .and_then(|p| p.trim().parse::<u16>().ok())
            .with_context(|| format!("agent {name} said {line:?}"))?;
        Ok(Agent {
            child,
            url: format!("http://127.0.0.1:{port}"),
            python: false,
        })
    }

    /// Starts examples/python/coder_agent.py on a free loopback port.
    async fn spawn_python_coder(otlp_http: &str) -> anyhow::Result<Agent> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/coder_agent.py");
        let mut child = tokio::process::Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", otlp_http)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting python3 {script}"))?;
        let started = std::time::Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if child.try_wait()?.is_some() || started.elapsed() > Duration::from_secs(30) {
                anyhow::bail!(
                    "the Python coder did not start; it needs the official A2A SDK: {PYTHON_PIP}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Agent {
            child,
            url: format!("http://127.0.0.1:{port}"),
            python: true,
        })
    }

    async fn stop(mut self) {
        if self.python {
            if let Some(pid) = self.child.id() {
                let _ = tokio::process::Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status()
                    .await;
            }
            if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
                .await
                .is_err()
            {
                let _ = self.child.kill().await;
            }
            return;
        }
        let _ = reqwest::Client::new()
            .post(format!("{}/shutdown", self.url))
            .send()
            .await;
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

// ---------------------------------------------------------------- the specialist agents

async fn agent(name: &str) -> anyhow::Result<()> {
    let service = match name {
        "research" => "research-agent",
        "coder" => "coder-agent",
        other => anyhow::bail!("unknown agent {other:?}: expected research or coder"),
    };
    let guard = agent_trace::init(service)?;
    let llm = std::env::var("DEMO_LLM_URL").context("DEMO_LLM_URL")?;
    let role = name.to_string();
    let app = Router::new()
        .route(
            "/a2a",
            post(move |Json(request): Json<Value>| {
                let (llm, role) = (llm.clone(), role.clone());
                async move {
                    let response = agent_trace::a2a::serve(&request, async {
                        let text = request["params"]["message"]["parts"][0]["text"]
                            .as_str()
                            .unwrap_or_default();
                        let result = if role == "research" {
                            research(&llm, text).await
                        } else {
                            code(&llm, text).await
                        };
                        a2a_response(&request, result)
                    })
                    .await;
                    Json(response)
                }
            }),
        )
        // Only the A2A route is traced; the launcher's /shutdown call is housekeeping.
        .route_layer(TraceLayer::new());
    serve_until_stopped(app).await?;
    guard.shutdown()?;
    Ok(())
}

/// Serves `app` with a `/shutdown` route the launcher calls, prints `LISTENING PORT`, and
/// returns when asked to stop (or after two minutes, whatever happens).
async fn serve_until_stopped(app: Router) -> anyhow::Result<()> {
    let (stop_tx, mut stop_rx) = tokio::sync::mpsc::channel::<()>(1);
    let app = app.route(
        "/shutdown",
        post(move || {
            let tx = stop_tx.clone();
            async move {
                let _ = tx.send(()).await;
                "bye"
            }
        }),
    );
    let (_, port) = serve(app).await?;
    println!("LISTENING {port}");
    let _ = tokio::time::timeout(Duration::from_secs(120), stop_rx.recv()).await;
    Ok(())
}

/// The JSON-RPC answer to `SendMessage`: a completed task with the text as its artifact, or
/// a JSON-RPC error.
fn a2a_response(request: &Value, result: anyhow::Result<String>) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let context = request["params"]["message"]["contextId"].clone();
    match result {
        Ok(text) => json!({
            "jsonrpc": "2.0",
            "id": id,
            "result": {"task": {
                "id": format!("task-{}", agent_trace::current_span_id().unwrap_or_default()),
                "contextId": context,
                "status": {"state": "TASK_STATE_COMPLETED"},
                "artifacts": [{"artifactId": "answer", "parts": [{"text": text}]}],
            }},
        }),
        Err(e) => json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": -32603, "message": e.to_string()},
        }),
    }
}

// The research agent's own invocation: an in-process `invoke_agent` INTERNAL span.
#[agent_run(name = "research-agent", capture(question), capture_result)]
async fn research(llm: &str, question: &str) -> anyhow::Result<String> {
    let docs = lookup_docs(question).await?;
    // The search backend is flaky: the first attempt fails, the retry succeeds.
    let hits = match web_search(question, 1).await {
        Ok(hits) => hits,
        Err(e) => {
            tracing::warn!(demo.search.error = %e, "search failed, retrying once");
            web_search(question, 2).await?
        }
    };
    chat(llm, &format!("summarize: {docs}; {}", hits.join("; "))).await
}

/// Asks the docs MCP server (a child process over stdio) for a page: a `tools/call
/// lookup_docs` CLIENT span here, its SERVER span in the `docs-mcp` process.
async fn lookup_docs(question: &str) -> anyhow::Result<String> {
    let exe = std::env::current_exe()?;
    let cmd = tokio::process::Command::new(exe).configure(|c| {
        c.arg("mcp-docs").with_trace_context();
    });
    let (transport, _) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::inherit())
        .spawn()?;
    let client = ().serve(transport).await?;
    let topic = question.split_whitespace().nth(1).unwrap_or("rust");
    let args = json!({ "topic": topic });
    let result = client
        .traced()
        .over_stdio()
        .call_tool(
            CallToolRequestParams::new("lookup_docs")
                .with_arguments(args.as_object().cloned().unwrap_or_default()),
        )
        .await;
    let _ = client.cancel().await; // the server flushes its spans and exits
    let result = result?;
    Ok(result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default())
}

#[derive(Debug)]
struct SearchError(String);
impl std::fmt::Display for SearchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for SearchError {}
impl agent_trace::ErrorType for SearchError {
    fn error_type(&self) -> std::borrow::Cow<'static, str> {
        "timeout".into()
    }
}

#[traced_tool(name = "web_search", fields(demo.search.attempt = attempt), capture(query), capture_result)]
async fn web_search(query: &str, attempt: u32) -> Result<Vec<String>, SearchError> {
    tokio::time::sleep(Duration::from_millis(30)).await;
    if attempt == 1 {
        return Err(SearchError("search backend timed out after 30 ms".into()));
    }
    Ok(vec![
        format!(
            "doc about {}",
            query
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        "The Rust Book, chapter 4".into(),
    ])
}

#[agent_phase("coding", capture(spec), capture_result)]
async fn code(llm: &str, spec: &str) -> anyhow::Result<String> {
    // The coder's model call streams: its span lasts until the last chunk.
    let code = chat_streamed(llm, &format!("write code: {spec}")).await?;
    lint(&code).await?;
    run_tests(&code).await?;
    if let Ok(url) = std::env::var("DEMO_REDIS_URL") {
        if let Some(mut conn) = redis_connection(&url).await {
            agent_trace::carriers::redis::push(
                &mut conn,
                EVENTS,
                &serde_json::json!({"event": "code_ready", "bytes": code.len()}),
            )
            .await?;
        }
    }
    Ok(code)
}

#[agent_phase("testing")]
async fn run_tests(code: &str) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let status = tokio::process::Command::new(exe)
        .args(["helper", "cargo-test"])
        .env("DEMO_CODE_LEN", code.len().to_string())
        .with_trace_context()
        .stdout(Stdio::null())
        .status()
        .await?;
    anyhow::ensure!(status.success(), "helper failed: {status}");
    Ok(())
}

// ---------------------------------------------------------------- the docs MCP server

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct DocsRequest {
    topic: String,
}

#[derive(Debug, Clone)]
struct Docs {
    #[allow(dead_code)] // read by the code `tool_handler` generates
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Docs {
    #[tool(description = "Find the documentation page about a topic")]
    fn lookup_docs(&self, Parameters(DocsRequest { topic }): Parameters<DocsRequest>) -> String {
        search_index(&topic)
    }
}

#[tool_handler]
impl rmcp::ServerHandler for Docs {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

#[traced_tool(name = "search_index", capture(topic), capture_result)]
fn search_index(topic: &str) -> String {
    std::thread::sleep(Duration::from_millis(15));
    format!("docs.rs page on {topic}")
}

/// The MCP server process: stdio, one client, exits when its stdin closes.
async fn mcp_docs() -> anyhow::Result<()> {
    // TRACEPARENT from the research agent: rmcp's `initialize` joins its trace too.
    let guard = agent_trace::init("docs-mcp")?;
    let docs = Docs {
        tool_router: Docs::tool_router(),
    };
    let server = TracedService::new(docs)
        .serve(rmcp::transport::stdio())
        .await?;
    let _ = tokio::time::timeout(Duration::from_secs(120), server.waiting()).await;
    guard.shutdown()?;
    Ok(())
}

// ---------------------------------------------------------------- the lint MCP server (HTTP)

/// Asks the lint MCP server (its own service, over streamable HTTP) to check the code: a
/// `tools/call lint` CLIENT span here and its HTTP `POST`, the server's `POST /mcp` and
/// `tools/call lint` SERVER spans under them. The session's plumbing makes no trace of its own.
async fn lint(code: &str) -> anyhow::Result<String> {
    let url = std::env::var("DEMO_LINT_MCP_URL").context("DEMO_LINT_MCP_URL")?;
    let client = ().serve(agent_trace::mcp::http_transport(url.as_str())).await?;
    let args = json!({ "code": code });
    let result = client
        .traced()
        .over_http(&url)
        .call_tool(
            CallToolRequestParams::new("lint")
                .with_arguments(args.as_object().cloned().unwrap_or_default()),
        )
        .await;
    let _ = client.cancel().await;
    Ok(result?
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default())
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct LintRequest {
    code: String,
}

#[derive(Debug, Clone)]
struct Lint {
    #[allow(dead_code)] // read by the code `tool_handler` generates
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Lint {
    #[tool(description = "Check code for common mistakes")]
    fn lint(&self, Parameters(LintRequest { code }): Parameters<LintRequest>) -> String {
        check_style(&code)
    }
}

#[tool_handler]
impl rmcp::ServerHandler for Lint {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

#[traced_tool(name = "check_style", capture(code))]
fn check_style(code: &str) -> String {
    std::thread::sleep(Duration::from_millis(8));
    match code.contains("unwrap()") {
        true => "1 warning: unwrap() can panic".into(),
        false => "no warnings".into(),
    }
}

/// The lint MCP server process: rmcp's streamable-HTTP service around `TracedService`, at
/// `/mcp` behind `TraceLayer`; stops when the launcher asks (or after two minutes).
async fn mcp_lint() -> anyhow::Result<()> {
    use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
    use rmcp::transport::streamable_http_server::StreamableHttpService;
    let guard = agent_trace::init("lint-mcp")?;
    let service: StreamableHttpService<TracedService<Lint>, LocalSessionManager> =
        StreamableHttpService::new(
            || {
                Ok(TracedService::new(Lint {
                    tool_router: Lint::tool_router(),
                }))
            },
            Default::default(),
            Default::default(),
        );
    let app = Router::new()
        .nest_service("/mcp", service)
        .layer(TraceLayer::new());
    serve_until_stopped(app).await?;
    guard.shutdown()?;
    Ok(())
}

// ---------------------------------------------------------------- the helper process

fn helper(task: &str) -> anyhow::Result<()> {
    // TRACEPARENT from the coder makes our root span its child.
    let guard = agent_trace::init("test-runner")?;
    compile_and_test(task)?;
    guard.shutdown()?;
    Ok(())
}

#[traced_tool(name = "compile_and_test", capture(task))]
fn compile_and_test(task: &str) -> Result<u32, std::io::Error> {
    std::thread::sleep(Duration::from_millis(25));
    Ok(task.len() as u32)
}
