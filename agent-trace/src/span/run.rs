//! Running a traced body: `call` for sync bodies, `Instrumented` for futures and
//! `InstrumentedStream` for streams. The span is current only while the body runs or is
//! polled; a panic is recorded and resumed; a future dropped early is marked cancelled.

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::KeyValue;

use super::core::{ActiveSpan, SpanSlot};
use super::semconv as k;

/// Runs a sync body with no span: `body()` for a closure that may be `FnMut` or `FnOnce`
/// (calling it in the expansion directly would need a `mut` binding for one and warn for the
/// other).
#[inline(always)]
pub fn call_once<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// Runs a sync body with the span current; records a panic and lets it continue.
#[inline(always)]
pub fn call<R>(span: &mut Option<ActiveSpan>, body: impl FnOnce() -> R) -> R {
    let Some(s) = span.as_mut() else {
        return body();
    };
    let guard = s.attach();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(r) => {
            drop(guard);
            r
        }
        Err(payload) => {
            drop(guard);
            s.record_panic(&*payload);
            *span = None; // ends the span before the unwind continues
            resume_unwind(payload)
        }
    }
}

/// Wraps a future returned by a non-async function (`-> impl Future`, `-> Pin<Box<dyn Future>>`).
#[inline]
pub fn instrument<F: Future, R: FnOnce(&F::Output, &mut ActiveSpan)>(
    span: Option<ActiveSpan>,
    future: F,
    record: R,
) -> Instrumented<F, R> {
    Instrumented {
        inner: future,
        span: SpanSlot::new(span),
        record: Some(record),
    }
}

pin_project_lite::pin_project! {
    /// A future whose span is current during each poll (and only then), ends when it completes,
    /// records a panic, and records `error.type=cancelled` if dropped before completion.
    pub struct Instrumented<F, R> {
        #[pin]
        inner: F,
        span: SpanSlot,
        record: Option<R>,
    }

    impl<F, R> PinnedDrop for Instrumented<F, R> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(mut span) = this.span.take() {
                span.record_cancelled();
            }
        }
    }
}

impl<F, R> fmt::Debug for Instrumented<F, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instrumented")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

impl<F: Future, R: FnOnce(&F::Output, &mut ActiveSpan)> Future for Instrumented<F, R> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(span) = this.span.get_mut().as_mut() else {
            return this.inner.poll(cx);
        };
        let guard = span.attach();
        let polled = catch_unwind(AssertUnwindSafe(|| this.inner.poll(cx)));
        drop(guard);
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => {
                if let (Some(mut span), Some(record)) = (this.span.take(), this.record.take()) {
                    record(&out, &mut span);
                }
                Poll::Ready(out)
            }
            Err(payload) => {
                if let Some(mut span) = this.span.take() {
                    span.record_panic(&*payload);
                }
                resume_unwind(payload)
            }
        }
    }
}

/// Wraps a stream returned by a traced function.
#[inline]
pub fn instrument_stream<S, R>(
    span: Option<ActiveSpan>,
    stream: S,
    record_item: R,
) -> InstrumentedStream<S, R>
where
    S: futures_core::Stream,
    R: FnMut(&S::Item, &mut ActiveSpan),
{
    if let Some(span) = span.as_ref().filter(|s| s.llm) {
        // A model call that returns a stream is a streaming request.
        span.cx
            .span()
            .set_attribute(KeyValue::new(k::GEN_AI_REQUEST_STREAM, true));
    }
    InstrumentedStream {
        inner: stream,
        span,
        record_item,
        started: Instant::now(),
        items: 0,
    }
}

pin_project_lite::pin_project! {
    /// A stream whose span is current while it is polled and lasts until the stream ends or is
    /// dropped. It records `agent_trace.stream.time_to_first_item_ms`, a `first_item` event,
    /// `agent_trace.stream.items` and `agent_trace.stream.completed`; `Err` items mark the span
    /// as an error (the stream goes on).
    pub struct InstrumentedStream<S, R> {
        #[pin]
        inner: S,
        span: Option<ActiveSpan>,
        record_item: R,
        started: Instant,
        items: u64,
    }

    impl<S, R> PinnedDrop for InstrumentedStream<S, R> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(span) = this.span.take() {
                finish_stream(&span, *this.items, false);
            }
        }
    }
}

fn finish_stream(span: &ActiveSpan, items: u64, completed: bool) {
    span.cx.span().set_attribute(KeyValue::new(
        k::AGENT_TRACE_STREAM_ITEMS,
        i64::try_from(items).unwrap_or(i64::MAX),
    ));
    span.cx
        .span()
        .set_attribute(KeyValue::new(k::AGENT_TRACE_STREAM_COMPLETED, completed));
}

impl<S, R> fmt::Debug for InstrumentedStream<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstrumentedStream")
            .field("items", &self.items)
            .finish_non_exhaustive()
    }
}

impl<S, R> futures_core::Stream for InstrumentedStream<S, R>
where
    S: futures_core::Stream,
    R: FnMut(&S::Item, &mut ActiveSpan),
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let Some(span) = this.span.as_mut() else {
            return this.inner.poll_next(cx);
        };
        let guard = span.attach();
        let polled = catch_unwind(AssertUnwindSafe(|| this.inner.poll_next(cx)));
        drop(guard);
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(Some(item))) => {
                if *this.items == 0 {
                    let elapsed = this.started.elapsed().as_secs_f64();
                    // A model's stream: the GenAI key, in seconds; any other stream: ours.
                    let first = match span.llm {
                        true => KeyValue::new(k::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, elapsed),
                        false => KeyValue::new(
                            k::AGENT_TRACE_STREAM_TIME_TO_FIRST_ITEM_MS,
                            elapsed * 1000.0,
                        ),
                    };
                    span.cx.span().set_attribute(first);
                    span.cx.span().add_event(k::FIRST_ITEM_EVENT, vec![]);
                }
                *this.items += 1;
                (this.record_item)(&item, span);
                Poll::Ready(Some(item))
            }
            Ok(Poll::Ready(None)) => {
                if let Some(span) = this.span.take() {
                    finish_stream(&span, *this.items, true);
                }
                Poll::Ready(None)
            }
            Err(payload) => {
                if let Some(mut span) = this.span.take() {
                    span.record_panic(&*payload);
                    finish_stream(&span, *this.items, false);
                }
                resume_unwind(payload)
            }
        }
    }
}
