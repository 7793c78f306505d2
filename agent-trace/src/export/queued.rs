//! What the export queue holds: a span the SDK's tracer ended (`SpanData`), or one agent-trace
//! recorded itself (`SpanRecord`, turned into `SpanData` on the export thread: see
//! `span/record.rs`).

use opentelemetry::trace::SpanId;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::SpanData;

use crate::state::SpanRecord;

/// One queued span.
#[derive(Debug)]
pub(crate) enum Queued {
    /// Ended by the SDK's tracer (boxed: a queue slot stays a pointer's size).
    Data(Box<SpanData>),
    /// Recorded by agent-trace.
    Record(Box<SpanRecord>),
}

impl Queued {
    /// Its span id.
    pub(crate) fn span_id(&self) -> SpanId {
        match self {
            Queued::Data(d) => d.span_context.span_id(),
            Queued::Record(r) => r.span_context.span_id(),
        }
    }

    /// The SDK's `SpanData` of it; `scope` is agent-trace's tracer's, `clock` makes its times
    /// wall-clock time. An emptied record is put in `emptied`, for reuse.
    #[allow(clippy::vec_box)]
    pub(crate) fn into_data(
        self,
        scope: &InstrumentationScope,
        clock: &crate::span::clock::Reading,
        emptied: &mut Vec<Box<SpanRecord>>,
    ) -> SpanData {
        match self {
            Queued::Data(d) => *d,
            Queued::Record(mut r) => {
                let data = crate::span::record::take_span_data(&mut r, scope, clock);
                emptied.push(r);
                data
            }
        }
    }
}
