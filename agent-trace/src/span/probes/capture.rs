//! The `capture` and `capture_arg` ladders: `capture_result` and `capture(arg)` values, as
//! bounded `Debug` text and, with content capture on, as JSON.

use std::fmt;

use super::super::core::ActiveSpan;
use super::super::start::Attrs;
use super::super::text;
use super::super::CAPTURE_LIMIT;
use super::Probe;

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
