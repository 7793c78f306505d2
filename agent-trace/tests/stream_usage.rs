//! What a streamed model answer says about itself, read from its chunks by `#[llm_call]`:
//! token usage (input with cached tokens, output, cache read and write, reasoning), response
//! id and model, finish reasons, and with content capture on the joined text. The three
//! shapes people parse from server-sent events today (OpenAI chat-completion chunks, OpenAI
//! Responses events, Anthropic message events) as `serde_json::Value`, and a chunk type of
//! the user's own. Also the request parameters given as options.

use agent_trace::testing::{Capture, CapturedSpan};
use agent_trace::{llm_call, LlmChunk};
use futures_core::Stream;
use futures_util::StreamExt as _;
use serde_json::{json, Value};

fn events(lines: Vec<Value>) -> impl Stream<Item = Result<Value, std::io::Error>> {
    futures_util::stream::iter(lines.into_iter().map(Ok))
}

#[llm_call(model = "gpt-4o-mini", provider = "openai", temperature = 0.2, max_tokens = 256u32,
           top_p = Some(0.9f32), seed = 7i64, choice_count = 1u8, stop_sequences = ["END", "\n\n"],
           frequency_penalty = None::<f32>)]
async fn openai_chat() -> Result<impl Stream<Item = Result<Value, std::io::Error>>, std::io::Error>
{
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1,
               "model": "gpt-4o-mini-2024-07-18",
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], "usage": null})
    };
    Ok(events(vec![
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({"content": "Par"}), Value::Null),
        chunk(json!({"content": "is"}), Value::Null),
        chunk(json!({}), json!("stop")),
        // `stream_options.include_usage`: the last chunk has no choices, only usage.
        json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1,
               "model": "gpt-4o-mini-2024-07-18", "choices": [],
               "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15,
                         "prompt_tokens_details": {"cached_tokens": 4},
                         "completion_tokens_details": {"reasoning_tokens": 1}}}),
    ]))
}

#[llm_call(model = "gpt-4.1", provider = "openai")]
fn openai_responses() -> impl Stream<Item = Value> {
    futures_util::stream::iter(vec![
        json!({"type": "response.created", "response": {"id": "resp_1",
               "model": "gpt-4.1-2025-04-14", "status": "in_progress", "usage": null}}),
        json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
               "content_index": 0, "delta": "Hi"}),
        json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
               "content_index": 0, "delta": " there"}),
        json!({"type": "response.completed", "response": {"id": "resp_1",
               "model": "gpt-4.1-2025-04-14", "status": "completed",
               "usage": {"input_tokens": 30, "input_tokens_details": {"cached_tokens": 6},
                         "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 2},
                         "total_tokens": 35}}}),
    ])
}

#[llm_call(model = "claude-sonnet-4", provider = "anthropic", top_k = 40u32)]
async fn anthropic() -> impl Stream<Item = Result<Value, std::io::Error>> {
    events(vec![
        json!({"type": "message_start", "message": {"id": "msg_01", "type": "message",
               "role": "assistant", "model": "claude-sonnet-4-20250514", "content": [],
               "stop_reason": null,
               "usage": {"input_tokens": 25, "cache_creation_input_tokens": 5,
                         "cache_read_input_tokens": 10, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0,
               "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0,
               "delta": {"type": "text_delta", "text": "Hello"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
               "usage": {"output_tokens": 15}}),
        json!({"type": "message_stop"}),
    ])
}

/// A chunk type of the user's own client.
struct Token {
    text: &'static str,
    done: bool,
    counts: Option<(u64, u64)>,
}

impl LlmChunk for Token {
    fn input_tokens(&self) -> Option<u64> {
        self.counts.map(|c| c.0)
    }
    fn output_tokens(&self) -> Option<u64> {
        self.counts.map(|c| c.1)
    }
    fn finish_reasons(&self) -> Vec<&str> {
        if self.done {
            vec!["length"]
        } else {
            Vec::new()
        }
    }
    fn output_text(&self) -> Option<&str> {
        Some(self.text)
    }
}

#[llm_call(model = "local-7b")]
fn own_chunks() -> impl Stream<Item = Token> {
    futures_util::stream::iter([
        Token {
            text: "a",
            done: false,
            counts: None,
        },
        Token {
            text: "b",
            done: true,
            counts: Some((7, 2)),
        },
    ])
}

/// Keys whose values must be what the chunks said.
fn expect(span: &CapturedSpan, want: &[(&str, Option<&str>)]) {
    for (key, value) in want {
        assert_eq!(span.attr(key).as_deref(), *value, "{} {key}", span.name);
    }
}

/// The content-capture switch is process-wide: the test that turns it on runs alone.
static CAPTURE_SWITCH: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn usage_response_and_finish_reasons_from_each_shape() {
    let _serial = CAPTURE_SWITCH.lock().await;
    let cap = Capture::start();
    cap.future(async {
        openai_chat().await.unwrap().collect::<Vec<_>>().await;
        openai_responses().collect::<Vec<_>>().await;
        anthropic().await.collect::<Vec<_>>().await;
        own_chunks().collect::<Vec<_>>().await;
    })
    .await;
    let tree = cap.tree();
    expect(
        tree.find("chat gpt-4o-mini").unwrap(),
        &[
            ("gen_ai.request.stream", Some("true")),
            ("gen_ai.usage.input_tokens", Some("12")),
            ("gen_ai.usage.output_tokens", Some("3")),
            ("gen_ai.usage.cache_read.input_tokens", Some("4")),
            ("gen_ai.usage.reasoning.output_tokens", Some("1")),
            ("gen_ai.response.id", Some("chatcmpl-9")),
            ("gen_ai.response.model", Some("gpt-4o-mini-2024-07-18")),
            ("gen_ai.response.finish_reasons", Some(r#"["stop"]"#)),
            ("agent_trace.stream.items", Some("5")),
            ("gen_ai.output.messages", None), // content capture is off
        ],
    );
    expect(
        tree.find("chat gpt-4.1").unwrap(),
        &[
            ("gen_ai.usage.input_tokens", Some("30")),
            ("gen_ai.usage.output_tokens", Some("5")),
            ("gen_ai.usage.cache_read.input_tokens", Some("6")),
            ("gen_ai.usage.reasoning.output_tokens", Some("2")),
            ("gen_ai.response.id", Some("resp_1")),
            ("gen_ai.response.model", Some("gpt-4.1-2025-04-14")),
            ("gen_ai.response.finish_reasons", Some(r#"["stop"]"#)),
        ],
    );
    expect(
        tree.find("chat claude-sonnet-4").unwrap(),
        &[
            // 25 + cache read 10 + cache write 5: the conventions count cached tokens in.
            ("gen_ai.usage.input_tokens", Some("40")),
            ("gen_ai.usage.output_tokens", Some("15")),
            ("gen_ai.usage.cache_read.input_tokens", Some("10")),
            ("gen_ai.usage.cache_write.input_tokens", Some("5")),
            ("gen_ai.response.id", Some("msg_01")),
            ("gen_ai.response.model", Some("claude-sonnet-4-20250514")),
            ("gen_ai.response.finish_reasons", Some(r#"["end_turn"]"#)),
            ("gen_ai.request.top_k", Some("40")),
        ],
    );
    expect(
        tree.find("chat local-7b").unwrap(),
        &[
            ("gen_ai.usage.input_tokens", Some("7")),
            ("gen_ai.usage.output_tokens", Some("2")),
            ("gen_ai.response.finish_reasons", Some(r#"["length"]"#)),
            ("gen_ai.response.id", None),
        ],
    );
}

#[tokio::test]
async fn request_parameters_have_the_registry_types() {
    let cap = Capture::start();
    cap.future(async { openai_chat().await.unwrap().collect::<Vec<_>>().await })
        .await;
    let spans = cap.spans();
    let span = spans.iter().find(|s| s.name == "chat gpt-4o-mini").unwrap();
    use agent_trace::opentelemetry::{Array, Value as V};
    let raw = |key: &str| {
        span.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(raw("gen_ai.request.temperature"), Some(V::F64(0.2)));
    assert_eq!(raw("gen_ai.request.max_tokens"), Some(V::I64(256)));
    assert_eq!(raw("gen_ai.request.top_p"), Some(V::F64(f64::from(0.9f32))));
    assert_eq!(raw("gen_ai.request.seed"), Some(V::I64(7)));
    assert_eq!(raw("gen_ai.request.choice.count"), Some(V::I64(1)));
    assert_eq!(
        raw("gen_ai.request.stop_sequences"),
        Some(V::Array(Array::String(vec!["END".into(), "\n\n".into()])))
    );
    assert_eq!(
        raw("gen_ai.request.frequency_penalty"),
        None,
        "None: absent"
    );
}

#[tokio::test]
async fn with_content_capture_the_streamed_text_is_the_output_message() {
    // In a process of its own under `cargo test`: its guard's drop turns tracing off, which
    // would take the spans of the tests running beside it.
    agent_trace::isolate!();
    let _serial = CAPTURE_SWITCH.lock().await;
    let guard = agent_trace::builder()
        .service_name("capture-on")
        .env(|k| (k == "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT").then(|| "true".into()))
        .install()
        .expect("install");
    let cap = Capture::start();
    cap.future(async {
        openai_chat().await.unwrap().collect::<Vec<_>>().await;
        anthropic().await.collect::<Vec<_>>().await;
        openai_responses().collect::<Vec<_>>().await;
    })
    .await;
    drop(guard);
    let tree = cap.tree();
    let text = |name: &str| {
        let json: Value = serde_json::from_str(
            &tree
                .find(name)
                .unwrap()
                .attr("gen_ai.output.messages")
                .unwrap(),
        )
        .unwrap();
        json[0]["parts"][0]["content"].as_str().unwrap().to_string()
    };
    assert_eq!(text("chat gpt-4o-mini"), "Paris");
    assert_eq!(text("chat claude-sonnet-4"), "Hello");
    assert_eq!(text("chat gpt-4.1"), "Hi there");
}

#[tokio::test]
async fn hostile_chunks_cost_a_bounded_span() {
    // Not while another test of this binary has a pipeline of its own installed (under
    // `cargo test` they share the process): its spans would go there, not to the capture.
    let _serial = CAPTURE_SWITCH.lock().await;
    // A stream that repeats finish reasons and sends a huge id keeps the span bounded.
    #[llm_call(model = "noisy")]
    fn noisy() -> impl Stream<Item = Value> {
        let id = "x".repeat(100_000);
        futures_util::stream::iter(
            (0..10_000).map(
                move |_| json!({"id": id, "model": "m", "choices": [{"finish_reason": "stop"}]}),
            ),
        )
    }
    let cap = Capture::start();
    let n = cap.future(async { noisy().count().await }).await;
    assert_eq!(n, 10_000);
    let tree = cap.tree();
    let span = tree.find("chat noisy").unwrap();
    let reasons: Vec<String> =
        serde_json::from_str(&span.attr("gen_ai.response.finish_reasons").unwrap()).unwrap();
    assert_eq!(reasons.len(), 64);
    assert!(span.attr("gen_ai.response.id").unwrap().chars().count() <= 257);
}

#[test]
fn lists_of_strings_are_recorded_without_building_arrays() {
    #[llm_call(model = "by-hand")]
    fn by_hand(reasons: &[&str]) -> usize {
        agent_trace::record_strings("gen_ai.response.finish_reasons", reasons);
        reasons.len()
    }
    let cap = Capture::start();
    cap.in_scope(|| by_hand(&["stop", "length"]));
    let spans = cap.spans();
    let span = spans.iter().find(|s| s.name == "chat by-hand").unwrap();
    let raw = span
        .attributes
        .iter()
        .find(|(k, _)| k == "gen_ai.response.finish_reasons")
        .map(|(_, v)| v.clone());
    use agent_trace::opentelemetry::{Array, Value as V};
    assert_eq!(
        raw,
        Some(V::Array(Array::String(vec![
            "stop".into(),
            "length".into()
        ])))
    );
}
