//! Running a traced body: `call` for sync bodies and for every poll, `Instrumented` for
//! futures (streams are in `stream.rs`). The span is current only while the body runs or is
//! polled; a panic is recorded and resumed; a future dropped early is marked cancelled.

use std::fmt;
use std::future::Future;
use std::panic::resume_unwind;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use super::core::{ActiveSpan, SpanSlot};

/// Runs a sync body with no span: `body()` for a closure that may be `FnMut` or `FnOnce`
/// (calling it in the expansion directly would need a `mut` binding for one and warn for the
/// other).
#[inline(always)]
pub fn call_once<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// Runs `body` with the span current (a sync body, or one poll of a traced future or
/// stream); records a panic, ends the span, and lets the panic continue. Every span the
/// runtime makes current, whichever integration made it, is made current here.
#[inline(always)]
pub fn call<R>(span: &mut Option<ActiveSpan>, body: impl FnOnce() -> R) -> R {
    let Some(s) = span.as_mut() else {
        return body();
    };
    match s.run(body) {
        Ok(r) => r,
        Err(payload) => {
            s.record_panic(&*payload);
            *span = None; // ends the span before the unwind continues
            resume_unwind(payload)
        }
    }
}

/// What a traced future does with its output and its span when it completes.
pub trait Finish<O> {
    /// What the future yields.
    type Output;
    /// Records `out` on the span (when there is one); may take the span, to hand it on to a
    /// stream. A span left in `span` ends right after.
    fn finish(self, out: O, span: &mut Option<ActiveSpan>) -> Self::Output;
}

/// [`Finish`] by a closure that reads the output (the integrations' futures).
#[derive(Debug)]
pub struct ByRef<R>(R);

impl<O, R: FnOnce(&O, &mut ActiveSpan)> Finish<O> for ByRef<R> {
    type Output = O;
    #[inline]
    fn finish(self, out: O, span: &mut Option<ActiveSpan>) -> O {
        if let Some(span) = span {
            (self.0)(&out, span);
        }
        out
    }
}

/// [`Finish`] by a closure that takes the output and the span (the macros' expansions: an
/// output that is a stream keeps the span until the stream ends).
#[derive(Debug)]
pub struct ByValue<R>(R);

impl<O, P, R: FnOnce(O, &mut Option<ActiveSpan>) -> P> Finish<O> for ByValue<R> {
    type Output = P;
    #[inline]
    fn finish(self, out: O, span: &mut Option<ActiveSpan>) -> P {
        (self.0)(out, span)
    }
}

/// Wraps a future: `record` reads its output when it completes, then the span ends.
#[inline]
pub fn instrument<F: Future, R: FnOnce(&F::Output, &mut ActiveSpan)>(
    span: Option<ActiveSpan>,
    future: F,
    record: R,
) -> Instrumented<F, ByRef<R>> {
    Instrumented {
        inner: future,
        span: SpanSlot::new(span),
        finish: Some(ByRef(record)),
    }
}

/// Wraps a future: `finish` takes its output and the span when it completes (and may keep
/// the span open, in a stream it returns).
#[inline]
pub fn instrument_with<F: Future, P, R: FnOnce(F::Output, &mut Option<ActiveSpan>) -> P>(
    span: Option<ActiveSpan>,
    future: F,
    finish: R,
) -> Instrumented<F, ByValue<R>> {
    Instrumented {
        inner: future,
        span: SpanSlot::new(span),
        finish: Some(ByValue(finish)),
    }
}

pin_project_lite::pin_project! {
    /// A future whose span is current during each poll (and only then), ends when it completes
    /// (or lives on in the stream it yields), records a panic, and records
    /// `error.type=cancelled` if dropped before completion.
    pub struct Instrumented<F, K> {
        #[pin]
        inner: F,
        span: SpanSlot,
        finish: Option<K>,
    }

    impl<F, K> PinnedDrop for Instrumented<F, K> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(mut span) = this.span.take() {
                span.record_cancelled();
            }
        }
    }
}

impl<F, K> fmt::Debug for Instrumented<F, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instrumented")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

impl<F: Future, K: Finish<F::Output>> Future for Instrumented<F, K> {
    type Output = K::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<K::Output> {
        let this = self.project();
        let inner = this.inner;
        match call(this.span.get_mut(), || inner.poll(cx)) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(out) => {
                let finish = this
                    .finish
                    .take()
                    .expect("Instrumented polled after completion");
                let out = finish.finish(out, this.span.get_mut());
                drop(this.span.take()); // ends the span, unless a stream took it
                Poll::Ready(out)
            }
        }
    }
}
