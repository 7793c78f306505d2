//! What a traced call's outcome says about itself: the traits your types implement so the
//! macros record the right attributes.
//!
//! - [`ErrorType`]: a low-cardinality `error.type` for an error type;
//! - [`LlmResponse`] and [`TokenUsage`]: what `#[llm_call]` reads from a model's response;
//! - [`LlmChunk`]: what it reads from each item of a streamed response.
//!
//! All four are also exported at the crate root.

use std::borrow::Cow;

/// Lets an error type choose a low-cardinality `error.type` (default: its Rust type name).
///
/// ```
/// use std::borrow::Cow;
/// #[derive(Debug)]
/// enum FetchError { Timeout, NotFound(String) }
/// impl std::fmt::Display for FetchError {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         match self { Self::Timeout => write!(f, "timed out"), Self::NotFound(u) => write!(f, "{u} not found") }
///     }
/// }
/// impl agent_trace::ErrorType for FetchError {
///     fn error_type(&self) -> Cow<'static, str> {
///         match self { Self::Timeout => "timeout".into(), Self::NotFound(_) => "not_found".into() }
///     }
/// }
/// ```
pub trait ErrorType {
    /// The `error.type` attribute value for this error.
    fn error_type(&self) -> Cow<'static, str>;
}

/// Token counts of one model call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// Tokens in the prompt.
    pub input_tokens: u64,
    /// Tokens generated.
    pub output_tokens: u64,
}

/// What `#[llm_call]` reads from a model's response. Implement it for your client's response
/// type; every method has a default, so implement only what the type knows.
///
/// `serde_json::Value` implements it for the OpenAI chat-completions shape (`id`,
/// `usage.prompt_tokens`, `usage.prompt_tokens_details.cached_tokens`,
/// `usage.completion_tokens_details.reasoning_tokens`, `choices[].finish_reason`,
/// `choices[0].message.content`) and the Anthropic messages shape (`id`, `usage.input_tokens`,
/// `usage.cache_read_input_tokens`, `usage.cache_creation_input_tokens`, `stop_reason`,
/// `content[0].text`).
///
/// ```
/// use agent_trace::{LlmResponse, TokenUsage};
/// struct Reply { text: String, prompt_tokens: u32, completion_tokens: u32 }
/// impl LlmResponse for Reply {
///     fn usage(&self) -> Option<TokenUsage> {
///         Some(TokenUsage { input_tokens: self.prompt_tokens.into(), output_tokens: self.completion_tokens.into() })
///     }
///     fn output_text(&self) -> Option<String> { Some(self.text.clone()) }
/// }
/// ```
pub trait LlmResponse {
    /// Token counts.
    fn usage(&self) -> Option<TokenUsage> {
        None
    }
    /// The model that actually answered.
    fn response_model(&self) -> Option<String> {
        None
    }
    /// Why generation stopped, one per choice.
    fn finish_reasons(&self) -> Vec<String> {
        Vec::new()
    }
    /// The answer's text (recorded only when content capture is on).
    fn output_text(&self) -> Option<String> {
        None
    }
    /// The provider's id of this response (`gen_ai.response.id`).
    fn response_id(&self) -> Option<String> {
        None
    }
    /// Input tokens served from the provider's cache
    /// (`gen_ai.usage.cache_read.input_tokens`).
    fn cache_read_input_tokens(&self) -> Option<u64> {
        None
    }
    /// Input tokens written to the provider's cache
    /// (`gen_ai.usage.cache_write.input_tokens`).
    fn cache_write_input_tokens(&self) -> Option<u64> {
        None
    }
    /// Reasoning tokens among the output tokens (`gen_ai.usage.reasoning.output_tokens`).
    fn reasoning_output_tokens(&self) -> Option<u64> {
        None
    }
}

impl LlmResponse for serde_json::Value {
    fn usage(&self) -> Option<TokenUsage> {
        let u = usage_counts(self.get("usage")?);
        Some(TokenUsage {
            input_tokens: u.input?,
            output_tokens: u.output.unwrap_or(0),
        })
    }
    fn response_model(&self) -> Option<String> {
        self.get("model")?.as_str().map(str::to_string)
    }
    fn finish_reasons(&self) -> Vec<String> {
        if let Some(choices) = self.get("choices").and_then(|c| c.as_array()) {
            return choices
                .iter()
                .filter_map(|c| c.get("finish_reason")?.as_str().map(str::to_string))
                .collect();
        }
        self.get("stop_reason")
            .and_then(|v| v.as_str())
            .map(|s| vec![s.to_string()])
            .unwrap_or_default()
    }
    fn response_id(&self) -> Option<String> {
        self.get("id")?.as_str().map(str::to_string)
    }
    fn cache_read_input_tokens(&self) -> Option<u64> {
        usage_counts(self.get("usage")?).cache_read
    }
    fn cache_write_input_tokens(&self) -> Option<u64> {
        usage_counts(self.get("usage")?).cache_write
    }
    fn reasoning_output_tokens(&self) -> Option<u64> {
        usage_counts(self.get("usage")?).reasoning
    }
    fn output_text(&self) -> Option<String> {
        if let Some(c) = self
            .get("choices")
            .and_then(|c| c.get(0)?.get("message")?.get("content"))
        {
            return c.as_str().map(str::to_string);
        }
        self.get("content")?
            .get(0)?
            .get("text")?
            .as_str()
            .map(str::to_string)
    }
}

/// The token counts of a provider's `usage` object.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct UsageCounts {
    input: Option<u64>,
    output: Option<u64>,
    cache_read: Option<u64>,
    cache_write: Option<u64>,
    reasoning: Option<u64>,
}

/// Reads the three shapes of `usage` (OpenAI chat completions, OpenAI Responses, Anthropic
/// Messages). The conventions' `gen_ai.usage.input_tokens` includes cached tokens: OpenAI's
/// counts already do, Anthropic's `input_tokens` does not, so its cache reads and writes are
/// added.
fn usage_counts(u: &serde_json::Value) -> UsageCounts {
    // A path of keys, looked up without `Value::pointer` (which allocates to unescape each
    // segment: a model call reads these paths a dozen times).
    let n = |path: &[&str]| {
        path.iter()
            .try_fold(u, |v, key| v.get(key))
            .and_then(serde_json::Value::as_u64)
    };
    let cache_read = n(&["prompt_tokens_details", "cached_tokens"])
        .or_else(|| n(&["input_tokens_details", "cached_tokens"]))
        .or_else(|| n(&["cache_read_input_tokens"]));
    let cache_write = n(&["cache_creation_input_tokens"]);
    let anthropic = u.get("cache_read_input_tokens").is_some() || cache_write.is_some();
    let input = match (n(&["prompt_tokens"]), n(&["input_tokens"])) {
        (Some(prompt), _) => Some(prompt),
        (None, Some(input)) if anthropic => Some(
            input
                .saturating_add(cache_read.unwrap_or(0))
                .saturating_add(cache_write.unwrap_or(0)),
        ),
        (None, input) => input,
    };
    UsageCounts {
        input,
        output: n(&["completion_tokens"]).or_else(|| n(&["output_tokens"])),
        cache_read,
        cache_write,
        reasoning: n(&["completion_tokens_details", "reasoning_tokens"])
            .or_else(|| n(&["output_tokens_details", "reasoning_tokens"])),
    }
}

/// What `#[llm_call]` reads from each item of a streamed model response (a function that
/// returns a stream of chunks, or `Result<impl Stream, E>`). Every method has a default, so
/// implement only what your chunk type carries.
///
/// Counts are the totals so far, as providers send them (OpenAI's final usage chunk,
/// Anthropic's `message_start` and cumulative `message_delta`): a later value replaces an
/// earlier one. The first response id and model seen are kept. Finish reasons add up (one
/// per choice), and text deltas are joined (recorded only with content capture on, cut to
/// [`CAPTURE_LIMIT`](crate::CAPTURE_LIMIT) characters). When the stream ends (or is dropped),
/// the span gets the `gen_ai.usage.*`, `gen_ai.response.*` attributes and the token metrics
/// their values.
///
/// `serde_json::Value` implements it for the shapes people parse from server-sent events:
/// OpenAI chat-completion chunks (`id`, `model`, `choices[].finish_reason`,
/// `choices[0].delta.content`, and `usage` in the last chunk with
/// `stream_options.include_usage`), OpenAI Responses events (`response.created`,
/// `response.output_text.delta`, `response.completed` / `response.incomplete` /
/// `response.failed`, whose status is the finish reason: `stop`, the incomplete reason, or
/// `error`) and Anthropic message events (`message_start`, `content_block_delta`,
/// `message_delta`). With the feature `async-openai`, so do async-openai's chat chunk type and
/// Responses events.
///
/// ```
/// use agent_trace::LlmChunk;
/// /// A chunk of your own client.
/// struct Delta { text: String, done: Option<String>, tokens_so_far: Option<(u64, u64)> }
/// impl LlmChunk for Delta {
///     fn input_tokens(&self) -> Option<u64> { self.tokens_so_far.map(|t| t.0) }
///     fn output_tokens(&self) -> Option<u64> { self.tokens_so_far.map(|t| t.1) }
///     fn finish_reasons(&self) -> Vec<&str> { self.done.as_deref().into_iter().collect() }
///     fn output_text(&self) -> Option<&str> { Some(&self.text) }
/// }
/// ```
pub trait LlmChunk {
    /// Input tokens so far (cached ones included).
    fn input_tokens(&self) -> Option<u64> {
        None
    }
    /// Output tokens so far (reasoning ones included).
    fn output_tokens(&self) -> Option<u64> {
        None
    }
    /// Input tokens served from the provider's cache.
    fn cache_read_input_tokens(&self) -> Option<u64> {
        None
    }
    /// Input tokens written to the provider's cache.
    fn cache_write_input_tokens(&self) -> Option<u64> {
        None
    }
    /// Reasoning tokens among the output tokens.
    fn reasoning_output_tokens(&self) -> Option<u64> {
        None
    }
    /// The provider's id of the response.
    fn response_id(&self) -> Option<&str> {
        None
    }
    /// The model that answers.
    fn response_model(&self) -> Option<&str> {
        None
    }
    /// The finish reasons this chunk reports (usually none, then one in the last chunk of
    /// each choice).
    fn finish_reasons(&self) -> Vec<&str> {
        Vec::new()
    }
    /// The text this chunk adds to the answer.
    fn output_text(&self) -> Option<&str> {
        None
    }
}

/// Whether a provider's event type is made of `parts` (`response.completed`:
/// `["response", "completed"]`), compared without allocating.
fn is_event(t: &str, parts: &[&str]) -> bool {
    t.split('.').eq(parts.iter().copied())
}

/// Where a chunk of each known shape keeps its parts.
struct ChunkShape<'a> {
    usage: Option<&'a serde_json::Value>,
    holder: Option<&'a serde_json::Value>,
}

fn chunk_shape(v: &serde_json::Value) -> ChunkShape<'_> {
    match v.get("type").and_then(serde_json::Value::as_str) {
        // Anthropic: the message's id, model and first usage; later, cumulative usage.
        Some("message_start") => ChunkShape {
            usage: v.get("message").and_then(|m| m.get("usage")),
            holder: v.get("message"),
        },
        Some("message_delta") => ChunkShape {
            usage: v.get("usage"),
            holder: None,
        },
        // OpenAI Responses: the response object, with usage once it is done.
        Some(t) if t.split('.').next() == Some("response") => ChunkShape {
            usage: v.get("response").and_then(|r| r.get("usage")),
            holder: v.get("response"),
        },
        Some(_) => ChunkShape {
            usage: None,
            holder: None,
        },
        // OpenAI chat completions: every chunk carries id and model; usage comes last.
        None => ChunkShape {
            usage: v.get("usage"),
            holder: Some(v),
        },
    }
}

impl LlmChunk for serde_json::Value {
    fn input_tokens(&self) -> Option<u64> {
        usage_counts(chunk_shape(self).usage?).input
    }
    fn output_tokens(&self) -> Option<u64> {
        usage_counts(chunk_shape(self).usage?).output
    }
    fn cache_read_input_tokens(&self) -> Option<u64> {
        usage_counts(chunk_shape(self).usage?).cache_read
    }
    fn cache_write_input_tokens(&self) -> Option<u64> {
        usage_counts(chunk_shape(self).usage?).cache_write
    }
    fn reasoning_output_tokens(&self) -> Option<u64> {
        usage_counts(chunk_shape(self).usage?).reasoning
    }
    fn response_id(&self) -> Option<&str> {
        chunk_shape(self).holder?.get("id")?.as_str()
    }
    fn response_model(&self) -> Option<&str> {
        chunk_shape(self).holder?.get("model")?.as_str()
    }
    fn finish_reasons(&self) -> Vec<&str> {
        // Paths of keys, without `Value::pointer` (it allocates per segment).
        let str_at = |path: &[&str]| {
            path.iter()
                .try_fold(self, |v, key| v.get(key))
                .and_then(serde_json::Value::as_str)
        };
        let Some(t) = self.get("type").and_then(serde_json::Value::as_str) else {
            return match self.get("choices").and_then(serde_json::Value::as_array) {
                Some(choices) => choices
                    .iter()
                    .filter_map(|c| c.get("finish_reason")?.as_str())
                    .collect(),
                None => Vec::new(),
            };
        };
        if t == "message_delta" {
            str_at(&["delta", "stop_reason"]).into_iter().collect()
        } else if is_event(t, &["response", "completed"]) {
            vec!["stop"]
        } else if is_event(t, &["response", "incomplete"]) {
            vec![str_at(&["response", "incomplete_details", "reason"]).unwrap_or("incomplete")]
        } else if is_event(t, &["response", "failed"]) {
            vec!["error"]
        } else {
            Vec::new()
        }
    }
    fn output_text(&self) -> Option<&str> {
        let Some(t) = self.get("type").and_then(serde_json::Value::as_str) else {
            return self
                .get("choices")?
                .get(0)?
                .get("delta")?
                .get("content")?
                .as_str();
        };
        if t == "content_block_delta" {
            self.get("delta")?.get("text")?.as_str()
        } else if is_event(t, &["response", "output_text", "delta"]) {
            self.get("delta")?.as_str()
        } else {
            None
        }
    }
}
