//! Tests of `logs.rs`: the subscriber layers, the bridge, the formatters.

use super::*;
use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);
impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Buf {
    type Writer = Buf;
    fn make_writer(&'w self) -> Buf {
        self.clone()
    }
}

fn logged(format: LogFormat, cx: Context) -> String {
    let buf = Buf::default();
    let subscriber = tracing_subscriber::registry().with(fmt_layer_to(format, buf.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let _g = cx.attach();
        tracing::info!(answer = 42, "inside");
    });
    let bytes = buf.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

fn span_cx() -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    ))
}

#[test]
fn text_lines_carry_ids_and_request_id() {
    let line = logged(LogFormat::Text, Context::new());
    assert!(!line.contains("trace_id="), "no ids outside a span: {line}");
    let cx = span_cx();
    #[cfg(feature = "tower")]
    let cx = cx.with_value(crate::context::carriers::http::RequestId("req-7".into()));
    let line = logged(LogFormat::Text, cx);
    // tracing-subscriber's layout: timestamp, level, then our ids.
    let (time, rest) = line.split_once(' ').expect("fields");
    assert!(is_rfc3339_utc(time), "{line}");
    assert!(
        rest.trim_start().starts_with(
            "INFO trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 "
        ),
        "{line}"
    );
    #[cfg(feature = "tower")]
    assert!(line.contains("request_id=req-7"), "{line}");
    assert!(
        line.contains("inside") && line.contains("answer=42"),
        "{line}"
    );
}

/// `2026-11-22T06:40:00.123456Z`.
fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && s.ends_with('Z')
        && s[..4].parse::<u32>().is_ok_and(|y| y >= 2024)
}

#[test]
fn json_lines_keep_span_fields_and_never_lose_our_ids() {
    let buf = Buf::default();
    let subscriber =
        tracing_subscriber::registry().with(fmt_layer_to(LogFormat::Json, buf.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let _g = span_cx().attach();
        let outer = tracing::info_span!("request", user = "ada", attempt = 2);
        let _o = outer.enter();
        let inner = tracing::info_span!("lookup", key = "k1");
        let _i = inner.enter();
        tracing::info!(trace_id = "forged", level = "none", answer = 42, "inside");
    });
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736", "{text}");
    assert_eq!(v["fields.trace_id"], "forged", "{text}");
    assert_eq!(v["level"], "INFO");
    assert_eq!(v["fields.level"], "none");
    assert_eq!(v["answer"], 42);
    assert!(is_rfc3339_utc(v["timestamp"].as_str().unwrap()), "{text}");
    assert_eq!(v["spans"][0]["name"], "request");
    assert_eq!(v["spans"][0]["user"], "ada");
    assert_eq!(v["spans"][0]["attempt"], 2);
    assert_eq!(v["spans"][1]["name"], "lookup");
    assert_eq!(v["spans"][1]["key"], "k1");
}

#[test]
fn json_lines_carry_ids_and_fields() {
    let line = logged(LogFormat::Json, span_cx());
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(v["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(v["span_id"], "00f067aa0ba902b7");
    assert_eq!(v["message"], "inside");
    assert_eq!(v["answer"], 42);
    assert_eq!(v["level"], "INFO");
}
