//! What the receiver decodes from an OTLP request: spans and metric points, with their
//! attributes as text, ready for assertions.

use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use prost::Message;

use crate::export::SpanView;
use crate::span::semconv as k;

/// A span as received over the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSpan {
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// 16 hex digits, `None` for a root.
    pub parent_span_id: Option<String>,
    /// Name.
    pub name: String,
    /// `INTERNAL`, `SERVER`, `CLIENT`, `PRODUCER`, `CONSUMER` or `UNSPECIFIED`.
    pub kind: &'static str,
    /// The resource's `service.name`.
    pub service: String,
    /// All resource attributes.
    pub resource: Vec<(String, String)>,
    /// Span attributes.
    pub attributes: Vec<(String, String)>,
    /// Events with their attributes.
    pub events: Vec<(String, Vec<(String, String)>)>,
    /// Links: (trace id, span id), hex.
    pub links: Vec<(String, String)>,
    /// Status code: 0 unset, 1 ok, 2 error.
    pub status_code: i32,
    /// Status message.
    pub status_message: String,
    /// Start, ns since the epoch.
    pub start_ns: u64,
    /// End, ns since the epoch.
    pub end_ns: u64,
    /// Which door it came in by: `grpc` or `http`.
    pub transport: &'static str,
    /// The W3C `tracestate` header of its span context (`ot=th:...` among others).
    pub trace_state: String,
    /// OTLP span flags: the W3C trace flags in the low byte (bit 0: sampled), then whether
    /// the parent is remote (bits 8 and 9).
    pub flags: u32,
    /// The instrumentation scope's name and version (empty when absent).
    pub scope: (String, String),
    /// Attributes, events and links dropped by the span limits.
    pub dropped: (u32, u32, u32),
}

impl ReceivedSpan {
    /// An attribute's value.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A resource attribute's value.
    pub fn resource_attr(&self, key: &str) -> Option<&str> {
        self.resource
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// For the waterfall renderer.
    pub fn to_view(&self) -> SpanView {
        SpanView {
            trace_id: self.trace_id.clone(),
            span_id: self.span_id.clone(),
            parent_span_id: self.parent_span_id.clone(),
            name: self.name.clone(),
            service: self.service.clone(),
            kind: self.kind,
            start_ns: self.start_ns,
            end_ns: self.end_ns,
            error: (self.status_code == 2).then(|| self.status_message.clone()),
            attributes: self.attributes.clone(),
            events: self.events.clone(),
            links: self.links.clone(),
        }
    }
}

/// A metric as received over the wire (one entry per data point).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedMetric {
    /// Instrument name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// `histogram`, `sum`, `gauge`, or `other`.
    pub kind: &'static str,
    /// The resource's `service.name`.
    pub service: String,
    /// The data point's attributes.
    pub attributes: Vec<(String, String)>,
    /// Histograms: how many values; sums and gauges: 1.
    pub count: u64,
    /// Histograms: their sum; sums and gauges: the value.
    pub sum: f64,
}

impl ReceivedMetric {
    /// A data point attribute's value.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(feature = "metrics")]
pub(super) fn metrics_from_request(
    req: &opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
) -> Vec<ReceivedMetric> {
    use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point::Value};
    let mut out = Vec::new();
    for rm in &req.resource_metrics {
        let service = rm
            .resource
            .as_ref()
            .and_then(|r| r.attributes.iter().find(|kv| kv.key == k::SERVICE_NAME))
            .map(|kv| any_string(kv.value.as_ref()))
            .unwrap_or_default();
        for sm in &rm.scope_metrics {
            for m in &sm.metrics {
                let mut push = |kind, attributes: &[KeyValue], count, sum| {
                    out.push(ReceivedMetric {
                        name: m.name.clone(),
                        unit: m.unit.clone(),
                        kind,
                        service: service.clone(),
                        attributes: attributes.iter().map(kv_string).collect(),
                        count,
                        sum,
                    })
                };
                let number = |v: &Option<Value>| match v {
                    Some(Value::AsDouble(d)) => *d,
                    Some(Value::AsInt(i)) => *i as f64,
                    None => 0.0,
                };
                match &m.data {
                    Some(Data::Histogram(h)) => {
                        for p in &h.data_points {
                            push("histogram", &p.attributes, p.count, p.sum.unwrap_or(0.0));
                        }
                    }
                    Some(Data::Sum(s)) => {
                        for p in &s.data_points {
                            push("sum", &p.attributes, 1, number(&p.value));
                        }
                    }
                    Some(Data::Gauge(g)) => {
                        for p in &g.data_points {
                            push("gauge", &p.attributes, 1, number(&p.value));
                        }
                    }
                    _ => push("other", &[], 0, 0.0),
                }
            }
        }
    }
    out
}

/// One log record as received (feature `logs`).
#[cfg(feature = "logs")]
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedLog {
    /// The resource's `service.name`.
    pub service: String,
    /// The body, as text.
    pub body: String,
    /// `INFO`, `WARN`, ... as sent.
    pub severity: String,
    /// The event name, when the record is an event (`gen_ai.evaluation.result`, or the
    /// `tracing` bridge's `event file:line`).
    pub event_name: String,
    /// The trace and span ids of the span it was emitted in (hex), when any.
    pub trace_id: Option<String>,
    /// See `trace_id`.
    pub span_id: Option<String>,
    /// Attributes as text.
    pub attributes: Vec<(String, String)>,
}

#[cfg(feature = "logs")]
impl ReceivedLog {
    /// An attribute's value.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Flat log records from an OTLP logs request.
#[cfg(feature = "logs")]
pub(super) fn logs_from_request(
    req: &opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest,
) -> Vec<ReceivedLog> {
    let mut out = Vec::new();
    for rl in &req.resource_logs {
        let service = rl
            .resource
            .as_ref()
            .and_then(|r| r.attributes.iter().find(|kv| kv.key == k::SERVICE_NAME))
            .map(|kv| any_string(kv.value.as_ref()))
            .unwrap_or_default();
        for r in rl.scope_logs.iter().flat_map(|s| &s.log_records) {
            let id = |b: &[u8]| (!b.is_empty() && b.iter().any(|x| *x != 0)).then(|| hex(b));
            out.push(ReceivedLog {
                service: service.clone(),
                body: any_string(r.body.as_ref()),
                severity: r.severity_text.clone(),
                event_name: r.event_name.clone(),
                trace_id: id(&r.trace_id),
                span_id: id(&r.span_id),
                attributes: r.attributes.iter().map(kv_string).collect(),
            });
        }
    }
    out
}

/// Converts an OTLP request into flat spans.
pub fn spans_from_request(
    req: &ExportTraceServiceRequest,
    transport: &'static str,
) -> Vec<ReceivedSpan> {
    let mut out = Vec::new();
    for rs in &req.resource_spans {
        let resource: Vec<(String, String)> = rs
            .resource
            .as_ref()
            .map(|r| r.attributes.iter().map(kv_string).collect())
            .unwrap_or_default();
        let service = resource
            .iter()
            .find(|(k, _)| k == k::SERVICE_NAME)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        for ss in &rs.scope_spans {
            for s in &ss.spans {
                let status = s.status.clone().unwrap_or_default();
                out.push(ReceivedSpan {
                    trace_id: hex(&s.trace_id),
                    span_id: hex(&s.span_id),
                    parent_span_id: (!s.parent_span_id.is_empty()
                        && s.parent_span_id.iter().any(|b| *b != 0))
                    .then(|| hex(&s.parent_span_id)),
                    name: s.name.clone(),
                    kind: match s.kind {
                        1 => "INTERNAL",
                        2 => "SERVER",
                        3 => "CLIENT",
                        4 => "PRODUCER",
                        5 => "CONSUMER",
                        _ => "UNSPECIFIED",
                    },
                    service: service.clone(),
                    resource: resource.clone(),
                    attributes: s.attributes.iter().map(kv_string).collect(),
                    events: s
                        .events
                        .iter()
                        .map(|e| (e.name.clone(), e.attributes.iter().map(kv_string).collect()))
                        .collect(),
                    links: s
                        .links
                        .iter()
                        .map(|l| (hex(&l.trace_id), hex(&l.span_id)))
                        .collect(),
                    status_code: status.code,
                    status_message: status.message,
                    start_ns: s.start_time_unix_nano,
                    end_ns: s.end_time_unix_nano,
                    transport,
                    trace_state: s.trace_state.clone(),
                    flags: s.flags,
                    scope: ss
                        .scope
                        .as_ref()
                        .map(|sc| (sc.name.clone(), sc.version.clone()))
                        .unwrap_or_default(),
                    dropped: (
                        s.dropped_attributes_count,
                        s.dropped_events_count,
                        s.dropped_links_count,
                    ),
                });
            }
        }
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn kv_string(kv: &KeyValue) -> (String, String) {
    (kv.key.clone(), any_string(kv.value.as_ref()))
}

fn any_string(v: Option<&AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::ArrayValue(a)) => format!(
            "[{}]",
            a.values
                .iter()
                .map(|v| any_string(Some(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

pub(super) fn partial(rejected: i64) -> ExportTraceServiceResponse {
    ExportTraceServiceResponse {
        partial_success: Some(
            opentelemetry_proto::tonic::collector::trace::v1::ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message: "scripted partial success".to_string(),
            },
        ),
    }
}

/// The largest request body the receiver inflates (gzip).
const MAX_INFLATED: u64 = 64 << 20;

/// An OTLP/HTTP request body, decompressed and decoded as JSON (by its content type) or
/// protobuf: what every `/v1/*` route of the receiver does first.
#[cfg_attr(not(any(feature = "metrics", feature = "logs")), allow(dead_code))]
pub(super) fn decode_request<R>(headers: &HeaderMap, body: Bytes) -> Result<R, String>
where
    R: Message + Default + serde::de::DeserializeOwned,
{
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let body = request_body(headers, body)?;
    match json {
        true => serde_json::from_slice::<R>(&body).map_err(|e| e.to_string()),
        false => R::decode(body).map_err(|e| e.to_string()),
    }
}

/// The request's body as sent: inflated when `content-encoding: gzip`, bounded.
pub(super) fn request_body(headers: &HeaderMap, body: Bytes) -> Result<Bytes, String> {
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    if !gzip {
        return Ok(body);
    }
    use std::io::Read as _;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .take(MAX_INFLATED)
        .read_to_end(&mut out)
        .map_err(|e| format!("invalid gzip body: {e}"))?;
    Ok(out.into())
}

/// An answer in the request's own encoding (`application/json` or protobuf).
pub(super) fn http_answer(json: bool, answer: &ExportTraceServiceResponse) -> Response {
    if json {
        let body = serde_json::to_vec(answer).unwrap_or_default();
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            answer.encode_to_vec(),
        )
            .into_response()
    }
}
