//! A Rust service of `tests/tests/consistent_sampling.rs`: `GET /hop?chain=PORT,PORT...` behind
//! `TraceLayer` (its span a root, or the child of the request's trace context), which calls
//! the next port's `/hop` with the traced reqwest client and answers the service span's
//! `{trace_id, sampled, tracestate}`. `/hop?fail=1` answers 500 (an error span). Its sampler
//! comes from the environment (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`, and
//! `AGENT_TRACE_KEEP_ERRORS`), as a user's service would read it. Prints `listening PORT`,
//! exits when its stdin closes, after flushing.

use std::collections::HashMap;

use agent_trace::client::TraceMiddleware;
use agent_trace::server::TraceLayer;
use axum::extract::RawQuery;
use axum::http::StatusCode;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde_json::{json, Value};

fn client() -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new())
        .with(TraceMiddleware::default())
        .build()
}

/// The current span's trace id, sampled flag and trace state, from the W3C headers the
/// installed propagator writes for it.
fn current() -> Value {
    let vars: HashMap<String, String> = agent_trace::carriers::env::current_vars()
        .into_iter()
        .collect();
    let traceparent = vars.get("TRACEPARENT").cloned().unwrap_or_default();
    let parts: Vec<&str> = traceparent.split('-').collect();
    let flags = parts
        .get(3)
        .and_then(|f| u8::from_str_radix(f, 16).ok())
        .unwrap_or(0);
    json!({
        "trace_id": parts.get(1).copied().unwrap_or(""),
        "sampled": flags & 1 == 1,
        "tracestate": vars.get("TRACESTATE").cloned().unwrap_or_default(),
    })
}

async fn hop(RawQuery(query): RawQuery) -> (StatusCode, String) {
    let q: HashMap<&str, &str> = query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let chain: Vec<&str> = q
        .get("chain")
        .map(|c| {
            c.split([',', '%'])
                .filter(|p| !p.is_empty() && *p != "2C")
                .collect()
        })
        .unwrap_or_default();
    if let Some((next, rest)) = chain.split_first() {
        let url = format!("http://127.0.0.1:{next}/hop?chain={}", rest.join(","));
        if let Ok(r) = client().get(url).send().await {
            let _ = r.text().await;
        }
    }
    let status = match q.get("fail") {
        Some(&"1") => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::OK,
    };
    (status, current().to_string())
}

fn main() {
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "rust-sampler".into());
    let guard = match agent_trace::init(&name) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("init failed: {e}");
            std::process::exit(2);
        }
    };
    let app = axum::Router::new()
        .route("/hop", axum::routing::get(hop))
        .layer(TraceLayer::new());
    agent_trace_tests::serve_until_stdin_closes(guard, app);
}
