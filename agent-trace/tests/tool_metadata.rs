//! What a tool says about itself and what a model is offered: `gen_ai.tool.type`,
//! `gen_ai.tool.description` (the option, else the doc comment's first paragraph), and
//! `gen_ai.tool.definitions` (only with content capture on).

use agent_trace::testing::Capture;
use agent_trace::{llm_call, traced_tool};

/// Looks a word up in
/// the dictionary.
///
/// This second paragraph is not part of the description.
#[traced_tool]
fn define(word: &str) -> usize {
    word.len()
}

/// This doc comment is not used: the option wins.
#[traced_tool(description = "Adds two numbers")]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

#[traced_tool]
fn undocumented() {}

#[llm_call(model = "stand-in", tools = tools)]
fn chat_with(tools: &serde_json::Value) -> String {
    format!("{} tools", tools.as_array().map_or(0, Vec::len))
}

fn definitions() -> serde_json::Value {
    serde_json::json!([{
        "type": "function",
        "name": "define",
        "description": "Looks a word up in the dictionary.",
        "parameters": {"type": "object", "properties": {"word": {"type": "string"}}}
    }])
}

#[test]
fn tools_have_a_type_and_their_doc_comment_as_description() {
    let cap = Capture::start();
    cap.in_scope(|| (define("word"), add(1, 2), undocumented()));
    let spans = cap.spans();
    let attr = |i: usize, k: &str| spans[i].attr(k);
    for i in 0..3 {
        assert_eq!(attr(i, "gen_ai.tool.type").as_deref(), Some("function"));
    }
    assert_eq!(
        attr(0, "gen_ai.tool.description").as_deref(),
        Some("Looks a word up in the dictionary.")
    );
    assert_eq!(
        attr(1, "gen_ai.tool.description").as_deref(),
        Some("Adds two numbers")
    );
    assert_eq!(attr(2, "gen_ai.tool.description"), None);
}

#[test]
fn tool_definitions_only_with_content_capture() {
    agent_trace::isolate!();
    let cap = Capture::start();
    cap.in_scope(|| chat_with(&definitions()));
    assert_eq!(
        cap.spans()[0].attr("gen_ai.tool.definitions"),
        None,
        "off by default"
    );
    let _guard = agent_trace::builder()
        .service_name("tools")
        .capture_message_content(true)
        .env(|_| None)
        .install()
        .expect("install");
    let cap = Capture::start();
    cap.in_scope(|| chat_with(&definitions()));
    let recorded: serde_json::Value = serde_json::from_str(
        &cap.spans()[0]
            .attr("gen_ai.tool.definitions")
            .expect("recorded"),
    )
    .expect("JSON");
    assert_eq!(recorded, definitions());
}

#[traced_tool(fields(app.limit = limit, app.big = big, app.low = low))]
fn bounded(limit: Option<u32>, big: u64, low: i128) -> u64 {
    big
}

#[test]
fn field_values_keep_their_sign_type_and_absence() {
    use agent_trace::opentelemetry::Value;
    let cap = Capture::start();
    cap.in_scope(|| bounded(None, u64::MAX, i128::MIN));
    cap.in_scope(|| bounded(Some(3), 5, -5));
    let spans = cap.spans();
    assert_eq!(spans.len(), 2);
    let attr = |i: usize, key: &str| {
        spans[i]
            .attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    // `None` is no attribute (not an empty string); out-of-range integers are their
    // decimal text, never clamped or flipped in sign.
    assert_eq!(attr(0, "app.limit"), None);
    assert_eq!(
        attr(0, "app.big"),
        Some(Value::String(u64::MAX.to_string().into()))
    );
    assert_eq!(
        attr(0, "app.low"),
        Some(Value::String(i128::MIN.to_string().into()))
    );
    assert_eq!(attr(1, "app.limit"), Some(Value::I64(3)));
    assert_eq!(attr(1, "app.big"), Some(Value::I64(5)));
    assert_eq!(attr(1, "app.low"), Some(Value::I64(-5)));
}
