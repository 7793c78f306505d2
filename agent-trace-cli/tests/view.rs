//! `agent-trace view` as a separate process: receives real OTLP over gRPC and HTTP, survives
//! malformed input, draws the tree, and round-trips through its JSON form.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use agent_trace::{agent_phase, traced_tool, Protocol};
use prost::Message as _;

const VIEWER: &str = env!("CARGO_BIN_EXE_agent-trace");

#[traced_tool(name = "lookup")]
fn lookup(fail: bool) -> Result<u8, String> {
    if fail {
        Err("not found".into())
    } else {
        Ok(1)
    }
}

#[agent_phase("answer")]
fn answer(fail: bool) -> u8 {
    lookup(fail).unwrap_or(0)
}

/// Starts the viewer; returns it with its gRPC and HTTP addresses.
fn start_viewer(extra: &[&str]) -> (Child, String, String) {
    let mut child = Command::new(VIEWER)
        .args(["view", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        .args(["--quiet-ms", "200", "--exit-after-secs", "60"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("viewer");
    let mut first = String::new();
    BufReader::new(child.stderr.take().expect("stderr"))
        .read_line(&mut first)
        .expect("banner");
    let addr = |key: &str| {
        first
            .split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {first:?}"))
            .to_string()
    };
    (child, addr("grpc="), addr("http="))
}

fn send_trace(endpoint: &str, protocol: Protocol, fail: bool) {
    let guard = agent_trace::builder()
        .service_name(match protocol {
            Protocol::Grpc => "sender-grpc",
            _ => "sender-http",
        })
        .endpoint(endpoint)
        .protocol(protocol)
        .env(|_| None)
        .install()
        .expect("install");
    answer(fail);
    guard.shutdown().expect("delivered to the viewer");
}

fn output(mut child: Child) -> String {
    let mut s = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut s)
        .expect("read");
    let status = child.wait().expect("wait");
    assert!(status.success(), "viewer exited with {status}");
    s
}

/// Trace ids differ run to run.
fn mask_ids(s: &str) -> String {
    s.lines()
        .map(|l| match l.strip_prefix("trace ") {
            Some(rest) => format!("trace <id>{}", &rest[32.min(rest.len())..]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receives_grpc_and_http_survives_garbage_and_draws_the_tree() {
    let (viewer, grpc, http) = start_viewer(&[
        "--bar-width",
        "0",
        "--mask-durations",
        "--exit-after-traces",
        "2",
    ]);
    let client = reqwest::Client::new();
    let url = format!("http://{http}/v1/traces");
    // Garbage, a truncated protobuf, a wrong content type: errors, and the viewer keeps going.
    let garbage = client
        .post(&url)
        .header("content-type", "application/x-protobuf")
        .body(vec![0xff, 0x00, 0x13, 0x37, 0xde, 0xad])
        .send()
        .await
        .expect("answered");
    assert_eq!(garbage.status(), 400);
    let mut valid = opentelemetry_proto_request();
    valid.truncate(valid.len() / 2);
    let truncated = client
        .post(&url)
        .header("content-type", "application/x-protobuf")
        .body(valid)
        .send()
        .await
        .expect("answered");
    assert_eq!(truncated.status(), 400);
    let wrong_type = client
        .post(&url)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .expect("answered");
    assert_eq!(wrong_type.status(), 415);
    // Plain HTTP/1.1 at the gRPC port: rejected at the protocol level, not a crash.
    let _ = client
        .post(format!(
            "http://{grpc}/opentelemetry.proto.collector.trace.v1.TraceService/Export"
        ))
        .body("not grpc")
        .timeout(Duration::from_secs(5))
        .send()
        .await;

    tokio::task::spawn_blocking(move || {
        send_trace(&format!("http://{grpc}"), Protocol::Grpc, false);
        send_trace(&format!("http://{http}"), Protocol::HttpProtobuf, true);
    })
    .await
    .expect("sender");

    let drawn = mask_ids(&output(viewer));
    assert_eq!(
        drawn,
        "\
trace <id> · 2 spans · 1 service · <dur>
    <dur>  sender-grpc  agent_phase answer [INTERNAL]
    <dur>  sender-grpc  └─ execute_tool lookup [INTERNAL]

trace <id> · 2 spans · 1 service · <dur> · 1 error
    <dur>  sender-http  agent_phase answer [INTERNAL]
    <dur>  sender-http  └─ execute_tool lookup [INTERNAL]  ✗ ERROR: not found
"
    );
}

/// A valid, non-empty OTLP request, encoded.
fn opentelemetry_proto_request() -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: None,
            scope_spans: vec![ScopeSpans {
                scope: None,
                spans: vec![Span {
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    name: "a fairly long span name so that truncation cuts a field".into(),
                    ..Span::default()
                }],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
    .encode_to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_reads_back_with_file() {
    let (viewer, grpc, _http) = start_viewer(&["--json", "--exit-after-traces", "1"]);
    tokio::task::spawn_blocking(move || {
        send_trace(&format!("http://{grpc}"), Protocol::Grpc, true)
    })
    .await
    .expect("sender");
    let json = output(viewer);
    assert_eq!(json.lines().count(), 1, "one trace, one line: {json}");
    let v: serde_json::Value = serde_json::from_str(json.trim()).expect("JSON");
    assert!(v["resourceSpans"].is_array(), "OTLP JSON shape: {v}");

    let dir = std::env::temp_dir().join(format!("agent-trace-view-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("traces.jsonl");
    std::fs::write(&file, &json).expect("write");
    let out = Command::new(VIEWER)
        .args(["view", "--bar-width", "0", "--mask-durations", "--file"])
        .arg(&file)
        .output()
        .expect("viewer --file");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success());
    assert_eq!(
        mask_ids(&String::from_utf8_lossy(&out.stdout)),
        "\
trace <id> · 2 spans · 1 service · <dur> · 1 error
    <dur>  sender-grpc  agent_phase answer [INTERNAL]
    <dur>  sender-grpc  └─ execute_tool lookup [INTERNAL]  ✗ ERROR: not found
"
    );
}

#[test]
fn bad_arguments_and_bad_files_are_clear_errors() {
    let out = Command::new(VIEWER)
        .args(["view", "--grpc", "0.0.0.0:4317"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
    let out = Command::new(VIEWER)
        .args(["view", "--bogus"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    // Options that size memory or clock arithmetic are bounded.
    for (option, value) in [
        ("--bar-width", "18446744073709551615"),
        ("--bar-width", "1001"),
        ("--quiet-ms", "18446744073709551615"),
        ("--exit-after-secs", "18446744073709551615"),
        ("--exit-after-traces", "-1"),
    ] {
        let out = Command::new(VIEWER)
            .args(["view", option, value])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{option} {value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("from 0 to"), "{option} {value}: {err}");
    }
    let dir = std::env::temp_dir().join(format!("agent-trace-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("bad.jsonl");
    std::fs::write(&file, "{not json}\n").expect("write");
    let out = Command::new(VIEWER)
        .args(["view", "--file"])
        .arg(&file)
        .output()
        .expect("run");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.jsonl:1"));
}

/// An agent call whose HTTP client sends no `traceparent` (no `TraceMiddleware`).
#[agent_trace::a2a_call(target = "callee", url = url)]
async fn call_without_middleware(url: &str) -> Result<String, reqwest::Error> {
    reqwest::Client::new().post(url).send().await?.text().await
}

/// The first-hour mistake "the HTTP client has no `TraceMiddleware`" splits a trace in two;
/// the viewer names it and the fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_sends_no_trace_context_is_named() {
    agent_trace::isolate!();
    let (viewer, grpc, _http) = start_viewer(&["--exit-after-traces", "2"]);
    let guard = agent_trace::builder()
        .service_name("caller")
        .endpoint(format!("http://{grpc}"))
        .protocol(Protocol::Grpc)
        .env(|_| None)
        .install()
        .expect("install");
    let app = axum::Router::new()
        .route("/a2a", axum::routing::post(|| async { "done" }))
        .layer(agent_trace::server::TraceLayer::new());
    let addr = agent_trace_tests::serve(app).await;
    let answer = call_without_middleware(&format!("http://{addr}/a2a"))
        .await
        .expect("answer");
    assert_eq!(answer, "done");
    tokio::task::spawn_blocking(move || guard.shutdown().expect("delivered"))
        .await
        .expect("shutdown");
    let out = output(viewer);
    assert!(out.contains("⚠ split trace"), "{out}");
    assert!(out.contains("TraceMiddleware"), "{out}");
}

#[agent_phase("long")]
fn long_run(release: std::sync::mpsc::Receiver<()>) {
    lookup(false).expect("lookup");
    // Bounded: the test releases it as soon as it saw the run in progress.
    let _ = release.recv_timeout(Duration::from_secs(60));
}

/// Reads the viewer's output as blocks (a trace and its notes, ended by a blank line) on a
/// thread, so the test can wait for one with a bound.
fn blocks(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        let mut block = String::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.is_empty() {
                if tx.send(std::mem::take(&mut block)).is_err() {
                    break;
                }
            } else {
                block.push_str(&line);
                block.push('\n');
            }
        }
    });
    rx
}

/// A long run is visible while it runs: with `AGENT_TRACE_PENDING_SPANS` (what the viewer's
/// banner prints), the viewer draws the trace so far with the running span marked, then the
/// whole trace once its root ends, with nothing marked running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_run_is_shown_while_it_runs() {
    agent_trace::isolate!();
    let (mut viewer, _grpc, http) = start_viewer(&[
        "--bar-width",
        "0",
        "--mask-durations",
        "--exit-after-traces",
        "1",
    ]);
    let blocks = blocks(&mut viewer);
    let guard = agent_trace::builder()
        .service_name("sender-long")
        .endpoint(format!("http://{http}"))
        .protocol(Protocol::HttpProtobuf)
        .schedule_delay(Duration::from_millis(100))
        .env(|name| (name == "AGENT_TRACE_PENDING_SPANS").then(|| "true".to_string()))
        .install()
        .expect("install");
    let (release, wait) = std::sync::mpsc::channel();
    let run = std::thread::spawn(move || long_run(wait));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let in_progress = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let block = blocks
            .recv_timeout(left)
            .expect("an in-progress view within 30 s");
        if block.contains("execute_tool lookup") {
            break block;
        }
    };
    assert_eq!(
        mask_ids(&in_progress),
        "\
trace <id> · 2 spans · 1 service · <dur>
    <dur>  sender-long  agent_phase long [INTERNAL]  ⋯ running
    <dur>  sender-long  └─ execute_tool lookup [INTERNAL]
(in progress: 1 running)"
    );
    release.send(()).expect("release");
    run.join().expect("run");
    tokio::task::spawn_blocking(move || guard.shutdown().expect("delivered"))
        .await
        .expect("shutdown");
    let last = blocks
        .recv_timeout(Duration::from_secs(30))
        .expect("the ended trace");
    assert_eq!(
        mask_ids(&last),
        "\
trace <id> · 2 spans · 1 service · <dur>
    <dur>  sender-long  agent_phase long [INTERNAL]
    <dur>  sender-long  └─ execute_tool lookup [INTERNAL]"
    );
    assert!(viewer.wait().expect("wait").success());
}

/// A traced tool run in a task spawned the plain way: its span starts a trace of its own.
#[traced_tool(name = "background_index")]
async fn background_index() -> usize {
    7
}

/// The first-hour mistake "a plain `tokio::spawn` inside a handler" splits the trace; the
/// viewer names the spawn helper, not `TraceLayer` (which is there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_spawn_is_named_as_such() {
    agent_trace::isolate!();
    let (viewer, grpc, _http) = start_viewer(&["--exit-after-traces", "2"]);
    let guard = agent_trace::builder()
        .service_name("agent")
        .endpoint(format!("http://{grpc}"))
        .protocol(Protocol::Grpc)
        .env(|_| None)
        .install()
        .expect("install");
    let handler = || async {
        // The mistake: the task starts with no current span.
        tokio::spawn(background_index()).await.expect("task")
    };
    let app = axum::Router::new()
        .route(
            "/work",
            axum::routing::post(move || async move { handler().await.to_string() }),
        )
        .layer(agent_trace::server::TraceLayer::new());
    let addr = agent_trace_tests::serve(app).await;
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(agent_trace::client::TraceMiddleware::default())
        .build();
    let answer = client
        .post(format!("http://{addr}/work"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("answer");
    assert_eq!(answer, "7");
    tokio::task::spawn_blocking(move || guard.shutdown().expect("delivered"))
        .await
        .expect("shutdown");
    let out = output(viewer);
    assert!(out.contains("agent_trace::task::spawn"), "{out}");
    assert!(!out.contains("TraceLayer on the callee"), "{out}");
    assert_eq!(out.matches("⚠").count(), 1, "{out}");
}

/// The mistake "an MCP call sent with rmcp's own `call_tool`, not `.traced()`": its server
/// span starts a trace of its own; the viewer names `.traced()`, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_call_that_bypassed_traced_is_named() {
    use rmcp::ServiceExt as _;
    agent_trace::isolate!();
    let (viewer, grpc, _http) = start_viewer(&["--exit-after-traces", "2"]);
    let guard = agent_trace::builder()
        .service_name("agent")
        .endpoint(format!("http://{grpc}"))
        .protocol(Protocol::Grpc)
        .env(|_| None)
        .install()
        .expect("install");
    let service: rmcp::transport::streamable_http_server::StreamableHttpService<
        agent_trace::mcp::TracedService<agent_trace_tests::mcp::Tools>,
        rmcp::transport::streamable_http_server::session::local::LocalSessionManager,
    > = rmcp::transport::streamable_http_server::StreamableHttpService::new(
        || {
            Ok(agent_trace::mcp::TracedService::new(
                agent_trace_tests::mcp::Tools::default(),
            ))
        },
        Default::default(),
        Default::default(),
    );
    let app = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(agent_trace::server::TraceLayer::new());
    let addr = agent_trace_tests::serve(app).await;
    let url = format!("http://{addr}/mcp");
    let client = ().serve(agent_trace::mcp::http_transport(url)).await.expect("connect");
    call_untraced(&client).await;
    client.cancel().await.expect("close");
    tokio::task::spawn_blocking(move || guard.shutdown().expect("delivered"))
        .await
        .expect("shutdown");
    let out = output(viewer);
    assert!(out.contains("client.traced()"), "{out}");
    assert!(!out.contains("TraceLayer on the callee"), "{out}");
    assert_eq!(out.matches("⚠").count(), 1, "{out}");
}

/// The agent's step that calls the tool the wrong way.
#[agent_phase("lookup_docs")]
async fn call_untraced(client: &rmcp::service::RunningService<rmcp::RoleClient, ()>) {
    let args = serde_json::json!({"a": 1, "b": 2});
    let serde_json::Value::Object(args) = args else {
        unreachable!()
    };
    client
        .call_tool(rmcp::model::CallToolRequestParams::new("add").with_arguments(args))
        .await
        .expect("add");
}
