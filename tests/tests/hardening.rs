//! Hostile or oversized input over real sockets: forged request ids, a 100 KB HTTP method,
//! a 6 MiB error message among ordinary spans. Nothing may be lost or passed on unchecked.

use std::io::{Read, Write};
use std::time::Duration;

use agent_trace::receiver::OtlpReceiver;
use agent_trace::server::TraceLayer;
use agent_trace::{traced_tool, Protocol};
use agent_trace_tests::init_to;
use axum::routing::any;
use axum::Router;

/// Sends `request` as raw bytes and returns the response head.
fn raw_request(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request).expect("send");
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).to_string()
}

fn attr(s: &agent_trace::receiver::ReceivedSpan, key: &str) -> Option<String> {
    s.attr(key).map(str::to_string)
}

fn response_request_id(head: &str) -> Option<String> {
    head.lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .map(|v| v.trim().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_request_ids_are_replaced_and_long_methods_do_not_name_spans() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = init_to(&rx, "edge", Protocol::Grpc);
    let app = Router::new()
        .route("/a2a", any(|| async { "ok" }))
        .layer(TraceLayer::new());
    let addr = agent_trace_tests::serve(app).await;

    let forged = r#"abc"level=ERROR,msg="forged""#;
    let ok_id = "req-42_a.b:c/d+e@f";
    let too_long = "a".repeat(129);
    let long_method = "M".repeat(100_000);
    let long_id = too_long.clone();
    let heads = tokio::task::spawn_blocking(move || {
        let ask = |id: &str| {
            raw_request(
                addr,
                format!("GET /a2a HTTP/1.1\r\nhost: x\r\nx-request-id: {id}\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            )
        };
        let forged_head = ask(forged);
        let ok_head = ask(ok_id);
        let long_head = ask(&long_id);
        let method_head = raw_request(
            addr,
            format!("{long_method} /a2a HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
        );
        (forged_head, ok_head, long_head, method_head)
    })
    .await
    .unwrap();
    let (forged_head, ok_head, long_head, method_head) = heads;

    let forged_echo = response_request_id(&forged_head).expect("an id is always answered");
    assert!(
        !forged_echo.contains('"') && !forged_echo.contains('='),
        "{forged_echo}"
    );
    assert_eq!(
        forged_echo.len(),
        32,
        "the trace id replaces it: {forged_echo}"
    );
    assert_eq!(response_request_id(&ok_head).as_deref(), Some(ok_id));
    assert_ne!(
        response_request_id(&long_head).as_deref(),
        Some(too_long.as_str())
    );
    assert!(method_head.starts_with("HTTP/1.1"), "{method_head:.80}");

    let stats = guard.shutdown().expect("delivered");
    assert_eq!(stats.ended, stats.exported);
    let spans = rx.spans();
    let ids: Vec<String> = spans
        .iter()
        .filter_map(|s| attr(s, "agent_trace.request.id"))
        .collect();
    assert!(ids.iter().all(|id| !id.contains('"')), "{ids:?}");
    assert!(ids.iter().any(|id| id == ok_id), "{ids:?}");
    // hyper may refuse the 100 KB method itself (431/400); if it reached the layer, the span
    // is named by the `_OTHER` rule and carries at most 64 characters of it.
    for s in &spans {
        assert!(s.name.len() <= 64, "span name of {} bytes", s.name.len());
        if attr(s, "http.request.method").as_deref() == Some("_OTHER") {
            assert_eq!(s.name, "HTTP /a2a");
            let original = attr(s, "http.request.method_original").expect("original kept");
            assert!(original.chars().count() <= 65, "{}", original.len());
        }
    }
}

#[traced_tool]
fn fails_hugely() -> Result<(), String> {
    Err("E".repeat(6 << 20))
}

#[traced_tool]
fn ordinary(i: usize) -> usize {
    i
}

#[test]
fn a_six_mib_error_message_costs_no_span_of_its_batch() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = init_to(&rx, "huge-error", Protocol::Grpc);
    for i in 0..10 {
        ordinary(i);
    }
    assert!(fails_hugely().is_err());
    for i in 0..10 {
        ordinary(i);
    }
    let stats = guard.shutdown().expect("all delivered");
    assert_eq!((stats.ended, stats.exported, stats.failed), (21, 21, 0));
    let spans = rx.spans();
    assert_eq!(spans.len(), 21);
    let failed = spans
        .iter()
        .find(|s| s.name == "execute_tool fails_hugely")
        .expect("the failing span arrived");
    let limit = 8192; // the default attribute value limit
    assert_eq!(failed.status_message.chars().count(), limit);
    let events = format!("{:?}", failed.events);
    assert!(
        events.len() < 3 * limit,
        "event message cut too: {}",
        events.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receiver_keeps_a_bounded_number_of_request_headers() {
    agent_trace::isolate!();
    use agent_trace::receiver::MAX_KEPT_HEADERS;
    let rx = OtlpReceiver::start().expect("receiver");
    let url = format!("{}/v1/traces", rx.http_endpoint());
    let client = reqwest::Client::new();
    // An empty protobuf body is a valid, empty ExportTraceServiceRequest.
    let send = |n: usize| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            for i in 0..n {
                let resp = client
                    .post(&url)
                    .header("content-type", "application/x-protobuf")
                    .header("x-n", i.to_string())
                    .body(Vec::new())
                    .send()
                    .await
                    .expect("send");
                assert!(resp.status().is_success(), "{}", resp.status());
            }
        }
    };
    send(MAX_KEPT_HEADERS + 200).await;
    let kept = rx.request_headers();
    assert_eq!(kept.len(), MAX_KEPT_HEADERS);
    let last = kept.last().unwrap();
    let n = last
        .iter()
        .find(|(k, _)| k == "x-n")
        .map(|(_, v)| v.as_str());
    assert_eq!(n, Some("1199"), "the latest are kept");
    // Count-only mode (the viewer's, the benchmarks'): nothing more is kept.
    rx.count_only();
    send(300).await;
    assert_eq!(rx.request_headers().len(), MAX_KEPT_HEADERS);
}

#[derive(Debug)]
#[allow(dead_code)] // read through Debug
struct LlmConfig {
    model: &'static str,
    api_key: &'static str,
}

#[traced_tool(capture(config, ssn), fields(user.password = "hunter2", user.name = "ada"))]
fn call_model(config: &LlmConfig, ssn: &str) -> Result<(), String> {
    let _ = (config, ssn);
    Err("upstream said 401 for Authorization: Bearer abcdefghij0123456789".to_string())
}

#[test]
fn secrets_passed_to_a_traced_tool_never_reach_the_wire() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let endpoint = rx.http_endpoint();
    let guard = agent_trace::builder()
        .service_name("redacting")
        .install_subscriber(false)
        .metrics(false)
        .redact_pattern(r"\b\d{3}-\d{2}-\d{4}\b")
        .env(move |name| match name {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(endpoint.clone()),
            "AGENT_TRACE_REDACT_KEYS" => Some("ssn".into()),
            _ => None,
        })
        .install()
        .expect("install");
    let config = LlmConfig {
        model: "gpt-4o",
        api_key: "sk-proj-abcdefghijklmnopqrstuvwx",
    };
    assert!(call_model(&config, "123-45-6789").is_err());
    guard.shutdown().expect("delivered");
    let spans = rx.spans();
    assert_eq!(spans.len(), 1);
    let wire = format!("{:?}", spans[0]);
    for secret in [
        "sk-proj-abcdefghijklmnopqrstuvwx",
        "hunter2",
        "123-45-6789",
        "abcdefghij0123456789",
    ] {
        assert!(!wire.contains(secret), "{secret} reached the wire: {wire}");
    }
    assert!(wire.contains("[REDACTED]"), "{wire}");
    // What is not secret is kept.
    assert_eq!(spans[0].attr("user.name"), Some("ada"));
    assert!(spans[0]
        .attr("agent_trace.arg.config")
        .unwrap()
        .contains("gpt-4o"));
    assert!(
        spans[0].status_message.starts_with("upstream said 401"),
        "{wire}"
    );
}

#[test]
fn an_invalid_redaction_pattern_is_a_named_error() {
    agent_trace::isolate!();
    let e = agent_trace::builder()
        .service_name("bad-pattern")
        .env(|name| (name == "AGENT_TRACE_REDACT_PATTERN").then(|| "(unclosed".to_string()))
        .install()
        .unwrap_err();
    assert_eq!(e.variable(), Some("AGENT_TRACE_REDACT_PATTERN"), "{e}");
}
