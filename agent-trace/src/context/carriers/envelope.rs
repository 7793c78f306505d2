//! Trace context inside a message, for queues and pub/sub (Redis, NATS, Kafka, files).
//!
//! An [`Envelope`] carries `traceparent`, `tracestate` and `baggage` beside the payload:
//!
//! ```json
//! {"trace":{"traceparent":"00-4bf9…-00f0…-01"},"payload":{"task":"review"}}
//! ```
//!
//! Reading is lenient, because a message must never be lost to tracing: a message without the
//! `trace` field (written before tracing was added), a bare payload with no envelope at all, or
//! trace fields that are malformed all still deliver their payload; the consumer's span then
//! starts a new trace, and [`untraced_messages`] counts it.
//!
//! ```
//! use agent_trace::carriers::envelope::{consume, produce};
//!
//! let bytes = produce("tasks", &serde_json::json!({"task": "review"})).unwrap();
//! let task = consume("tasks", &bytes, |payload: serde_json::Value| payload["task"].clone()).unwrap();
//! assert_eq!(task, "review");
//! ```

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::Ordering;

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{SpanKind, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::span::semconv as k;
use crate::span::{current_or_process_parent, start_span, ActiveSpan};

/// Messages received without usable trace context (old, bare or malformed), since start.
pub fn untraced_messages() -> u64 {
    crate::state::UNTRACED.load(Ordering::Relaxed)
}

/// The trace fields of an envelope. Unknown fields and non-string values are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TraceFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    traceparent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tracestate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baggage: Option<String>,
}

impl TraceFields {
    /// The fields of `cx`, as the installed propagator writes them.
    pub fn from_context(cx: &Context) -> Self {
        struct Fields<'a>(&'a mut TraceFields);
        impl Injector for Fields<'_> {
            fn set(&mut self, key: &str, value: String) {
                match key {
                    "traceparent" => self.0.traceparent = Some(value),
                    "tracestate" => self.0.tracestate = Some(value),
                    "baggage" => self.0.baggage = Some(value),
                    _ => {}
                }
            }
        }
        let mut f = TraceFields::default();
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(cx, &mut Fields(&mut f))
        });
        f
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self.traceparent.is_none() && self.tracestate.is_none() && self.baggage.is_none()
    }

    /// The context these fields describe; without a valid `traceparent`, an empty context.
    pub fn context(&self) -> Context {
        let mut map = HashMap::new();
        for (k, v) in [
            ("traceparent", &self.traceparent),
            ("tracestate", &self.tracestate),
            ("baggage", &self.baggage),
        ] {
            if let Some(v) = v {
                map.insert(k, v.as_str());
            }
        }
        struct Map<'a>(HashMap<&'static str, &'a str>);
        impl Extractor for Map<'_> {
            fn get(&self, key: &str) -> Option<&str> {
                self.0.get(key).copied()
            }
            fn keys(&self) -> Vec<&str> {
                self.0.keys().copied().collect()
            }
        }
        let m = Map(map);
        opentelemetry::global::get_text_map_propagator(|p| {
            p.extract_with_context(&Context::new(), &m)
        })
    }
}

impl<'de> Deserialize<'de> for TraceFields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Lenient;
        impl<'de> Visitor<'de> for Lenient {
            type Value = TraceFields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("trace fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TraceFields, A::Error> {
                let mut f = TraceFields::default();
                while let Some(key) = map.next_key::<String>()? {
                    let value: serde_json::Value = map.next_value()?;
                    let Some(s) = value.as_str().map(str::to_string) else {
                        continue;
                    };
                    match key.as_str() {
                        "traceparent" => f.traceparent = Some(s),
                        "tracestate" => f.tracestate = Some(s),
                        "baggage" => f.baggage = Some(s),
                        _ => {}
                    }
                }
                Ok(f)
            }
            // Anything that is not a map is as good as no trace fields at all.
            fn visit_str<E>(self, _: &str) -> Result<TraceFields, E> {
                Ok(TraceFields::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<TraceFields, E> {
                Ok(TraceFields::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<TraceFields, E> {
                Ok(TraceFields::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<TraceFields, E> {
                Ok(TraceFields::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<TraceFields, E> {
                Ok(TraceFields::default())
            }
            fn visit_unit<E>(self) -> Result<TraceFields, E> {
                Ok(TraceFields::default())
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<TraceFields, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(TraceFields::default())
            }
        }
        d.deserialize_any(Lenient)
    }
}

/// A payload with the trace context it was sent in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// Trace context; absent in messages written before tracing.
    #[serde(default, skip_serializing_if = "TraceFields::is_empty")]
    pub trace: TraceFields,
    /// The message itself.
    pub payload: T,
}

impl<T> Envelope<T> {
    /// Wraps `payload` with the current context.
    pub fn new(payload: T) -> Self {
        Envelope {
            trace: TraceFields::from_context(&current_or_process_parent()),
            payload,
        }
    }

    /// The sender's context (empty if the message carried none).
    pub fn context(&self) -> Context {
        self.trace.context()
    }
}

/// Why a message could not be read at all (its payload is not valid JSON for `T`).
#[derive(Debug, thiserror::Error)]
#[error("message payload is not valid: {0}")]
pub struct DecodeError(#[from] serde_json::Error);

/// The top level of a message, read without interpreting any value: `Some` when it is a JSON
/// object with one `payload` key (`trace` may repeat; only the first is read). `exact` when
/// it has no other keys: only then is it certainly an envelope.
struct EnvelopeParts<'a> {
    payload: &'a RawValue,
    trace: Option<&'a RawValue>,
    exact: bool,
}

fn envelope_parts(bytes: &[u8]) -> Option<EnvelopeParts<'_>> {
    struct Top;
    impl<'de> Visitor<'de> for Top {
        type Value = Option<EnvelopeParts<'de>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an envelope")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let (mut payload, mut trace, mut exact) = (None, None, true);
            // `RawValue` skips values without recursion and without decoding strings or
            // numbers, so nothing inside `trace` can make this fail.
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                let value: &'de RawValue = map.next_value()?;
                match key.as_ref() {
                    "payload" if payload.is_none() => payload = Some(value),
                    "trace" => {
                        trace.get_or_insert(value);
                    }
                    _ => exact = false,
                }
            }
            Ok(payload.map(|payload| EnvelopeParts {
                payload,
                trace,
                exact,
            }))
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parts = de.deserialize_map(Top).ok()??;
    de.end().ok()?;
    Some(parts)
}

/// Reads a message: an envelope, an envelope without trace fields, or a bare payload.
/// Returns the payload and the sender's context; counts messages without usable context.
///
/// The payload is delivered exactly whenever it is valid for `T`, whatever is wrong with the
/// trace fields (nested too deep, invalid escapes, huge numbers, repeated): those only cost
/// the message its context. A message is certainly an envelope when its top level is an
/// object with one `payload` key and otherwise only `trace` keys; any other message is first
/// read as an old bare payload (so an array, or an object with more fields, is never taken
/// apart), and only if it is not a valid `T` as a whole, as an envelope with extra fields.
/// (An old payload of exactly the envelope's shape, `{"payload": ..}`, is read as one.)
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, Context), DecodeError> {
    let parts = envelope_parts(bytes);
    let open = |parts: &EnvelopeParts<'_>| {
        let payload = serde_json::from_str::<T>(parts.payload.get()).ok()?;
        let fields = parts
            .trace
            .and_then(|t| serde_json::from_str::<TraceFields>(t.get()).ok())
            .unwrap_or_default();
        Some((payload, fields.context()))
    };
    // An exact envelope first; then the message as a bare payload (an old message); then an
    // envelope with fields this version does not know.
    let found = match parts.as_ref().filter(|p| p.exact).and_then(open) {
        Some(found) => found,
        None => match serde_json::from_slice::<T>(bytes) {
            Ok(bare) => (bare, Context::new()),
            Err(e) => parts.as_ref().and_then(open).ok_or(DecodeError(e))?,
        },
    };
    let (payload, cx) = found;
    if !cx.span().span_context().is_valid() {
        crate::state::UNTRACED.fetch_add(1, Ordering::Relaxed);
    }
    Ok((payload, cx))
}

/// The attributes of a messaging span; `operation` is both `messaging.operation.type` and
/// `messaging.operation.name` (`send`, `process`), so the span name
/// `{messaging.operation.name} {destination}` is the conventions' format.
pub(super) fn messaging_attrs(destination: &str, operation: &'static str) -> Vec<KeyValue> {
    vec![
        KeyValue::new(k::MESSAGING_SYSTEM, "redis"),
        KeyValue::new(k::MESSAGING_DESTINATION_NAME, destination.to_string()),
        KeyValue::new(k::MESSAGING_OPERATION_TYPE, operation),
        KeyValue::new(k::MESSAGING_OPERATION_NAME, operation),
    ]
}

/// Encodes `payload` in an envelope under a PRODUCER span `send {destination}`, whose context
/// the envelope carries. The span ends when this returns; call it right before sending.
pub fn produce<T: Serialize>(destination: &str, payload: &T) -> Result<Vec<u8>, serde_json::Error> {
    produce_as(destination, payload, "redis")
}

/// [`produce`], naming the messaging system (`messaging.system`).
pub fn produce_as<T: Serialize>(
    destination: &str,
    payload: &T,
    system: &'static str,
) -> Result<Vec<u8>, serde_json::Error> {
    let parent = current_or_process_parent();
    let mut attrs = messaging_attrs(destination, "send");
    attrs[0] = KeyValue::new(k::MESSAGING_SYSTEM, system);
    let span = start_span(
        format!("send {destination}").into(),
        SpanKind::Producer,
        attrs,
        &parent,
    );
    let cx = span.as_ref().map(|s| s.context().clone()).unwrap_or(parent);
    let env = Envelope {
        trace: TraceFields::from_context(&cx),
        payload,
    };
    let bytes = serde_json::to_vec(&env);
    if let (Err(e), Some(mut s)) = (&bytes, span) {
        s.record_error("serialize".into(), e.to_string());
    }
    bytes
}

/// Reads a message and runs `handler` on its payload under a CONSUMER span
/// `process {destination}` whose parent is the producer (a new trace if the message carried
/// none). An `Err` from the handler marks the span as an error. Only a payload that cannot be
/// read at all is an error here.
pub fn consume<T, R>(
    destination: &str,
    bytes: &[u8],
    handler: impl FnOnce(T) -> R,
) -> Result<R, DecodeError>
where
    T: DeserializeOwned,
{
    let (payload, parent) = decode::<T>(bytes)?;
    let mut span = consumer_span(destination, &parent, bytes.len());
    Ok(crate::span::call(&mut span, || handler(payload)))
}

/// [`consume`] for an async handler.
pub async fn consume_async<T, F, Fut>(
    destination: &str,
    bytes: &[u8],
    handler: F,
) -> Result<Fut::Output, DecodeError>
where
    T: DeserializeOwned,
    F: FnOnce(T) -> Fut,
    Fut: std::future::Future,
{
    let (payload, parent) = decode::<T>(bytes)?;
    let mut span = consumer_span(destination, &parent, bytes.len());
    let fut = crate::span::call(&mut span, || handler(payload));
    Ok(crate::span::instrument(span, fut, |_, _| {}).await)
}

/// Reads a batch of messages (a queue consumer that takes many at once, an aggregator) and
/// runs `handler` on them under one CONSUMER span `process {destination}`, which **links** to
/// every message's producer context (fan-in) instead of choosing one as its parent; its
/// parent is the current context. `messaging.batch.message_count` says how many there were.
/// Every message is decoded as [`decode`] does; one that cannot be read is an `Err` in its
/// place, so one bad message costs no other.
///
/// ```
/// use agent_trace::carriers::envelope::{consume_batch, produce};
///
/// let messages: Vec<Vec<u8>> = (0..3)
///     .map(|i| produce("tasks", &serde_json::json!({ "task": i })).unwrap())
///     .collect();
/// let done = consume_batch("tasks", &messages, |payloads: Vec<Result<serde_json::Value, _>>| {
///     payloads.into_iter().filter(Result::is_ok).count()
/// });
/// assert_eq!(done, 3);
/// ```
pub fn consume_batch<T, R, M>(
    destination: &str,
    messages: impl IntoIterator<Item = M>,
    handler: impl FnOnce(Vec<Result<T, DecodeError>>) -> R,
) -> R
where
    T: DeserializeOwned,
    M: AsRef<[u8]>,
{
    let mut payloads = Vec::new();
    let mut links = Vec::new();
    for message in messages {
        match decode::<T>(message.as_ref()) {
            Ok((payload, cx)) => {
                links.extend(crate::IntoLink::span_context(&cx));
                payloads.push(Ok(payload));
            }
            Err(e) => payloads.push(Err(e)),
        }
    }
    let mut attrs = messaging_attrs(destination, "process");
    attrs.push(KeyValue::new(
        k::MESSAGING_BATCH_MESSAGE_COUNT,
        crate::span::text::int_value(payloads.len()),
    ));
    let links = links
        .into_iter()
        .map(opentelemetry::trace::Link::with_context)
        .collect();
    let mut span = crate::span::start_span_with_links(
        format!("process {destination}").into(),
        SpanKind::Consumer,
        attrs,
        links,
        &current_or_process_parent(),
    );
    crate::span::call(&mut span, || handler(payloads))
}

fn consumer_span(destination: &str, parent: &Context, size: usize) -> Option<ActiveSpan> {
    let mut attrs = messaging_attrs(destination, "process");
    attrs.push(KeyValue::new(k::MESSAGING_MESSAGE_BODY_SIZE, size as i64));
    // Without context from the producer, the consumer's own current context is the parent.
    let parent = if parent.span().span_context().is_valid() {
        parent.clone()
    } else {
        current_or_process_parent()
    };
    start_span(
        format!("process {destination}").into(),
        SpanKind::Consumer,
        attrs,
        &parent,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The untraced-message counter is process-wide: tests that decode hold this lock so
    /// the one that counts sees only its own messages.
    static COUNTER: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn counter_lock() -> std::sync::MutexGuard<'static, ()> {
        COUNTER.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn init_propagator() {
        opentelemetry::global::set_text_map_propagator(
            crate::context::propagation::propagator_for(&[
                crate::Propagator::TraceContext,
                crate::Propagator::Baggage,
            ]),
        );
    }

    #[test]
    fn lenient_decoding_always_delivers_the_payload() {
        let _serial = counter_lock();
        init_propagator();
        let before = untraced_messages();
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let cases: &[(&str, bool)] = &[
            (r#"{"trace":{"traceparent":"TP"},"payload":5}"#, true),
            (r#"{"payload":5}"#, false),
            ("5", false),
            (r#"{"trace":"garbage","payload":5}"#, false),
            (r#"{"trace":{"traceparent":12},"payload":5}"#, false),
            (r#"{"trace":{"traceparent":"00-zz"},"payload":5}"#, false),
            (r#"{"trace":[1,2],"payload":5,"extra":true}"#, false),
            (r#"{"trace":null,"payload":5}"#, false),
        ];
        for (json, traced) in cases {
            let json = json.replace("TP", tp);
            let (v, cx): (u32, Context) = decode(json.as_bytes()).expect(&json);
            assert_eq!(v, 5, "{json}");
            assert_eq!(cx.span().span_context().is_valid(), *traced, "{json}");
        }
        assert_eq!(untraced_messages() - before, 7);
        assert!(decode::<u32>(b"not json").is_err());
        assert!(decode::<u32>(br#"{"payload":"not a number"}"#).is_err());
    }

    #[test]
    fn envelope_round_trip_keeps_tracestate_and_baggage() {
        init_propagator();
        let mut headers = HashMap::new();
        headers.insert(
            "traceparent".to_string(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string(),
        );
        headers.insert("tracestate".to_string(), "vendor=abc".to_string());
        headers.insert("baggage".to_string(), "user.tier=gold".to_string());
        let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&headers));
        let _g = cx.attach();
        let env = Envelope::new("hi");
        let json = serde_json::to_string(&env).unwrap();
        let back: Envelope<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.trace, env.trace);
        let cx = back.context();
        assert_eq!(
            cx.span().span_context().trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(
            cx.span().span_context().trace_state().header(),
            "vendor=abc"
        );
        use opentelemetry::baggage::BaggageExt as _;
        assert_eq!(
            cx.baggage().get("user.tier").map(|v| v.to_string()),
            Some("gold".to_string())
        );
    }

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    /// Trace fields broken in every way reported: each used to lose the payload.
    fn garbage_trace_fields() -> Vec<String> {
        vec![
            format!("{}1{}", "[".repeat(200), "]".repeat(200)), // deeper than serde_json's limit
            format!(r#"{{"traceparent":"{}"}}"#, "\\ud800"),    // lone surrogate escape
            r#"{"traceparent":"\ud800"}"#.to_string(),
            r#"{"traceparent":1e999}"#.to_string(), // out of f64 range
            r#"{"deep":1e999,"traceparent":"x"}"#.to_string(),
            format!(
                r#"{{"traceparent":{}1{}}}"#,
                "[".repeat(200),
                "]".repeat(200)
            ),
            r#""\ud800""#.to_string(),
            "1e999".to_string(),
            "null".to_string(),
        ]
    }

    #[test]
    fn malformed_trace_fields_never_cost_the_payload() {
        let _serial = counter_lock();
        init_propagator();
        let payload = r#"{"task":"review","n":[1,2,3]}"#;
        let want: serde_json::Value = serde_json::from_str(payload).unwrap();
        for garbage in garbage_trace_fields() {
            for json in [
                format!(r#"{{"trace":{garbage},"payload":{payload}}}"#),
                format!(r#"{{"payload":{payload},"trace":{garbage}}}"#),
                // a duplicated `trace` key: the first is read, the payload kept
                format!(
                    r#"{{"trace":{garbage},"payload":{payload},"trace":{{"traceparent":"{TP}"}}}}"#
                ),
                format!(
                    r#"{{"trace":{{"traceparent":"{TP}"}},"trace":{garbage},"payload":{payload}}}"#
                ),
            ] {
                let (v, _cx): (serde_json::Value, Context) =
                    decode(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e}"));
                assert_eq!(v, want, "{json}");
            }
        }
        // The first `trace` of a repeated key is the one read.
        let json = format!(r#"{{"trace":{{"traceparent":"{TP}"}},"trace":1e999,"payload":1}}"#);
        let (_, cx): (u8, Context) = decode(json.as_bytes()).unwrap();
        assert!(cx.span().span_context().is_valid());
    }

    #[test]
    fn old_bare_payloads_are_never_taken_for_envelopes() {
        let _serial = counter_lock();
        init_propagator();
        // A bare array read as a Value used to come back as its second element.
        let bare = br#"[{"task":"a"},{"task":"b"}]"#;
        let (v, _): (serde_json::Value, Context) = decode(bare).unwrap();
        assert_eq!(v, serde_json::json!([{"task":"a"},{"task":"b"}]));
        // An old object that happens to have a `payload` field among others.
        let old = br#"{"payload":"x","priority":2}"#;
        let (v, _): (serde_json::Value, Context) = decode(old).unwrap();
        assert_eq!(v, serde_json::json!({"payload":"x","priority":2}));
        // Two arrays (two-element sequences used to fill `trace` and `payload`).
        let (v, _): (Vec<u8>, Context) = decode(b"[7,8]").unwrap();
        assert_eq!(v, vec![7, 8]);
    }

    fn arb_json() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            // Floats serde_json reads back exactly without its `float_roundtrip` feature.
            any::<i32>().prop_map(|n| serde_json::json!(f64::from(n) / 8.0)),
            ".{0,12}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map("[a-z]{0,6}|payload|trace", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn arb_garbage() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let fixed = garbage_trace_fields();
        prop_oneof![
            proptest::sample::select(fixed),
            arb_json().prop_map(|v| v.to_string()),
            ".{0,40}".prop_map(|s| {
                serde_json::json!({"traceparent": s, "tracestate": s, "baggage": s}).to_string()
            }),
            (1usize..300).prop_map(|d| format!(
                "{}{}",
                "{\"a\":".repeat(d),
                "}".repeat(d).replacen('}', "0}", 1)
            )),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

        /// decode(encode(payload)) is the payload, whatever the trace fields hold.
        #[test]
        fn decode_returns_the_payload_whatever_the_trace_fields(
            payload in arb_json(),
            garbage in arb_garbage(),
            trace_first in proptest::prelude::any::<bool>(),
            repeat in proptest::prelude::any::<bool>(),
        ) {
            init_propagator();
            let _serial = counter_lock();
            let p = payload.to_string();
            let mut json = if trace_first {
                format!(r#"{{"trace":{garbage},"payload":{p}}}"#)
            } else {
                format!(r#"{{"payload":{p},"trace":{garbage}}}"#)
            };
            if repeat {
                json.insert_str(json.len() - 1, &format!(r#","trace":{garbage}"#));
            }
            let (back, _): (serde_json::Value, Context) = decode(json.as_bytes()).unwrap();
            proptest::prop_assert_eq!(&back, &payload);
            // And through the encoder: an envelope made by `produce` gives the payload back.
            let bytes = produce("q", &payload).unwrap();
            let (back, _): (serde_json::Value, Context) = decode(&bytes).unwrap();
            proptest::prop_assert_eq!(&back, &payload);
            // A bare payload (no envelope) is delivered whole, unless it has the very shape
            // of an envelope (`{"payload": ..}` plus only `trace`), which no reader can tell.
            let envelope_shaped = payload.as_object().is_some_and(|o| {
                o.contains_key("payload") && o.keys().all(|k| k == "payload" || k == "trace")
            });
            let (back, _): (serde_json::Value, Context) = decode(p.as_bytes()).unwrap();
            if !envelope_shaped {
                proptest::prop_assert_eq!(&back, &payload);
            }
        }
    }
}
