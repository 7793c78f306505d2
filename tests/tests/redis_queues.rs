//! A real redis-server: pub/sub and list queues keep one trace from producer to consumer;
//! old and malformed messages still deliver their payload.

use std::time::Duration;

use agent_trace::carriers::redis::{consume_item, consume_message, publish, push};
use agent_trace::receiver::{OtlpReceiver, ReceivedSpan};
use agent_trace::{agent_phase, traced_tool, Protocol};
use agent_trace_tests::RedisServer;
use futures_util::StreamExt as _;
use serde_json::{json, Value};

#[traced_tool(name = "handle_event")]
fn handle_event(v: &Value) -> Result<String, String> {
    v["task"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "no task".to_string())
}

fn find<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    spans.iter().find(|s| s.name == name).unwrap_or_else(|| {
        panic!(
            "no {name} in {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    })
}

fn assert_chain(spans: &[ReceivedSpan], phase: &str, dest: &str) {
    let phase = find(spans, phase);
    let send = find(spans, &format!("send {dest}"));
    let process = find(spans, &format!("process {dest}"));
    let tool = find(spans, "execute_tool handle_event");
    assert_eq!(send.kind, "PRODUCER");
    assert_eq!(process.kind, "CONSUMER");
    assert_eq!(send.parent_span_id.as_deref(), Some(phase.span_id.as_str()));
    assert_eq!(
        process.parent_span_id.as_deref(),
        Some(send.span_id.as_str())
    );
    assert_eq!(
        tool.parent_span_id.as_deref(),
        Some(process.span_id.as_str())
    );
    assert!([send, process, tool]
        .iter()
        .all(|s| s.trace_id == phase.trace_id));
    assert_eq!(send.attr("messaging.system"), Some("redis"));
    assert_eq!(send.attr("messaging.destination.name"), Some(dest));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pubsub_keeps_one_trace() {
    agent_trace::isolate!();
    let Some(redis_server) = RedisServer::start_or_skip("pubsub_keeps_one_trace") else {
        return;
    };
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "redis-pubsub", Protocol::Grpc);
    let client = redis::Client::open(redis_server.url.as_str()).expect("client");
    let mut pubsub = client.get_async_pubsub().await.expect("pubsub");
    pubsub.subscribe("events").await.expect("subscribe");
    let consumer = tokio::spawn(async move {
        let mut stream = pubsub.on_message();
        let msg = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .expect("message within 20 s")
            .expect("stream open");
        consume_message(&msg, |v: Value| handle_event(&v)).expect("decodes")
    });

    #[agent_phase("announce")]
    async fn announce(conn: &mut redis::aio::MultiplexedConnection) -> redis::RedisResult<i64> {
        publish(conn, "events", &json!({"task": "review"})).await
    }
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("conn");
    // The subscription is confirmed before publishing (SUBSCRIBE awaited above).
    assert_eq!(
        announce(&mut conn).await.expect("publish"),
        1,
        "one subscriber"
    );
    assert_eq!(consumer.await.expect("consumer"), Ok("review".to_string()));

    guard.shutdown().expect("delivered");
    assert_chain(&rx.spans(), "agent_phase announce", "events");
}

#[tokio::test]
async fn list_queue_keeps_one_trace_and_old_messages_still_deliver() {
    agent_trace::isolate!();
    let Some(redis_server) = RedisServer::start_or_skip("list_queue") else {
        return;
    };
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "redis-list", Protocol::HttpProtobuf);
    let client = redis::Client::open(redis_server.url.as_str()).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("conn");

    #[agent_phase("enqueue")]
    async fn enqueue(conn: &mut redis::aio::MultiplexedConnection) -> redis::RedisResult<i64> {
        push(conn, "jobs", &json!({"task": "index"})).await
    }
    enqueue(&mut conn).await.expect("push");
    // Messages from before tracing, and damaged ones, straight into the list.
    for raw in [
        r#"{"task":"bare payload, no envelope"}"#,
        r#"{"payload":{"task":"envelope without trace"}}"#,
        r#"{"trace":{"traceparent":"00-garbage"},"payload":{"task":"bad traceparent"}}"#,
        r#"{"trace":42,"payload":{"task":"trace is a number"}}"#,
    ] {
        redis::cmd("LPUSH")
            .arg("jobs")
            .arg(raw)
            .query_async::<i64>(&mut conn)
            .await
            .expect("lpush");
    }
    let untraced_before = agent_trace::carriers::envelope::untraced_messages();
    let mut delivered = Vec::new();
    for _ in 0..5 {
        let (_list, item): (String, Vec<u8>) = redis::cmd("BRPOP")
            .arg("jobs")
            .arg(5)
            .query_async(&mut conn)
            .await
            .expect("brpop");
        delivered.push(consume_item("jobs", &item, |v: Value| handle_event(&v)).expect("decodes"));
    }
    assert_eq!(
        delivered,
        vec![
            Ok("index".to_string()),
            Ok("bare payload, no envelope".to_string()),
            Ok("envelope without trace".to_string()),
            Ok("bad traceparent".to_string()),
            Ok("trace is a number".to_string()),
        ]
    );
    assert_eq!(
        agent_trace::carriers::envelope::untraced_messages() - untraced_before,
        4
    );

    guard.shutdown().expect("delivered");
    let spans = rx.spans();
    assert_chain(&spans, "agent_phase enqueue", "jobs");
    let roots = spans
        .iter()
        .filter(|s| s.name == "process jobs" && s.parent_span_id.is_none())
        .count();
    assert_eq!(roots, 4, "untraced messages start new traces");
}

#[tokio::test]
async fn redis_errors_mark_the_producer_span() {
    agent_trace::isolate!();
    let Some(redis_server) = RedisServer::start_or_skip("redis_errors") else {
        return;
    };
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "redis-err", Protocol::Grpc);
    let client = redis::Client::open(redis_server.url.as_str()).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("conn");
    // LPUSH onto a key holding a string: WRONGTYPE.
    redis::cmd("SET")
        .arg("not-a-list")
        .arg("x")
        .query_async::<()>(&mut conn)
        .await
        .expect("set");
    assert!(push(&mut conn, "not-a-list", &1).await.is_err());
    guard.shutdown().expect("delivered");
    let spans = rx.spans();
    let send = find(&spans, "send not-a-list");
    assert_eq!(send.status_code, 2);
    assert!(
        send.status_message.contains("WRONGTYPE"),
        "{}",
        send.status_message
    );
}
