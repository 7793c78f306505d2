//! The trace of a crash arrives: a real child process (`tests/crash-child`) built with
//! `panic = "abort"` panics inside a traced tool, or is sent SIGTERM, and the test receiver
//! counts what reached it. Loopback only; the child is stopped by its PID.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agent_trace::receiver::{Behavior, OtlpReceiver};

/// Builds the child with `panic = "abort"` into a target directory of its own (so it never
/// waits for the lock of the build running these tests) and returns its path.
fn crash_child() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf();
    let target = workspace.join("target").join("panic-abort");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&workspace)
        .args([
            "build",
            "--quiet",
            "--offline",
            "-p",
            "agent-trace-crash-child",
            "--config",
            "profile.dev.panic=\"abort\"",
        ])
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("run cargo");
    assert!(status.success(), "building the crash child failed");
    target.join("debug").join("agent-trace-crash-child")
}

fn child(rx: &OtlpReceiver, mode: &str) -> Command {
    let mut c = Command::new(crash_child());
    c.arg(mode)
        .env_clear()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rx.http_endpoint())
        .env("OTEL_METRICS_EXPORTER", "none")
        .env("RUST_LOG", "off")
        .stdin(Stdio::null());
    c
}

#[test]
fn under_panic_abort_the_queued_spans_and_the_panicking_ones_arrive() {
    let rx = OtlpReceiver::start().expect("receiver");
    let out = child(&rx, "abort")
        // The spans stay queued until something flushes: only the panic hook can.
        .env("OTEL_BSP_SCHEDULE_DELAY", "600000")
        .output()
        .expect("run the child");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child aborted: {}", out.status);
    assert!(
        stderr.contains("the tool failed hard"),
        "the application's own panic hook still ran after ours: {stderr}"
    );
    let spans = rx.wait_for_spans(152, Duration::from_secs(10));
    let count = |name: &str| spans.iter().filter(|s| s.name == name).count();
    assert_eq!(
        count("execute_tool work"),
        150,
        "every span ended before the panic"
    );
    let tool = spans
        .iter()
        .find(|s| s.name == "execute_tool explode")
        .expect("the panicking tool's span");
    let phase = spans
        .iter()
        .find(|s| s.name == "agent_phase crash")
        .expect("the phase around it");
    for s in [tool, phase] {
        assert_eq!(s.attr("error.type"), Some("panic"), "{s:?}");
    }
    assert_eq!(tool.attr("tool.success"), Some("false"));
    assert_eq!(tool.parent_span_id.as_deref(), Some(phase.span_id.as_str()));
    assert_eq!(spans.len(), 152);
}

/// Runs the child in `mode` (it panics while an integration's span is open) and returns the
/// spans that reached the receiver once `expected` of them arrived (or 10 s passed).
fn crash_in(mode: &str, expected: usize) -> Vec<agent_trace::receiver::ReceivedSpan> {
    let rx = OtlpReceiver::start().expect("receiver");
    let out = child(&rx, mode)
        .env("OTEL_BSP_SCHEDULE_DELAY", "600000")
        .output()
        .expect("run the child");
    assert!(
        !out.status.success(),
        "{mode}: the child aborted: {}",
        out.status
    );
    let spans = rx.wait_for_spans(expected, Duration::from_secs(10));
    // A span that never ended would never be exported: its children would point at a parent
    // nobody received. Every parent is here, and there is one trace.
    for s in &spans {
        if let Some(parent) = &s.parent_span_id {
            assert!(
                spans.iter().any(|p| &p.span_id == parent),
                "{mode}: {} has a parent that never arrived (it never ended): {spans:#?}",
                s.name
            );
        }
    }
    let traces: std::collections::BTreeSet<_> = spans.iter().map(|s| &s.trace_id).collect();
    let roots = spans.iter().filter(|s| s.parent_span_id.is_none()).count();
    assert_eq!(
        (traces.len(), roots),
        (1, 1),
        "{mode}: one trace: {spans:#?}"
    );
    spans
}

/// The spans named `name`: at least one, and the first says `error.type=panic` when
/// `panicked`, else has no error.
fn check(spans: &[agent_trace::receiver::ReceivedSpan], name: &str, panicked: bool) {
    let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
    assert!(!found.is_empty(), "no span {name:?}: {spans:#?}");
    let error = found[0].attr("error.type");
    match panicked {
        true => assert_eq!(error, Some("panic"), "{name}: {:#?}", found[0]),
        false => assert!(
            found.iter().all(|s| s.attr("error.type").is_none()),
            "{name}"
        ),
    }
}

#[test]
fn under_panic_abort_a_traced_stream_that_panics_arrives_ended() {
    let spans = crash_in("stream", 4);
    check(&spans, "invoke_agent writer", true);
    check(&spans, "chat stand-in", true);
    check(&spans, "execute_tool step", false);
    assert_eq!(spans.len(), 4, "{spans:#?}");
}

#[test]
fn under_panic_abort_the_http_server_span_arrives_ended() {
    let spans = crash_in("http", 4);
    check(&spans, "POST /work", true);
    check(&spans, "execute_tool step", false);
    // The caller's spans were open too, on another task: ended as the process aborted.
    check(&spans, "invoke_agent worker", true);
    check(&spans, "POST", true);
    assert_eq!(spans.len(), 4, "{spans:#?}");
}

#[test]
fn under_panic_abort_an_a2a_stream_server_span_arrives_ended() {
    let spans = crash_in("a2a-server", 7);
    let servers: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "SendStreamingMessage" && s.kind == "SERVER")
        .collect();
    assert_eq!(servers.len(), 1, "{spans:#?}");
    assert_eq!(servers[0].attr("error.type"), Some("panic"));
    assert_eq!(
        servers[0].status_message, "the writer failed while streaming",
        "the span the panic ran in has its message"
    );
    check(&spans, "POST /a2a", false);
    check(&spans, "invoke_agent writer", true);
    assert_eq!(spans.len(), 7, "{spans:#?}");
}

#[test]
fn under_panic_abort_an_a2a_stream_client_span_arrives_ended() {
    let spans = crash_in("a2a-client", 6);
    let client = spans
        .iter()
        .find(|s| s.name == "SendStreamingMessage" && s.kind == "CLIENT")
        .expect("the client's A2A span");
    assert_eq!(client.attr("error.type"), Some("panic"), "{client:#?}");
    check(&spans, "invoke_agent writer", true);
    check(&spans, "POST /a2a", false);
    assert!(spans.len() >= 6, "{spans:#?}");
}

#[test]
fn under_panic_abort_an_envelope_consumer_span_arrives_ended() {
    let spans = crash_in("envelope", 4);
    check(&spans, "process tasks", true);
    check(&spans, "send tasks", false);
    check(&spans, "execute_tool step", false);
    assert_eq!(spans.len(), 4, "{spans:#?}");
}

#[test]
fn under_panic_abort_an_mcp_server_span_arrives_ended() {
    let spans = crash_in("mcp", 4);
    let server = spans
        .iter()
        .find(|s| s.name == "tools/call explode" && s.kind == "SERVER")
        .expect("the MCP server span");
    assert_eq!(server.attr("error.type"), Some("panic"), "{server:#?}");
    check(&spans, "execute_tool step", false);
    check(&spans, "invoke_agent mcp-caller", true);
    assert_eq!(spans.len(), 4, "{spans:#?}");
}

#[test]
fn sigterm_with_shutdown_signal_delivers_every_span() {
    let rx = OtlpReceiver::start().expect("receiver");
    let mut c = child(&rx, "sigterm")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the child");
    // Wait for "ready": its 600 spans have ended, most of them still queued.
    let mut stdout = c.stdout.take().expect("stdout");
    let mut seen = String::new();
    let started = Instant::now();
    while !seen.contains("ready") && started.elapsed() < Duration::from_secs(30) {
        let mut buf = [0u8; 256];
        match std::io::Read::read(&mut stdout, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    assert!(seen.contains("ready"), "the child got ready: {seen:?}");
    let killed = Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = c.wait().expect("the child ends");
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut stdout, &mut rest);
    assert!(
        status.success(),
        "the child shut down cleanly: {status} {rest}"
    );
    assert!(rest.contains("delivered 600 of 600"), "{rest}");
    let spans = rx.wait_for_spans(600, Duration::from_secs(10));
    assert_eq!(spans.len(), 600);
}

#[test]
fn the_panic_flush_is_bounded_by_panic_flush_timeout_when_the_collector_never_answers() {
    let rx = OtlpReceiver::start().expect("receiver");
    rx.set_behavior(Behavior::Hang);
    let started = Instant::now();
    let mut c = child(&rx, "abort")
        // Nothing is sent before the panic; an export waits up to a minute for an answer, so
        // only the panic hook's bound can end the wait.
        .envs([
            ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "60000"),
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn the child");
    // Bounded: a child still running after 40 s is killed (by its PID) and the test fails.
    let status = loop {
        if let Some(status) = c.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(40) {
            let _ = c.kill();
            let _ = c.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let status = status.expect("the child exited by itself, within 40 s");
    assert!(!status.success(), "the child aborted: {status}");
    // The bound plus the child's start-up and its 150 spans; far below the export timeout.
    let limit = agent_trace::PANIC_FLUSH_TIMEOUT + Duration::from_secs(15);
    assert!(took < limit, "exited after {took:?}, over {limit:?}");
    assert!(
        rx.requests() >= 1,
        "the flush reached the (hanging) collector"
    );
}

/// The child's stdout and stderr after running `mode` with WARN logs on.
fn warnings_of(mode: &str) -> String {
    let rx = OtlpReceiver::start().expect("receiver");
    let out = child(&rx, mode)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the child");
    assert!(out.status.success(), "{mode}: {}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn a_guard_dropped_right_after_init_is_named_with_the_fix() {
    let out = warnings_of("guard-dropped");
    assert!(out.contains("traced 42"), "{out}");
    assert!(
        out.contains("TraceGuard was dropped before any span ended")
            && out.contains("let _guard = agent_trace::init(..)?;"),
        "{out}"
    );
}

#[test]
fn a_panic_hook_replaced_after_init_is_named_at_the_next_flush() {
    let out = warnings_of("hook-replaced");
    assert!(
        out.contains("panic hook that agent_trace::init installed was replaced")
            && out.contains("Install other panic hooks before calling init"),
        "{out}"
    );
    // Said once, although the guard's shutdown looks again.
    assert_eq!(out.matches("was replaced").count(), 1, "{out}");
    // Nothing replaced, nothing said.
    assert!(!warnings_of("guard-dropped").contains("was replaced"));
}

/// A `Debug` that panics, as some do on bad state.
struct Bad;
impl std::fmt::Debug for Bad {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("Bad's Debug panicked")
    }
}

#[agent_trace::traced_tool(capture(arg))]
fn takes(arg: &Bad) -> u32 {
    let _ = arg;
    7
}

static HOOK_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[test]
fn a_panic_contained_while_formatting_never_reaches_the_applications_hook() {
    agent_trace::isolate!();
    use std::sync::atomic::Ordering;
    // The application's hook (an error reporter, say), installed before init.
    std::panic::set_hook(Box::new(|_| {
        HOOK_CALLS.fetch_add(1, Ordering::SeqCst);
    }));
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "formatting", agent_trace::Protocol::HttpProtobuf);
    assert_eq!(takes(&Bad), 7, "the call is unaffected");
    assert_eq!(
        HOOK_CALLS.load(Ordering::SeqCst),
        0,
        "the contained panic stayed silent"
    );
    // A panic of the application's own still reaches its hook, once.
    let caught = std::panic::catch_unwind(|| panic!("the application's own"));
    assert!(caught.is_err());
    assert_eq!(HOOK_CALLS.load(Ordering::SeqCst), 1);
    guard.shutdown().expect("delivered");
    let spans = rx.spans();
    let span = spans
        .iter()
        .find(|s| s.name == "execute_tool takes")
        .expect("span");
    assert!(span
        .attr("agent_trace.arg.arg")
        .is_some_and(|v| v.contains("unprintable")));
}
