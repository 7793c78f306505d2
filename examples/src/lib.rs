//! Pieces shared by the examples: a stand-in LLM served on loopback (OpenAI-style JSON with
//! token usage, since no real model is reachable here) and a traced HTTP client.

use std::sync::atomic::{AtomicU64, Ordering};

use agent_trace::client::TraceMiddleware;
use agent_trace::opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use agent_trace::opentelemetry::{global, Context, KeyValue};
use axum::routing::post;
use axum::{Json, Router};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde::{Deserialize, Serialize};

/// An HTTP client that traces its calls and sends the trace context along.
pub fn http_client() -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new())
        .with(TraceMiddleware::default())
        .build()
}

/// Serves `app` on an ephemeral loopback port; returns the base URL.
pub async fn serve(app: Router) -> std::io::Result<(String, u16)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://{addr}"), addr.port()))
}

/// One chat message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// Text.
    pub content: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct ChatRequest {
    model: String,
    messages: Vec<Message>,
}

/// The parts of an OpenAI-style chat completion the examples use.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The model that answered.
    pub model: String,
    /// Choices; the stand-in returns one.
    pub choices: Vec<Choice>,
    /// Token counts.
    pub usage: Usage,
}

/// One answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Choice {
    /// The answer.
    pub message: Message,
    /// Why generation stopped.
    pub finish_reason: String,
}

/// Token counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt.
    pub prompt_tokens: u64,
    /// Tokens in the answer.
    pub completion_tokens: u64,
}

static CALLS: AtomicU64 = AtomicU64::new(0);

async fn completions(Json(req): Json<ChatRequest>) -> Json<ChatResponse> {
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    let prompt = req
        .messages
        .last()
        .map(|m| m.content.clone())
        .unwrap_or_default();
    // Pretend to think, a little longer for longer prompts.
    let ms = 40 + (prompt.len() as u64 % 60);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    let answer = if prompt.starts_with("classify:") {
        "route: research, then code".to_string()
    } else if prompt.starts_with("summarize:") {
        "Rust's ownership model prevents data races at compile time.".to_string()
    } else {
        format!("fn answer_{n}() -> u32 {{ 42 }}")
    };
    let words = |s: &str| s.split_whitespace().count() as u64;
    Json(ChatResponse {
        model: req.model,
        usage: Usage {
            prompt_tokens: words(&prompt) * 4 / 3 + 12,
            completion_tokens: words(&answer) * 4 / 3 + 1,
        },
        choices: vec![Choice {
            message: Message {
                role: "assistant".into(),
                content: answer,
            },
            finish_reason: "stop".into(),
        }],
    })
}

/// Starts the stand-in LLM; returns its base URL.
pub async fn start_llm() -> std::io::Result<String> {
    let app = Router::new().route("/v1/chat/completions", post(completions));
    Ok(serve(app).await?.0)
}

/// Calls the LLM at `base` under a `chat {model}` CLIENT span with the GenAI attributes.
///
/// (A `#[llm_call]` macro that reads these from the response is planned; until then the
/// span is made here with the OpenTelemetry API, which agent-trace re-exports.)
pub async fn chat(base: &str, model: &str, prompt: &str) -> anyhow::Result<String> {
    let tracer = global::tracer("agent-trace-examples");
    let span = tracer
        .span_builder(format!("chat {model}"))
        .with_kind(SpanKind::Client)
        .with_attributes([
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.provider.name", "stand-in"),
            KeyValue::new("gen_ai.request.model", model.to_string()),
        ])
        .start(&tracer);
    let cx = Context::current_with_span(span);
    let result = async {
        let resp: ChatResponse = http_client()
            .post(format!("{base}/v1/chat/completions"))
            .json(&ChatRequest {
                model: model.to_string(),
                messages: vec![Message {
                    role: "user".into(),
                    content: prompt.to_string(),
                }],
            })
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        anyhow::Ok(resp)
    };
    let result =
        agent_trace::opentelemetry::trace::FutureExt::with_context(result, cx.clone()).await;
    let span = cx.span();
    let out = match result {
        Ok(resp) => {
            span.set_attributes([
                KeyValue::new("gen_ai.response.model", resp.model.clone()),
                KeyValue::new("gen_ai.usage.input_tokens", resp.usage.prompt_tokens as i64),
                KeyValue::new(
                    "gen_ai.usage.output_tokens",
                    resp.usage.completion_tokens as i64,
                ),
            ]);
            Ok(resp
                .choices
                .first()
                .map(|c| c.message.content.clone())
                .unwrap_or_default())
        }
        Err(e) => {
            span.set_status(Status::error(e.to_string()));
            span.set_attribute(KeyValue::new("error.type", "llm_error"));
            Err(e)
        }
    };
    span.end();
    out
}
