//! What the viewer reads from the outside survives any input: OTLP requests with extreme and
//! inconsistent values (times of 0 and `u64::MAX`, an end before its start, ids of any length,
//! parent cycles, huge names and values), and arbitrary or corrupted bytes, go through the
//! real receiver over loopback HTTP and then through exactly what `agent-trace view` does with
//! them (split by trace, the split-trace hints, the waterfall or JSON), with every option
//! value the viewer accepts. Each property runs `PROPTEST_CASES` inputs (64 unless set: what
//! CI runs); docs/HARDENING.md gives the count of a longer run.

use std::io::{Read as _, Write as _};
use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
use proptest::prelude::*;
use prost::Message as _;

use super::*;

/// Posts `body` as OTLP/HTTP protobuf to the receiver and returns the HTTP status line.
fn post(rx: &OtlpReceiver, body: &[u8]) -> String {
    let mut stream = std::net::TcpStream::connect(rx.http_addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(body).expect("write");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    answer.lines().next().unwrap_or_default().to_string()
}

/// Everything the viewer does with what the receiver took, for each way of showing it.
fn view_all(rx: &OtlpReceiver) -> usize {
    let mut traces = HashMap::new();
    let mut order = Vec::new();
    for req in rx.take_requests() {
        split_by_trace(req, &mut traces, &mut order);
    }
    let mut printed = 0;
    let mut split = split::SplitTraces::default();
    for bar_width in [0, 1, 30, MAX_BAR_WIDTH] {
        for (attributes, json) in [(false, false), (true, false), (false, true)] {
            let mut o = parse(&["view".to_string()]).expect("defaults");
            o.render.bar_width = bar_width;
            o.render.attributes = attributes;
            o.json = json;
            for t in &order {
                let text = emit(&traces[t], &o, "", &mut split);
                printed += text.len();
            }
        }
    }
    printed
}

fn extreme_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        Just(i64::MAX as u64),
        1_700_000_000_000_000_000u64..1_700_000_100_000_000_000,
        any::<u64>(),
    ]
}

/// Ids from a small pool (so parents, children and cycles happen), or of any length.
fn id(len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (0u8..6).prop_map(move |n| vec![n + 1; len]),
        1 => Just(Vec::new()),
        1 => Just(vec![0; len]),
        1 => proptest::collection::vec(any::<u8>(), 0..40),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z_./ ]{0,12}",
        1 => any::<String>(),
        1 => (0usize..200_000).prop_map(|n| "x".repeat(n)),
        1 => Just("\u{202e}\u{0}\n\r\t\u{1b}[31m".to_string()),
    ]
}

fn value() -> impl Strategy<Value = Option<AnyValue>> {
    prop_oneof![
        Just(None),
        text().prop_map(|s| Some(AnyValue {
            value: Some(any_value::Value::StringValue(s))
        })),
        any::<i64>().prop_map(|n| Some(AnyValue {
            value: Some(any_value::Value::IntValue(n))
        })),
        any::<f64>().prop_map(|f| Some(AnyValue {
            value: Some(any_value::Value::DoubleValue(f))
        })),
        Just(Some(AnyValue { value: None })),
    ]
}

prop_compose! {
    fn a_span()(
        trace_id in id(16),
        span_id in id(8),
        parent_span_id in id(8),
        name in text(),
        kind in -2i32..8,
        start in extreme_u64(),
        end in extreme_u64(),
        status in proptest::option::of((-2i32..4, text())),
        attributes in proptest::collection::vec((text(), value()), 0..4),
        events in proptest::collection::vec((text(), extreme_u64()), 0..2),
    ) -> Span {
        Span {
            trace_id,
            span_id,
            parent_span_id,
            name,
            kind,
            start_time_unix_nano: start,
            end_time_unix_nano: end,
            status: status.map(|(code, message)| Status { code, message }),
            attributes: attributes
                .into_iter()
                .map(|(key, value)| KeyValue {
                    key,
                    value,
                    ..Default::default()
                })
                .collect(),
            events: events
                .into_iter()
                .map(|(name, time_unix_nano)| span::Event {
                    name,
                    time_unix_nano,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }
}

fn request(spans: Vec<Span>, service: String) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(service)),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

thread_local! {
    static RECEIVER: OtlpReceiver = OtlpReceiver::start().expect("receiver");
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_otlp_request_is_received_and_drawn(
        spans in proptest::collection::vec(a_span(), 1..24),
        service in text(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        RECEIVER.with(|rx| {
            let bytes = request(spans, service).encode_to_vec();
            // As sent, and corrupted at a few places: both are answered, nothing panics.
            // Accepted, or refused as too large (the receiver's body limit): never a panic.
            let status = post(rx, &bytes);
            prop_assert!(status.contains(" 200 ") || status.contains(" 413 "), "{status}");
            let mut corrupted = bytes.clone();
            for (at, byte) in &flips {
                let i = at.index(corrupted.len());
                corrupted[i] ^= byte | 1;
            }
            let status = post(rx, &corrupted);
            prop_assert!(status.starts_with("HTTP/1.1 "), "{status}");
            view_all(rx);
            Ok(())
        })?;
    }

    #[test]
    fn arbitrary_bytes_are_refused_or_drawn(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        RECEIVER.with(|rx| {
            let status = post(rx, &bytes);
            prop_assert!(status.starts_with("HTTP/1.1 "), "{status}");
            view_all(rx);
            Ok(())
        })?;
    }
}

/// A chain of `n` spans, each the parent of the next, or `n` children of one root.
fn shaped(n: usize, deep: bool) -> ExportTraceServiceRequest {
    let spans = (0..n)
        .map(|i| Span {
            trace_id: vec![7; 16],
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            parent_span_id: match (i, deep) {
                (0, _) => Vec::new(),
                (_, true) => (i as u64).to_be_bytes().to_vec(),
                (_, false) => 1u64.to_be_bytes().to_vec(),
            },
            name: format!("span {i}"),
            start_time_unix_nano: 1_000 + i as u64,
            end_time_unix_nano: 10_000_000 - i as u64,
            ..Default::default()
        })
        .collect();
    request(spans, "svc".into())
}

#[test]
fn deep_and_wide_traces_draw_in_linear_space() {
    let rx = OtlpReceiver::start().expect("receiver");
    for deep in [true, false] {
        let mut sizes = Vec::new();
        for n in [2_000, 8_000] {
            let status = post(&rx, &shaped(n, deep).encode_to_vec());
            assert!(status.contains("200"), "{status}");
            let printed = view_all(&rx);
            sizes.push(printed as f64 / n as f64);
        }
        // Bytes per span stay the same as the trace grows four times (quadratic would be 4x).
        assert!(
            sizes[1] < sizes[0] * 1.5,
            "deep={deep}: bytes per span {sizes:?}"
        );
    }
}
