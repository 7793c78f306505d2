//! Attribute macros for [agent-trace](https://docs.rs/agent-trace-otel) (package
//! `agent-trace-otel`, library `agent_trace`). Depend on `agent-trace-otel`, which re-exports
//! them; this crate alone is not useful.
//!
//! The crate is split by phase: `parse` reads and checks the options of every macro in one
//! place, `expand` writes short expansions that call `agent_trace::__private`, where the
//! behaviour lives as ordinary, tested Rust.

#![deny(missing_docs)]

use proc_macro::TokenStream;

mod expand;
mod keys;
mod parse;
mod validate;

use parse::MacroKind;

/// Wraps a function in an `execute_tool {name}` span (kind INTERNAL).
///
/// Attributes: `gen_ai.operation.name=execute_tool`, `gen_ai.tool.name`,
/// `gen_ai.tool.type=function`, `gen_ai.tool.description` (see `description`), `tool.name`, and
/// `tool.success` (`true` unless the function returned `Err`, panicked, or its future was
/// dropped before completing). An `Err` also sets the status to Error with the error's
/// `Display`, `error.type`, and an `exception` event.
///
/// Options:
/// - `name = "search"`: the tool name (default: the function's name);
/// - `description = "..."`: `gen_ai.tool.description` (default: the first paragraph of the
///   function's doc comment; none without one);
/// - `call_id = expr`: `gen_ai.tool.call.id`, evaluated at call time;
/// - `capture(arg, ...)`: record these arguments (Debug) as `agent_trace.arg.<name>`; with
///   message content capture on, also as the JSON object `gen_ai.tool.call.arguments` (a
///   string as itself, a `serde::Serialize` value as its JSON, anything else as its `Debug`
///   text in a JSON string);
/// - `capture_result`: record the `Ok` value (or the whole value) as `agent_trace.result`,
///   and with content capture on as the JSON `gen_ai.tool.call.result` (the same rules);
/// - `fields(key = expr, key = ?debug_expr, key = %display_expr)`: extra attributes;
/// - `err(Debug)`: an `Err`'s message is its `Debug` form (for error types whose `Display` is
///   unhelpful or missing); `err(Display)`, the default, uses `Display` (with the `source()`
///   chain, or `anyhow`'s `{:#}` context chain);
/// - `stream = false`: a returned stream is not followed: the span ends when the function
///   returns (by default it lasts until the stream ends; see `#[llm_call]`);
/// - `crate = path`: where `agent_trace` is, for crates that re-export it.
///
/// ```
/// use agent_trace::traced_tool;
///
/// #[derive(Debug)]
/// struct NoDisplay {
///     code: u16,
/// }
///
/// #[traced_tool(err(Debug))] // message: `NoDisplay { code: 503 }`
/// fn fetch() -> Result<(), NoDisplay> {
///     Err(NoDisplay { code: 503 })
/// }
/// # let _ = fetch();
///
/// #[traced_tool]
/// fn word_count(text: &str) -> usize {
///     text.split_whitespace().count()
/// }
///
/// #[traced_tool(name = "web_search", call_id = call_id, capture(query), capture_result,
///               fields(search.limit = limit, search.engine = %"ddg"))]
/// async fn search(call_id: &str, query: &str, limit: u32) -> Result<Vec<String>, std::io::Error> {
///     Ok(vec![query.to_string()])
/// }
///
/// struct Db;
/// impl Db {
///     #[traced_tool(name = "sql")]
///     fn query(&mut self, sql: &str) -> std::io::Result<u64> {
///         if sql.is_empty() {
///             return Err(std::io::Error::other("empty query")); // early returns are recorded
///         }
///         Ok(1)
///     }
/// }
/// # assert_eq!(word_count("a b"), 2);
/// ```
#[proc_macro_attribute]
pub fn traced_tool(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(MacroKind::Tool, args.into(), item.into()).into()
}

/// Wraps a call to another agent in an `invoke_agent {target}` span (kind CLIENT).
///
/// While the body runs, the span is the current context, so an HTTP call made inside carries
/// it as the parent (with `agent_trace::carriers::http::inject`).
///
/// Attributes: `gen_ai.operation.name=invoke_agent`, `gen_ai.agent.name`, `agent.target`,
/// `agent.source` (default: the service name given to `init`), and from `url`:
/// `agent.target_url`, `server.address`, `server.port`.
///
/// Options: `target = "..."` (required), `source = "..."`, `url = expr`, `method = "POST"`,
/// `capture(...)`, `capture_result`, `fields(...)`, `crate = path`.
///
/// ```
/// use agent_trace::a2a_call;
///
/// #[a2a_call(target = "coder", url = format!("http://127.0.0.1:{port}/a2a"), method = "POST")]
/// async fn delegate(port: u16, task: String) -> Result<String, std::io::Error> {
///     Ok(format!("coder did {task}"))
/// }
/// ```
#[proc_macro_attribute]
pub fn a2a_call(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(MacroKind::A2a, args.into(), item.into()).into()
}

/// Wraps a phase of an agent's work in an `agent_phase {name}` span (kind INTERNAL) with
/// `agent.phase={name}`. Phases nest.
///
/// Options: the name first (`#[agent_phase("coding")]`) or `name = "..."`, then
/// `capture(...)`, `capture_result`, `fields(...)`, `crate = path`.
///
/// ```
/// use agent_trace::agent_phase;
///
/// #[agent_phase("planning", fields(plan.steps = steps))]
/// fn plan(steps: u32) -> Vec<String> {
///     (0..steps).map(|i| format!("step {i}")).collect()
/// }
///
/// #[agent_phase(name = "coding")]
/// async fn code() -> anyhow::Result<()> {
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn agent_phase(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(MacroKind::Phase, args.into(), item.into()).into()
}

/// Wraps a call to a language model in a `chat {model}` span (kind CLIENT).
///
/// Attributes: `gen_ai.operation.name=chat`, `gen_ai.request.model`, `gen_ai.provider.name`,
/// and, read from the returned value (or its `Ok`) when its type implements
/// `agent_trace::LlmResponse` (`serde_json::Value` in the OpenAI or Anthropic shape does, and
/// async-openai's types with the feature `async-openai`): `gen_ai.usage.input_tokens` (cached
/// tokens included), `gen_ai.usage.output_tokens`, the cache and reasoning token counts,
/// `gen_ai.response.id`, `gen_ai.response.model`, `gen_ai.response.finish_reasons`. Message
/// content is recorded only when `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`:
/// the `prompt = expr` option as `gen_ai.input.messages` and the response text as
/// `gen_ai.output.messages`, cut to 1024 characters.
///
/// **Streamed answers.** When the function returns a stream of chunks (`impl Stream`, a
/// boxed stream, or a `Result`/`Option` of one, from an `async fn` or not), the span lasts
/// until the stream ends or is dropped, `gen_ai.request.stream=true` and
/// `gen_ai.response.time_to_first_chunk` are recorded, and each chunk whose type implements
/// `agent_trace::LlmChunk` (`serde_json::Value` in the shapes of OpenAI chat-completion
/// chunks, OpenAI Responses events and Anthropic message events; async-openai's chunk and
/// event types with the feature) gives the same usage and response attributes, set when the
/// stream ends; the token metrics count them, and
/// `gen_ai.client.inference.time_to_first_chunk` and `.time_per_output_chunk` are recorded.
///
/// Options: `model = "..."` (required), `provider = "..."`, `url = expr` (the model
/// endpoint's URL, recorded as `server.address` and `server.port`), `prompt = expr`, `system = expr`
/// (system instructions, recorded like the prompt as `gen_ai.system_instructions`), `tools = expr`
/// (the tool definitions offered to the model, any `serde::Serialize`, recorded as the JSON
/// `gen_ai.tool.definitions` only when content capture is on), the request parameters
/// `temperature`, `top_p`, `frequency_penalty`, `presence_penalty` (numbers, recorded as
/// doubles), `max_tokens`, `top_k`, `seed`, `choice_count` (integers), `stop_sequences` (a
/// string or a list of them), each `= expr` of a value or an `Option` of one (`None` records
/// nothing), `capture(...)`, `capture_result`, `fields(...)`, `stream = false`, `crate = path`.
///
/// ```
/// use agent_trace::llm_call;
///
/// #[llm_call(model = "gpt-4o-mini", provider = "openai", prompt = question)]
/// async fn ask(question: &str) -> Result<serde_json::Value, std::io::Error> {
///     Ok(serde_json::json!({
///         "model": "gpt-4o-mini-2024-07-18",
///         "choices": [{"message": {"content": "4"}, "finish_reason": "stop"}],
///         "usage": {"prompt_tokens": 12, "completion_tokens": 1}
///     }))
/// }
///
/// // Streamed: the span ends with the stream; usage, id, model and finish reason come from
/// // the chunks (here Anthropic's events); the request parameters from the options.
/// #[llm_call(model = "claude-sonnet-4", provider = "anthropic", max_tokens = 1024u32,
///            temperature = Some(0.5), stop_sequences = ["END"])]
/// async fn ask_streaming(
///     question: &str,
/// ) -> Result<impl futures_core::Stream<Item = serde_json::Value>, std::io::Error> {
///     let _ = question;
///     Ok(futures_util::stream::iter([
///         serde_json::json!({"type": "message_start", "message": {"id": "msg_1",
///             "model": "claude-sonnet-4-20250514", "usage": {"input_tokens": 9, "output_tokens": 1}}}),
///         serde_json::json!({"type": "content_block_delta", "delta": {"type": "text_delta", "text": "4"}}),
///         serde_json::json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
///             "usage": {"output_tokens": 2}}),
///     ]))
/// }
/// ```
#[proc_macro_attribute]
pub fn llm_call(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(MacroKind::Llm, args.into(), item.into()).into()
}

/// Wraps an agent's own handler in an `invoke_agent {name}` span (kind INTERNAL), as opposed
/// to `#[a2a_call]`, the CLIENT side of calling another agent.
///
/// Attributes: `gen_ai.operation.name=invoke_agent`, `gen_ai.agent.name`, and
/// `gen_ai.conversation.id` from `conversation_id = expr`.
///
/// Options: `name = "..."` (default: the function's name), `conversation_id = expr`,
/// `capture(...)`, `capture_result`, `fields(...)`, `crate = path`.
///
/// ```
/// use agent_trace::agent_run;
///
/// #[agent_run(name = "coder", conversation_id = session)]
/// async fn handle(session: &str, task: String) -> anyhow::Result<String> {
///     Ok(format!("{session}: {task}"))
/// }
/// ```
#[proc_macro_attribute]
pub fn agent_run(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(MacroKind::AgentRun, args.into(), item.into()).into()
}

/// An `invoke_agent {target}` span (kind CLIENT) around a block, like `#[a2a_call]` without
/// a function of its own.
///
/// With a block, it runs the block at once and evaluates to its value; `?` and `return` inside
/// leave the block (it is a closure body), and an `Err` value marks the span as an error.
/// The block's type may be inferred from the code around it, so `error.type` here is the
/// error's type name; an [`ErrorType`](../agent_trace/trait.ErrorType.html) choice is used by
/// the attribute macros, whose return type is written out.
/// With an async block, it evaluates to a future whose span is current on each poll.
///
/// Options before the block: `target = "..."` (required), `source`, `url`, `method`,
/// `fields(...)`, `crate = path`.
///
/// ```
/// use agent_trace::a2a_span;
///
/// let answer: Result<u32, std::io::Error> = a2a_span!(target = "reviewer", url = "http://127.0.0.1:9/review", {
///     Ok(42)
/// });
/// assert_eq!(answer.unwrap(), 42);
///
/// let future = a2a_span!(target = "reviewer", async { 7 });
/// # let _ = future;
/// ```
#[proc_macro]
pub fn a2a_span(input: TokenStream) -> TokenStream {
    expand::a2a_span(input.into()).into()
}
