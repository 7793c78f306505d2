//! [`send_stream`]: a streaming A2A call over reqwest, reading the answer's server-sent
//! events (feature `reqwest`).

use futures_core::Stream;
use opentelemetry::trace::SpanKind;
use reqwest_middleware::{ClientWithMiddleware, Error};
use serde_json::Value;

use super::stream::A2aStream;
use super::{a2a_span, address_attributes, PROTOCOL_VERSION, VERSION_HEADER};

/// The JSON-RPC answers of a streaming A2A call's server-sent events, as [`send_stream`]
/// reads them (boxed, so the stream is `Unpin`).
pub type SseEvents = std::pin::Pin<Box<dyn Stream<Item = Result<Value, Error>> + Send>>;

/// The largest server-sent event read; a larger one ends the stream with an error rather
/// than grow without bound.
const MAX_EVENT: usize = 16 << 20;

/// Sends a streaming A2A request (`SendStreamingMessage`, `SubscribeToTask`) to `url` with
/// `client` and yields the JSON-RPC answers of its server-sent events, in the CLIENT span of
/// [`call_stream`](super::call_stream) (status and artifact updates as span events, the last
/// state as `a2a.task.state`, cancelled when dropped early). The request carries
/// [`VERSION_HEADER`]; keep [`TraceMiddleware`](crate::client::TraceMiddleware) on `client`
/// for the HTTP span and the `traceparent`. A transport error, a non-2xx status, an event
/// that is not JSON or one over 16 MiB is an `Err` item, and ends the stream. Nothing is sent
/// until the stream is first polled.
///
/// ```no_run
/// use futures_util::StreamExt as _;
/// # async fn run(client: reqwest_middleware::ClientWithMiddleware) {
/// let request = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "SendStreamingMessage",
///     "params": {"message": {"messageId": "m-1", "role": "ROLE_USER",
///                            "parts": [{"text": "write the parser"}]}}});
/// let mut events = agent_trace::a2a::send_stream(&client, "http://127.0.0.1:8081/a2a", &request);
/// while let Some(event) = events.next().await {
///     println!("{}", event.expect("an A2A event"));
/// }
/// # }
/// ```
pub fn send_stream(
    client: &ClientWithMiddleware,
    url: &str,
    request: &Value,
) -> A2aStream<SseEvents> {
    let span = a2a_span(request, SpanKind::Client, address_attributes(url));
    let post = client
        .post(url)
        .header(VERSION_HEADER, PROTOCOL_VERSION)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "text/event-stream");
    let body = serde_json::to_vec(request);
    let start = State::Start(post, body);
    let events = futures_util::stream::unfold(start, |mut state| async move {
        loop {
            state = match state {
                State::Start(post, body) => {
                    let body = match body {
                        Ok(b) => b,
                        Err(e) => return Some((Err(Error::middleware(e)), State::Done)),
                    };
                    match post.body(body).send().await.map(|r| r.error_for_status()) {
                        Ok(Ok(response)) => State::Reading(response, Events::default()),
                        Ok(Err(e)) => return Some((Err(e.into()), State::Done)),
                        Err(e) => return Some((Err(e), State::Done)),
                    }
                }
                State::Reading(mut response, mut events) => {
                    match events.next_event() {
                        Ok(Some(data)) => {
                            let item = serde_json::from_str::<Value>(&data);
                            return Some(match item {
                                Ok(v) => (Ok(v), State::Reading(response, events)),
                                Err(e) => (Err(Error::middleware(e)), State::Done),
                            });
                        }
                        Ok(None) => {}
                        Err(e) => return Some((Err(Error::middleware(e)), State::Done)),
                    }
                    match response.chunk().await {
                        Ok(Some(bytes)) => {
                            events.push(&bytes);
                            State::Reading(response, events)
                        }
                        // The end: an event without its blank line still counts.
                        Ok(None) => match events.finish() {
                            Some(data) => {
                                let item = serde_json::from_str::<Value>(&data);
                                return Some((item.map_err(Error::middleware), State::Done));
                            }
                            None => return None,
                        },
                        Err(e) => return Some((Err(e.into()), State::Done)),
                    }
                }
                State::Done => return None,
            }
        }
    });
    // Boxed so the stream is `Unpin`: `.next().await` works on it as returned.
    A2aStream::new(Box::pin(events), span)
}

enum State {
    Start(
        reqwest_middleware::RequestBuilder,
        Result<Vec<u8>, serde_json::Error>,
    ),
    Reading(reqwest::Response, Events),
    Done,
}

/// Server-sent events as they arrive: bytes kept from `start`, scanned for a blank line once
/// each (so reading is linear in the stream's size), `\r` dropped (CRLF line ends).
#[derive(Debug, Default)]
struct Events {
    buf: Vec<u8>,
    start: usize,
    scanned: usize,
}

/// An event over [`MAX_EVENT`].
#[derive(Debug)]
struct TooLarge;

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a server-sent event over {MAX_EVENT} bytes")
    }
}

impl std::error::Error for TooLarge {}

impl Events {
    fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.scanned -= self.start;
            self.start = 0;
        }
        self.buf.extend(bytes.iter().filter(|b| **b != b'\r'));
    }

    /// The `data` of the next complete event with any (`None`: wait for more bytes).
    fn next_event(&mut self) -> Result<Option<String>, TooLarge> {
        loop {
            let from = self.scanned.max(self.start + 1) - 1;
            let Some(at) = self.buf[from..].windows(2).position(|w| w == b"\n\n") else {
                self.scanned = self.buf.len().max(self.start);
                if self.buf.len() - self.start > MAX_EVENT {
                    return Err(TooLarge);
                }
                return Ok(None);
            };
            let end = from + at;
            let data = data_of(&self.buf[self.start..end]);
            self.start = end + 2;
            self.scanned = self.start;
            if let Some(data) = data {
                return Ok(Some(data));
            }
        }
    }

    /// What is left when the stream ends: a last event without its blank line.
    fn finish(&mut self) -> Option<String> {
        let rest = &self.buf[self.start..];
        self.start = self.buf.len();
        data_of(rest)
    }
}

/// The `data:` lines of one event, joined by `\n`; `None` for an event without data
/// (a comment or keep-alive).
fn data_of(event: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(event);
    let lines: Vec<&str> = text
        .split('\n')
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| d.strip_prefix(' ').unwrap_or(d))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<String> {
        let mut events = Events::default();
        let mut out = Vec::new();
        for c in chunks {
            events.push(c);
            while let Some(d) = events.next_event().unwrap() {
                out.push(d);
            }
        }
        out.extend(events.finish());
        out
    }

    #[test]
    fn events_across_chunks_crlf_comments_and_a_last_event_without_blank_line() {
        assert_eq!(
            all(&[
                b"data: {\"a\"",
                b":1}\r\n\r\n: keep-alive\n\ndata: 2\n",
                b"\ndata: 3"
            ]),
            ["{\"a\":1}", "2", "3"]
        );
        assert_eq!(all(&[b"event: x\ndata: a\ndata: b\n\n"]), ["a\nb"]);
        assert_eq!(all(&[b"\n", b"\n", b"data:x\n", b"\n"]), ["x"]);
        assert!(all(&[b""]).is_empty());
    }

    #[test]
    fn one_byte_at_a_time_is_linear_and_a_huge_event_is_an_error() {
        let stream: Vec<u8> = (0..2000)
            .flat_map(|i| format!("data: {i}\n\n").into_bytes())
            .collect();
        let chunks: Vec<&[u8]> = stream.chunks(1).collect();
        let got = all(&chunks);
        assert_eq!(got.len(), 2000);
        assert_eq!(got[1999], "1999");

        let mut events = Events::default();
        let big = vec![b'x'; 1 << 20];
        let mut failed = false;
        for _ in 0..17 {
            events.push(&big);
            if events.next_event().is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed, "an event over 16 MiB ends the stream");
    }
}
