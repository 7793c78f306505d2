//! The trace of a crash arrives: a real child process (`tests/crash-child`) built with
//! `panic = "abort"` panics inside a traced tool, or is sent SIGTERM, and the test receiver
//! counts what reached it. Loopback only; the child is stopped by its PID.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agent_trace::testing::receiver::OtlpReceiver;

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
