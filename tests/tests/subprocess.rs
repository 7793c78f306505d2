//! A real child process continues the parent's trace through TRACEPARENT, and its log lines
//! carry the trace id that its exported spans have.

use std::process::{Command, Output};

use agent_trace::carriers::env::CommandExt as _;
use agent_trace::receiver::OtlpReceiver;
use agent_trace::{agent_phase, Protocol};

const CHILD: &str = env!("CARGO_BIN_EXE_child_agent");

fn child(rx: &OtlpReceiver, extra: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(CHILD);
    cmd.env_clear()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rx.grpc_endpoint())
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_BSP_SCHEDULE_DELAY", "10")
        .env("RUST_LOG", "info");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd
}

#[agent_phase("spawn_helper")]
fn spawn_helper(rx: &OtlpReceiver, json: bool) -> Output {
    let mut cmd = child(rx, &[]);
    if json {
        cmd.env("AGENT_TRACE_LOG_FORMAT", "json");
    }
    cmd.with_trace_context().output().expect("spawn child")
}

fn run(json: bool) -> (OtlpReceiver, Output) {
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "parent-agent", Protocol::Grpc);
    let out = spawn_helper(&rx, json);
    guard.shutdown().expect("delivered");
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (rx, out)
}

#[test]
fn child_root_span_is_a_child_of_the_spawning_span() {
    agent_trace::isolate!();
    let (rx, out) = run(false);
    let spans = rx.spans();
    let phase = spans
        .iter()
        .find(|s| s.name == "agent_phase spawn_helper")
        .expect("parent span");
    let step = spans
        .iter()
        .find(|s| s.name == "execute_tool child_step")
        .expect("child span");
    assert_eq!(step.service, "child-agent");
    assert_eq!(phase.service, "parent-agent");
    assert_eq!(step.trace_id, phase.trace_id);
    assert_eq!(step.parent_span_id.as_deref(), Some(phase.span_id.as_str()));

    // The child's log line carries the same ids as its exported span.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("child working"))
        .unwrap_or_else(|| panic!("no log line in {stderr}"));
    assert!(
        line.contains(&format!("trace_id={}", step.trace_id)),
        "{line}"
    );
    assert!(
        line.contains(&format!("span_id={}", step.span_id)),
        "{line}"
    );
}

#[test]
fn json_log_lines_carry_the_trace_id() {
    agent_trace::isolate!();
    let (rx, out) = run(true);
    let step = rx
        .spans()
        .into_iter()
        .find(|s| s.name == "execute_tool child_step")
        .expect("child span");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("child working"))
        .unwrap_or_else(|| panic!("no log line in {stderr}"));
    let v: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
    assert_eq!(v["trace_id"], step.trace_id.as_str());
    assert_eq!(v["span_id"], step.span_id.as_str());
    assert_eq!(v["level"], "INFO");
    assert_eq!(v["input"], "from the parent");
    // agent-trace's own span is listed under `spans`, like a `tracing` span would be.
    assert_eq!(v["spans"][0]["name"], "execute_tool child_step", "{line}");
    assert_eq!(v["spans"][0]["span_id"], step.span_id.as_str(), "{line}");
}

#[test]
fn garbage_traceparent_is_ignored_and_the_child_starts_a_new_trace() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    for garbage in [
        "garbage",
        "00-00000000000000000000000000000000-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra-stuff-that-is-too-long",
    ] {
        let out = child(&rx, &[("TRACEPARENT", garbage), ("TRACESTATE", "=,=,=")])
            .output()
            .expect("spawn");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let spans = rx.spans();
    assert_eq!(spans.len(), 3);
    assert!(
        spans.iter().all(|s| s.parent_span_id.is_none()),
        "new roots"
    );
}

#[test]
fn env_vars_for_children_are_uppercase_and_replace_stale_ones() {
    agent_trace::isolate!();
    let _guard = agent_trace::builder()
        .service_name("vars")
        .env(|_| None)
        .install()
        .expect("install");
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .expect("header"),
    );
    let _cx = agent_trace::carriers::http::extract(&headers).attach();
    let vars = agent_trace::carriers::env::current_vars();
    assert_eq!(
        vars,
        vec![(
            "TRACEPARENT".to_string(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string()
        )]
    );
    // A stale TRACEPARENT inherited from this process is replaced, not passed on.
    let out = Command::new("sh")
        .args(["-c", "echo $TRACEPARENT"])
        .env("TRACEPARENT", "00-stale")
        .with_trace_context()
        .output()
        .expect("sh");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
}

/// `init` says what it did, and names the fix of a misspelled variable: with
/// `OTEL_TRACE_EXPORTER=console` (the real one is `OTEL_TRACES_EXPORTER`) and nothing else,
/// tracing is off, the line says which variable turns it on, and a warning suggests the
/// right name.
#[test]
fn init_states_its_outcome_and_names_misspelled_variables() {
    let out = Command::new(CHILD)
        .env_clear()
        .env("OTEL_TRACE_EXPORTER", "console")
        .env("OTEL_LOGS_EXPORTER", "otlp") // read: no warning; without an endpoint, no logs
        .output()
        .expect("run the child");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("tracing is off for child-agent"), "{text}");
    assert!(text.contains("set OTEL_EXPORTER_OTLP_ENDPOINT"), "{text}");
    assert!(
        text.contains("OTEL_TRACE_EXPORTER is set, but agent-trace does not read it: did you mean OTEL_TRACES_EXPORTER?"),
        "{text}"
    );
    assert!(!text.contains("OTEL_LOGS_EXPORTER is set"), "{text}");

    let rx = OtlpReceiver::start().expect("receiver");
    let out = child(&rx, &[]).output().expect("run the child");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "tracing is on for child-agent: spans to OTLP to {}",
        rx.grpc_endpoint()
    );
    assert!(text.contains(&expected), "{expected} in {text}");
    assert!(text.contains("sampler parentbased_always_on"), "{text}");
    assert!(!text.contains("does not read it"), "{text}");
}
