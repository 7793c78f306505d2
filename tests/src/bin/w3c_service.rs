//! The test service the official W3C trace-context suite drives (`scripts/w3c-trace-context.sh`).
//!
//! Built only on agent-trace's public API, as a user's agent would be: an axum server behind
//! `TraceLayer`, and a reqwest client behind `TraceMiddleware`. The harness POSTs a JSON array
//! of `{"url": .., "arguments": [..]}`; for each element the service POSTs `arguments` to
//! `url`, in order, and answers once all are done.
//!
//! Usage: `w3c_service PORT` (listens on 127.0.0.1). Tracing is on, exporting to the console
//! (stderr): a service that exports nothing would only pass the context through unchanged,
//! and the suite checks that each hop gets a new parent id.

use agent_trace::client::TraceMiddleware;
use agent_trace::server::TraceLayer;
use agent_trace::Exporter;
use axum::routing::post;
use axum::Router;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde_json::Value;

async fn test(
    axum::extract::State(client): axum::extract::State<ClientWithMiddleware>,
    body: axum::body::Bytes,
) -> &'static str {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    for call in body.as_array().map(Vec::as_slice).unwrap_or_default() {
        let Some(url) = call.get("url").and_then(Value::as_str) else {
            continue;
        };
        // The harness listens on loopback only; refuse anything else.
        if !(url.starts_with("http://127.0.0.1:") || url.starts_with("http://localhost:")) {
            continue;
        }
        let arguments = call
            .get("arguments")
            .cloned()
            .unwrap_or(Value::Array(vec![]));
        let request = client
            .post(url)
            .header("content-type", "application/json")
            .body(arguments.to_string());
        if let Err(e) = request.send().await {
            tracing::warn!(error = %e, url, "callback failed");
        }
    }
    "ok"
}

#[tokio::main]
async fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(5000);
    let guard = agent_trace::builder()
        .service_name("w3c-test-service")
        .exporter(Exporter::Console)
        .install_subscriber(false)
        .env(|_| None)
        .install()
        .expect("install tracing");
    let client = ClientBuilder::new(reqwest::Client::new())
        .with(TraceMiddleware::default())
        .build();
    let app = Router::new()
        .route("/test", post(test))
        .layer(TraceLayer::new())
        .with_state(client);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    println!(
        "listening on http://{}",
        listener.local_addr().expect("addr")
    );
    // Stops when the runner kills it, or after 10 minutes at most.
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(600),
        axum::serve(listener, app),
    )
    .await;
    drop(guard);
}
