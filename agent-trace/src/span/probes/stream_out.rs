//! The `stream_out` ladder: a returned value that is a stream keeps the span until the
//! stream ends (see the table in `mod.rs`).

use std::pin::Pin;

use futures_core::Stream;

use super::super::core::ActiveSpan;
use super::super::stream::{instrument_stream, StreamSpan};
use super::Probe;

// ---- stream_out: a return value that may be a stream ----

/// A boxed stream that may cross threads, as `BoxStream` and clients' aliases are.
type Boxed<'a, I> = Pin<Box<dyn Stream<Item = I> + Send + 'a>>;
/// A boxed stream that stays on its thread (`LocalBoxStream`).
type LocalBoxed<'a, I> = Pin<Box<dyn Stream<Item = I> + 'a>>;

macro_rules! stream_kinds {
    ($($(#[$doc:meta])* $kind:ident => $tag:ident;)*) => {$(
        $(#[$doc])*
        pub trait $kind {
            /// The tag whose `finish` handles the value.
            fn __agent_trace_stream_kind(&self) -> $tag {
                $tag
            }
        }
    )*};
}

stream_kinds! {
    /// `Result<Pin<Box<dyn Stream + Send>>, E>`: the `Ok` stream in the span.
    KindResultBoxed => ResultBoxedTag;
    /// `Result<Pin<Box<dyn Stream>>, E>`: the `Ok` stream in the span.
    KindResultLocalBoxed => ResultLocalBoxedTag;
    /// `Option<Pin<Box<dyn Stream + Send>>>`: the stream in the span.
    KindOptionBoxed => OptionBoxedTag;
    /// `Option<Pin<Box<dyn Stream>>>`: the stream in the span.
    KindOptionLocalBoxed => OptionLocalBoxedTag;
    /// `Pin<Box<dyn Stream + Send>>`: the stream in the span.
    KindBoxed => BoxedTag;
    /// `Pin<Box<dyn Stream>>`: the stream in the span.
    KindLocalBoxed => LocalBoxedTag;
    /// `Result<S, E>` with `S` a stream of another type: cannot be wrapped in place.
    KindResultStream => UnwrappableTag;
    /// `Option<S>` with `S` a stream of another type: cannot be wrapped in place.
    KindOptionStream => UnwrappableTag;
    /// A stream of another type: cannot be wrapped in place.
    KindStream => UnwrappableTag;
    /// Anything else: the span ends with the call.
    KindPlain => PlainTag;
}

/// The `stream_out` tags: which `finish` a return value gets.
macro_rules! tags {
    ($($(#[$doc:meta])* $tag:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $tag;
    )*};
}

tags! {
    /// A `Result` of a boxed stream that may cross threads.
    ResultBoxedTag;
    /// A `Result` of a boxed stream that stays on its thread.
    ResultLocalBoxedTag;
    /// An `Option` of a boxed stream that may cross threads.
    OptionBoxedTag;
    /// An `Option` of a boxed stream that stays on its thread.
    OptionLocalBoxedTag;
    /// A boxed stream that may cross threads.
    BoxedTag;
    /// A boxed stream that stays on its thread.
    LocalBoxedTag;
    /// A stream (or a `Result` or `Option` of one) of a type that cannot be wrapped in place.
    UnwrappableTag;
    /// Not a stream.
    PlainTag;
}

impl<'a, I, E> KindResultBoxed for &&&&&&&&&Probe<'_, Result<Boxed<'a, I>, E>> {}
impl<'a, I, E> KindResultLocalBoxed for &&&&&&&&Probe<'_, Result<LocalBoxed<'a, I>, E>> {}
impl<'a, I> KindOptionBoxed for &&&&&&&Probe<'_, Option<Boxed<'a, I>>> {}
impl<'a, I> KindOptionLocalBoxed for &&&&&&Probe<'_, Option<LocalBoxed<'a, I>>> {}
impl<'a, I> KindBoxed for &&&&&Probe<'_, Boxed<'a, I>> {}
impl<'a, I> KindLocalBoxed for &&&&Probe<'_, LocalBoxed<'a, I>> {}
impl<S: Stream, E> KindResultStream for &&&Probe<'_, Result<S, E>> {}
impl<S: Stream> KindOptionStream for &&Probe<'_, Option<S>> {}
impl<S: Stream> KindStream for &Probe<'_, S> {}
impl<T: ?Sized> KindPlain for Probe<'_, T> {}

/// The `finish` of the tags of one kind of boxed stream (`Send` or not): the stream (in a
/// `Result`'s `Ok`, in an `Option`, or bare) boxed again in the span's stream.
macro_rules! boxed_tags {
    ($boxed:ident, $result:ident, $option:ident, $alias:ident $(, $send:ident)?) => {
        impl $result {
            /// The `Ok` stream, boxed again in the span's stream.
            pub fn finish<'a, I: 'a, E, R>(
                self,
                out: Result<$alias<'a, I>, E>,
                span: &mut Option<ActiveSpan>,
                record_item: R,
            ) -> Result<$alias<'a, I>, E>
            where
                R: FnMut(&I, &mut StreamSpan) $(+ $send)? + 'a,
            {
                out.map(|s| $boxed.finish(s, span, record_item))
            }
        }

        impl $option {
            /// The stream, boxed again in the span's stream.
            pub fn finish<'a, I: 'a, R>(
                self,
                out: Option<$alias<'a, I>>,
                span: &mut Option<ActiveSpan>,
                record_item: R,
            ) -> Option<$alias<'a, I>>
            where
                R: FnMut(&I, &mut StreamSpan) $(+ $send)? + 'a,
            {
                out.map(|s| $boxed.finish(s, span, record_item))
            }
        }

        impl $boxed {
            /// The stream, boxed again in the span's stream.
            pub fn finish<'a, I: 'a, R>(
                self,
                out: $alias<'a, I>,
                span: &mut Option<ActiveSpan>,
                record_item: R,
            ) -> $alias<'a, I>
            where
                R: FnMut(&I, &mut StreamSpan) $(+ $send)? + 'a,
            {
                match span.take() {
                    None => out,
                    span => Box::pin(instrument_stream(span, out, record_item)),
                }
            }
        }
    };
}

boxed_tags!(BoxedTag, ResultBoxedTag, OptionBoxedTag, Boxed, Send);
boxed_tags!(
    LocalBoxedTag,
    ResultLocalBoxedTag,
    OptionLocalBoxedTag,
    LocalBoxed
);

/// Implemented for no type a function returns: the bound that makes a traced function fail
/// to compile when it returns a stream its span cannot follow.
#[diagnostic::on_unimplemented(
    message = "this traced function returns a stream (`{Self}`), and its span would end before the stream does",
    label = "a stream of a concrete type cannot be kept in the span",
    note = "return `impl Stream<Item = ...>` (also inside `Result` or `Option`), or a boxed `Pin<Box<dyn Stream<Item = ...> + Send>>`: the span then lasts until the stream ends",
    note = "or write `stream = false` in the macro's options to end the span when the function returns"
)]
pub trait ReturnedStreamIsWrappable {}

/// The one type [`ReturnedStreamIsWrappable`] is implemented for (so the compiler does not
/// suggest implementing it).
#[allow(dead_code)]
enum NeverReturned {}
impl ReturnedStreamIsWrappable for NeverReturned {}

macro_rules! unwrappable {
    ($($tag:ident),*) => {$(
        impl $tag {
            /// A compile error (see [`ReturnedStreamIsWrappable`]).
            pub fn finish<T: ReturnedStreamIsWrappable, R: FnMut(&(), &mut StreamSpan)>(
                self,
                out: T,
                _span: &mut Option<ActiveSpan>,
                _record_item: R,
            ) -> T {
                out
            }
        }
    )*};
}
unwrappable!(UnwrappableTag);

impl PlainTag {
    /// The value as it is; the span ends with the call.
    #[inline(always)]
    pub fn finish<T, R: FnMut(&(), &mut StreamSpan)>(
        self,
        out: T,
        _span: &mut Option<ActiveSpan>,
        _record_item: R,
    ) -> T {
        out
    }
}
