//! Metrics arrive over real OTLP (gRPC and HTTP) beside the traces, with the right names,
//! units and attributes.

use agent_trace::testing::receiver::{OtlpReceiver, ReceivedMetric};
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

#[agent_run(name = "planner")]
fn plan() -> u8 {
    let _ = search(false);
    let _ = search(true);
    let _ = ask();
    delegate()
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

    let op = points(&m, "gen_ai.client.operation.duration");
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

    let tokens = points(&m, "gen_ai.client.token.usage");
    assert_eq!(tokens.len(), 2);
    let by_type = |t: &str| {
        tokens
            .iter()
            .find(|p| p.attr("gen_ai.token.type") == Some(t))
            .expect(t)
    };
    assert_eq!(by_type("input").sum, 14.0);
    assert_eq!(by_type("output").sum, 3.0);
    assert!(tokens.iter().all(|p| p.unit == "{token}"));

    let tools = points(&m, "agent_trace.tool.duration");
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

    let agents = points(&m, "agent_trace.agent.duration");
    let names: Vec<_> = agents
        .iter()
        .filter_map(|p| p.attr("gen_ai.agent.name"))
        .collect();
    assert!(
        names.contains(&"coder") && names.contains(&"planner"),
        "{names:?}"
    );
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
        "agent_trace.tool.duration",
        std::time::Duration::from_secs(20),
    );
    assert!(!points(&m, "agent_trace.tool.duration").is_empty());
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
        "agent_trace.tool.duration",
        std::time::Duration::from_secs(20),
    );
    assert!(
        !points(&m, "agent_trace.tool.duration").is_empty(),
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
