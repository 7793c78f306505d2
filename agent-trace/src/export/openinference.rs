//! OpenInference attributes beside the OpenTelemetry GenAI ones, for trace UIs built on
//! OpenInference (Arize Phoenix, Arize): every span gets an `openinference.span.kind`, so
//! none shows as UNKNOWN, and model, token, message, input and output attributes are copied
//! into the names those UIs read.
//!
//! Off by default; on with [`Builder::openinference`](crate::Builder::openinference) or
//! `AGENT_TRACE_OPENINFERENCE=true`. The work happens on the export thread, after your own
//! `SpanProcessor`s and after [redaction](crate::redact) (the copies are made from redacted
//! values): the application's threads pay nothing for it.
//!
//! | span | `openinference.span.kind` | also set |
//! |---|---|---|
//! | `#[llm_call]` (`gen_ai.operation.name=chat`) | `LLM` | `llm.model_name`, `llm.provider`, `llm.token_count.{prompt,completion,total}`, `llm.cost.total` (with prices), `llm.input_messages.*`, `llm.output_messages.*`, `input.value`/`output.value` (the message JSON) |
//! | `#[traced_tool]`, MCP `tools/call` (`execute_tool`) | `TOOL` | `input.value` (tool call arguments or captured arguments), `output.value` (tool call result or captured result) |
//! | `#[a2a_call]`, `#[agent_run]` (`invoke_agent`), A2A server spans (an A2A client span is a `CHAIN` under its `invoke_agent`) | `AGENT` | `agent.name`; input and output: the A2A message and answer (content capture), or what was captured |
//! | everything else (phases, HTTP, queues, other MCP requests) | `CHAIN` | captured input and output |
//!
//! `gen_ai.conversation.id` is copied to `session.id`. A span that already has an
//! `openinference.span.kind` (set by your code) is left as it is. Message and argument
//! contents exist only when content capture or `capture(..)` put them on the span.

use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use serde_json::Value as Json;

use crate::span::semconv as k;

const JSON_MIME: &str = "application/json";
const TEXT_MIME: &str = "text/plain";
/// At most this many messages are spelled out as `llm.*_messages.{i}.*`.
const MAX_MESSAGES: usize = 64;

fn find<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn find_str(attrs: &[KeyValue], key: &str) -> Option<String> {
    match find(attrs, key)? {
        Value::String(s) => Some(s.as_str().to_string()),
        other => Some(other.to_string()),
    }
}

fn find_i64(attrs: &[KeyValue], key: &str) -> Option<i64> {
    match find(attrs, key)? {
        Value::I64(n) => Some(*n),
        Value::String(s) => s.as_str().parse().ok(),
        _ => None,
    }
}

/// The OpenInference kind for a span's attributes. An A2A CLIENT span is a `CHAIN`: the
/// agent is the `invoke_agent` span above it, so Langfuse and Phoenix show one agent per
/// call, as the GenAI kind says.
fn kind_of(attrs: &[KeyValue], span_kind: &opentelemetry::trace::SpanKind) -> &'static str {
    match find_str(attrs, k::GEN_AI_OPERATION_NAME).as_deref() {
        Some("chat" | "text_completion" | "generate_content") => "LLM",
        Some("execute_tool") => "TOOL",
        Some("invoke_agent" | "create_agent") => "AGENT",
        Some("embeddings") => "EMBEDDING",
        _ if find(attrs, k::A2A_METHOD_NAME).is_some()
            && *span_kind != opentelemetry::trace::SpanKind::Client =>
        {
            "AGENT"
        }
        _ => "CHAIN",
    }
}

/// `{name: value}` of the `capture(..)`d arguments, as JSON.
fn captured_args(attrs: &[KeyValue]) -> Option<String> {
    let mut map = serde_json::Map::new();
    for kv in attrs {
        if let Some(name) = kv.key.as_str().strip_prefix(k::AGENT_TRACE_ARG_PREFIX) {
            map.insert(name.to_string(), Json::String(kv.value.to_string()));
        }
    }
    (!map.is_empty()).then(|| Json::Object(map).to_string())
}

/// `llm.{input,output}_messages.{i}.message.{role,content}` from a GenAI messages JSON
/// attribute (`[{role, parts: [{type: text, content}]}]`); text parts are joined.
fn spell_messages(out: &mut Vec<KeyValue>, prefix: &str, messages_json: &str) {
    let Ok(Json::Array(messages)) = serde_json::from_str::<Json>(messages_json) else {
        return;
    };
    for (i, m) in messages.iter().take(MAX_MESSAGES).enumerate() {
        if let Some(role) = m.get("role").and_then(Json::as_str) {
            out.push(KeyValue::new(
                format!("{prefix}.{i}.message.role"),
                role.to_string(),
            ));
        }
        let text: Vec<&str> = m
            .get("parts")
            .and_then(Json::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(|p| p.get("content").and_then(Json::as_str))
                    .collect()
            })
            .unwrap_or_default();
        if !text.is_empty() {
            out.push(KeyValue::new(
                format!("{prefix}.{i}.message.content"),
                text.join("\n"),
            ));
        }
    }
}

fn llm_attributes(attrs: &[KeyValue], out: &mut Vec<KeyValue>) {
    let model = find_str(attrs, k::GEN_AI_RESPONSE_MODEL)
        .or_else(|| find_str(attrs, k::GEN_AI_REQUEST_MODEL));
    if let Some(m) = model {
        out.push(KeyValue::new(k::LLM_MODEL_NAME, m));
    }
    if let Some(p) = find_str(attrs, k::GEN_AI_PROVIDER_NAME) {
        out.push(KeyValue::new(k::LLM_PROVIDER, p));
    }
    let prompt = find_i64(attrs, k::GEN_AI_USAGE_INPUT_TOKENS);
    let completion = find_i64(attrs, k::GEN_AI_USAGE_OUTPUT_TOKENS);
    if let Some(n) = prompt {
        out.push(KeyValue::new(k::LLM_TOKEN_COUNT_PROMPT, n));
    }
    if let Some(n) = completion {
        out.push(KeyValue::new(k::LLM_TOKEN_COUNT_COMPLETION, n));
    }
    if let (Some(p), Some(c)) = (prompt, completion) {
        out.push(KeyValue::new(k::LLM_TOKEN_COUNT_TOTAL, p.saturating_add(c)));
    }
    let cost = attrs
        .iter()
        .find(|kv| kv.key.as_str() == k::AGENT_TRACE_USAGE_COST)
        .and_then(|kv| match kv.value {
            opentelemetry::Value::F64(c) => Some(c),
            _ => None,
        });
    if let Some(c) = cost {
        out.push(KeyValue::new(k::LLM_COST_TOTAL, c));
    }
    // System instructions come first, as a `system` message.
    let system = find_str(attrs, k::GEN_AI_SYSTEM_INSTRUCTIONS).and_then(|parts| {
        let parts: Json = serde_json::from_str(&parts).ok()?;
        Some(Json::Array(vec![
            serde_json::json!({"role": "system", "parts": parts}),
        ]))
    });
    let input = find_str(attrs, k::GEN_AI_INPUT_MESSAGES);
    let mut all: Vec<Json> = system
        .into_iter()
        .chain(input.iter().filter_map(|i| serde_json::from_str(i).ok()))
        .filter_map(|m| match m {
            Json::Array(items) => Some(items),
            _ => None,
        })
        .flatten()
        .collect();
    all.truncate(MAX_MESSAGES);
    if !all.is_empty() {
        spell_messages(out, k::LLM_INPUT_MESSAGES, &Json::Array(all).to_string());
    }
    if let Some(input) = input {
        out.push(KeyValue::new(k::INPUT_VALUE, input));
        out.push(KeyValue::new(k::INPUT_MIME_TYPE, JSON_MIME));
    }
    if let Some(output) = find_str(attrs, k::GEN_AI_OUTPUT_MESSAGES) {
        spell_messages(out, k::LLM_OUTPUT_MESSAGES, &output);
        out.push(KeyValue::new(k::OUTPUT_VALUE, output));
        out.push(KeyValue::new(k::OUTPUT_MIME_TYPE, JSON_MIME));
    }
}

/// `input.value`/`output.value` from tool call arguments and results, or from what the
/// macros captured.
fn io_attributes(attrs: &[KeyValue], out: &mut Vec<KeyValue>) {
    let input = find_str(attrs, crate::span::semconv::GEN_AI_TOOL_CALL_ARGUMENTS)
        .or_else(|| find_str(attrs, k::GEN_AI_INPUT_MESSAGES))
        .or_else(|| captured_args(attrs));
    if let Some(v) = input {
        out.push(KeyValue::new(k::INPUT_VALUE, v));
        out.push(KeyValue::new(k::INPUT_MIME_TYPE, JSON_MIME));
    }
    let output = find_str(attrs, crate::span::semconv::GEN_AI_TOOL_CALL_RESULT)
        .or_else(|| find_str(attrs, k::GEN_AI_OUTPUT_MESSAGES));
    if let Some(v) = output {
        out.push(KeyValue::new(k::OUTPUT_VALUE, v));
        out.push(KeyValue::new(k::OUTPUT_MIME_TYPE, JSON_MIME));
    } else if let Some(v) = find_str(attrs, k::AGENT_TRACE_RESULT) {
        out.push(KeyValue::new(k::OUTPUT_VALUE, v));
        out.push(KeyValue::new(k::OUTPUT_MIME_TYPE, TEXT_MIME));
    }
}

/// Adds the OpenInference attributes to one span (on the export thread).
pub(crate) fn enrich(span: &mut SpanData) {
    let attrs = &span.attributes;
    if find(attrs, k::OPENINFERENCE_SPAN_KIND).is_some() {
        return;
    }
    let kind = kind_of(attrs, &span.span_kind);
    let mut out = vec![KeyValue::new(k::OPENINFERENCE_SPAN_KIND, kind)];
    match kind {
        "LLM" => llm_attributes(attrs, &mut out),
        _ => io_attributes(attrs, &mut out),
    }
    if kind == "AGENT" {
        if let Some(name) = find_str(attrs, k::GEN_AI_AGENT_NAME) {
            out.push(KeyValue::new(k::OPENINFERENCE_AGENT_NAME, name));
        }
    }
    if let Some(session) = find_str(attrs, k::GEN_AI_CONVERSATION_ID) {
        out.push(KeyValue::new(k::SESSION_ID, session));
    }
    // Never two values under one key: a user's own attribute of the same name wins.
    out.retain(|kv| find(attrs, kv.key.as_str()).is_none());
    span.attributes.extend(out);
}
