//! Pieces shared by the examples: a stand-in LLM served on loopback (OpenAI-style JSON with
//! token usage, whole or streamed as server-sent events, since no real model is reachable
//! here) and a traced HTTP client.

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
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stream_options: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
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

async fn completions(Json(req): Json<ChatRequest>) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    let prompt = req
        .messages
        .last()
        .map(|m| m.content.clone())
        .unwrap_or_default();
    let answer = if prompt.starts_with("classify:") {
        "route: research, then code".to_string()
    } else if prompt.starts_with("summarize:") {
        "Rust's ownership model prevents data races at compile time.".to_string()
    } else {
        format!("fn answer_{n}() -> u32 {{ 42 }}")
    };
    let words = |s: &str| s.split_whitespace().count() as u64;
    let usage = Usage {
        prompt_tokens: words(&prompt) * 4 / 3 + 12,
        completion_tokens: words(&answer) * 4 / 3 + 1,
    };
    if req.stream {
        let include_usage = req
            .stream_options
            .as_ref()
            .and_then(|o| o.get("include_usage"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        return streamed(n, req.model, answer, include_usage.then_some(usage)).into_response();
    }
    // Pretend to think, a little longer for longer prompts.
    let ms = 40 + (prompt.len() as u64 % 60);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    Json(ChatResponse {
        model: req.model,
        usage,
        choices: vec![Choice {
            message: Message {
                role: "assistant".into(),
                content: answer,
            },
            finish_reason: "stop".into(),
        }],
    })
    .into_response()
}

/// The answer as OpenAI's chat-completion chunks over server-sent events, a word every few
/// milliseconds: the role, the words, the finish reason, the usage (when asked for), `[DONE]`.
fn streamed(
    n: u64,
    model: String,
    answer: String,
    usage: Option<Usage>,
) -> axum::response::Response {
    use futures_util::StreamExt as _;
    let chunk = |delta: serde_json::Value, finish: Option<&str>| {
        serde_json::json!({"id": format!("chatcmpl-{n}"), "object": "chat.completion.chunk",
            "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut events = vec![chunk(serde_json::json!({"role": "assistant"}), None)];
    let mut first = true;
    for word in answer.split(' ') {
        let text = if first {
            word.to_string()
        } else {
            format!(" {word}")
        };
        first = false;
        events.push(chunk(serde_json::json!({ "content": text }), None));
    }
    events.push(chunk(serde_json::json!({}), Some("stop")));
    if let Some(u) = usage {
        events.push(serde_json::json!({"id": format!("chatcmpl-{n}"),
            "object": "chat.completion.chunk", "model": model, "choices": [],
            "usage": {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
                      "total_tokens": u.prompt_tokens + u.completion_tokens}}));
    }
    let frames = events
        .into_iter()
        .map(|e| format!("data: {e}\n\n"))
        .chain(std::iter::once("data: [DONE]\n\n".to_string()));
    let body = futures_util::stream::iter(frames).then(|frame| async move {
        tokio::time::sleep(std::time::Duration::from_millis(6)).await;
        Ok::<_, std::convert::Infallible>(frame)
    });
    axum::response::Response::builder()
        .header("content-type", "text/event-stream")
        .body(axum::body::Body::from_stream(body))
        .unwrap_or_default()
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
/// With `judge`, the answer is judged while the span is current: a
/// `gen_ai.evaluation.result` event on the model call (with the logs signal on).
#[agent_trace::llm_call(model = "stand-in-1", provider = "stand-in", url = base, prompt = prompt)]
pub async fn chat_completion(
    base: &str,
    prompt: &str,
    judge: Option<fn(&ChatResponse) -> agent_trace::evaluation::Evaluation>,
) -> anyhow::Result<ChatResponse> {
    let response: ChatResponse = http_client()
        .post(format!("{base}/v1/chat/completions"))
        .json(&ChatRequest {
            model: MODEL.to_string(),
            messages: vec![Message {
                role: "user".into(),
                content: prompt.to_string(),
            }],
            stream: false,
            stream_options: None,
            temperature: None,
            max_tokens: None,
        })
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    if let Some(judge) = judge {
        agent_trace::evaluation::record(judge(&response));
    }
    Ok(response)
}

/// The answer text of [`chat_completion`].
pub async fn chat(base: &str, prompt: &str) -> anyhow::Result<String> {
    chat_judged(base, prompt, None).await
}

/// [`chat`], the answer judged by `judge` (see [`chat_completion`]).
pub async fn chat_judged(
    base: &str,
    prompt: &str,
    judge: Option<fn(&ChatResponse) -> agent_trace::evaluation::Evaluation>,
) -> anyhow::Result<String> {
    let resp = chat_completion(base, prompt, judge).await?;
    Ok(resp
        .choices
        .first()
        .map(|c| c.message.content.clone())
        .unwrap_or_default())
}

/// A streamed chat completion from the LLM at `base`: the `chat stand-in-1` CLIENT span lasts
/// until the last chunk, and reads usage, id, model and finish reason from the chunks
/// (`serde_json::Value` in OpenAI's chunk shape); the request parameters are recorded too.
#[agent_trace::llm_call(model = "stand-in-1", provider = "stand-in", url = base, prompt = prompt,
                        temperature = TEMPERATURE, max_tokens = MAX_TOKENS)]
pub async fn chat_stream(
    base: &str,
    prompt: &str,
) -> anyhow::Result<impl futures_util::Stream<Item = anyhow::Result<serde_json::Value>>> {
    let response = http_client()
        .post(format!("{base}/v1/chat/completions"))
        .json(&ChatRequest {
            model: MODEL.to_string(),
            messages: vec![Message {
                role: "user".into(),
                content: prompt.to_string(),
            }],
            stream: true,
            stream_options: Some(serde_json::json!({"include_usage": true})),
            temperature: Some(TEMPERATURE),
            max_tokens: Some(MAX_TOKENS),
        })
        .send()
        .await?
        .error_for_status()?;
    Ok(sse_json(response.bytes_stream()))
}

/// The sampling temperature of the streamed calls.
const TEMPERATURE: f64 = 0.2;
/// The longest answer the streamed calls ask for.
const MAX_TOKENS: u32 = 512;

/// The JSON of each `data:` line of a server-sent event stream, up to `[DONE]`.
fn sse_json(
    bytes: impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>>,
) -> impl futures_util::Stream<Item = anyhow::Result<serde_json::Value>> {
    use futures_util::StreamExt as _;
    let state = (Box::pin(bytes), Vec::<u8>::new(), false);
    futures_util::stream::unfold(state, |(mut bytes, mut buf, done)| async move {
        if done {
            return None;
        }
        loop {
            if let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
                let event: Vec<u8> = buf.drain(..end + 2).collect();
                let text = String::from_utf8_lossy(&event);
                let Some(data) = text.lines().find_map(|l| l.strip_prefix("data: ")) else {
                    continue;
                };
                if data == "[DONE]" {
                    return None;
                }
                let item = serde_json::from_str(data).map_err(anyhow::Error::from);
                return Some((item, (bytes, buf, false)));
            }
            match bytes.next().await {
                Some(Ok(more)) => buf.extend_from_slice(&more),
                Some(Err(e)) => return Some((Err(e.into()), (bytes, buf, true))),
                None => return None,
            }
        }
    })
}

/// The answer text of [`chat_stream`], joined from its chunks.
pub async fn chat_streamed(base: &str, prompt: &str) -> anyhow::Result<String> {
    use futures_util::StreamExt as _;
    let mut chunks = std::pin::pin!(chat_stream(base, prompt).await?);
    let mut text = String::new();
    while let Some(chunk) = chunks.next().await {
        if let Some(t) = chunk?
            .pointer("/choices/0/delta/content")
            .and_then(|t| t.as_str())
        {
            text.push_str(t);
        }
    }
    Ok(text)
}
