//! The traits through which a user's values become attributes: `fields(key = expr)` values
//! ([`ToAttributeValue`]), `#[llm_call]` request numbers and counts ([`RequestNumber`],
//! [`RequestCount`]) and stop sequences ([`StopSequences`]).

use std::borrow::Cow;

use opentelemetry::Value;

use super::text;
use super::CAPTURE_LIMIT;

/// Values a `fields(key = expr)` expression may have. For anything else write `?expr`
/// (Debug) or `%expr` (Display). An integer that does not fit in the attribute's `i64`
/// (`u64`, `u128`, `i128` beyond it) is recorded as its decimal text, never clamped; `None`
/// records no attribute.
///
/// Implement it for a type of your own to record it directly:
///
/// ```
/// use agent_trace::opentelemetry::Value;
///
/// struct Tenant(u32);
///
/// impl agent_trace::ToAttributeValue for Tenant {
///     fn to_attribute_value(&self) -> Option<Value> {
///         Some(Value::I64(i64::from(self.0)))
///     }
/// }
///
/// #[agent_trace::traced_tool(fields(app.tenant = tenant))]
/// fn bill(tenant: &Tenant) -> u32 {
///     tenant.0
/// }
/// # bill(&Tenant(7));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a span attribute value directly",
    label = "not a string, number or bool",
    note = "write `key = ?expr` to record it with Debug, or `key = %expr` with Display"
)]
pub trait ToAttributeValue {
    /// The OpenTelemetry value; `None` for no attribute.
    fn to_attribute_value(&self) -> Option<Value>;
}

macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl ToAttributeValue for $t {
            fn to_attribute_value(&self) -> Option<Value> {
                Some(text::int_value(*self))
            }
        }
    )*};
}
int_values!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, i128, u128);

impl ToAttributeValue for f32 {
    fn to_attribute_value(&self) -> Option<Value> {
        Some(Value::F64(f64::from(*self)))
    }
}
impl ToAttributeValue for f64 {
    fn to_attribute_value(&self) -> Option<Value> {
        Some(Value::F64(*self))
    }
}
impl ToAttributeValue for bool {
    fn to_attribute_value(&self) -> Option<Value> {
        Some(Value::Bool(*self))
    }
}
impl ToAttributeValue for str {
    fn to_attribute_value(&self) -> Option<Value> {
        Some(Value::String(text::cut(self, CAPTURE_LIMIT).into()))
    }
}
impl ToAttributeValue for String {
    fn to_attribute_value(&self) -> Option<Value> {
        self.as_str().to_attribute_value()
    }
}
impl ToAttributeValue for Cow<'_, str> {
    fn to_attribute_value(&self) -> Option<Value> {
        self.as_ref().to_attribute_value()
    }
}
impl<T: ToAttributeValue + ?Sized> ToAttributeValue for &T {
    fn to_attribute_value(&self) -> Option<Value> {
        (**self).to_attribute_value()
    }
}
impl<T: ToAttributeValue> ToAttributeValue for Option<T> {
    fn to_attribute_value(&self) -> Option<Value> {
        self.as_ref()?.to_attribute_value()
    }
}

/// Values of the `#[llm_call]` options recorded as doubles (`temperature`, `top_p`,
/// `frequency_penalty`, `presence_penalty`): any number, or an `Option` of one (`None`
/// records nothing), as clients keep them.
///
/// ```
/// #[agent_trace::llm_call(model = "local-7b", temperature = temperature, max_tokens = limit)]
/// fn complete(prompt: &str, temperature: Option<f32>, limit: u32) -> String {
///     prompt.to_uppercase()
/// }
/// # complete("hi", Some(0.2), 64);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a number a request parameter can be recorded from",
    label = "expected a number (`f32`, `f64`, an integer) or an `Option` of one"
)]
pub trait RequestNumber {
    /// The value; `None` for no attribute.
    fn request_number(&self) -> Option<f64>;
}

/// Values of the `#[llm_call]` options recorded as integers (`max_tokens`, `top_k`, `seed`,
/// `choice_count`): any integer, or an `Option` of one (`None` records nothing). One beyond
/// `i64` is recorded as its decimal text. See [`RequestNumber`] for an example.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an integer a request parameter can be recorded from",
    label = "expected an integer or an `Option` of one"
)]
pub trait RequestCount {
    /// The value; `None` for no attribute.
    fn request_count(&self) -> Option<Value>;
}

macro_rules! request_numbers {
    ($($t:ty),*) => {$(
        impl RequestNumber for $t {
            #[allow(clippy::cast_lossless, clippy::cast_precision_loss)]
            fn request_number(&self) -> Option<f64> {
                Some(*self as f64)
            }
        }
    )*};
}
request_numbers!(f32, f64, i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

macro_rules! request_counts {
    ($($t:ty),*) => {$(
        impl RequestCount for $t {
            fn request_count(&self) -> Option<Value> {
                Some(text::int_value(*self))
            }
        }
    )*};
}
request_counts!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, i128, u128);

impl<T: RequestNumber + ?Sized> RequestNumber for &T {
    fn request_number(&self) -> Option<f64> {
        (**self).request_number()
    }
}
impl<T: RequestNumber> RequestNumber for Option<T> {
    fn request_number(&self) -> Option<f64> {
        self.as_ref()?.request_number()
    }
}
impl<T: RequestCount + ?Sized> RequestCount for &T {
    fn request_count(&self) -> Option<Value> {
        (**self).request_count()
    }
}
impl<T: RequestCount> RequestCount for Option<T> {
    fn request_count(&self) -> Option<Value> {
        self.as_ref()?.request_count()
    }
}

/// Values of `#[llm_call(stop_sequences = expr)]`: a string, or a slice, array or vector
/// of strings, or an `Option` of one (`None` records nothing).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of stop sequences",
    label = "expected a string, or a slice, array or `Vec` of strings (or an `Option` of one)"
)]
pub trait StopSequences {
    /// Calls `f` with each sequence.
    fn stop_sequences(&self, f: &mut dyn FnMut(&str));
}
impl StopSequences for str {
    fn stop_sequences(&self, f: &mut dyn FnMut(&str)) {
        f(self)
    }
}
impl StopSequences for String {
    fn stop_sequences(&self, f: &mut dyn FnMut(&str)) {
        f(self)
    }
}
impl<S: AsRef<str>> StopSequences for [S] {
    fn stop_sequences(&self, f: &mut dyn FnMut(&str)) {
        for s in self.iter().take(64) {
            f(s.as_ref())
        }
    }
}
impl<S: AsRef<str>, const N: usize> StopSequences for [S; N] {
    fn stop_sequences(&self, f: &mut dyn FnMut(&str)) {
        self.as_slice().stop_sequences(f)
    }
}
impl<S: AsRef<str>> StopSequences for Vec<S> {
    fn stop_sequences(&self, f: &mut dyn FnMut(&str)) {
        self.as_slice().stop_sequences(f)
    }
}
impl<T: StopSequences + ?Sized> StopSequences for &T {
    fn stop_sequences(&self, f: &mut dyn FnMut(&str)) {
        (**self).stop_sequences(f)
    }
}
impl<T: StopSequences> StopSequences for Option<T> {
    fn stop_sequences(&self, f: &mut dyn FnMut(&str)) {
        if let Some(v) = self {
            v.stop_sequences(f)
        }
    }
}
