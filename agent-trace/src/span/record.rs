//! agent-trace's own span recording, for the spans that go nowhere but its export pipeline.
//!
//! The SDK's tracer allocates each span's attributes on the application thread and frees them
//! on the export thread, where the exporter drops them; with a queue of spans in flight that
//! is most of what a sampled span costs. Here a span is a [`SpanRecord`]: ids, times, a name,
//! the first attributes inline, appended to the pipeline's queue (whose buffers keep their
//! capacity) when it ends, and turned into the SDK's `SpanData` on the export thread, where
//! what it allocates is also freed. Everything else is the SDK's: the installed sampler
//! decides (and writes the trace state), the span limits are applied as the SDK applies them,
//! and the `SpanData` is field for field what the SDK's span would give
//! (`tests/recorded_spans.rs` compares both over OTLP).
//!
//! An `execute_tool` span's first four attributes (its operation, its tool's name twice, its
//! type) are not written into the record: it holds the tool's name, and they are made from it
//! where they are read (`tool_attributes`), counted against the attribute limit all the same.
//!
//! A span refers to the pipeline without a reference count: the pipeline of a recorder is kept
//! for the life of the process (about half a kilobyte per `init`; its buffers are freed at
//! shutdown, `a_pipeline_ended_keeps_no_buffers`).
//!
//! Which path runs: this one when `init` built the pipeline and nothing else sees spans (no
//! `Builder::span_processor`, no tail sampling, no pending-span markers); the SDK's tracer
//! otherwise, and for spans started under suppressed telemetry.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceContextExt as _, TraceId,
};
use opentelemetry::InstrumentationScope;
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{
    SamplingDecision, SamplingResult, SpanData, SpanEvents, SpanLimits, SpanLinks,
};

use super::clock::Reading;
use crate::state::{Attributes, Installed, RecordSink, Recorder, SpanRecord, Stamp};

/// The instrumentation scope of agent-trace's spans (its tracer's: `"agent-trace"`).
pub(crate) const SCOPE_NAME: &str = "agent-trace";

/// A span of `name` under `parent`, in the context it is current in: recorded here when the
/// installation allows it, by the SDK's tracer otherwise; `true` when recorded here (it is then
/// ended with [`end_now`]).
pub(crate) fn start_in(
    installed: &Installed,
    name: Cow<'static, str>,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
    links: Vec<Link>,
    parent: &Context,
) -> (Context, bool) {
    let Some(recorder) = recorder_for(installed, parent) else {
        return (
            sdk_start(installed, name, kind, attributes, links, parent),
            false,
        );
    };
    let mut record = next_empty_record();
    record.attributes.extend(attributes);
    start(recorder, name, kind, record, links, parent)
}

/// This thread's next record, without attributes (those of its last span are gone).
pub(crate) fn next_empty_record() -> Box<SpanRecord> {
    let mut record = crate::state::next_record();
    record.tool = None;
    record.tool_success = false;
    record.attributes.clear();
    record
}

/// [`start_in`] with the attributes already written into the record the span would fill (the
/// macros' starters write them there: no vector of their own on this path).
pub(crate) fn start_record_in(
    installed: &Installed,
    name: Cow<'static, str>,
    kind: SpanKind,
    mut record: Box<SpanRecord>,
    links: Vec<Link>,
    parent: &Context,
) -> (Context, bool) {
    if let Some(recorder) = recorder_for(installed, parent) {
        return start(recorder, name, kind, record, links, parent);
    }
    let attributes = take_all_attributes(&mut record);
    crate::state::keep_record(record);
    (
        sdk_start(installed, name, kind, attributes, links, parent),
        false,
    )
}

/// The recorder, when this span is recorded by agent-trace (not under suppressed telemetry).
#[inline]
fn recorder_for<'a>(installed: &'a Installed, parent: &Context) -> Option<&'a Recorder> {
    installed
        .recorder
        .as_ref()
        .filter(|_| !parent.is_telemetry_suppressed())
}

/// The SDK's tracer starts the span.
fn sdk_start(
    installed: &Installed,
    name: Cow<'static, str>,
    kind: SpanKind,
    attributes: Vec<KeyValue>,
    links: Vec<Link>,
    parent: &Context,
) -> Context {
    use opentelemetry::trace::Tracer as _;
    let tracer = &installed.tracer;
    let span = tracer
        .span_builder(name)
        .with_kind(kind)
        .with_attributes(attributes)
        .with_links(links)
        .start_with_context(tracer, parent);
    parent.with_span(span)
}

/// What the SDK's tracer does to start a span, into `record` (which holds its attributes);
/// `true` when the span records.
fn start(
    recorder: &Recorder,
    name: Cow<'static, str>,
    kind: SpanKind,
    mut record: Box<SpanRecord>,
    mut links: Vec<Link>,
    parent: &Context,
) -> (Context, bool) {
    let parent_span = parent.span();
    let psc = Some(parent_span.span_context()).filter(|sc| sc.is_valid());
    let trace_id = match psc {
        Some(sc) => sc.trace_id(),
        None => crate::state::take_preset_trace_id().unwrap_or_else(|| {
            TraceId::from(
                u128::from(crate::state::random_u64()) << 64
                    | u128::from(crate::state::random_u64()),
            )
        }),
    };
    let span_id = SpanId::from(crate::state::random_u64());
    let result = match parent_based_always_on(recorder, parent) {
        Some(result) => result,
        // Without a tool's first four attributes (`record.tool`): agent-trace's head samplers
        // do not read attributes.
        None => recorder.sampler.should_sample(
            Some(parent),
            trace_id,
            &name,
            &kind,
            &record.attributes,
            &links,
        ),
    };
    let parent_flags = psc.map(|sc| sc.trace_flags()).unwrap_or_default();
    if result.decision != SamplingDecision::RecordAndSample {
        // Dropped (`RecordOnly` needs a processor to see it: not on this path).
        record.attributes.clear();
        crate::state::keep_record(record);
        let sc = SpanContext::new(
            trace_id,
            span_id,
            Default::default(),
            false,
            result.trace_state,
        );
        return (parent.with_remote_span_context(sc), false);
    }
    let span_context = SpanContext::new(
        trace_id,
        span_id,
        parent_flags.with_sampled(true),
        false,
        result.trace_state,
    );
    let r = &mut *record;
    if !result.attributes.is_empty() {
        r.attributes.extend(result.attributes);
    }
    let limits = recorder.limits;
    let (dropped_attributes, dropped_links) = record_within_limits(&limits, r, &mut links);
    r.span_context = span_context.clone();
    r.parent_span_id = psc.map_or(SpanId::INVALID, |sc| sc.span_id());
    r.parent_span_is_remote = psc.is_some_and(|sc| sc.is_remote());
    r.kind = kind;
    r.name = name;
    r.start = super::clock::now();
    r.end = r.start;
    r.dropped_attributes = dropped_attributes;
    r.events = Vec::new();
    r.dropped_events = 0;
    r.links = links;
    r.dropped_links = dropped_links;
    r.status = Status::Unset;
    let cx = parent.with_span(RecordedSpan {
        span_context,
        record: Some(record),
        limits,
        sink: recorder.sink,
    });
    (cx, true)
}

/// The time `ActiveSpan` ends a span recorded here with: `SpanRef::end()` would read the wall
/// clock first (the record reads its counter instead), and a tool's `tool.success=true` goes in
/// the same call (one pass through the span's lock, not two). The Unix epoch itself means now;
/// one nanosecond after it, now and the tool's success. (An application ending one of these
/// spans itself at the Unix epoch gets now: no span ends in 1970.)
pub(crate) fn end_now(tool_success: bool) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_nanos(u64::from(tool_success))
}

/// How a recorded span is asked to end (the inverse of [`end_now`]).
enum Ending {
    At(SystemTime),
    Now { tool_success: bool },
}

fn ending(timestamp: SystemTime) -> Ending {
    if timestamp == end_now(false) {
        Ending::Now {
            tool_success: false,
        }
    } else if timestamp == end_now(true) {
        Ending::Now { tool_success: true }
    } else {
        Ending::At(timestamp)
    }
}

/// The decision of the SDK's `ParentBased(AlwaysOn)` (behind `Honest`), taken without the call
/// when nothing in it can differ: the parent's sampled flag when there is an active span (even
/// an invalid one, as the SDK has it), sampled otherwise, the parent's trace state unchanged, no
/// attributes. `None` when the sampler is another, or an `ot` entry is there to be checked.
fn parent_based_always_on(recorder: &Recorder, parent: &Context) -> Option<SamplingResult> {
    if !recorder.parent_based_always_on {
        return None;
    }
    let span = parent.span();
    let sc = span.span_context();
    if sc.trace_state().get("ot").is_some() {
        return None;
    }
    let keep = !parent.has_active_span() || sc.is_sampled();
    Some(SamplingResult {
        decision: match keep {
            true => SamplingDecision::RecordAndSample,
            false => SamplingDecision::Drop,
        },
        attributes: Vec::new(),
        trace_state: sc.trace_state().clone(),
    })
}

/// [`within_limits`] on a record; a tool's first four attributes are made first when the limit
/// may drop some of them, so that it drops what the SDK's would.
fn record_within_limits(
    limits: &SpanLimits,
    r: &mut SpanRecord,
    links: &mut Vec<Link>,
) -> (u32, u32) {
    if r.tool.is_some()
        && r.attributes.len() + TOOL_ATTRIBUTES > limits.max_attributes_per_span as usize
    {
        let all = take_all_attributes(r);
        r.attributes.extend(all);
    }
    within_limits(limits, &mut r.attributes, links)
}

/// The SDK's span limits on a starting span's attributes and links: the excess dropped and
/// counted, as its tracer does.
fn within_limits(
    limits: &SpanLimits,
    attributes: &mut Attributes,
    links: &mut Vec<Link>,
) -> (u32, u32) {
    let max_attributes = limits.max_attributes_per_span as usize;
    let dropped_attributes = attributes.len().saturating_sub(max_attributes) as u32;
    if dropped_attributes > 0 {
        attributes.truncate(max_attributes);
    }
    let max_links = limits.max_links_per_span as usize;
    let dropped_links = links.len().saturating_sub(max_links) as u32;
    links.truncate(max_links);
    let per_link = limits.max_attributes_per_link as usize;
    for link in links.iter_mut() {
        link.dropped_attributes_count = link.attributes.len().saturating_sub(per_link) as u32;
        link.attributes.truncate(per_link);
    }
    (dropped_attributes, dropped_links)
}

/// A span being recorded: the [`SpanRecord`] until it ends, then nothing.
#[derive(Debug)]
struct RecordedSpan {
    span_context: SpanContext,
    record: Option<Box<SpanRecord>>,
    limits: SpanLimits,
    sink: &'static dyn RecordSink,
}

impl std::fmt::Debug for dyn RecordSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordSink")
    }
}

impl RecordedSpan {
    /// The record, when it has room for one more attribute under the limit (counting a tool's
    /// first four, made on the export thread); one more dropped attribute counted otherwise.
    fn with_room(&mut self) -> Option<&mut SpanRecord> {
        let max = self.limits.max_attributes_per_span as usize;
        let r = self.record.as_deref_mut()?;
        let implicit = r.tool.map_or(0, |_| TOOL_ATTRIBUTES);
        if r.attributes.len() + implicit < max {
            Some(r)
        } else {
            r.dropped_attributes += 1;
            None
        }
    }

    /// `tool.success=true` as the span ends: a flag, the attribute made on the export thread
    /// (one attribute fewer written into the record), under the same limit.
    fn succeeded(&mut self) {
        if let Some(r) = self.with_room() {
            r.tool_success = true;
        }
    }

    fn end_at(&mut self, end: Option<SystemTime>) {
        let Some(mut record) = self.record.take() else {
            return;
        };
        record.end = match end {
            Some(t) => Stamp::Wall(t),
            None => super::clock::now(),
        };
        if let Some(next) = self.sink.push(record) {
            crate::state::keep_record(next);
        }
    }
}

impl opentelemetry::trace::Span for RecordedSpan {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        mut attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        let max_events = self.limits.max_events_per_span as usize;
        let per_event = self.limits.max_attributes_per_event as usize;
        if let Some(r) = &mut self.record {
            if r.events.len() < max_events {
                let dropped = attributes.len().saturating_sub(per_event) as u32;
                attributes.truncate(per_event);
                r.events
                    .push(Event::new(name, timestamp, attributes, dropped));
            } else {
                r.dropped_events += 1;
            }
        }
    }

    fn span_context(&self) -> &SpanContext {
        &self.span_context
    }

    fn is_recording(&self) -> bool {
        self.record.is_some()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        if let Some(r) = self.with_room() {
            r.attributes.push(attribute);
        }
    }

    fn set_status(&mut self, status: Status) {
        if let Some(r) = &mut self.record {
            // The SDK's order: Ok > Error > Unset.
            if status > r.status {
                r.status = status;
            }
        }
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        if let Some(r) = &mut self.record {
            r.name = new_name.into();
        }
    }

    fn add_link(&mut self, span_context: SpanContext, mut attributes: Vec<KeyValue>) {
        let max_links = self.limits.max_links_per_span as usize;
        let per_link = self.limits.max_attributes_per_link as usize;
        if let Some(r) = &mut self.record {
            if r.links.len() < max_links {
                let dropped = attributes.len().saturating_sub(per_link) as u32;
                attributes.truncate(per_link);
                r.links.push(Link::new(span_context, attributes, dropped));
            } else {
                r.dropped_links += 1;
            }
        }
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        match ending(timestamp) {
            Ending::At(t) => self.end_at(Some(t)),
            Ending::Now { tool_success } => {
                if tool_success {
                    self.succeeded();
                }
                self.end_at(None);
            }
        }
    }
}

impl Drop for RecordedSpan {
    /// Like the SDK's span: one dropped without being ended ends now.
    fn drop(&mut self) {
        self.end_at(None);
    }
}

/// The SDK's `SpanData` of a record (on the export thread), with the scope of agent-trace's
/// tracer and its times read with `clock`. The record is left empty, for reuse.
pub(crate) fn take_span_data(
    r: &mut SpanRecord,
    scope: &InstrumentationScope,
    clock: &Reading,
) -> SpanData {
    let mut events = SpanEvents::default();
    events.events = std::mem::take(&mut r.events);
    events.dropped_count = r.dropped_events;
    let mut links = SpanLinks::default();
    links.links = std::mem::take(&mut r.links);
    links.dropped_count = r.dropped_links;
    SpanData {
        span_context: std::mem::replace(&mut r.span_context, SpanContext::empty_context()),
        parent_span_id: r.parent_span_id,
        parent_span_is_remote: r.parent_span_is_remote,
        span_kind: r.kind.clone(),
        name: std::mem::take(&mut r.name),
        start_time: clock.wall(r.start),
        end_time: clock.wall(r.end),
        // A vector of this thread's, freed here after the export.
        attributes: take_all_attributes(r),
        dropped_attributes_count: r.dropped_attributes,
        events,
        links,
        status: std::mem::take(&mut r.status),
        instrumentation_scope: scope.clone(),
    }
}

/// How many attributes [`tool_attributes`] makes.
const TOOL_ATTRIBUTES: usize = 4;

/// The first attributes of an `execute_tool` span, made from its tool's name where they are
/// read (on the export thread, or as the SDK's span starts) rather than written into the record
/// by the application thread: four attributes fewer to write and to move to the export thread.
fn tool_attributes(tool: &'static str) -> [KeyValue; TOOL_ATTRIBUTES] {
    use super::semconv as k;
    [
        KeyValue::new(k::GEN_AI_OPERATION_NAME, k::OP_EXECUTE_TOOL),
        KeyValue::new(k::GEN_AI_TOOL_NAME, tool),
        KeyValue::new(k::GEN_AI_TOOL_TYPE, k::TOOL_TYPE_FUNCTION),
        KeyValue::new(k::TOOL_NAME, tool),
    ]
}

/// All attributes of a record, a tool's first four made from its name and its success last,
/// leaving it empty.
fn take_all_attributes(r: &mut SpanRecord) -> Vec<KeyValue> {
    let success = std::mem::take(&mut r.tool_success);
    let mut all = match r.tool.take() {
        None => take_attributes(&mut r.attributes),
        Some(tool) => {
            let mut all = Vec::with_capacity(TOOL_ATTRIBUTES + r.attributes.len() + 1);
            all.extend(tool_attributes(tool));
            all.extend(take_attributes(&mut r.attributes));
            all
        }
    };
    if success {
        all.push(KeyValue::new(super::semconv::TOOL_SUCCESS, true));
    }
    all
}

/// The attributes of a record, leaving it empty with no more than its inline room (a record
/// kept for reuse does not keep a large spilled buffer). None are only read: the cache line of
/// their count is not written, so it need not travel back to the application thread (which
/// does not write it either, for a span without attributes of its own).
fn take_attributes(attributes: &mut Attributes) -> Vec<KeyValue> {
    if attributes.spilled() {
        std::mem::take(attributes).into_vec()
    } else if attributes.is_empty() {
        Vec::new()
    } else {
        attributes.drain(..).collect()
    }
}

/// The scope agent-trace's tracer has (`SdkTracerProvider::tracer("agent-trace")`).
pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE_NAME).build()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use opentelemetry::trace::{TraceFlags, TraceState};

    use super::*;

    struct Nowhere;
    impl RecordSink for Nowhere {
        fn push(&self, record: Box<SpanRecord>) -> Option<Box<SpanRecord>> {
            Some(record)
        }
    }

    /// The decision taken without the call is the installed sampler's, field by field, for
    /// every kind of parent: none, sampled or not, local or remote, an invalid active span,
    /// with and without other vendors' trace state.
    #[test]
    fn the_default_samplers_decision_is_taken_as_the_sdk_takes_it() {
        let sampler = crate::config::Sampler::ParentBasedAlwaysOn;
        let recorder = Recorder {
            sampler: crate::sampling::head_sampler(sampler, false),
            parent_based_always_on: true,
            limits: SpanLimits::default(),
            sink: &Nowhere,
        };
        let sdk = crate::sampling::head_sampler(sampler, false);
        let states = [
            TraceState::default(),
            TraceState::from_str("vendor=a,other=b").unwrap(),
        ];
        let mut parents = vec![Context::new()];
        for state in &states {
            for flags in [TraceFlags::SAMPLED, TraceFlags::default()] {
                for remote in [true, false] {
                    parents.push(Context::new().with_remote_span_context(SpanContext::new(
                        TraceId::from(7u128),
                        SpanId::from(9u64),
                        flags,
                        remote,
                        state.clone(),
                    )));
                }
            }
            // An active span whose context is invalid.
            for flags in [TraceFlags::SAMPLED, TraceFlags::default()] {
                parents.push(Context::new().with_remote_span_context(SpanContext::new(
                    TraceId::INVALID,
                    SpanId::INVALID,
                    flags,
                    true,
                    state.clone(),
                )));
            }
        }
        for parent in &parents {
            let ours = parent_based_always_on(&recorder, parent).expect("taken here");
            let theirs = sdk.should_sample(
                Some(parent),
                TraceId::from(7u128),
                "s",
                &SpanKind::Internal,
                &[],
                &[],
            );
            assert_eq!(ours.decision, theirs.decision, "{parent:?}");
            assert_eq!(ours.trace_state, theirs.trace_state, "{parent:?}");
            assert_eq!(ours.attributes, theirs.attributes, "{parent:?}");
        }
        // An `ot` entry is the sampler's to check.
        let ot = Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(7u128),
            SpanId::from(9u64),
            TraceFlags::SAMPLED,
            true,
            TraceState::from_str("ot=th:8").unwrap(),
        ));
        assert!(parent_based_always_on(&recorder, &ot).is_none());
    }
}
