//! async-openai (feature `async-openai`): what `#[llm_call]` reads from its types.
//!
//! - a chat completion ([`CreateChatCompletionResponse`]): [`LlmResponse`];
//! - each chunk of a streamed one ([`CreateChatCompletionStreamResponse`], the items of
//!   `client.chat().create_stream(..)`): [`LlmChunk`];
//! - a Responses API answer ([`Response`]): [`LlmResponse`], and each event of a streamed one
//!   ([`ResponseStreamEvent`]): [`LlmChunk`].
//!
//! A chat request's `stop` can be given to `stop_sequences = ..` as it is.
//!
//! So a function that returns what the client returns is traced whole, usage included:
//!
//! ```no_run
//! use async_openai::config::OpenAIConfig;
//! use async_openai::error::OpenAIError;
//! use async_openai::types::chat::{
//!     ChatCompletionResponseStream, CreateChatCompletionRequest,
//! };
//!
//! // The span lasts until the stream ends; usage comes from the last chunk
//! // (`stream_options.include_usage`).
//! #[agent_trace::llm_call(model = "gpt-4o-mini", provider = "openai")]
//! async fn chat(
//!     client: &async_openai::Client<OpenAIConfig>,
//!     request: CreateChatCompletionRequest,
//! ) -> Result<ChatCompletionResponseStream, OpenAIError> {
//!     client.chat().create_stream(request).await
//! }
//! ```
//!
//! Input tokens include cached ones (`prompt_tokens` already does); finish reasons are the
//! API's snake-case names (`stop`, `length`, `tool_calls`, `content_filter`,
//! `function_call`); a Responses answer's status gives `stop` (completed), its incomplete
//! reason, or `error` (failed).
//!
//! [`CreateChatCompletionResponse`]: async_openai::types::chat::CreateChatCompletionResponse
//! [`CreateChatCompletionStreamResponse`]: async_openai::types::chat::CreateChatCompletionStreamResponse
//! [`Response`]: async_openai::types::responses::Response
//! [`ResponseStreamEvent`]: async_openai::types::responses::ResponseStreamEvent
//! [`LlmResponse`]: crate::LlmResponse
//! [`LlmChunk`]: crate::LlmChunk

use async_openai::types::chat::{
    ChatChoice, CompletionUsage, CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
    FinishReason, StopConfiguration,
};
use async_openai::types::responses::{Response, ResponseStreamEvent, ResponseUsage, Status};

use crate::span::outcome::{LlmChunk, LlmResponse, TokenUsage};
use crate::span::StopSequences;

/// `#[llm_call(stop_sequences = request.stop)]` with a chat request's `stop`.
impl StopSequences for StopConfiguration {
    fn stop_sequences(&self, f: &mut dyn FnMut(&str)) {
        match self {
            StopConfiguration::String(s) => f(s),
            StopConfiguration::StringArray(v) => v.as_slice().stop_sequences(f),
        }
    }
}

fn finish_reason(r: FinishReason) -> &'static str {
    match r {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        FinishReason::ContentFilter => "content_filter",
        FinishReason::FunctionCall => "function_call",
    }
}

fn cached(u: &CompletionUsage) -> Option<u64> {
    u.prompt_tokens_details
        .as_ref()
        .and_then(|d| d.cached_tokens)
        .map(u64::from)
}

fn reasoning(u: &CompletionUsage) -> Option<u64> {
    u.completion_tokens_details
        .as_ref()
        .and_then(|d| d.reasoning_tokens)
        .map(u64::from)
}

impl LlmResponse for CreateChatCompletionResponse {
    fn usage(&self) -> Option<TokenUsage> {
        self.usage.as_ref().map(|u| TokenUsage {
            input_tokens: u.prompt_tokens.into(),
            output_tokens: u.completion_tokens.into(),
        })
    }
    fn response_model(&self) -> Option<String> {
        Some(self.model.clone())
    }
    fn finish_reasons(&self) -> Vec<String> {
        self.choices
            .iter()
            .filter_map(|c: &ChatChoice| c.finish_reason.map(|r| finish_reason(r).to_string()))
            .collect()
    }
    fn output_text(&self) -> Option<String> {
        self.choices.first()?.message.content.clone()
    }
    fn response_id(&self) -> Option<String> {
        Some(self.id.clone())
    }
    fn cache_read_input_tokens(&self) -> Option<u64> {
        cached(self.usage.as_ref()?)
    }
    fn reasoning_output_tokens(&self) -> Option<u64> {
        reasoning(self.usage.as_ref()?)
    }
}

impl LlmChunk for CreateChatCompletionStreamResponse {
    fn input_tokens(&self) -> Option<u64> {
        self.usage.as_ref().map(|u| u.prompt_tokens.into())
    }
    fn output_tokens(&self) -> Option<u64> {
        self.usage.as_ref().map(|u| u.completion_tokens.into())
    }
    fn cache_read_input_tokens(&self) -> Option<u64> {
        cached(self.usage.as_ref()?)
    }
    fn reasoning_output_tokens(&self) -> Option<u64> {
        reasoning(self.usage.as_ref()?)
    }
    fn response_id(&self) -> Option<&str> {
        Some(&self.id)
    }
    fn response_model(&self) -> Option<&str> {
        Some(&self.model)
    }
    fn finish_reasons(&self) -> Vec<&str> {
        self.choices
            .iter()
            .filter_map(|c| c.finish_reason.map(finish_reason))
            .collect()
    }
    fn output_text(&self) -> Option<&str> {
        self.choices.first()?.delta.content.as_deref()
    }
}

/// The finish reason a Responses answer's status stands for (none while it runs).
fn status_reason(r: &Response) -> Option<&str> {
    match r.status {
        Status::Completed => Some("stop"),
        Status::Incomplete => Some(
            r.incomplete_details
                .as_ref()
                .map_or("incomplete", |d| d.reason.as_str()),
        ),
        Status::Failed => Some("error"),
        Status::Cancelled => Some("cancelled"),
        Status::InProgress | Status::Queued => None,
    }
}

fn usage_of(r: &Response) -> Option<&ResponseUsage> {
    r.usage.as_ref()
}

impl LlmResponse for Response {
    fn usage(&self) -> Option<TokenUsage> {
        usage_of(self).map(|u| TokenUsage {
            input_tokens: u.input_tokens.into(),
            output_tokens: u.output_tokens.into(),
        })
    }
    fn response_model(&self) -> Option<String> {
        Some(self.model.clone())
    }
    fn finish_reasons(&self) -> Vec<String> {
        status_reason(self)
            .map(str::to_string)
            .into_iter()
            .collect()
    }
    fn output_text(&self) -> Option<String> {
        Response::output_text(self)
    }
    fn response_id(&self) -> Option<String> {
        Some(self.id.clone())
    }
    fn cache_read_input_tokens(&self) -> Option<u64> {
        usage_of(self).map(|u| u.input_tokens_details.cached_tokens.into())
    }
    fn cache_write_input_tokens(&self) -> Option<u64> {
        let n = usage_of(self)?.input_tokens_details.cache_write_tokens?;
        u64::try_from(n).ok()
    }
    fn reasoning_output_tokens(&self) -> Option<u64> {
        usage_of(self).map(|u| u.output_tokens_details.reasoning_tokens.into())
    }
}

/// The response object an event carries (created, in progress, and the three final ones).
fn response_of(e: &ResponseStreamEvent) -> Option<&Response> {
    match e {
        ResponseStreamEvent::ResponseCreated(e) => Some(&e.response),
        ResponseStreamEvent::ResponseInProgress(e) => Some(&e.response),
        ResponseStreamEvent::ResponseCompleted(e) => Some(&e.response),
        ResponseStreamEvent::ResponseFailed(e) => Some(&e.response),
        ResponseStreamEvent::ResponseIncomplete(e) => Some(&e.response),
        _ => None,
    }
}

impl LlmChunk for ResponseStreamEvent {
    fn input_tokens(&self) -> Option<u64> {
        usage_of(response_of(self)?).map(|u| u.input_tokens.into())
    }
    fn output_tokens(&self) -> Option<u64> {
        usage_of(response_of(self)?).map(|u| u.output_tokens.into())
    }
    fn cache_read_input_tokens(&self) -> Option<u64> {
        usage_of(response_of(self)?).map(|u| u.input_tokens_details.cached_tokens.into())
    }
    fn cache_write_input_tokens(&self) -> Option<u64> {
        let n = usage_of(response_of(self)?)?
            .input_tokens_details
            .cache_write_tokens?;
        u64::try_from(n).ok()
    }
    fn reasoning_output_tokens(&self) -> Option<u64> {
        usage_of(response_of(self)?).map(|u| u.output_tokens_details.reasoning_tokens.into())
    }
    fn response_id(&self) -> Option<&str> {
        Some(&response_of(self)?.id)
    }
    fn response_model(&self) -> Option<&str> {
        Some(&response_of(self)?.model)
    }
    fn finish_reasons(&self) -> Vec<&str> {
        match self {
            ResponseStreamEvent::ResponseCompleted(e) => status_reason(&e.response),
            ResponseStreamEvent::ResponseFailed(e) => status_reason(&e.response),
            ResponseStreamEvent::ResponseIncomplete(e) => status_reason(&e.response),
            _ => None,
        }
        .into_iter()
        .collect()
    }
    fn output_text(&self) -> Option<&str> {
        match self {
            ResponseStreamEvent::ResponseOutputTextDelta(d) => Some(&d.delta),
            _ => None,
        }
    }
}
