//! With tracing off, an incoming traceparent still passes through to outgoing calls, over real
//! HTTP on loopback, so one un-configured agent does not cut a trace in two.

use agent_trace::carriers::http::{extract, inject};
use agent_trace::{a2a_call, traced_tool};
use axum::routing::get;

const INCOMING: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Installs agent-trace with nothing configured: tracing off, context passed through.
fn tracing_off(service: &str) -> agent_trace::TraceGuard {
    let guard = agent_trace::builder()
        .service_name(service)
        .install_subscriber(false)
        .env(|_| None)
        .install()
        .expect("install");
    assert!(!agent_trace::is_enabled());
    guard
}

/// A reqwest client behind agent-trace's middleware, as an agent calls the next one.
fn traced_client() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(agent_trace::client::TraceMiddleware::default())
        .build()
}

/// The next agent: answers with the traceparent it received.
async fn echo_server() -> String {
    let app = axum::Router::new().route(
        "/echo",
        get(|headers: http::HeaderMap| async move {
            let get = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none")
                    .to_string()
            };
            // The traceparent alone when no tracestate came, as the older tests expect.
            match get("tracestate").as_str() {
                "none" => get("traceparent"),
                state => format!("{}|{state}", get("traceparent")),
            }
        }),
    );
    format!("http://{}/echo", agent_trace_tests::serve(app).await)
}

#[traced_tool]
fn prepare() -> u32 {
    1
}

#[a2a_call(target = "echo")]
async fn call_next(url: &str) -> Result<String, reqwest::Error> {
    prepare();
    let mut headers = http::HeaderMap::new();
    inject(&mut headers);
    reqwest::Client::new()
        .get(url)
        .headers(headers)
        .send()
        .await?
        .text()
        .await
}

#[tokio::test]
async fn incoming_trace_id_reaches_the_next_agent_when_disabled() {
    agent_trace::isolate!();
    let _guard = tracing_off("middle");
    let url = echo_server().await;

    let mut incoming = http::HeaderMap::new();
    incoming.insert("traceparent", INCOMING.parse().expect("header"));
    let cx = extract(&incoming);
    let _attached = cx.attach();
    assert_eq!(
        agent_trace::current_trace_id().as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736"),
        "log lines carry the incoming trace id even while tracing is off"
    );
    let forwarded = call_next(&url).await.expect("call");
    assert_eq!(
        forwarded, INCOMING,
        "same trace id and parent, forwarded as is"
    );
}

#[tokio::test]
async fn invalid_incoming_header_starts_nothing_and_sends_nothing() {
    agent_trace::isolate!();
    let _guard = tracing_off("middle");
    let url = echo_server().await;
    let mut incoming = http::HeaderMap::new();
    incoming.insert(
        "traceparent",
        "00-zzzz-00f067aa0ba902b7-01".parse().expect("header"),
    );
    let _attached = extract(&incoming).attach();
    assert_eq!(agent_trace::current_trace_id(), None);
    assert_eq!(call_next(&url).await.expect("call"), "none");
}

#[tokio::test]
async fn tracestate_and_level2_flags_pass_through_unmodified_when_disabled() {
    agent_trace::isolate!();
    use agent_trace::server::TraceLayer;
    let _guard = tracing_off("middle");
    let echo = echo_server().await;
    // The middle agent, built as users build one: TraceLayer in, TraceMiddleware out.
    let middle = axum::Router::new()
        .route(
            "/forward",
            get(move || {
                let echo = echo.clone();
                async move {
                    traced_client()
                        .get(&echo)
                        .send()
                        .await
                        .expect("call")
                        .text()
                        .await
                        .expect("body")
                }
            }),
        )
        .layer(TraceLayer::new());
    let addr = agent_trace_tests::serve(middle).await;

    // Random and not sampled (Level 2), and members whose keys the SDK's TraceState rejects.
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02";
    let tracestate = format!("foo@bar@baz=1,t@{}=2,congo=t61rcWkgMzE", "v".repeat(15));
    let got = reqwest::Client::new()
        .get(format!("http://{addr}/forward"))
        .header("traceparent", traceparent)
        .header("tracestate", &tracestate)
        .send()
        .await
        .expect("call")
        .text()
        .await
        .expect("body");
    assert_eq!(got, format!("{traceparent}|{tracestate}"));
}

/// Two services with tracing off (the default), A calling B over real HTTP: a request that
/// came with no trace context still gets ids at A, and B's log lines carry the same trace id
/// and request id.
#[tokio::test]
async fn untraced_services_share_one_trace_id_and_request_id() {
    agent_trace::isolate!();
    use agent_trace::carriers::http::RequestId;
    use agent_trace::server::TraceLayer;
    let _guard = tracing_off("untraced");
    // B answers with the trace id and request id its handler (and so its logs) see.
    let b = axum::Router::new()
        .route(
            "/b",
            get(|| async {
                format!(
                    "{}|{}",
                    agent_trace::current_trace_id().unwrap_or_default(),
                    RequestId::current()
                        .map(|r| r.to_string())
                        .unwrap_or_default()
                )
            }),
        )
        .layer(TraceLayer::new());
    let b_url = format!("http://{}/b", agent_trace_tests::serve(b).await);
    // A: records what it sees, then calls B.
    let a = axum::Router::new()
        .route(
            "/a",
            get(move || {
                let b_url = b_url.clone();
                async move {
                    let mine = format!(
                        "{}|{}",
                        agent_trace::current_trace_id().unwrap_or_default(),
                        RequestId::current()
                            .map(|r| r.to_string())
                            .unwrap_or_default()
                    );
                    let theirs = traced_client()
                        .get(&b_url)
                        .send()
                        .await
                        .expect("call B")
                        .text()
                        .await
                        .expect("body");
                    format!("{mine}\n{theirs}")
                }
            }),
        )
        .layer(TraceLayer::new());
    let a_addr = agent_trace_tests::serve(a).await;

    let body = reqwest::get(format!("http://{a_addr}/a"))
        .await
        .expect("call A")
        .text()
        .await
        .expect("body");
    let (at_a, at_b) = body.split_once('\n').expect("two lines");
    let (trace_a, id_a) = at_a.split_once('|').unwrap();
    assert_eq!(
        trace_a.len(),
        32,
        "A got a trace id with tracing off: {body}"
    );
    assert!(trace_a.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(at_a, at_b, "B sees A's trace id and request id: {body}");
    assert_eq!(
        id_a, trace_a,
        "the request id is the trace id when none was sent"
    );
    // Two requests get two different trace ids.
    let again = reqwest::get(format!("http://{a_addr}/a"))
        .await
        .expect("call A")
        .text()
        .await
        .expect("body");
    assert_ne!(again.split('|').next(), Some(trace_a));
}
