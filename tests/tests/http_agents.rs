//! Three real axum agents on 127.0.0.1 calling each other with reqwest (A -> B -> C): one
//! trace, correct parents and kinds, as received over OTLP.

use std::time::Duration;

use agent_trace::client::TraceMiddleware;
use agent_trace::receiver::{OtlpReceiver, ReceivedSpan};
use agent_trace::server::{RequestId, TraceLayer};
use agent_trace::{a2a_call, traced_tool, Protocol};
use axum::routing::post;
use axum::{Extension, Router};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};

fn client() -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new())
        .with(TraceMiddleware::default())
        .build()
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[traced_tool(name = "word_count")]
fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Agent C: runs a tool.
async fn agent_c(Extension(id): Extension<RequestId>, body: String) -> String {
    tracing::info!(request_id = %id, "agent C running a tool");
    word_count(&body).to_string()
}

#[a2a_call(target = "agent-c", url = format!("{c_url}/tools/run"))]
async fn ask_c(c_url: &str, text: String) -> Result<String, reqwest_middleware::Error> {
    Ok(client()
        .post(format!("{c_url}/tools/run"))
        .body(text)
        .send()
        .await?
        .text()
        .await?)
}

#[a2a_call(target = "agent-b", url = format!("{b_url}/a2a/tasks"))]
async fn ask_b(b_url: &str, text: &str) -> Result<(String, String), reqwest_middleware::Error> {
    let resp = client()
        .post(format!("{b_url}/a2a/tasks"))
        .body(text.to_string())
        .send()
        .await?;
    let id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    Ok((resp.text().await?, id))
}

fn span<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no {name} in {:#?}", names(spans)))
}

fn names(spans: &[ReceivedSpan]) -> Vec<(&str, &str)> {
    spans.iter().map(|s| (s.name.as_str(), s.kind)).collect()
}

fn child_of(child: &ReceivedSpan, parent: &ReceivedSpan) {
    assert_eq!(
        child.parent_span_id.as_deref(),
        Some(parent.span_id.as_str()),
        "{} should be a child of {}",
        child.name,
        parent.name
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_to_b_to_c_is_one_trace() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "agents", Protocol::Grpc);

    let c_url = serve(
        Router::new()
            .route("/tools/run", post(agent_c))
            .layer(TraceLayer::new()),
    )
    .await;
    let c_for_b = c_url.clone();
    let b_url = serve(
        Router::new()
            .route(
                "/a2a/tasks",
                post(move |body: String| {
                    let c = c_for_b.clone();
                    async move { ask_c(&c, body).await.unwrap_or_else(|e| e.to_string()) }
                }),
            )
            .layer(TraceLayer::new()),
    )
    .await;

    let (answer, request_id) = ask_b(&b_url, "one trace across three agents")
        .await
        .expect("call");
    assert_eq!(answer, "5");

    let stats = guard.shutdown().expect("delivered");
    let spans = rx.spans();
    assert_eq!(stats.exported as usize, spans.len());
    assert_eq!(spans.len(), 7, "{:#?}", names(&spans));

    let a2a_b = span(&spans, "invoke_agent agent-b");
    let server_b = span(&spans, "POST /a2a/tasks");
    let a2a_c = span(&spans, "invoke_agent agent-c");
    let server_c = span(&spans, "POST /tools/run");
    let tool = span(&spans, "execute_tool word_count");
    let clients: Vec<_> = spans.iter().filter(|s| s.name == "POST").collect();
    assert_eq!(clients.len(), 2);
    let (client_b, client_c) = if clients[0].parent_span_id.as_deref() == Some(&a2a_b.span_id) {
        (clients[0], clients[1])
    } else {
        (clients[1], clients[0])
    };

    let trace = &a2a_b.trace_id;
    assert!(spans.iter().all(|s| &s.trace_id == trace), "one trace id");
    assert_eq!(a2a_b.parent_span_id, None);
    child_of(client_b, a2a_b);
    child_of(server_b, client_b);
    child_of(a2a_c, server_b);
    child_of(client_c, a2a_c);
    child_of(server_c, client_c);
    child_of(tool, server_c);

    for (s, kind) in [
        (a2a_b, "CLIENT"),
        (client_b, "CLIENT"),
        (server_b, "SERVER"),
        (a2a_c, "CLIENT"),
        (client_c, "CLIENT"),
        (server_c, "SERVER"),
        (tool, "INTERNAL"),
    ] {
        assert_eq!(s.kind, kind, "{}", s.name);
    }
    assert_eq!(server_b.attr("http.route"), Some("/a2a/tasks"));
    assert_eq!(server_b.attr("http.response.status_code"), Some("200"));
    assert_eq!(client_c.attr("server.address"), Some("127.0.0.1"));
    // What the response says about the connection: the peer and the HTTP version.
    assert_eq!(client_c.attr("network.peer.address"), Some("127.0.0.1"));
    assert_eq!(
        client_c.attr("network.peer.port"),
        client_c.attr("server.port")
    );
    assert_eq!(client_c.attr("network.protocol.version"), Some("1.1"));
    assert_eq!(
        request_id, *trace,
        "with no X-Request-ID, the request id is the trace id"
    );
    assert_eq!(
        server_b.attr("agent_trace.request.id"),
        Some(trace.as_str())
    );
}

#[tokio::test]
async fn plain_inject_makes_the_server_a_child_of_the_a2a_span() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "plain", Protocol::HttpProtobuf);
    let url = serve(
        Router::new()
            .route("/a2a", post(|| async { "ok" }))
            .layer(TraceLayer::new()),
    )
    .await;

    #[a2a_call(target = "plain")]
    async fn call(url: &str) -> Result<String, reqwest::Error> {
        let mut headers = http::HeaderMap::new();
        agent_trace::carriers::http::inject(&mut headers);
        reqwest::Client::new()
            .post(format!("{url}/a2a"))
            .headers(headers)
            .header("x-request-id", "req-123")
            .send()
            .await?
            .text()
            .await
    }
    call(&url).await.expect("call");
    guard.shutdown().expect("delivered");
    let spans = rx.spans();
    let a2a = span(&spans, "invoke_agent plain");
    let server = span(&spans, "POST /a2a");
    child_of(server, a2a);
    assert_eq!(
        server.attr("agent_trace.request.id"),
        Some("req-123"),
        "X-Request-ID wins"
    );
}

#[tokio::test]
async fn server_errors_and_client_errors_are_marked() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "errors", Protocol::Grpc);
    let url = serve(
        Router::new()
            .route(
                "/boom",
                post(|| async { (http::StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
            )
            .layer(TraceLayer::new().with_response_traceparent(true)),
    )
    .await;
    let resp = client()
        .post(format!("{url}/boom"))
        .send()
        .await
        .expect("response");
    assert_eq!(resp.status(), 500);
    let traceparent = resp
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .expect("traceparent on the response");
    // Nothing listens on port 9 (discard) on loopback: a connection error.
    let err = client()
        .get("http://127.0.0.1:9/")
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(err.is_err());
    guard.shutdown().expect("delivered");
    let spans = rx.spans();
    let server = span(&spans, "POST /boom");
    assert_eq!(server.status_code, 2);
    assert_eq!(server.status_message, "HTTP 500 Internal Server Error");
    assert!(traceparent.contains(&server.span_id), "{traceparent}");
    let client_span = spans
        .iter()
        .find(|s| s.kind == "CLIENT" && s.attr("http.response.status_code") == Some("500"))
        .expect("client span");
    assert_eq!(client_span.status_code, 2);
    let failed = spans
        .iter()
        .find(|s| s.name == "GET")
        .expect("failed request span");
    assert_eq!(failed.attr("error.type"), Some("connect"));
    assert_eq!(failed.status_code, 2);
}

/// Readiness probes make no span by default; a custom list replaces the default, and an
/// empty one traces every request.
#[tokio::test]
async fn probes_are_left_out_and_the_list_is_configurable() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "probes", Protocol::Grpc);
    let app = || {
        Router::new()
            .route("/healthz", axum::routing::get(|| async { "ok" }))
            .route("/work", post(|| async { "done" }))
    };
    let default = serve(app().layer(TraceLayer::new())).await;
    let custom = serve(app().layer(TraceLayer::new().skip_paths(["/work"]))).await;
    let all = serve(app().layer(TraceLayer::new().skip_paths(Vec::<String>::new()))).await;
    let http = reqwest::Client::new();
    for base in [&default, &custom, &all] {
        for _ in 0..3 {
            let probe = http
                .get(format!("{base}/healthz"))
                .send()
                .await
                .expect("probe");
            assert_eq!(probe.status(), 200, "a skipped path is still served");
        }
        let work = http
            .post(format!("{base}/work"))
            .send()
            .await
            .expect("work");
        assert_eq!(work.status(), 200);
    }
    guard.shutdown().expect("delivered");
    let spans = rx.spans();
    let count = |name: &str| spans.iter().filter(|s| s.name == name).count();
    // default: 0 probes + 1 work; custom: 3 probes + 0 work; all: 3 probes + 1 work.
    assert_eq!(count("GET /healthz"), 6, "{:?}", names(&spans));
    assert_eq!(count("POST /work"), 2, "{:?}", names(&spans));
}
