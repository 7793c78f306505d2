//! Log lines that lead back to their trace, and the bridge between `tracing` and our spans.
//!
//! [`init`](crate::init) installs a `tracing` subscriber made of:
//! - an `EnvFilter` from `RUST_LOG` (default `info`);
//! - a formatter (text or JSON) that adds `trace_id` and `span_id` of the current
//!   OpenTelemetry context to every line logged inside a span, ours or another crate's;
//! - the tracing-opentelemetry layer, so `tracing` spans (`#[instrument]`, `info_span!`) become
//!   OpenTelemetry spans that nest under ours, and ours under them (context activation).
//!
//! Users who build their own subscriber compose [`layers`] instead:
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt as _;
//! let subscriber = tracing_subscriber::registry()
//!     .with(agent_trace::logs::layers(agent_trace::LogFormat::Text));
//! let _ = tracing::subscriber::set_global_default(subscriber);
//! let _guard = agent_trace::builder().service_name("svc").install_subscriber(false).install();
//! ```

use crate::span::semconv as k;
use crate::state::in_export_thread;
use std::fmt;

use opentelemetry::trace::{SpanBuilder, SpanContext, Status, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};
use tracing::Subscriber;
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::{Layer, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::LogFormat;

/// `(trace_id, span_id)` of the current context, as 32 and 16 hex digits.
pub(crate) fn current_ids() -> Option<(String, String)> {
    let cx = Context::current();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid()
        .then(|| (sc.trace_id().to_string(), sc.span_id().to_string()))
}

/// The request id of the request being served, if any (set by the server layer).
fn current_request_id() -> Option<String> {
    crate::context::carriers::http::RequestId::current().map(|r| r.as_str().to_string())
}

/// The layers `init` installs, for your own subscriber: filter (`RUST_LOG`), formatter with
/// trace ids, and the `tracing` to OpenTelemetry bridge.
pub fn layers<S>(format: LogFormat) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let filter = EnvFilter::try_from_env(crate::config::env::RUST_LOG)
        .unwrap_or_else(|_| EnvFilter::new("info"));
    fmt_layer(format)
        .and_then(bridge_layer())
        .and_then(EventsOnOurSpans)
        .and_then(LogRecords)
        .with_filter(filter)
}

/// Hands each event that passed the filter to the logs signal (feature `logs`, when
/// `OTEL_LOGS_EXPORTER` is set): an OpenTelemetry log record through the official
/// opentelemetry-appender-tracing bridge, with the trace and span ids of the span it ran in.
/// A library's events (`LIBRARY_TARGETS`) go only inside a trace, as its spans do; nothing
/// from the export threads.
#[derive(Debug, Clone, Copy, Default)]
struct LogRecords;

impl<S> Layer<S> for LogRecords
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    #[cfg_attr(not(feature = "logs"), allow(unused_variables))]
    fn on_event(&self, event: &tracing::Event<'_>, ctx: tracing_subscriber::layer::Context<'_, S>) {
        #[cfg(feature = "logs")]
        {
            if crate::state::in_export_thread() {
                return;
            }
            let bridge = crate::state::LOG_BRIDGE.load();
            let Some(b) = bridge.as_deref() else { return };
            if is_library(event.metadata().target())
                && !Context::map_current(|cx| cx.has_active_span())
            {
                return;
            }
            b.counts
                .emitted
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            b.bridge.on_event(event, ctx);
        }
    }
}

/// Records `tracing` events (`info!`, `warn!`, ...) as span events on the agent-trace span
/// they happen in, when no `tracing` span was entered inside it (the bridge records those on
/// the `tracing` span). An event is only an event: the span's status comes from the
/// function's return value, never from an event's level. Events pass the same `RUST_LOG`
/// filter as log lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventsOnOurSpans;

impl<S: Subscriber> Layer<S> for EventsOnOurSpans {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if !crate::is_enabled() || in_export_thread() {
            return;
        }
        let cx = Context::current();
        if !crate::span::ours_is_innermost(&cx) {
            return;
        }
        let span = cx.span();
        if !span.is_recording() {
            return;
        }
        let meta = event.metadata();
        let mut fields = EventAttributes {
            message: None,
            attributes: vec![
                KeyValue::new(k::AGENT_TRACE_LOG_LEVEL, meta.level().as_str()),
                KeyValue::new(k::AGENT_TRACE_LOG_TARGET, meta.target().to_string()),
            ],
        };
        event.record(&mut fields);
        let name = fields.message.unwrap_or_else(|| "event".to_string());
        span.add_event(name, fields.attributes);
    }
}

/// An event's fields as OpenTelemetry attributes; `message` becomes the event's name.
struct EventAttributes {
    message: Option<String>,
    attributes: Vec<KeyValue>,
}

impl tracing::field::Visit for EventAttributes {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        let text = crate::span::text::debug(value, crate::span::text::MESSAGE_LIMIT);
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.attributes.push(KeyValue::new(field.name(), text));
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(crate::span::text::cut(
                value,
                crate::span::text::MESSAGE_LIMIT,
            ));
        } else {
            self.attributes
                .push(KeyValue::new(field.name(), value.to_string()));
        }
    }
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.attributes.push(KeyValue::new(
            field.name(),
            crate::span::text::count_value(value),
        ));
    }
    fn record_i128(&mut self, field: &tracing::field::Field, value: i128) {
        self.attributes.push(KeyValue::new(
            field.name(),
            crate::span::text::int_value(value),
        ));
    }
    fn record_u128(&mut self, field: &tracing::field::Field, value: u128) {
        self.attributes.push(KeyValue::new(
            field.name(),
            crate::span::text::int_value(value),
        ));
    }
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }
    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }
}

/// The bridge's filter: on while tracing is, never on the export threads, and leaving to
/// [`EventsOnOurSpans`] the events that happen directly inside an agent-trace span (the
/// bridge would put them on an outer `tracing` span).
struct BridgeFilter;

/// Crates whose `tracing` spans are bridged only inside an existing trace (unless
/// `AGENT_TRACE_LIBRARY_ROOT_SPANS=true`): on their own they would start a trace per
/// connection or session (rmcp's `serve_inner` lasts as long as an MCP server process).
pub const LIBRARY_TARGETS: &[&str] = &[
    "rmcp",
    "hyper",
    "hyper_util",
    "h2",
    "tonic",
    "tower",
    "tower_http",
    "reqwest",
    "axum",
    "redis",
    "sqlx",
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
];

/// Marks the `tracing` spans the bridge made OpenTelemetry spans of.
struct Bridged;

/// Inserts [`Bridged`] on each span the bridge accepts (it runs under the same filter).
struct MarkBridged;

impl<S> Layer<S> for MarkBridged
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        _attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Bridged);
        }
    }
}

fn is_library(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    LIBRARY_TARGETS.contains(&krate)
}

/// Whether a new span (`meta`, its parent the current `tracing` span) would start a trace of
/// its own for a library: no OpenTelemetry span is current, no ancestor was bridged, and it
/// or an ancestor is a library's.
fn library_root<S>(
    meta: &tracing::Metadata<'_>,
    cx: &tracing_subscriber::layer::Context<'_, S>,
) -> bool
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if Context::current().has_active_span() {
        return false;
    }
    let library = is_library(meta.target());
    // The filtered context hides the spans this filter left out (a library's root among
    // them), so the ancestors are read from the registry itself when there is one.
    let Some(parent) = cx.current_span().id().cloned() else {
        return library;
    };
    let from_registry = tracing::dispatcher::get_default(|d| {
        let registry = d.downcast_ref::<tracing_subscriber::Registry>()?;
        let parent = registry.span(&parent)?;
        Some(ancestry(parent.scope(), library))
    });
    from_registry.unwrap_or_else(|| match cx.lookup_current() {
        Some(parent) => ancestry(parent.scope(), library),
        None => library,
    })
}

/// `true` when none of `ancestors` was bridged and it (`library`) or one of them is a library's.
fn ancestry<'a, R: LookupSpan<'a>>(
    ancestors: tracing_subscriber::registry::Scope<'a, R>,
    mut library: bool,
) -> bool {
    for ancestor in ancestors {
        if ancestor.extensions().get::<Bridged>().is_some() {
            return false;
        }
        library |= is_library(ancestor.metadata().target());
    }
    library
}

impl<S> tracing_subscriber::layer::Filter<S> for BridgeFilter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(
        &self,
        meta: &tracing::Metadata<'_>,
        cx: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        if !crate::is_enabled() || in_export_thread() {
            return false;
        }
        !meta.is_span()
            || crate::state::LIBRARY_ROOT_SPANS.load(std::sync::atomic::Ordering::Relaxed)
            || !library_root(meta, cx)
    }

    fn event_enabled(
        &self,
        _event: &tracing::Event<'_>,
        _cx: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        !crate::span::ours_is_innermost(&Context::current())
    }
}

/// A formatting layer whose lines carry `trace_id` and `span_id` (text or JSON), on stderr.
pub fn fmt_layer<S>(format: LogFormat) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    fmt_layer_to(format, std::io::stderr)
}

fn fmt_layer_to<S, W>(format: LogFormat, writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    match format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_ansi(false)
            .event_format(TextWithIds(
                tracing_subscriber::fmt::format()
                    .with_ansi(false)
                    .without_time()
                    .with_level(false),
            ))
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .with_writer(writer)
            // Span fields are kept as JSON, so JSON lines can carry them structured.
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(JsonWithIds)
            .boxed(),
        #[allow(unreachable_patterns)]
        _ => tracing_subscriber::fmt::layer().with_writer(writer).boxed(),
    }
}

/// The tracing-opentelemetry layer, using whatever pipeline is installed at the time a span
/// starts; it does nothing (and costs next to nothing) while tracing is off, and never runs
/// on the export threads (the HTTP and gRPC libraries there emit `tracing` spans too).
///
/// Bridged spans carry their source location (`code.file.path`, `code.line.number`,
/// `code.module.name`; a path outside the workspace, such as a library's in the cargo
/// registry, is made relative on the export thread: `rmcp-3.11.0/src/service.rs`) but no
/// thread id or name and no busy/idle times: noise on every span of a library. With
/// `AGENT_TRACE_BRIDGE_DETAILS=true` (read when the layer is made: call `init` first) they
/// keep all of it, paths absolute.
pub fn bridge_layer<S>() -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let details = crate::state::BRIDGE_DETAILS.load(std::sync::atomic::Ordering::Relaxed);
    tracing_opentelemetry::layer()
        .with_threads(details)
        .with_tracked_inactivity(details)
        .with_tracer(BridgeTracer)
        .and_then(MarkBridged)
        .with_filter(BridgeFilter)
}

pub(crate) fn install_global(format: LogFormat) {
    let subscriber = tracing_subscriber::registry().with(layers(format));
    // Someone else's subscriber (or ours from an earlier init) wins; that is not an error.
    let _ = subscriber.try_init();
}

struct TextWithIds<F>(F);

impl<S, N, F> FormatEvent<S, N> for TextWithIds<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        // tracing-subscriber's layout, timestamp first: `2026-11-22T06:40:00.123456Z  INFO`,
        // then the ids, then spans, target, message and fields as it writes them.
        use tracing_subscriber::fmt::time::FormatTime as _;
        tracing_subscriber::fmt::time::SystemTime.format_time(&mut writer)?;
        write!(writer, " {:>5} ", event.metadata().level().as_str())?;
        if let Some((trace_id, span_id)) = current_ids() {
            write!(writer, "trace_id={trace_id} span_id={span_id} ")?;
        }
        if let Some(request_id) = current_request_id() {
            write!(writer, "request_id={request_id} ")?;
        }
        self.0.format_event(ctx, writer, event)
    }
}

struct JsonWithIds;

impl<S, N> FormatEvent<S, N> for JsonWithIds
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        let mut fields = JsonFields(serde_json::Map::new());
        event.record(&mut fields);
        let mut obj = serde_json::Map::new();
        // RFC 3339 in UTC, as tracing-subscriber writes it: 2026-11-22T06:40:00.123456Z.
        let mut timestamp = String::new();
        {
            use tracing_subscriber::fmt::time::FormatTime as _;
            let _ = tracing_subscriber::fmt::time::SystemTime
                .format_time(&mut Writer::new(&mut timestamp));
        }
        obj.insert("timestamp".into(), timestamp.into());
        obj.insert("level".into(), event.metadata().level().as_str().into());
        obj.insert("target".into(), event.metadata().target().into());
        if let Some((trace_id, span_id)) = current_ids() {
            obj.insert("trace_id".into(), trace_id.into());
            obj.insert("span_id".into(), span_id.into());
        }
        if let Some(request_id) = current_request_id() {
            obj.insert("request_id".into(), request_id.into());
        }
        // agent-trace's own current spans first (outermost first: name when static, and
        // span id), then the `tracing` spans in scope, root first, each with its fields.
        let mut spans: Vec<serde_json::Value> = crate::state::with_ours(|ours| {
            ours.iter()
                .map(|(id, name)| {
                    let mut entry = serde_json::Map::new();
                    if let Some(name) = name {
                        entry.insert("name".into(), (*name).into());
                    }
                    entry.insert("span_id".into(), id.to_string().into());
                    entry.into()
                })
                .collect()
        });
        if let Some(scope) = ctx.event_scope() {
            spans.extend(scope.from_root().map(|span| {
                let mut entry = serde_json::Map::new();
                entry.insert("name".into(), span.name().into());
                let ext = span.extensions();
                let recorded = ext
                    .get::<tracing_subscriber::fmt::FormattedFields<N>>()
                    .and_then(|f| serde_json::from_str::<serde_json::Value>(f).ok());
                if let Some(serde_json::Value::Object(fields)) = recorded {
                    for (k, v) in fields {
                        entry.entry(k).or_insert(v);
                    }
                }
                serde_json::Value::from(entry)
            }));
        }
        if !spans.is_empty() {
            obj.insert("spans".into(), spans.into());
        }
        // The event's own fields; one named like ours (`trace_id`, `level`, ...) is kept as
        // `fields.<name>` rather than replacing it.
        for (k, v) in fields.0 {
            if obj.contains_key(&k) {
                obj.insert(format!("fields.{k}"), v);
            } else {
                obj.insert(k, v);
            }
        }
        writeln!(writer, "{}", serde_json::Value::Object(obj))
    }
}

struct JsonFields(serde_json::Map<String, serde_json::Value>);

impl tracing::field::Visit for JsonFields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &tracing::field::Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
}

/// A tracer that follows the installed pipeline: spans go to whichever SDK tracer is active
/// when they start, or pass the parent's context through when none is.
#[derive(Debug, Clone, Copy)]
struct BridgeTracer;

impl opentelemetry::trace::Tracer for BridgeTracer {
    type Span = BridgeSpan;

    fn build_with_context(&self, builder: SpanBuilder, parent_cx: &Context) -> BridgeSpan {
        match crate::state::ACTIVE.load().as_ref() {
            Some(i) => BridgeSpan::Sdk(i.tracer.build_with_context(builder, parent_cx)),
            None => BridgeSpan::PassThrough(parent_cx.span().span_context().clone()),
        }
    }
}

// The SDK variant is the common one while tracing is on; boxing it would add an allocation
// to every bridged span to save stack space in the rare pass-through case.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum BridgeSpan {
    Sdk(opentelemetry_sdk::trace::Span),
    PassThrough(SpanContext),
}

impl opentelemetry::trace::Span for BridgeSpan {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: std::time::SystemTime,
        attributes: Vec<KeyValue>,
    ) where
        T: Into<std::borrow::Cow<'static, str>>,
    {
        if let BridgeSpan::Sdk(s) = self {
            s.add_event_with_timestamp(name, timestamp, attributes)
        }
    }

    fn span_context(&self) -> &SpanContext {
        match self {
            BridgeSpan::Sdk(s) => s.span_context(),
            BridgeSpan::PassThrough(sc) => sc,
        }
    }

    fn is_recording(&self) -> bool {
        matches!(self, BridgeSpan::Sdk(s) if s.is_recording())
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        if let BridgeSpan::Sdk(s) = self {
            s.set_attribute(attribute)
        }
    }

    fn set_status(&mut self, status: Status) {
        if let BridgeSpan::Sdk(s) = self {
            s.set_status(status)
        }
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<std::borrow::Cow<'static, str>>,
    {
        if let BridgeSpan::Sdk(s) = self {
            s.update_name(new_name)
        }
    }

    fn add_link(&mut self, span_context: SpanContext, attributes: Vec<KeyValue>) {
        if let BridgeSpan::Sdk(s) = self {
            s.add_link(span_context, attributes)
        }
    }

    fn end_with_timestamp(&mut self, timestamp: std::time::SystemTime) {
        if let BridgeSpan::Sdk(s) = self {
            s.end_with_timestamp(timestamp)
        }
    }
}

#[cfg(test)]
#[path = "logs_tests.rs"]
mod tests;
