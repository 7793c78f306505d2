//! Configuration from environment variables, checked on the wire. The per-variable parsing
//! (every variable, every invalid value) is unit-tested in `agent-trace/src/config.rs`; these
//! tests check that a real `init` acts on the values. Tests that set the process environment
//! rely on nextest running each test in its own process.

use std::collections::HashMap;
use std::time::Duration;

use agent_trace::receiver::OtlpReceiver;
use agent_trace::traced_tool;

#[traced_tool]
fn step(text: &str) -> usize {
    text.len()
}

fn env_of(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn process_environment_is_read_by_init() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    // Safe: nextest runs this test alone in its process.
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", rx.http_endpoint());
    std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    std::env::set_var("OTEL_RESOURCE_ATTRIBUTES", "team=agents,region=local%20lab");
    std::env::set_var("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20t0k");
    std::env::set_var("OTEL_BSP_SCHEDULE_DELAY", "10");
    let guard = agent_trace::init("from-env").expect("init");
    step("abc");
    guard.shutdown().expect("delivered");
    let spans = rx.spans();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].transport, "http");
    assert_eq!(spans[0].service, "from-env");
    assert_eq!(spans[0].resource_attr("team"), Some("agents"));
    assert_eq!(spans[0].resource_attr("region"), Some("local lab"));
    assert!(rx.request_headers()[0].contains(&("authorization".into(), "Bearer t0k".into())));
}

#[test]
fn invalid_process_variable_is_a_named_init_error() {
    agent_trace::isolate!();
    std::env::set_var("OTEL_TRACES_SAMPLER", "sometimes");
    let err = agent_trace::init("bad").expect_err("rejected");
    assert_eq!(err.variable(), Some("OTEL_TRACES_SAMPLER"));
    let msg = err.to_string();
    assert!(
        msg.contains("parentbased_always_on"),
        "lists what is accepted: {msg}"
    );
    assert!(!agent_trace::is_enabled());
}

#[test]
fn sdk_disabled_wins_over_an_endpoint() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    for var in ["OTEL_SDK_DISABLED", "OTEL_ENABLED"] {
        let value = if var == "OTEL_SDK_DISABLED" {
            "true"
        } else {
            "false"
        };
        let guard = agent_trace::builder()
            .service_name("off")
            .env(env_of(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", rx.grpc_endpoint()),
                (var, value.into()),
            ]))
            .install()
            .expect("install");
        assert!(!agent_trace::is_enabled(), "{var}={value}");
        step("x");
        drop(guard);
    }
    assert_eq!(rx.requests(), 0, "no connection was made");
}

#[test]
fn sampler_always_off_exports_nothing_and_ratio_zero_too() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace::builder()
        .service_name("sampled-out")
        .env(env_of(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", rx.grpc_endpoint()),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc".into()),
            ("OTEL_SAMPLING_RATE", "0".into()),
        ]))
        .install()
        .expect("install");
    for _ in 0..10 {
        step("x");
    }
    let s = guard.shutdown().expect("nothing to deliver");
    assert_eq!(s.ended, 0, "unsampled spans never reach the pipeline");
    assert!(rx.spans().is_empty());
}

#[test]
fn attribute_value_limit_cuts_values_on_the_wire() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace::builder()
        .service_name("limits")
        .env(env_of(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", rx.grpc_endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "10".into()),
        ]))
        .install()
        .expect("install");
    #[traced_tool(fields(prompt = prompt))]
    fn big(prompt: &str) -> usize {
        prompt.len()
    }
    let ten_mb = "p".repeat(10 * 1024 * 1024);
    assert_eq!(big(&ten_mb), ten_mb.len());
    guard.shutdown().expect("delivered");
    let spans = rx.spans();
    assert_eq!(spans[0].attr("prompt").map(str::len), Some(10));
}

#[test]
fn queue_size_from_env_bounds_memory_and_counts_drops() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    rx.set_behavior(agent_trace::receiver::Behavior::Hang);
    let guard = agent_trace::builder()
        .service_name("queue")
        .env(env_of(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", rx.grpc_endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "60000".into()),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "5".into()),
            ("OTEL_BSP_SCHEDULE_DELAY", "10".into()),
        ]))
        .install()
        .expect("install");
    for _ in 0..5 {
        step("x");
    }
    // One full batch is now stuck in flight at the hanging collector; the queue is empty.
    assert_eq!(rx.wait_for_requests(1, Duration::from_secs(20)), 1);
    for _ in 0..12 {
        step("x");
    }
    let live = agent_trace::export_stats();
    assert_eq!(
        (live.ended, live.dropped_queue_full, live.pending),
        (17, 7, 10),
        "5 in flight + 5 queued; the other 7 dropped, not waited for"
    );
    let err = guard
        .shutdown_with_timeout(Duration::from_millis(300))
        .expect_err("nothing delivered");
    let agent_trace::ShutdownError::Incomplete(s) = err else {
        panic!("unexpected error kind: {err}")
    };
    assert_eq!(s.exported + s.dropped() + s.pending, s.ended);
}

#[test]
fn propagators_from_env_choose_the_headers() {
    agent_trace::isolate!();
    let _guard = agent_trace::builder()
        .service_name("props")
        .env(env_of(&[("OTEL_PROPAGATORS", "b3multi,jaeger".into())]))
        .install()
        .expect("install");
    let mut incoming = http::HeaderMap::new();
    incoming.insert(
        "uber-trace-id",
        "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1"
            .parse()
            .expect("header"),
    );
    let cx = agent_trace::carriers::http::extract(&incoming);
    let mut out = http::HeaderMap::new();
    agent_trace::carriers::http::inject_context(&cx, &mut out);
    assert_eq!(out["x-b3-traceid"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(out["x-b3-spanid"], "00f067aa0ba902b7");
    assert!(
        out.get("traceparent").is_none(),
        "tracecontext was not selected"
    );
}

#[test]
fn console_exporter_from_env_counts_as_exported() {
    agent_trace::isolate!();
    let guard = agent_trace::builder()
        .service_name("console")
        .env(env_of(&[("OTEL_TRACES_EXPORTER", "console".into())]))
        .install()
        .expect("install");
    step("abc");
    let s = guard
        .shutdown_with_timeout(Duration::from_secs(10))
        .expect("printed");
    assert_eq!(s.exported, 1);
}
