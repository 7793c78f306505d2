//! Autoref-specialized probes: how a macro expansion picks, at compile time, the way to
//! record a value whose type it cannot see. The expansion wraps the value in [`Probe`] behind
//! some `&`s and calls a method that several traits define; method resolution takes the
//! impl with the most `&`s whose bounds hold, so the first matching rung below wins.
//!
//! | ladder (`probe!` arm) | call site | depth | rungs, first match wins |
//! |---|---|---|---|
//! | `outcome` | return value, type known | 5 | `RecordTypedErrorResult` (4), `RecordTypedResult` (3), `RecordErrorResult` (2), `RecordResult` (1), `RecordAny` (0) |
//! | `outcome_debug` | return value, `err(Debug)` | 3 | `RecordDebugTypedResult` (2), `RecordDebugResult` (1), `RecordAny` (0) |
//! | `outcome_late` | `a2a_span!` value, type inferred later | 2 | `RecordResult` (1), `RecordAny` (0) |
//! | `llm` | `#[llm_call]` return value | 3 | `LlmResult` (2), `LlmValue` (1), `LlmAny` (0) |
//! | `item` | each stream item | 2 | `RecordItemResult` (1), `RecordItemAny` (0) |
//! | `llm_item` | each stream item of `#[llm_call]` | 3 | `ChunkResult` (2), `ChunkValue` (1), `ChunkAny` (0) |
//! | `stream_out` | return value (by reference) | 10 | `KindResultBoxed` (9), `KindResultLocalBoxed` (8), `KindOptionBoxed` (7), `KindOptionLocalBoxed` (6), `KindBoxed` (5), `KindLocalBoxed` (4), `KindResultStream` (3), `KindOptionStream` (2), `KindStream` (1), `KindPlain` (0) |
//! | `capture` | `capture_result` | 8 | `CaptureOkHeadJson` (7), `CaptureOkHead` (6), `CaptureOkSerialize` (5), `CaptureOk` (4), `CaptureValueHeadJson` (3), `CaptureValueHead` (2), `CaptureValueSerialize` (1), `CaptureValue` (0) |
//! | `capture_arg` | `capture(arg)`, `fields(k = ?v)` | 4 | `CaptureHeadJson` (3: [`HeadDebug`] + [`HeadJson`]), `CaptureHead` (2: [`HeadDebug`]), `CaptureSerialize` (1), `CaptureWhole` (0) |
//!
//! `stream_out` is a tag dispatch (as `anyhow!` does): the rung that matches returns a tag
//! whose `finish` takes the value by move. A boxed stream (`Pin<Box<dyn Stream + ..>>`, so
//! also `BoxStream` and the aliases clients define, such as async-openai's
//! `ChatCompletionResponseStream`), or a `Result` or `Option` of one, is boxed again in the
//! span's stream, so the span lasts as long as the stream; any other stream type cannot be
//! wrapped in place and is a compile error naming the fix ([`ReturnedStreamIsWrappable`]).
//!
//! The ladders of captured values are in `capture.rs`, the `stream_out` tags in
//! `stream_out.rs`; the rest are here.
//!
//! The depth of each call site is written once, in [`probe!`](crate::__private::probe): the
//! expansion invokes it with the ladder's name (`probe!(outcome, &value)`) and imports the
//! ladder's traits; a rung's own depth is the number of `&`s in its impl below. A depth
//! larger than the highest rung's plus one still works (auto-deref), a smaller one skips
//! rungs; the behaviour tests of every ladder (`tool_outcomes.rs`, `llm_and_agent_run.rs`,
//! `streams.rs`, `a2a.rs`) fail when a depth is wrong.
//!
//! Layers, bottom up: `capture`, `stream_out`. (`tests/layout.rs`)

use std::borrow::Cow;
use std::fmt;

use super::core::ActiveSpan;
use super::outcome::{ErrorType, LlmChunk, LlmResponse};
use super::stream::StreamSpan;
use super::text;

mod capture;
mod stream_out;

pub use capture::{
    CaptureHead, CaptureHeadJson, CaptureOk, CaptureOkHead, CaptureOkHeadJson, CaptureOkSerialize,
    CaptureSerialize, CaptureValue, CaptureValueHead, CaptureValueHeadJson, CaptureValueSerialize,
    CaptureWhole, HeadDebug, HeadJson,
};
pub use stream_out::{
    KindBoxed, KindLocalBoxed, KindOptionBoxed, KindOptionLocalBoxed, KindOptionStream, KindPlain,
    KindResultBoxed, KindResultLocalBoxed, KindResultStream, KindStream,
};

/// The probe expression for one ladder: the value wrapped in [`Probe`] behind the number of
/// `&`s that ladder needs. The single source of every call site's depth.
#[doc(hidden)]
#[macro_export]
macro_rules! __agent_trace_probe {
    (outcome, $value:expr) => {
        (&&&&&$crate::__private::Probe($value))
    };
    (outcome_debug, $value:expr) => {
        (&&&$crate::__private::Probe($value))
    };
    (outcome_late, $value:expr) => {
        (&&$crate::__private::Probe($value))
    };
    (llm, $value:expr) => {
        (&&&$crate::__private::Probe($value))
    };
    (item, $value:expr) => {
        (&&$crate::__private::Probe($value))
    };
    (llm_item, $value:expr) => {
        (&&&$crate::__private::Probe($value))
    };
    (stream_out, $value:expr) => {
        (&&&&&&&&&&$crate::__private::Probe($value))
    };
    (capture, $value:expr) => {
        (&&&&&&&&$crate::__private::Probe($value))
    };
    (capture_arg, $value:expr) => {
        (&&&&$crate::__private::Probe($value))
    };
}

/// Wraps a return value so method resolution can pick how to record it (autoref
/// specialization): `Result<_, E: ErrorType>`, then `Result<_, E: Display>`, then anything.
#[derive(Debug)]
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// The Rust type name, with `Box<dyn Error ...>` shortened (it names no concrete type).
pub(crate) fn type_name_of<E: ?Sized>() -> Cow<'static, str> {
    let name = std::any::type_name::<E>();
    if name.starts_with("alloc::boxed::Box<dyn ") {
        Cow::Borrowed("Box<dyn Error>")
    } else {
        Cow::Borrowed(name)
    }
}

// ---- outcome, outcome_debug, outcome_late: a return value ----

/// Highest priority: `Result` whose error chooses its `error.type` and has a `source()` chain.
pub trait RecordTypedErrorResult {
    /// Records the outcome.
    fn __agent_trace_record(&self, span: &mut ActiveSpan);
}
impl<T, E: ErrorType + std::error::Error + 'static> RecordTypedErrorResult
    for &&&&Probe<'_, Result<T, E>>
{
    fn __agent_trace_record(&self, span: &mut ActiveSpan) {
        match self.0 {
            Ok(_) => span.record_ok(),
            Err(e) => span.record_error(
                text::contained(type_name_of::<E>(), || e.error_type()),
                text::error_chain(e, text::MESSAGE_LIMIT),
            ),
        }
    }
}

/// Then: `Result` whose error chooses its `error.type`.
pub trait RecordTypedResult {
    /// Records the outcome.
    fn __agent_trace_record(&self, span: &mut ActiveSpan);
}
impl<T, E: ErrorType + fmt::Display> RecordTypedResult for &&&Probe<'_, Result<T, E>> {
    fn __agent_trace_record(&self, span: &mut ActiveSpan) {
        match self.0 {
            Ok(_) => span.record_ok(),
            Err(e) => span.record_error(
                text::contained(type_name_of::<E>(), || e.error_type()),
                text::display_alternate(e, text::MESSAGE_LIMIT),
            ),
        }
    }
}

/// Then: `Result` whose error is a `std::error::Error`: the message is the whole `source()`
/// chain (`reading config: No such file or directory`).
pub trait RecordErrorResult {
    /// Records the outcome.
    fn __agent_trace_record(&self, span: &mut ActiveSpan);
}
impl<T, E: std::error::Error + 'static> RecordErrorResult for &&Probe<'_, Result<T, E>> {
    fn __agent_trace_record(&self, span: &mut ActiveSpan) {
        match self.0 {
            Ok(_) => span.record_ok(),
            Err(e) => span.record_error(
                type_name_of::<E>(),
                text::error_chain(e, text::MESSAGE_LIMIT),
            ),
        }
    }
}

/// Then: any `Result` whose error is `Display` (`anyhow::Result`, aliases, boxes): its
/// alternate form, which for `anyhow` and `eyre` is the whole context chain.
pub trait RecordResult {
    /// Records the outcome.
    fn __agent_trace_record(&self, span: &mut ActiveSpan);
}
impl<T, E: fmt::Display> RecordResult for &Probe<'_, Result<T, E>> {
    fn __agent_trace_record(&self, span: &mut ActiveSpan) {
        match self.0 {
            Ok(_) => span.record_ok(),
            Err(e) => span.record_error(
                type_name_of::<E>(),
                text::display_alternate(e, text::MESSAGE_LIMIT),
            ),
        }
    }
}

/// `err(Debug)`, first: `Result` whose error chooses its `error.type`; the message is the
/// error's `Debug` form.
pub trait RecordDebugTypedResult {
    /// Records the outcome.
    fn __agent_trace_record(&self, span: &mut ActiveSpan);
}
impl<T, E: ErrorType + fmt::Debug> RecordDebugTypedResult for &&Probe<'_, Result<T, E>> {
    fn __agent_trace_record(&self, span: &mut ActiveSpan) {
        match self.0 {
            Ok(_) => span.record_ok(),
            Err(e) => span.record_error(
                text::contained(type_name_of::<E>(), || e.error_type()),
                text::debug(e, text::MESSAGE_LIMIT),
            ),
        }
    }
}

/// `err(Debug)`, then: any `Result` whose error is `Debug`.
pub trait RecordDebugResult {
    /// Records the outcome.
    fn __agent_trace_record(&self, span: &mut ActiveSpan);
}
impl<T, E: fmt::Debug> RecordDebugResult for &Probe<'_, Result<T, E>> {
    fn __agent_trace_record(&self, span: &mut ActiveSpan) {
        match self.0 {
            Ok(_) => span.record_ok(),
            Err(e) => span.record_error(type_name_of::<E>(), text::debug(e, text::MESSAGE_LIMIT)),
        }
    }
}

/// Last: any other value is a success.
pub trait RecordAny {
    /// Records the outcome.
    fn __agent_trace_record(&self, span: &mut ActiveSpan);
}
impl<T: ?Sized> RecordAny for Probe<'_, T> {
    fn __agent_trace_record(&self, span: &mut ActiveSpan) {
        span.record_ok();
    }
}

// ---- llm: a model call's return value ----

/// `#[llm_call]` on a `Result` whose `Ok` is an [`LlmResponse`].
pub trait LlmResult {
    /// Records usage and response attributes.
    fn __agent_trace_llm(&self, span: &mut ActiveSpan);
}
impl<T: LlmResponse, E> LlmResult for &&Probe<'_, Result<T, E>> {
    fn __agent_trace_llm(&self, span: &mut ActiveSpan) {
        if let Ok(v) = self.0 {
            span.record_llm(v);
        }
    }
}

/// `#[llm_call]` on a value that is an [`LlmResponse`].
pub trait LlmValue {
    /// Records usage and response attributes.
    fn __agent_trace_llm(&self, span: &mut ActiveSpan);
}
impl<T: LlmResponse> LlmValue for &Probe<'_, T> {
    fn __agent_trace_llm(&self, span: &mut ActiveSpan) {
        span.record_llm(self.0);
    }
}

/// `#[llm_call]` on anything else: nothing to read.
pub trait LlmAny {
    /// Records nothing.
    fn __agent_trace_llm(&self, span: &mut ActiveSpan);
}
impl<T: ?Sized> LlmAny for Probe<'_, T> {
    fn __agent_trace_llm(&self, _span: &mut ActiveSpan) {}
}

// ---- item: each item of a stream ----

/// Marks `Err` stream items; any other item is fine (autoref specialization, as for results).
pub trait RecordItemResult {
    /// Records the item.
    fn __agent_trace_item(&self, span: &mut StreamSpan);
}
impl<T, E: fmt::Display> RecordItemResult for &Probe<'_, Result<T, E>> {
    fn __agent_trace_item(&self, span: &mut StreamSpan) {
        if let Err(e) = self.0 {
            span.record_error(
                type_name_of::<E>(),
                text::display_alternate(e, text::MESSAGE_LIMIT),
            );
        }
    }
}

/// Any other stream item: nothing to record.
pub trait RecordItemAny {
    /// Records nothing.
    fn __agent_trace_item(&self, span: &mut StreamSpan);
}
impl<T: ?Sized> RecordItemAny for Probe<'_, T> {
    fn __agent_trace_item(&self, _span: &mut StreamSpan) {}
}

// ---- llm_item: each item of a model call's stream ----

/// `#[llm_call]` stream items that are `Result<chunk, E>`: the `Ok` chunks are read.
pub trait ChunkResult {
    /// Reads the chunk.
    fn __agent_trace_chunk(&self, span: &mut StreamSpan);
}
impl<T: LlmChunk, E> ChunkResult for &&Probe<'_, Result<T, E>> {
    fn __agent_trace_chunk(&self, span: &mut StreamSpan) {
        if let Ok(c) = self.0 {
            span.record_chunk(c);
        }
    }
}

/// `#[llm_call]` stream items that are chunks.
pub trait ChunkValue {
    /// Reads the chunk.
    fn __agent_trace_chunk(&self, span: &mut StreamSpan);
}
impl<T: LlmChunk> ChunkValue for &Probe<'_, T> {
    fn __agent_trace_chunk(&self, span: &mut StreamSpan) {
        span.record_chunk(self.0);
    }
}

/// Any other item of a model call's stream: nothing to read.
pub trait ChunkAny {
    /// Reads nothing.
    fn __agent_trace_chunk(&self, span: &mut StreamSpan);
}
impl<T: ?Sized> ChunkAny for Probe<'_, T> {
    fn __agent_trace_chunk(&self, _span: &mut StreamSpan) {}
}
