//! What a traced call's outcome says about itself: the traits your types implement so the
//! macros record the right attributes.
//!
//! - [`ErrorType`]: a low-cardinality `error.type` for an error type;
//! - [`LlmResponse`] and [`TokenUsage`]: what `#[llm_call]` reads from a model's response.
//!
//! All three are also exported at the crate root.

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
        let u = self.get("usage")?;
        let n = |keys: [&str; 2]| keys.iter().find_map(|k| u.get(*k).and_then(|v| v.as_u64()));
        Some(TokenUsage {
            input_tokens: n(["prompt_tokens", "input_tokens"])?,
            output_tokens: n(["completion_tokens", "output_tokens"]).unwrap_or(0),
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
        // OpenAI chat completions, OpenAI responses, Anthropic messages.
        [
            "/usage/prompt_tokens_details/cached_tokens",
            "/usage/input_tokens_details/cached_tokens",
            "/usage/cache_read_input_tokens",
        ]
        .iter()
        .find_map(|p| self.pointer(p)?.as_u64())
    }
    fn cache_write_input_tokens(&self) -> Option<u64> {
        self.pointer("/usage/cache_creation_input_tokens")?.as_u64()
    }
    fn reasoning_output_tokens(&self) -> Option<u64> {
        [
            "/usage/completion_tokens_details/reasoning_tokens",
            "/usage/output_tokens_details/reasoning_tokens",
        ]
        .iter()
        .find_map(|p| self.pointer(p)?.as_u64())
    }
    fn output_text(&self) -> Option<String> {
        if let Some(c) = self.pointer("/choices/0/message/content") {
            return c.as_str().map(str::to_string);
        }
        self.pointer("/content/0/text")?
            .as_str()
            .map(str::to_string)
    }
}
