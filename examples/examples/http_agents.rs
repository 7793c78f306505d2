//! Two agents over HTTP: the server layer and the client middleware keep one trace.
//! Run: `cargo run -p agent-trace-examples --example http_agents`

use agent_trace::server::{RequestId, TraceLayer};
use agent_trace::{a2a_call, traced_tool, Exporter};
use agent_trace_examples::{http_client, serve};
use axum::routing::post;
use axum::{Extension, Router};

#[traced_tool]
fn shout(text: &str) -> String {
    text.to_uppercase()
}

async fn handler(Extension(id): Extension<RequestId>, body: String) -> String {
    // The log line carries trace_id, span_id and request_id by itself.
    tracing::info!(len = body.len(), "serving request {id}");
    shout(&body)
}

#[a2a_call(target = "shouter", url = format!("{url}/a2a"))]
async fn ask(url: &str, text: &str) -> anyhow::Result<String> {
    Ok(http_client()
        .post(format!("{url}/a2a"))
        .body(text.to_string())
        .send()
        .await?
        .text()
        .await?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let guard = agent_trace::builder()
        .service_name("http-example")
        .exporter(Exporter::Console)
        .install()?;
    let app = Router::new()
        .route("/a2a", post(handler))
        .layer(TraceLayer::new());
    let (url, _) = serve(app).await?;
    println!("{}", ask(&url, "hello").await?);
    guard.shutdown()?;
    Ok(())
}
