//! The conformance check (`agent_trace_tests::semconv`) over what the demo does not do:
//! failures of every kind, streamed model calls, cache and reasoning tokens, nested
//! in-process agents, a JSON-RPC error on both A2A sides, exported over real OTLP.

use std::time::Duration;

use agent_trace::receiver::OtlpReceiver;
use agent_trace::{a2a_call, agent_phase, agent_run, llm_call, traced_tool, Protocol};
use agent_trace_tests::semconv::{self, Severity};
use futures_util::StreamExt as _;
use serde_json::{json, Value};

#[llm_call(model = "gpt-4o-mini", provider = "openai")]
fn ask() -> Result<Value, std::io::Error> {
    Ok(
        json!({"id": "chatcmpl-9", "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 14, "completion_tokens": 3,
                  "prompt_tokens_details": {"cached_tokens": 8},
                  "completion_tokens_details": {"reasoning_tokens": 2}}}),
    )
}

#[llm_call(model = "gpt-4o-mini", provider = "openai")]
fn overloaded() -> Result<Value, String> {
    Err("overloaded".into())
}

#[llm_call(model = "gpt-4o-mini", provider = "openai")]
fn stream_tokens() -> impl futures_util::Stream<Item = Result<String, String>> {
    futures_util::stream::iter([Ok("a".to_string()), Err("cut".to_string())])
}

#[traced_tool(name = "search", capture(query), capture_result)]
fn search(query: &str) -> Result<Vec<String>, String> {
    match query.is_empty() {
        true => Err("empty query".into()),
        false => Ok(vec![format!("hit for {query}")]),
    }
}

#[traced_tool(name = "slow")]
async fn slow() -> u8 {
    tokio::time::sleep(Duration::from_secs(5)).await;
    1
}

#[agent_run(name = "critic")]
fn critique() -> u8 {
    let _ = search("");
    2
}

#[a2a_call(target = "tracker")]
async fn get_task() -> Result<Value, String> {
    let request = json!({"jsonrpc": "2.0", "id": 4, "method": "GetTask",
                         "params": {"id": "task-77"}});
    agent_trace::a2a::call(&request, async {
        Ok::<_, String>(
            agent_trace::a2a::serve(&request, async {
                json!({"jsonrpc": "2.0", "id": 4,
                       "error": {"code": -32001, "message": "Task not found"}})
            })
            .await,
        )
    })
    .await
}

#[agent_run(name = "planner")]
#[agent_phase("edges")]
async fn edges() {
    let _ = ask();
    let _ = overloaded();
    let _ = stream_tokens().collect::<Vec<_>>().await;
    let _ = search("rust");
    let _ = critique();
    let _ = tokio::time::timeout(Duration::from_millis(10), slow()).await;
    let _ = get_task().await;
}

#[test]
fn failures_streams_and_nesting_follow_the_registry() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::builder_for("edges", &rx.grpc_endpoint(), Protocol::Grpc)
        .capture_message_content(true)
        .install()
        .expect("install");
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
        .block_on(edges());
    guard.shutdown().expect("delivered");

    let reg = semconv::load(&[]);
    let mut report = semconv::check_spans(&reg, &rx.take_requests());
    semconv::check_metrics(&reg, &rx.metrics(), &mut report);
    println!("{}", report.render());
    for ty in [
        "gen_ai.client.inference",
        "gen_ai.execute_tool.internal",
        "gen_ai.invocation.internal",
        "gen_ai.invoke_agent.client",
        "a2a.client",
        "a2a.server",
    ] {
        assert!(
            report.span_types.contains_key(ty),
            "{ty}: {:?}",
            report.span_types
        );
    }
    for metric in [
        "gen_ai.client.inference.duration",
        "gen_ai.client.inference.usage.input_tokens",
        "gen_ai.execute_tool.duration",
        "gen_ai.invocation.duration",
        "gen_ai.client.operation.duration",
    ] {
        assert!(
            report.metrics.contains_key(metric),
            "{metric}: {:?}",
            report.metrics
        );
    }
    assert_eq!(report.count(Severity::Violation), 0, "{}", report.render());
}
