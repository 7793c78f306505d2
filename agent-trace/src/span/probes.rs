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
//! | `capture` | `capture_result` | 8 | `CaptureOkHeadJson` (7), `CaptureOkHead` (6), `CaptureOkSerialize` (5), `CaptureOk` (4), `CaptureValueHeadJson` (3), `CaptureValueHead` (2), `CaptureValueSerialize` (1), `CaptureValue` (0) |
//! | `capture_arg` | `capture(arg)`, `fields(k = ?v)` | 4 | `CaptureHeadJson` (3: [`HeadDebug`] + [`HeadJson`]), `CaptureHead` (2: [`HeadDebug`]), `CaptureSerialize` (1), `CaptureWhole` (0) |
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
//
// The text (`agent_trace.result`) is always the bounded `Debug` form; the JSON form
// (`gen_ai.tool.call.result`, with content capture on) is a string's text, a `Serialize`
// value's JSON, or else the `Debug` text as a JSON string. Slices, vectors, arrays and strings
// come first, so that only their head is formatted.

/// `capture_result` on a `Result` whose `Ok` is a string, or a slice, vector or array of
/// `Serialize` items.
pub trait CaptureOkHeadJson {
    /// Records the value.
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str);
}
impl<X: HeadDebug + HeadJson, E> CaptureOkHeadJson for &&&&&&&Probe<'_, Result<X, E>> {
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str) {
        if let Ok(v) = self.0 {
            span.record_with_json(key, v.head_debug(CAPTURE_LIMIT), |_| {
                v.head_json(CAPTURE_LIMIT)
            });
        }
    }
}

/// `capture_result` on a `Result` whose `Ok` is any other slice, vector or array: records
/// its head.
pub trait CaptureOkHead {
    /// Records the value.
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str);
}
impl<X: HeadDebug, E> CaptureOkHead for &&&&&&Probe<'_, Result<X, E>> {
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str) {
        if let Ok(v) = self.0 {
            span.record_text(key, v.head_debug(CAPTURE_LIMIT));
        }
    }
}

/// `capture_result` on a `Result` whose `Ok` is `Serialize`.
pub trait CaptureOkSerialize {
    /// Records the value.
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str);
}
impl<T: fmt::Debug + serde::Serialize, E> CaptureOkSerialize for &&&&&Probe<'_, Result<T, E>> {
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str) {
        if let Ok(v) = self.0 {
            record_serialize(span, key, v);
        }
    }
}

/// `capture_result` on any other `Result`: records the `Ok` value.
pub trait CaptureOk {
    /// Records the value.
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str);
}
impl<T: fmt::Debug, E> CaptureOk for &&&&Probe<'_, Result<T, E>> {
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str) {
        if let Ok(v) = self.0 {
            span.record_value(key, v);
        }
    }
}

/// `capture_result` on a string, or a slice, vector or array of `Serialize` items.
pub trait CaptureValueHeadJson {
    /// Records the value.
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str);
}
impl<X: HeadDebug + HeadJson> CaptureValueHeadJson for &&&Probe<'_, X> {
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str) {
        let v = self.0;
        span.record_with_json(key, v.head_debug(CAPTURE_LIMIT), |_| {
            v.head_json(CAPTURE_LIMIT)
        });
    }
}

/// `capture_result` on any other slice, vector or array: records its head.
pub trait CaptureValueHead {
    /// Records the value.
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str);
}
impl<X: HeadDebug> CaptureValueHead for &&Probe<'_, X> {
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str) {
        span.record_text(key, self.0.head_debug(CAPTURE_LIMIT));
    }
}

/// `capture_result` on a `Serialize` value.
pub trait CaptureValueSerialize {
    /// Records the value.
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str);
}
impl<T: fmt::Debug + serde::Serialize> CaptureValueSerialize for &Probe<'_, T> {
    fn __agent_trace_capture(&self, span: &mut ActiveSpan, key: &'static str) {
        record_serialize(span, key, self.0);
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

/// Records a `Serialize` value: its `Debug` text, and its JSON for the GenAI attribute (the
/// `Debug` text as a JSON string when serializing fails).
fn record_serialize<T: fmt::Debug + serde::Serialize + ?Sized>(
    span: &mut ActiveSpan,
    key: &'static str,
    v: &T,
) {
    span.record_with_json(key, text::debug(&v, CAPTURE_LIMIT), |debug| {
        text::json(v, CAPTURE_LIMIT).unwrap_or_else(|| text::json_of_debug(debug))
    });
}

// ---- capture_arg: `capture(arg)` and `fields(k = ?v)` ----

/// Values whose `Debug` would walk all of them even after the bounded writer refused more:
/// slices, vectors, arrays and strings (and references to them). Their head alone is
/// formatted (`text::debug_items`, `text::debug_str`), giving the same text.
pub trait HeadDebug {
    /// The `Debug` form cut to `limit` characters, from at most `limit + 1` items.
    fn head_debug(&self, limit: usize) -> String;
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
}
impl HeadDebug for String {
    fn head_debug(&self, limit: usize) -> String {
        text::debug_str(self, limit)
    }
}
impl<X: HeadDebug + ?Sized> HeadDebug for &X {
    fn head_debug(&self, limit: usize) -> String {
        (**self).head_debug(limit)
    }
}
impl<X: HeadDebug + ?Sized> HeadDebug for &mut X {
    fn head_debug(&self, limit: usize) -> String {
        (**self).head_debug(limit)
    }
}

/// The JSON form of a [`HeadDebug`] value that has one, for the GenAI content attributes:
/// a string as a JSON string of its text cut to `limit` characters (a string stays a string),
/// a slice, vector or array of `Serialize` items as a JSON array of at most `limit` bytes
/// (longer JSON is cut and kept as a JSON string, so the attribute stays valid JSON).
pub trait HeadJson {
    /// The value as JSON.
    fn head_json(&self, limit: usize) -> serde_json::Value;
}
impl HeadJson for str {
    fn head_json(&self, limit: usize) -> serde_json::Value {
        serde_json::Value::String(text::cut(self, limit))
    }
}
impl HeadJson for String {
    fn head_json(&self, limit: usize) -> serde_json::Value {
        serde_json::Value::String(text::cut(self, limit))
    }
}
impl<T: serde::Serialize + fmt::Debug> HeadJson for [T] {
    fn head_json(&self, limit: usize) -> serde_json::Value {
        // At most `limit + 1` items: each writes at least one character of JSON.
        let head = &self[..self.len().min(limit.saturating_add(1))];
        text::json(head, limit)
            .unwrap_or_else(|| serde_json::Value::String(text::debug_items(self, limit)))
    }
}
impl<T: serde::Serialize + fmt::Debug> HeadJson for Vec<T> {
    fn head_json(&self, limit: usize) -> serde_json::Value {
        self.as_slice().head_json(limit)
    }
}
impl<T: serde::Serialize + fmt::Debug, const N: usize> HeadJson for [T; N] {
    fn head_json(&self, limit: usize) -> serde_json::Value {
        self.as_slice().head_json(limit)
    }
}
impl<X: HeadJson + ?Sized> HeadJson for &X {
    fn head_json(&self, limit: usize) -> serde_json::Value {
        (**self).head_json(limit)
    }
}
impl<X: HeadJson + ?Sized> HeadJson for &mut X {
    fn head_json(&self, limit: usize) -> serde_json::Value {
        (**self).head_json(limit)
    }
}

/// A string, or a slice, vector or array of `Serialize` items: only its head is formatted,
/// so an 8 MiB argument costs what its first characters cost. The expansion also passes the
/// value as `&dyn Debug`, which is where a value that is not `Debug` gets its error.
pub trait CaptureHeadJson {
    /// Records the value's bounded `Debug` form under `key`, and its JSON.
    fn __agent_trace_capture_arg(&self, a: &mut Attrs, key: &'static str, v: &dyn fmt::Debug);
}
impl<X: HeadDebug + HeadJson> CaptureHeadJson for &&&Probe<'_, X> {
    fn __agent_trace_capture_arg(&self, a: &mut Attrs, key: &'static str, _: &dyn fmt::Debug) {
        a.text(key, self.0.head_debug(CAPTURE_LIMIT));
        if crate::state::capture_message_content() {
            a.json(key, self.0.head_json(CAPTURE_LIMIT));
        }
    }
}

/// Any other [`HeadDebug`] value: its head's `Debug` form, as a JSON string too.
pub trait CaptureHead {
    /// Records the value's bounded `Debug` form under `key`.
    fn __agent_trace_capture_arg(&self, a: &mut Attrs, key: &'static str, v: &dyn fmt::Debug);
}
impl<X: HeadDebug> CaptureHead for &&Probe<'_, X> {
    fn __agent_trace_capture_arg(&self, a: &mut Attrs, key: &'static str, _: &dyn fmt::Debug) {
        let text = self.0.head_debug(CAPTURE_LIMIT);
        if crate::state::capture_message_content() {
            a.json(key, serde_json::Value::String(text.clone()));
        }
        a.text(key, text);
    }
}

/// A `Serialize` value: its `Debug` form, and its JSON.
pub trait CaptureSerialize {
    /// Records the value's bounded `Debug` form under `key`, and its JSON.
    fn __agent_trace_capture_arg(&self, a: &mut Attrs, key: &'static str, v: &dyn fmt::Debug);
}
impl<T: serde::Serialize + ?Sized> CaptureSerialize for &Probe<'_, T> {
    fn __agent_trace_capture_arg(&self, a: &mut Attrs, key: &'static str, v: &dyn fmt::Debug) {
        let text = text::debug(v, CAPTURE_LIMIT);
        if crate::state::capture_message_content() {
            let json =
                text::json(self.0, CAPTURE_LIMIT).unwrap_or_else(|| text::json_of_debug(&text));
            a.json(key, json);
        }
        a.text(key, text);
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
