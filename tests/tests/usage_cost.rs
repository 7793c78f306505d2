//! What an agent run cost, over the real OTLP wire: each `invoke_agent` span carries the
//! summed usage and cost of the model calls that agent made itself (a sub-agent's count
//! against the sub-agent), each model call its own cost at the installed prices, a model
//! without a price no cost at all (and its agent none either), and the agent metrics
//! `gen_ai.invoke_agent.inference_calls` and `.tool_calls` count each call once.

use agent_trace::receiver::{OtlpReceiver, ReceivedMetric, ReceivedSpan};
use agent_trace::{agent_run, llm_call, traced_tool, ModelPrice, Prices, Protocol};
use serde_json::{json, Value};

/// 100 input tokens (40 of them read from the cache), 10 output.
#[llm_call(model = "m-small", provider = "openai")]
fn ask() -> Result<Value, std::io::Error> {
    Ok(json!({
        "model": "m-small-2026",
        "choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10,
                  "prompt_tokens_details": {"cached_tokens": 40}}
    }))
}

#[llm_call(model = "m-unknown", provider = "openai")]
fn ask_unpriced() -> Result<Value, std::io::Error> {
    Ok(json!({"usage": {"prompt_tokens": 7, "completion_tokens": 1}}))
}

#[llm_call(model = "m-small", provider = "openai")]
fn ask_fails() -> Result<Value, std::io::Error> {
    Err(std::io::Error::other("overloaded"))
}

#[traced_tool]
fn lookup() -> u8 {
    1
}

#[agent_run(name = "helper")]
fn helper() -> u8 {
    let _ = ask();
    lookup()
}

#[agent_run(name = "lead")]
fn lead() -> u8 {
    let _ = ask();
    let _ = ask();
    let _ = ask_fails();
    lookup() + helper()
}

#[agent_run(name = "mixed")]
fn mixed() -> u8 {
    let _ = ask();
    let _ = ask_unpriced();
    0
}

/// $1 per million plain input tokens, $0.25 per million cached, $4 per million output.
fn prices() -> Prices {
    Prices::new().with_model(
        "m-small",
        ModelPrice::per_token(1e-6, 4e-6).with_cache(0.25e-6, 1.25e-6),
    )
}

/// One call of `ask`: 60 plain + 40 cached input tokens, 10 output.
const ONE_CALL: f64 = 60.0 * 1e-6 + 40.0 * 0.25e-6 + 10.0 * 4e-6;

fn attr_f64(s: &ReceivedSpan, key: &str) -> Option<f64> {
    s.attr(key).map(|v| v.parse().expect("a number"))
}

fn agent<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    spans
        .iter()
        .find(|s| s.name == format!("invoke_agent {name}"))
        .unwrap_or_else(|| panic!("no agent {name}: {spans:#?}"))
}

fn calls(metrics: &[ReceivedMetric], metric: &str, agent: &str) -> (u64, f64) {
    let points: Vec<_> = metrics
        .iter()
        .filter(|m| m.name == metric && m.attr("gen_ai.agent.name") == Some(agent))
        .collect();
    assert_eq!(points.len(), 1, "{metric} for {agent}: {metrics:#?}");
    (points[0].count, points[0].sum)
}

#[test]
fn agents_carry_the_usage_and_cost_of_their_own_calls() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard =
        agent_trace_tests::builder_for("cost-test", &rx.http_endpoint(), Protocol::HttpProtobuf)
            .prices(prices())
            .install()
            .expect("install");
    lead();
    mixed();
    guard.shutdown().expect("delivered");
    let spans = rx.wait_for_spans(11, std::time::Duration::from_secs(10));
    assert_eq!(spans.len(), 11, "{spans:#?}");

    // Each priced model call: its cost.
    let chat: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "chat m-small" && s.attr("gen_ai.usage.input_tokens").is_some())
        .collect();
    assert_eq!(chat.len(), 4);
    for c in &chat {
        let cost = attr_f64(c, "agent_trace.usage.cost").expect("a cost");
        assert!((cost - ONE_CALL).abs() < 1e-12, "{cost} != {ONE_CALL}");
    }
    // The failed call: no usage, no cost.
    let failed = spans
        .iter()
        .find(|s| s.name == "chat m-small" && s.attr("error.type").is_some())
        .expect("the failed call");
    assert_eq!(failed.attr("agent_trace.usage.cost"), None);

    // The lead: its two successful calls, not the helper's.
    let lead = agent(&spans, "lead");
    assert_eq!(lead.attr("gen_ai.usage.input_tokens"), Some("200"));
    assert_eq!(lead.attr("gen_ai.usage.output_tokens"), Some("20"));
    assert_eq!(
        lead.attr("gen_ai.usage.cache_read.input_tokens"),
        Some("80")
    );
    let cost = attr_f64(lead, "agent_trace.usage.cost").expect("the lead's cost");
    assert!((cost - 2.0 * ONE_CALL).abs() < 1e-12, "{cost}");
    let helper = agent(&spans, "helper");
    assert_eq!(helper.attr("gen_ai.usage.input_tokens"), Some("100"));
    let cost = attr_f64(helper, "agent_trace.usage.cost").expect("the helper's cost");
    assert!((cost - ONE_CALL).abs() < 1e-12, "{cost}");

    // An unpriced model: no cost on it, none on its agent (never a partial sum); its tokens
    // still count.
    let unpriced = spans
        .iter()
        .find(|s| s.name == "chat m-unknown")
        .expect("span");
    assert_eq!(unpriced.attr("agent_trace.usage.cost"), None);
    let mixed = agent(&spans, "mixed");
    assert_eq!(mixed.attr("agent_trace.usage.cost"), None);
    assert_eq!(mixed.attr("gen_ai.usage.input_tokens"), Some("107"));

    // The agent metrics: each call once, against the agent that made it; the failed call
    // counts too.
    let metrics = rx.metrics();
    let inference = "gen_ai.invoke_agent.inference_calls";
    let tools = "gen_ai.invoke_agent.tool_calls";
    assert_eq!(calls(&metrics, inference, "lead"), (1, 3.0));
    assert_eq!(calls(&metrics, inference, "helper"), (1, 1.0));
    assert_eq!(calls(&metrics, inference, "mixed"), (1, 2.0));
    assert_eq!(calls(&metrics, tools, "lead"), (1, 1.0));
    assert_eq!(calls(&metrics, tools, "helper"), (1, 1.0));
    let reg = agent_trace_tests::semconv::load(&[]);
    let mut report = agent_trace_tests::semconv::Report::default();
    agent_trace_tests::semconv::check_metrics(&reg, &metrics, &mut report);
    assert_eq!(
        report.count(agent_trace_tests::semconv::Severity::Violation),
        0,
        "{}",
        report.render()
    );
}

#[test]
fn a_prices_file_in_litellms_format_is_read_or_named_when_bad() {
    agent_trace::isolate!();
    let dir = std::env::temp_dir().join(format!("agent-trace-prices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let good = dir.join("prices.json");
    std::fs::write(
        &good,
        r#"{"m-small": {"input_cost_per_token": 1e-6, "output_cost_per_token": 4e-6}}"#,
    )
    .expect("write");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{not json").expect("write");
    let install = |path: &std::path::Path| {
        let path = path.to_string_lossy().into_owned();
        agent_trace::builder()
            .service_name("prices")
            .env(move |name| (name == "AGENT_TRACE_PRICES").then(|| path.clone()))
            .install_subscriber(false)
            .install()
    };
    let err = install(&bad).expect_err("a bad file is an error");
    let text = err.to_string();
    assert!(
        text.contains("AGENT_TRACE_PRICES") && text.contains("LiteLLM"),
        "{text}"
    );
    let err = install(&dir.join("missing.json")).expect_err("a missing file is an error");
    assert!(err.to_string().contains("readable"), "{err}");
    let guard = install(&good).expect("a good file");
    drop(guard);
    let _ = std::fs::remove_dir_all(&dir);
}
