//! Metrics arrive over real OTLP (gRPC and HTTP) beside the traces, with the right names,
//! units and attributes.

use agent_trace::receiver::{OtlpReceiver, ReceivedMetric};
use agent_trace::{a2a_call, agent_run, llm_call, traced_tool, Protocol};
use serde_json::{json, Value};

#[llm_call(model = "gpt-4o-mini", provider = "openai")]
fn ask() -> Result<Value, std::io::Error> {
    Ok(json!({
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 14, "completion_tokens": 3}
    }))
}

#[traced_tool(name = "search")]
fn search(fail: bool) -> Result<(), String> {
    if fail {
        Err("down".into())
    } else {
        Ok(())
    }
}

#[a2a_call(target = "coder")]
fn delegate() -> u8 {
    1
}

#[agent_run(name = "critic")]
fn critique() -> u8 {
    2
}

#[agent_run(name = "planner")]
fn plan() -> u8 {
    let _ = search(false);
    let _ = search(true);
    let _ = ask();
    critique() + delegate()
}

/// Names, instruments, units and attributes as the registry defines them: no violation.
fn conforms(m: &[ReceivedMetric]) {
    let reg = agent_trace_tests::semconv::load(&[]);
    let mut report = agent_trace_tests::semconv::Report::default();
    agent_trace_tests::semconv::check_metrics(&reg, m, &mut report);
    assert_eq!(
        report.count(agent_trace_tests::semconv::Severity::Violation),
        0,
        "{}",
        report.render()
    );
}

fn points<'a>(m: &'a [ReceivedMetric], name: &str) -> Vec<&'a ReceivedMetric> {
    m.iter().filter(|p| p.name == name).collect()
}

fn check(protocol: Protocol) {
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "metrics-test", protocol);
    plan();
    guard.shutdown().expect("delivered");
    let m = rx.metrics();

    conforms(&m);

    let op = points(&m, "gen_ai.client.inference.duration");
    assert_eq!(op.len(), 1, "{m:#?}");
    assert_eq!(
        (op[0].unit.as_str(), op[0].kind, op[0].count),
        ("s", "histogram", 1)
    );
    assert_eq!(op[0].service, "metrics-test");
    assert_eq!(op[0].attr("gen_ai.operation.name"), Some("chat"));
    assert_eq!(op[0].attr("gen_ai.request.model"), Some("gpt-4o-mini"));
    assert_eq!(op[0].attr("gen_ai.provider.name"), Some("openai"));
    assert_eq!(
        op[0].attr("gen_ai.response.model"),
        Some("gpt-4o-mini-2024-07-18")
    );

    for (name, sum) in [
        ("gen_ai.client.inference.usage.input_tokens", 14.0),
        ("gen_ai.client.inference.usage.output_tokens", 3.0),
    ] {
        let tokens = points(&m, name);
        assert_eq!(tokens.len(), 1, "{name}: {tokens:#?}");
        assert_eq!((tokens[0].kind, tokens[0].sum), ("sum", sum), "{name}");
        assert_eq!(tokens[0].unit, "{token}");
        assert_eq!(tokens[0].attr("gen_ai.token.modality"), Some("unknown"));
        assert_eq!(tokens[0].attr("gen_ai.request.model"), Some("gpt-4o-mini"));
    }

    let tools = points(&m, "gen_ai.execute_tool.duration");
    assert_eq!(
        tools.len(),
        2,
        "success and error are separate series: {tools:#?}"
    );
    assert!(tools
        .iter()
        .all(|p| p.attr("gen_ai.tool.name") == Some("search") && p.count == 1));
    assert_eq!(
        tools
            .iter()
            .filter(|p| p.attr("error.type") == Some("alloc::string::String"))
            .count(),
        1
    );

    // In process: gen_ai.invocation.duration, the inner agent nested in the outer one.
    let runs = points(&m, "gen_ai.invocation.duration");
    let nested = |agent: &str| {
        runs.iter()
            .find(|p| p.attr("gen_ai.agent.name") == Some(agent))
            .and_then(|p| p.attr("gen_ai.invocation.is_nested"))
            .unwrap_or_else(|| panic!("{agent}: {runs:#?}"))
    };
    assert_eq!((nested("planner"), nested("critic")), ("false", "true"));
    // A remote agent: gen_ai.client.operation.duration (not an inference).
    let remote = points(&m, "gen_ai.client.operation.duration");
    assert_eq!(remote.len(), 1, "{m:#?}");
    assert_eq!(remote[0].attr("gen_ai.agent.name"), Some("coder"));
    assert_eq!(
        remote[0].attr("gen_ai.operation.name"),
        Some("invoke_agent")
    );
    assert_eq!(remote[0].attr("gen_ai.provider.name"), Some("a2a"));
}

#[test]
fn metrics_over_grpc() {
    agent_trace::isolate!();
    check(Protocol::Grpc);
}

#[test]
fn metrics_over_http() {
    agent_trace::isolate!();
    check(Protocol::HttpProtobuf);
}

/// A streamed chat: five chunks, the last with usage (OpenAI's `include_usage`).
#[llm_call(model = "gpt-4o-mini", provider = "openai")]
async fn ask_streaming() -> Result<impl futures_util::Stream<Item = Value>, std::io::Error> {
    let chunk = |content: &str, finish: Value| {
        json!({"id": "chatcmpl-1", "model": "gpt-4o-mini-2024-07-18",
               "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]})
    };
    let chunks = vec![
        chunk("a", Value::Null),
        chunk("b", Value::Null),
        chunk("c", Value::Null),
        chunk("", json!("stop")),
        json!({"id": "chatcmpl-1", "model": "gpt-4o-mini-2024-07-18", "choices": [],
               "usage": {"prompt_tokens": 20, "completion_tokens": 4}}),
    ];
    use futures_util::StreamExt as _;
    Ok(futures_util::stream::iter(chunks).then(|c| async move {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        c
    }))
}

#[test]
fn streamed_model_calls_measure_chunks_and_usage() {
    agent_trace::isolate!();
    use futures_util::StreamExt as _;
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "stream-metrics", Protocol::HttpProtobuf);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let chunks = rt.block_on(async { ask_streaming().await.unwrap().count().await });
    assert_eq!(chunks, 5);
    guard.shutdown().expect("delivered");
    let m = rx.metrics();
    conforms(&m);
    // One time to the first chunk, one time between chunks for each of the other four.
    let first = points(&m, "gen_ai.client.inference.time_to_first_chunk");
    assert_eq!(first.len(), 1, "{m:#?}");
    assert_eq!((first[0].unit.as_str(), first[0].count), ("s", 1));
    assert_eq!(first[0].attr("gen_ai.provider.name"), Some("openai"));
    let per = points(&m, "gen_ai.client.inference.time_per_output_chunk");
    assert_eq!(per.len(), 1, "{m:#?}");
    assert_eq!((per[0].unit.as_str(), per[0].count), ("s", 4));
    assert!(
        per[0].sum >= 4.0 * 0.005,
        "each gap is at least the 5 ms sleep"
    );
    // The usage read from the last chunk goes into the token counters, and the duration
    // covers the whole stream.
    for (name, sum) in [
        ("gen_ai.client.inference.usage.input_tokens", 20.0),
        ("gen_ai.client.inference.usage.output_tokens", 4.0),
    ] {
        let tokens = points(&m, name);
        assert_eq!(
            (tokens.len(), tokens[0].sum),
            (1, sum),
            "{name}: {tokens:#?}"
        );
        assert_eq!(
            tokens[0].attr("gen_ai.response.model"),
            Some("gpt-4o-mini-2024-07-18")
        );
    }
    let duration = points(&m, "gen_ai.client.inference.duration");
    assert!(duration[0].sum >= 5.0 * 0.005, "{duration:#?}");
    let spans = rx.spans();
    let chat = spans.iter().find(|s| s.name == "chat gpt-4o-mini").unwrap();
    assert_eq!(chat.attr("gen_ai.usage.output_tokens"), Some("4"));
}

#[test]
fn metrics_can_be_turned_off_and_are_off_with_tracing_off() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::builder_for("no-metrics", &rx.grpc_endpoint(), Protocol::Grpc)
        .metrics(false)
        .install()
        .expect("install");
    plan();
    guard.shutdown().expect("delivered");
    assert!(!rx.spans().is_empty());
    assert!(rx.metrics().is_empty());

    let _off = agent_trace::builder()
        .service_name("off")
        .env(|_| None)
        .install()
        .expect("install");
    plan();
    assert!(rx.metrics().is_empty());
}

#[test]
fn periodic_export_without_shutdown() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let _guard = agent_trace_tests::builder_for("periodic", &rx.grpc_endpoint(), Protocol::Grpc)
        .metrics_interval(std::time::Duration::from_millis(100))
        .install()
        .expect("install");
    let _ = search(false);
    let m = rx.wait_for_metric(
        "gen_ai.execute_tool.duration",
        std::time::Duration::from_secs(20),
    );
    assert!(!points(&m, "gen_ai.execute_tool.duration").is_empty());
}

/// CPU ticks (1/100 s) this process has used, user and system.
fn process_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0)
}

#[test]
fn a_zero_metric_interval_does_not_spin_while_idle() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard =
        agent_trace_tests::builder_for("idle-metrics", &rx.http_endpoint(), Protocol::HttpProtobuf)
            .metrics_interval(std::time::Duration::ZERO)
            .install()
            .expect("install");
    let _ = search(false);
    let m = rx.wait_for_metric(
        "gen_ai.execute_tool.duration",
        std::time::Duration::from_secs(20),
    );
    assert!(
        !points(&m, "gen_ai.execute_tool.duration").is_empty(),
        "metrics still flow"
    );
    let before = process_cpu_ticks();
    std::thread::sleep(std::time::Duration::from_secs(1));
    let used = process_cpu_ticks() - before;
    // A spinning reader burns most of a core (~50-100 ticks in this second); exporting every
    // 100 ms costs a few.
    assert!(
        used < 30,
        "the idle process used {used} ticks in one second"
    );
    drop(guard);
}
