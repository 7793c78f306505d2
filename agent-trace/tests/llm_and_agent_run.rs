//! `#[llm_call]` and `#[agent_run]`: model, provider, token usage from real response shapes,
//! content capture off by default.

use agent_trace::testing::Capture;
use agent_trace::{agent_run, llm_call, LlmResponse, TokenUsage};
use serde_json::{json, Value};

#[llm_call(model = "gpt-4o-mini", provider = "openai", prompt = question)]
fn openai(question: &str) -> Result<Value, std::io::Error> {
    let _ = question;
    Ok(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Paris."}, "finish_reason": "stop"},
            {"index": 1, "message": {"role": "assistant", "content": "Paris!"}, "finish_reason": "length"}
        ],
        "usage": {"prompt_tokens": 14, "completion_tokens": 3, "total_tokens": 17,
                  "prompt_tokens_details": {"cached_tokens": 8},
                  "completion_tokens_details": {"reasoning_tokens": 2}}
    }))
}

#[llm_call(model = "claude-sonnet-4", provider = "anthropic")]
async fn anthropic() -> Value {
    json!({
        "id": "msg_1",
        "type": "message",
        "model": "claude-sonnet-4-20250514",
        "content": [{"type": "text", "text": "Bonjour"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 21, "output_tokens": 5,
                  "cache_read_input_tokens": 9, "cache_creation_input_tokens": 4}
    })
}

struct MyReply {
    tokens: (u64, u64),
}
impl LlmResponse for MyReply {
    fn usage(&self) -> Option<TokenUsage> {
        Some(TokenUsage {
            input_tokens: self.tokens.0,
            output_tokens: self.tokens.1,
        })
    }
}

#[llm_call(model = "local-7b", url = "http://127.0.0.1:8081/v1")]
fn custom() -> anyhow::Result<MyReply> {
    Ok(MyReply { tokens: (100, 40) })
}

#[llm_call(model = "local-7b")]
fn plain_text() -> Result<String, String> {
    Err("model overloaded".into())
}

/// The content-capture switch is process-wide: under `cargo test` (one process, tests on
/// threads) the test that turns it on must not overlap the one that expects it off.
static CAPTURE_SWITCH: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn usage_and_model_from_real_response_shapes() {
    let _serial = CAPTURE_SWITCH.lock().unwrap_or_else(|e| e.into_inner());
    let cap = Capture::start();
    cap.in_scope(|| {
        openai("capital of France?").unwrap();
        custom().unwrap();
        plain_text().unwrap_err();
    });
    let tree = cap.tree();
    let o = tree.find("chat gpt-4o-mini").unwrap();
    assert_eq!(o.kind, opentelemetry::trace::SpanKind::Client);
    assert_eq!(o.attr("gen_ai.operation.name").as_deref(), Some("chat"));
    assert_eq!(o.attr("gen_ai.provider.name").as_deref(), Some("openai"));
    assert_eq!(
        o.attr("gen_ai.request.model").as_deref(),
        Some("gpt-4o-mini")
    );
    assert_eq!(
        o.attr("gen_ai.response.model").as_deref(),
        Some("gpt-4o-mini-2024-07-18")
    );
    assert_eq!(o.attr("gen_ai.usage.input_tokens").as_deref(), Some("14"));
    assert_eq!(o.attr("gen_ai.usage.output_tokens").as_deref(), Some("3"));
    assert_eq!(o.attr("gen_ai.response.id").as_deref(), Some("chatcmpl-1"));
    assert_eq!(o.attr("server.address"), None, "no url = ..");
    let local = tree.find("chat local-7b").unwrap();
    assert_eq!(local.attr("server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(local.attr("server.port").as_deref(), Some("8081"));
    assert_eq!(
        local.attr("agent.target_url"),
        None,
        "an A2A key, not a model's"
    );
    assert_eq!(
        o.attr("gen_ai.usage.cache_read.input_tokens").as_deref(),
        Some("8")
    );
    assert_eq!(
        o.attr("gen_ai.usage.reasoning.output_tokens").as_deref(),
        Some("2")
    );
    assert_eq!(o.attr("gen_ai.usage.cache_write.input_tokens"), None);
    assert_eq!(
        o.attr("gen_ai.response.finish_reasons").as_deref(),
        Some(r#"["stop","length"]"#)
    );
    assert_eq!(
        o.attr("gen_ai.input.messages"),
        None,
        "content capture is off by default"
    );
    assert_eq!(o.attr("gen_ai.output.messages"), None);
    let c = tree.find("chat local-7b").unwrap();
    assert_eq!(c.attr("gen_ai.usage.input_tokens").as_deref(), Some("100"));
    let failed = tree.spans().iter().find(|s| s.error().is_some()).unwrap();
    assert_eq!(failed.error().as_deref(), Some("model overloaded"));
    assert_eq!(failed.attr("gen_ai.usage.input_tokens"), None);
}

#[tokio::test]
async fn anthropic_shape_async() {
    let cap = Capture::start();
    cap.future(anthropic()).await;
    let tree = cap.tree();
    let a = tree.find("chat claude-sonnet-4").unwrap();
    // Anthropic's `input_tokens` (21) leaves out the cache; the conventions' input tokens
    // "SHOULD include all types of input tokens, including cached tokens": 21 + 9 + 4.
    assert_eq!(a.attr("gen_ai.usage.input_tokens").as_deref(), Some("34"));
    assert_eq!(a.attr("gen_ai.usage.output_tokens").as_deref(), Some("5"));
    assert_eq!(a.attr("gen_ai.response.id").as_deref(), Some("msg_1"));
    assert_eq!(
        a.attr("gen_ai.usage.cache_read.input_tokens").as_deref(),
        Some("9")
    );
    assert_eq!(
        a.attr("gen_ai.usage.cache_write.input_tokens").as_deref(),
        Some("4")
    );
    assert_eq!(a.attr("gen_ai.usage.reasoning.output_tokens"), None);
    assert_eq!(
        a.attr("gen_ai.response.finish_reasons").as_deref(),
        Some(r#"["end_turn"]"#)
    );
    assert_eq!(
        a.attr("gen_ai.response.model").as_deref(),
        Some("claude-sonnet-4-20250514")
    );
}

#[test]
fn content_capture_when_switched_on_is_cut() {
    // In a process of its own under `cargo test`: its guard's drop turns tracing off, which
    // would take the spans of the tests running beside it.
    agent_trace::isolate!();
    let _serial = CAPTURE_SWITCH.lock().unwrap_or_else(|e| e.into_inner());
    let _guard = agent_trace::builder()
        .service_name("capture-on")
        .env(|k| (k == "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT").then(|| "true".into()))
        .install()
        .expect("install");
    let cap = Capture::start();
    let long = "q".repeat(5000);
    cap.in_scope(|| openai(&long).unwrap());
    let o = cap.tree().find("chat gpt-4o-mini").unwrap().clone();
    // The GenAI conventions' message shape: a JSON list of {role, parts: [...]}.
    let output: serde_json::Value =
        serde_json::from_str(&o.attr("gen_ai.output.messages").unwrap()).expect("JSON");
    assert_eq!(
        output,
        serde_json::json!([{
            "role": "assistant",
            "parts": [{"type": "text", "content": "Paris."}]
        }]),
        "the finish reason is gen_ai.response.finish_reasons, not part of the message"
    );
    let input: serde_json::Value = serde_json::from_str(&o.attr("gen_ai.input.messages").unwrap())
        .expect("valid JSON after the cut");
    assert_eq!(input[0]["role"], "user");
    assert_eq!(input[0]["parts"][0]["type"], "text");
    let content = input[0]["parts"][0]["content"].as_str().unwrap();
    assert_eq!(content.chars().count(), agent_trace::CAPTURE_LIMIT + 1);
    assert!(content.ends_with('…'));
}

#[agent_run(name = "coder", conversation_id = session)]
async fn coder(session: &str, task: &str) -> anyhow::Result<usize> {
    Ok(task.len() + session.len())
}

#[agent_run]
fn reviewer() -> u8 {
    1
}

#[tokio::test]
async fn agent_run_spans() {
    let cap = Capture::start();
    cap.future(async {
        coder("conv-42", "write code").await.unwrap();
        reviewer();
    })
    .await;
    assert_eq!(
        cap.tree().to_string(),
        "\
invoke_agent coder [INTERNAL]
  · gen_ai.agent.name=coder
  · gen_ai.conversation.id=conv-42
  · gen_ai.operation.name=invoke_agent
invoke_agent reviewer [INTERNAL]
  · gen_ai.agent.name=reviewer
  · gen_ai.operation.name=invoke_agent
"
    );
}

#[agent_trace::traced_tool]
fn helper_tool() -> u8 {
    1
}

#[agent_run(name = "host", conversation_id = session)]
fn host(session: &str) -> u8 {
    // Work started inside the agent, and by its code later, is in the conversation.
    assert_eq!(
        agent_trace::current_conversation_id().as_deref(),
        Some(session)
    );
    helper_tool()
}

#[test]
fn a_conversation_named_by_an_agent_reaches_every_span_inside_it() {
    let cap = Capture::start();
    cap.in_scope(|| {
        host("conv-7");
        // Outside the agent, no conversation; in one set by a call, every span is in it.
        assert_eq!(agent_trace::current_conversation_id(), None);
        let _in = agent_trace::in_conversation("conv-8").attach();
        helper_tool();
    });
    let spans = cap.spans();
    let conversation = |name: &str| -> Vec<String> {
        spans
            .iter()
            .filter(|s| s.name == name)
            .map(|s| {
                s.attributes
                    .iter()
                    .find(|(k, _)| k == "gen_ai.conversation.id")
                    .map(|(_, v)| v.to_string())
                    .unwrap_or_default()
            })
            .collect()
    };
    assert_eq!(conversation("invoke_agent host"), ["conv-7"]);
    let mut tools = conversation("execute_tool helper_tool");
    tools.sort();
    assert_eq!(tools, ["conv-7", "conv-8"]);
}
