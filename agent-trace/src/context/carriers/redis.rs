//! Redis pub/sub and list queues that keep one trace from producer to consumer.
//!
//! The producer wraps the payload in an [`Envelope`](super::envelope::Envelope) under a
//! PRODUCER span (`send {channel}`) that covers the Redis command; the consumer runs its
//! handler under a CONSUMER span (`process {channel}`) whose parent is the producer. Messages
//! without trace context (older producers) are still delivered.
//!
//! ```no_run
//! # async fn demo() -> redis::RedisResult<()> {
//! use agent_trace::carriers::redis::{consume_message, publish};
//! let client = redis::Client::open("redis://127.0.0.1:6379/")?;
//! let mut conn = client.get_multiplexed_async_connection().await?;
//! publish(&mut conn, "events", &serde_json::json!({"event": "task_done"})).await?;
//! # Ok(()) }
//! ```

use opentelemetry::trace::SpanKind;
use redis::aio::ConnectionLike;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::envelope::{consume, messaging_attrs, DecodeError, Envelope, TraceFields};
use crate::span::{current_or_process_parent, instrument, start_span};

async fn send<T: Serialize, C: ConnectionLike + Send>(
    conn: &mut C,
    command: &'static str,
    destination: &str,
    payload: &T,
) -> redis::RedisResult<i64> {
    let parent = current_or_process_parent();
    let span = start_span(
        format!("send {destination}").into(),
        SpanKind::Producer,
        messaging_attrs(destination, "send"),
        &parent,
    );
    let cx = span.as_ref().map(|s| s.context().clone()).unwrap_or(parent);
    let env = Envelope {
        trace: TraceFields::from_context(&cx),
        payload,
    };
    let bytes = serde_json::to_vec(&env).map_err(|e| {
        redis::RedisError::from((
            redis::ErrorKind::Client,
            "could not serialize the message",
            e.to_string(),
        ))
    })?;
    let fut = async move {
        redis::cmd(command)
            .arg(destination)
            .arg(bytes)
            .query_async::<i64>(conn)
            .await
    };
    instrument(span, fut, |r: &redis::RedisResult<i64>, s| {
        if let Err(e) = r {
            s.record_error("redis".into(), e.to_string());
        }
    })
    .await
}

/// `PUBLISH channel <envelope>`; returns how many subscribers received it.
pub async fn publish<T: Serialize, C: ConnectionLike + Send>(
    conn: &mut C,
    channel: &str,
    payload: &T,
) -> redis::RedisResult<i64> {
    send(conn, "PUBLISH", channel, payload).await
}

/// `LPUSH list <envelope>` (a work queue; consumers `BRPOP`); returns the list's length.
pub async fn push<T: Serialize, C: ConnectionLike + Send>(
    conn: &mut C,
    list: &str,
    payload: &T,
) -> redis::RedisResult<i64> {
    send(conn, "LPUSH", list, payload).await
}

/// Runs `handler` on a pub/sub message's payload under a CONSUMER span.
pub fn consume_message<T: DeserializeOwned, R>(
    msg: &redis::Msg,
    handler: impl FnOnce(T) -> R,
) -> Result<R, DecodeError> {
    let channel = msg.get_channel_name().to_string();
    consume(&channel, msg.get_payload_bytes(), handler)
}

/// Runs `handler` on a list item (from `BRPOP`/`RPOP`) under a CONSUMER span.
pub fn consume_item<T: DeserializeOwned, R>(
    list: &str,
    item: &[u8],
    handler: impl FnOnce(T) -> R,
) -> Result<R, DecodeError> {
    consume(list, item, handler)
}
