//! OpenInference attributes, over the real OTLP wire: with the switch on, every kind of span
//! is classified and carries its inputs and outputs under the OpenInference names; with it
//! off, none of those attributes are sent. Copies are redacted like their originals.

use agent_trace::receiver::{OtlpReceiver, ReceivedSpan};
use agent_trace::{a2a_call, agent_phase, llm_call, traced_tool, Protocol};
use serde_json::json;

#[llm_call(model = "stand-in-1", provider = "stand-in", prompt = question, system = "Be terse.")]
fn ask_model(question: &str) -> Result<serde_json::Value, std::io::Error> {
    Ok(json!({
        "model": "stand-in-1-0613",
        "choices": [{"message": {"content": format!("answer to {question}")}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5},
    }))
}

#[traced_tool(capture(city, api_key), capture_result)]
fn weather(city: &str, api_key: &str) -> Result<String, std::io::Error> {
    let _ = api_key;
    Ok(format!("sunny in {city}"))
}

#[a2a_call(target = "coder")]
fn delegate() -> u8 {
    agent_trace::a2a::record_request(&json!({"method": "SendMessage", "id": 1,
        "params": {"message": {"messageId": "m1", "contextId": "conversation-9",
                               "parts": [{"text": "write the parser"}]}}}));
    1
}

#[agent_phase("plan", capture(goal))]
fn plan(goal: &str) -> usize {
    let _ = ask_model("what is ownership?");
    let _ = weather("Lisbon", "sk-abcdefghijklmnopqrstuvwxyz012345");
    delegate() as usize + goal.len()
}

fn run(openinference: bool) -> Vec<ReceivedSpan> {
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::builder_for("oi", &rx.grpc_endpoint(), Protocol::Grpc)
        .openinference(openinference)
        .capture_message_content(true)
        .prices(
            agent_trace::Prices::new()
                .with_model("stand-in-1", agent_trace::ModelPrice::per_token(0.5, 1.0)),
        )
        .install()
        .expect("install");
    plan("ship it");
    guard.shutdown().expect("delivered");
    rx.spans()
}

fn span<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name}"))
}

#[test]
fn every_span_is_classified_with_its_inputs_and_outputs() {
    agent_trace::isolate!();
    let spans = run(true);
    assert_eq!(spans.len(), 4);
    for s in &spans {
        assert!(
            s.attr("openinference.span.kind").is_some(),
            "{} unclassified",
            s.name
        );
    }

    let llm = span(&spans, "chat stand-in-1");
    assert_eq!(llm.attr("openinference.span.kind"), Some("LLM"));
    assert_eq!(llm.attr("llm.model_name"), Some("stand-in-1-0613"));
    assert_eq!(llm.attr("llm.provider"), Some("stand-in"));
    assert_eq!(llm.attr("llm.token_count.prompt"), Some("12"));
    assert_eq!(llm.attr("llm.token_count.completion"), Some("5"));
    assert_eq!(llm.attr("llm.token_count.total"), Some("17"));
    // The cost at the prices (the request's model, as the response's has none): 12 * 0.5 + 5.
    assert_eq!(llm.attr("agent_trace.usage.cost"), Some("11"));
    assert_eq!(llm.attr("llm.cost.total"), Some("11"));
    let system: serde_json::Value =
        serde_json::from_str(llm.attr("gen_ai.system_instructions").expect("system")).unwrap();
    assert_eq!(system, json!([{"type": "text", "content": "Be terse."}]));
    assert_eq!(
        llm.attr("llm.input_messages.0.message.role"),
        Some("system")
    );
    assert_eq!(
        llm.attr("llm.input_messages.0.message.content"),
        Some("Be terse.")
    );
    assert_eq!(llm.attr("llm.input_messages.1.message.role"), Some("user"));
    assert_eq!(
        llm.attr("llm.input_messages.1.message.content"),
        Some("what is ownership?")
    );
    assert_eq!(
        llm.attr("llm.output_messages.0.message.role"),
        Some("assistant")
    );
    assert_eq!(
        llm.attr("llm.output_messages.0.message.content"),
        Some("answer to what is ownership?")
    );
    assert_eq!(llm.attr("input.mime_type"), Some("application/json"));
    let input: serde_json::Value =
        serde_json::from_str(llm.attr("input.value").expect("input.value")).expect("JSON");
    assert_eq!(input[0]["parts"][0]["content"], "what is ownership?");

    let tool = span(&spans, "execute_tool weather");
    assert_eq!(tool.attr("openinference.span.kind"), Some("TOOL"));
    let input: serde_json::Value =
        serde_json::from_str(tool.attr("input.value").expect("input.value")).expect("JSON");
    assert_eq!(
        input["city"], "Lisbon",
        "a string argument stays a JSON string"
    );
    assert_eq!(input["api_key"], "[REDACTED]", "the copy is redacted too");
    assert!(!tool.attr("input.value").unwrap().contains("sk-abc"));
    // With content capture on, the captured result is also `gen_ai.tool.call.result`
    // (JSON), and that is what OpenInference shows.
    let output: serde_json::Value =
        serde_json::from_str(tool.attr("output.value").expect("output.value")).unwrap();
    assert_eq!(
        output, "sunny in Lisbon",
        "a string result stays a JSON string"
    );
    assert_eq!(
        tool.attr("output.value"),
        tool.attr("gen_ai.tool.call.result")
    );
    let args: serde_json::Value =
        serde_json::from_str(tool.attr("gen_ai.tool.call.arguments").expect("arguments")).unwrap();
    assert_eq!(args, json!({"city": "Lisbon", "api_key": "[REDACTED]"}));

    let agent = span(&spans, "invoke_agent coder");
    assert_eq!(agent.attr("openinference.span.kind"), Some("AGENT"));
    assert_eq!(agent.attr("agent.name"), Some("coder"));
    assert_eq!(agent.attr("session.id"), Some("conversation-9"));
    let input: serde_json::Value =
        serde_json::from_str(agent.attr("input.value").expect("A2A message as input")).unwrap();
    assert_eq!(
        input,
        json!([{"role": "user", "parts": [{"type": "text", "content": "write the parser"}]}])
    );
    assert_eq!(
        agent.attr("gen_ai.input.messages"),
        agent.attr("input.value")
    );

    let phase = span(&spans, "agent_phase plan");
    assert_eq!(phase.attr("openinference.span.kind"), Some("CHAIN"));
    assert_eq!(phase.attr("input.value"), Some(r#"{"goal":"\"ship it\""}"#));
}

#[test]
fn off_by_default_nothing_is_added() {
    agent_trace::isolate!();
    let spans = run(false);
    assert_eq!(spans.len(), 4);
    for s in &spans {
        for (k, _) in &s.attributes {
            assert!(
                !(k.starts_with("openinference.")
                    || k.starts_with("llm.")
                    || k.starts_with("input.")
                    || k.starts_with("output.")
                    || k == "session.id"),
                "{}: {k}",
                s.name
            );
        }
    }
}

#[a2a_call(target = "reviewer")]
async fn review() -> Result<serde_json::Value, String> {
    let request = json!({"jsonrpc": "2.0", "id": 2, "method": "SendMessage",
        "params": {"message": {"messageId": "m2", "parts": [{"text": "review it"}]}}});
    agent_trace::a2a::call(&request, async {
        Ok(
            json!({"jsonrpc": "2.0", "id": 2, "result": {"task": {"id": "t2",
            "status": {"state": "TASK_STATE_COMPLETED"}}}}),
        )
    })
    .await
}

#[test]
fn one_agent_per_a2a_call_the_a2a_client_span_is_a_chain() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::builder_for("oi-a2a", &rx.grpc_endpoint(), Protocol::Grpc)
        .openinference(true)
        .install()
        .expect("install");
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(review())
        .expect("answer");
    guard.shutdown().expect("delivered");
    let spans = rx.spans();
    let kind = |name: &str| span(&spans, name).attr("openinference.span.kind");
    assert_eq!(kind("invoke_agent reviewer"), Some("AGENT"));
    assert_eq!(kind("SendMessage"), Some("CHAIN"));
}
