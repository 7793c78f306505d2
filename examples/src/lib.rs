//! Pieces shared by the examples: a stand-in LLM served on loopback (OpenAI-style JSON with
//! token usage, since no real model is reachable here) and a traced HTTP client.

use std::sync::atomic::{AtomicU64, Ordering};

use agent_trace::client::TraceMiddleware;
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

impl agent_trace::LlmResponse for ChatResponse {
    fn usage(&self) -> Option<agent_trace::TokenUsage> {
        Some(agent_trace::TokenUsage {
            input_tokens: self.usage.prompt_tokens,
            output_tokens: self.usage.completion_tokens,
        })
    }
    fn response_model(&self) -> Option<String> {
        Some(self.model.clone())
    }
    fn finish_reasons(&self) -> Vec<String> {
        self.choices
            .iter()
            .map(|c| c.finish_reason.clone())
            .collect()
    }
    fn output_text(&self) -> Option<String> {
        self.choices.first().map(|c| c.message.content.clone())
    }
}

/// The stand-in model's name.
pub const MODEL: &str = "stand-in-1";

/// One chat completion from the LLM at `base`, as a `chat stand-in-1` CLIENT span with the
/// GenAI attributes (model, provider, token usage read from the response).
#[agent_trace::llm_call(model = "stand-in-1", provider = "stand-in", url = base, prompt = prompt)]
pub async fn chat_completion(base: &str, prompt: &str) -> anyhow::Result<ChatResponse> {
    Ok(http_client()
        .post(format!("{base}/v1/chat/completions"))
        .json(&ChatRequest {
            model: MODEL.to_string(),
            messages: vec![Message {
                role: "user".into(),
                content: prompt.to_string(),
            }],
        })
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// The answer text of [`chat_completion`].
pub async fn chat(base: &str, prompt: &str) -> anyhow::Result<String> {
    let resp = chat_completion(base, prompt).await?;
    Ok(resp
        .choices
        .first()
        .map(|c| c.message.content.clone())
        .unwrap_or_default())
}
