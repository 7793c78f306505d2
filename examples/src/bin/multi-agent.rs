//! The multi-agent demo: one user request crosses an orchestrator, two specialist agents (each
//! its own process and service), a stand-in LLM, tools (one fails and is retried), a helper
//! subprocess and, when a Redis server is reachable, a queue, and comes out as one trace.
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
//! `multi-agent agent <research|coder>` a specialist agent, `multi-agent helper <task>` the
//! helper process the coder spawns.

use std::process::Stdio;
use std::time::Duration;

use agent_trace::carriers::env::CommandExt as _;
use agent_trace::render::{render_trace, RenderOptions};
use agent_trace::server::TraceLayer;
use agent_trace::testing::receiver::{OtlpReceiver, ReceivedSpan};
use agent_trace::{a2a_call, agent_phase, traced_tool};
use agent_trace_examples::{chat, http_client, serve, start_llm};
use anyhow::Context as _;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt as _, BufReader};

const EVENTS: &str = "agent-events";

#[derive(Debug, Serialize, Deserialize)]
struct Task {
    task: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Answer {
    agent: String,
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
        Some(other) => anyhow::bail!(
            "unknown command {other:?}: run without arguments (the demo), or `agent <research|coder>`, or `helper <task>`"
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
    let builder = agent_trace::builder()
        .service_name("orchestrator")
        .schedule_delay(Duration::from_millis(100));
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

    let research = Agent::spawn("research", &child_env).await?;
    let coder = Agent::spawn("coder", &child_env).await?;
    eprintln!(
        "orchestrator: agents up (research on {}, coder on {}); handling one request...",
        research.url, coder.url
    );

    let outcome = handle_request(
        "Explain Rust ownership and write an example",
        &llm,
        &research.url,
        &coder.url,
        redis,
    )
    .await;

    // Graceful stop: each agent flushes its spans before it exits.
    research.stop().await;
    coder.stop().await;
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

#[agent_phase("handle_request", fields(request.length = request.len()))]
async fn handle_request(
    request: &str,
    llm: &str,
    research_url: &str,
    coder_url: &str,
    redis: Option<redis::aio::MultiplexedConnection>,
) -> anyhow::Result<String> {
    tracing::info!(trace_id = ?agent_trace::current_trace_id(), "handling a request");
    let route = chat(llm, &format!("classify: {request}")).await?;
    let findings = ask_research(research_url, request).await?;
    let code = ask_coder(coder_url, &findings.result).await?;
    if let Some(mut conn) = redis {
        if let Some(event) = next_event(&mut conn).await {
            tracing::info!(%event, "coder reported");
        }
    }
    Ok(format!("{route} | {} | {}", findings.result, code.result))
}

#[a2a_call(target = "research-agent", url = format!("{url}/a2a/tasks"))]
async fn ask_research(url: &str, task: &str) -> anyhow::Result<Answer> {
    post_task(url, task).await
}

#[a2a_call(target = "coder-agent", url = format!("{url}/a2a/tasks"))]
async fn ask_coder(url: &str, task: &str) -> anyhow::Result<Answer> {
    post_task(url, task).await
}

async fn post_task(url: &str, task: &str) -> anyhow::Result<Answer> {
    Ok(http_client()
        .post(format!("{url}/a2a/tasks"))
        .json(&Task {
            task: task.to_string(),
        })
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
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
}

impl Agent {
    async fn spawn(name: &str, env: &[(String, String)]) -> anyhow::Result<Agent> {
        let exe = std::env::current_exe()?;
        let mut cmd = tokio::process::Command::new(exe);
        cmd.args(["agent", name])
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
        })
    }

    async fn stop(mut self) {
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
    let (stop_tx, mut stop_rx) = tokio::sync::mpsc::channel::<()>(1);
    let role = name.to_string();
    let app = Router::new()
        .route(
            "/a2a/tasks",
            post(move |Json(task): Json<Task>| {
                let (llm, role) = (llm.clone(), role.clone());
                async move {
                    let result = if role == "research" {
                        research(&llm, &task.task).await
                    } else {
                        code(&llm, &task.task).await
                    };
                    match result {
                        Ok(result) => Ok(Json(Answer {
                            agent: role,
                            result,
                        })),
                        Err(e) => Err((http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
                    }
                }
            }),
        )
        // Only the A2A route is traced; the launcher's /shutdown call is housekeeping.
        .route_layer(TraceLayer::new())
        .route(
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
    // Bounded life: stop when asked, or after two minutes whatever happens.
    let _ = tokio::time::timeout(Duration::from_secs(120), stop_rx.recv()).await;
    guard.shutdown()?;
    Ok(())
}

#[agent_phase("research")]
async fn research(llm: &str, question: &str) -> anyhow::Result<String> {
    // The search backend is flaky: the first attempt fails, the retry succeeds.
    let hits = match web_search(question, 1).await {
        Ok(hits) => hits,
        Err(e) => {
            tracing::warn!(error = %e, "search failed, retrying once");
            web_search(question, 2).await?
        }
    };
    chat(llm, &format!("summarize: {}", hits.join("; "))).await
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

#[traced_tool(name = "web_search", fields(attempt = attempt))]
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

#[agent_phase("coding")]
async fn code(llm: &str, spec: &str) -> anyhow::Result<String> {
    let code = chat(llm, &format!("write code: {spec}")).await?;
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
