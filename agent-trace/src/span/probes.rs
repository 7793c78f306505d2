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
//! | `capture` | `capture_result` | 4 | `CaptureOkHead` (3), `CaptureOk` (2), `CaptureValueHead` (1), `CaptureValue` (0) |
//! | `capture_arg` | `capture(arg)`, `fields(k = ?v)` | 2 | `CaptureHead` (1: a [`HeadDebug`] value), `CaptureWhole` (0) |
//!
//! The depth of each call site is written once, in [`probe!`](crate::__private::probe): the
//! expansion invokes it with the ladder's name (`probe!(outcome, &value)`) and imports the
//! ladder's traits; a rung's own depth is the number of `&`s in its impl below. A depth
//! larger than the highest rung's plus one still works (auto-deref), a smaller one skips
//! rungs; the behaviour tests of every ladder (`tool_outcomes.rs`, `llm_and_agent_run.rs`,
//! `streams.rs`, `a2a.rs`) fail when a depth is wrong.

use std::borrow::Cow;
use std::fmt;

use super::core::ActiveSpan;
use super::outcome::{ErrorType, LlmResponse};
use super::start::Attrs;
use super::text;
use super::CAPTURE_LIMIT;

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
    (capture, $value:expr) => {
        (&&&&$crate::__private::Probe($value))
    };
    (capture_arg, $value:expr) => {
        (&&$crate::__private::Probe($value))
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
    fn __agent_trace_item(&self, span: &mut ActiveSpan);
}
impl<T, E: fmt::Display> RecordItemResult for &Probe<'_, Result<T, E>> {
    fn __agent_trace_item(&self, span: &mut ActiveSpan) {
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
    fn __agent_trace_item(&self, span: &mut ActiveSpan);
}
impl<T: ?Sized> RecordItemAny for Probe<'_, T> {
    fn __agent_trace_item(&self, _span: &mut ActiveSpan) {}
}

// ---- capture: `capture_result` ----

/// `capture_result` on a `Result` whose `Ok` is a slice, vector, array or string: records the
/// head of the `Ok` value only.
pub trait CaptureOkHead {
    /// Records the value.
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str);
}
impl<X: HeadDebug, E> CaptureOkHead for &&&Probe<'_, Result<X, E>> {
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str) {
        if let Ok(v) = self.0 {
            span.record_with_json(key, v.head_debug(CAPTURE_LIMIT), |_| {
                v.head_json(CAPTURE_LIMIT)
            });
        }
    }
}

/// `capture_result` on any other `Result`: records the `Ok` value.
pub trait CaptureOk {
    /// Records the value.
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str);
}
impl<T: fmt::Debug, E> CaptureOk for &&Probe<'_, Result<T, E>> {
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str) {
        if let Ok(v) = self.0 {
            span.record_value(key, v);
        }
    }
}

/// `capture_result` on a slice, vector, array or string: records its head.
pub trait CaptureValueHead {
    /// Records the value.
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str);
}
impl<X: HeadDebug> CaptureValueHead for &Probe<'_, X> {
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str) {
        let v = self.0;
        span.record_with_json(key, v.head_debug(CAPTURE_LIMIT), |_| {
            v.head_json(CAPTURE_LIMIT)
        });
    }
}

/// `capture_result` on any other `Debug` value.
pub trait CaptureValue {
    /// Records the value.
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str);
}
impl<T: fmt::Debug> CaptureValue for Probe<'_, T> {
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str) {
        span.record_value(key, self.0);
    }
}

// ---- capture_arg: `capture(arg)` and `fields(k = ?v)` ----

/// Values whose `Debug` would walk all of them even after the bounded writer refused more:
/// slices, vectors, arrays and strings (and references to them). Their head alone is
/// formatted (`text::debug_items`, `text::debug_str`), giving the same text.
pub trait HeadDebug {
    /// The `Debug` form cut to `limit` characters, from at most `limit + 1` items.
    fn head_debug(&self, limit: usize) -> String;

    /// The value as JSON for the GenAI content attributes: a string as a JSON string of its
    /// text cut to `limit` characters; anything else as the JSON string of its `Debug` form.
    fn head_json(&self, limit: usize) -> serde_json::Value {
        serde_json::Value::String(self.head_debug(limit))
    }
}
impl<T: fmt::Debug> HeadDebug for [T] {
    fn head_debug(&self, limit: usize) -> String {
        text::debug_items(self, limit)
    }
}
impl<T: fmt::Debug> HeadDebug for Vec<T> {
    fn head_debug(&self, limit: usize) -> String {
        text::debug_items(self, limit)
    }
}
impl<T: fmt::Debug, const N: usize> HeadDebug for [T; N] {
    fn head_debug(&self, limit: usize) -> String {
        text::debug_items(self, limit)
    }
}
impl HeadDebug for str {
    fn head_debug(&self, limit: usize) -> String {
        text::debug_str(self, limit)
    }
    fn head_json(&self, limit: usize) -> serde_json::Value {
        serde_json::Value::String(text::cut(self, limit))
    }
}
impl HeadDebug for String {
    fn head_debug(&self, limit: usize) -> String {
        text::debug_str(self, limit)
    }
    fn head_json(&self, limit: usize) -> serde_json::Value {
        serde_json::Value::String(text::cut(self, limit))
    }
}
impl<X: HeadDebug + ?Sized> HeadDebug for &X {
    fn head_debug(&self, limit: usize) -> String {
        (**self).head_debug(limit)
    }
    fn head_json(&self, limit: usize) -> serde_json::Value {
        (**self).head_json(limit)
    }
}
impl<X: HeadDebug + ?Sized> HeadDebug for &mut X {
    fn head_debug(&self, limit: usize) -> String {
        (**self).head_debug(limit)
    }
    fn head_json(&self, limit: usize) -> serde_json::Value {
        (**self).head_json(limit)
    }
}

/// A [`HeadDebug`] value: only its head is formatted, so an 8 MiB argument costs what its
/// first characters cost. The expansion also passes the value as `&dyn Debug`, which is
/// where a value that is not `Debug` gets its error.
pub trait CaptureHead {
    /// Records the value's bounded `Debug` form under `key`.
    fn __agent_trace_capture_arg(&self, a: &mut Attrs, key: &'static str, v: &dyn fmt::Debug);
}
impl<X: HeadDebug> CaptureHead for &Probe<'_, X> {
    fn __agent_trace_capture_arg(&self, a: &mut Attrs, key: &'static str, _: &dyn fmt::Debug) {
        a.text(key, self.0.head_debug(CAPTURE_LIMIT));
        if crate::state::capture_message_content() {
            a.json(key, self.0.head_json(CAPTURE_LIMIT));
        }
    }
}

/// Any other `Debug` value: formatted through the bounded writer.
pub trait CaptureWhole {
    /// Records the value's bounded `Debug` form under `key`.
    fn __agent_trace_capture_arg(&self, a: &mut Attrs, key: &'static str, v: &dyn fmt::Debug);
}
impl<T: ?Sized> CaptureWhole for Probe<'_, T> {
    fn __agent_trace_capture_arg(&self, a: &mut Attrs, key: &'static str, v: &dyn fmt::Debug) {
        let text = text::debug(v, CAPTURE_LIMIT);
        if crate::state::capture_message_content() {
            a.json(key, text::json_of_debug(&text));
        }
        a.text(key, text);
    }
}
