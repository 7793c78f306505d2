//! Streams in their span: a stream that a traced function returns (directly, in a `Result` or
//! `Option`, boxed or not, from an `async fn` or not) keeps the span open until it ends or is
//! dropped, is current while it is polled, and for a model call reads what its chunks say
//! ([`LlmChunk`]): usage, response id and model, finish reasons, and the stream metrics.

use std::fmt;
use std::panic::resume_unwind;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::KeyValue;

use super::core::{text_messages, ActiveSpan};
use super::ledger::Counts;
use super::outcome::LlmChunk;
use super::semconv as k;
use super::text;
use super::text::{count_value, string_array};
use super::CAPTURE_LIMIT;
use crate::state::capture_message_content;

/// How many finish reasons a streamed answer keeps (one per choice; a stream that repeats
/// them cannot grow the span without bound).
const MAX_FINISH_REASONS: usize = 64;

/// A stream's span while the stream runs: the span, when it started, the items so far and,
/// for a model call, what the chunks said.
pub struct StreamSpan {
    span: ActiveSpan,
    started: Instant,
    last_item: Instant,
    items: u64,
    /// For a model call (`#[llm_call]`) only.
    chunks: Option<Box<ChunkTotals>>,
}

impl fmt::Debug for StreamSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamSpan")
            .field("items", &self.items)
            .finish_non_exhaustive()
    }
}

/// What the chunks of a streamed model answer said so far.
#[derive(Debug, Default)]
struct ChunkTotals {
    input: Option<u64>,
    output: Option<u64>,
    cache_read: Option<u64>,
    cache_write: Option<u64>,
    reasoning: Option<u64>,
    response_id: Option<String>,
    response_model: Option<String>,
    finish_reasons: Vec<String>,
    /// The answer's text (only with content capture on), at most [`CAPTURE_LIMIT`]
    /// characters, `…` appended once cut.
    text: String,
    text_chars: usize,
    /// The attributes of the stream metrics, made at the first chunk.
    #[cfg(feature = "metrics")]
    metric_attributes: Option<Vec<KeyValue>>,
}

impl ChunkTotals {
    /// Adds what one chunk says. Its accessors are user code: a panic in one costs that value.
    fn add(&mut self, c: &dyn LlmChunk) {
        let latest = |slot: &mut Option<u64>, v: Option<u64>| {
            if v.is_some() {
                *slot = v;
            }
        };
        latest(&mut self.input, text::contained(None, || c.input_tokens()));
        latest(
            &mut self.output,
            text::contained(None, || c.output_tokens()),
        );
        latest(
            &mut self.cache_read,
            text::contained(None, || c.cache_read_input_tokens()),
        );
        latest(
            &mut self.cache_write,
            text::contained(None, || c.cache_write_input_tokens()),
        );
        latest(
            &mut self.reasoning,
            text::contained(None, || c.reasoning_output_tokens()),
        );
        if self.response_id.is_none() {
            self.response_id = text::contained(None, || c.response_id().map(|s| text::cut(s, 256)))
                .filter(|s| !s.is_empty());
        }
        if self.response_model.is_none() {
            self.response_model =
                text::contained(None, || c.response_model().map(|s| text::cut(s, 256)))
                    .filter(|s| !s.is_empty());
        }
        let room = MAX_FINISH_REASONS.saturating_sub(self.finish_reasons.len());
        if room > 0 {
            let reasons = text::contained(Vec::new(), || {
                c.finish_reasons()
                    .into_iter()
                    .take(room)
                    .map(|r| text::cut(r, 256))
                    .collect::<Vec<_>>()
            });
            self.finish_reasons.extend(reasons);
        }
        if capture_message_content() && self.text_chars <= CAPTURE_LIMIT {
            if let Some(delta) = text::contained(None, || c.output_text().map(str::to_string)) {
                self.append_text(&delta);
            }
        }
    }

    fn append_text(&mut self, delta: &str) {
        for ch in delta.chars() {
            if self.text_chars == CAPTURE_LIMIT {
                self.text.push('…');
                self.text_chars += 1;
                return;
            }
            self.text.push(ch);
            self.text_chars += 1;
        }
    }

    #[cfg(feature = "metrics")]
    fn usage(&self) -> Option<super::outcome::TokenUsage> {
        if self.input.is_none() && self.output.is_none() {
            return None;
        }
        Some(super::outcome::TokenUsage {
            input_tokens: self.input.unwrap_or(0),
            output_tokens: self.output.unwrap_or(0),
        })
    }

    /// Puts the totals on the span (and the usage into its metrics) when the stream ends.
    fn record(self, span: &mut ActiveSpan) {
        #[cfg(feature = "metrics")]
        if let Some(m) = &mut span.metrics {
            m.usage = self.usage();
            m.response_model = self.response_model.clone();
        }
        let s = span.cx.span();
        let counts = Counts {
            input: self.input,
            output: self.output,
            cache_read: self.cache_read,
            cache_write: self.cache_write,
            reasoning: self.reasoning,
        };
        for kv in counts.attributes() {
            s.set_attribute(kv);
        }
        span.record_usage(&counts, self.response_model.as_deref());
        super::events::note_details(&span.cx, counts.attributes());
        if let Some(id) = self.response_id {
            s.set_attribute(KeyValue::new(k::GEN_AI_RESPONSE_ID, id));
        }
        if let Some(model) = self.response_model {
            s.set_attribute(KeyValue::new(k::GEN_AI_RESPONSE_MODEL, model));
        }
        if !self.finish_reasons.is_empty() {
            s.set_attribute(KeyValue::new(
                k::GEN_AI_RESPONSE_FINISH_REASONS,
                string_array(self.finish_reasons),
            ));
        }
        if capture_message_content() && !self.text.is_empty() {
            let output = KeyValue::new(
                k::GEN_AI_OUTPUT_MESSAGES,
                text_messages("assistant", self.text),
            );
            super::events::note_details(&span.cx, [output.clone()]);
            s.set_attribute(output);
        }
    }
}

impl StreamSpan {
    fn new(span: ActiveSpan) -> Self {
        if span.llm.is_some() {
            // A model call that returns a stream is a streaming request.
            span.cx
                .span()
                .set_attribute(KeyValue::new(k::GEN_AI_REQUEST_STREAM, true));
        }
        let now = Instant::now();
        StreamSpan {
            chunks: span.llm.map(|_| Box::default()),
            span,
            started: now,
            last_item: now,
            items: 0,
        }
    }

    /// Marks the span as an error (an `Err` item; the stream goes on).
    pub fn record_error(&mut self, error_type: std::borrow::Cow<'static, str>, message: String) {
        self.span.record_error(error_type, message);
    }

    /// Adds what a model's chunk says (only on a model call's stream).
    pub fn record_chunk(&mut self, chunk: &dyn LlmChunk) {
        if let Some(totals) = &mut self.chunks {
            totals.add(chunk);
        }
    }

    /// Counts an item and measures its time: time to the first one (attribute, event and
    /// `gen_ai.client.inference.time_to_first_chunk`), then between chunks
    /// (`gen_ai.client.inference.time_per_output_chunk`) for a model call with metrics on.
    /// Other items read no clock.
    fn item(&mut self) {
        if self.items == 0 {
            let now = Instant::now();
            let elapsed = now.duration_since(self.started).as_secs_f64();
            // A model's stream: the GenAI key, in seconds; any other stream: ours.
            let first = match self.span.llm.is_some() {
                true => KeyValue::new(k::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, elapsed),
                false => KeyValue::new(
                    k::AGENT_TRACE_STREAM_TIME_TO_FIRST_ITEM_MS,
                    elapsed * 1000.0,
                ),
            };
            let s = self.span.cx.span();
            s.set_attribute(first);
            s.add_event(k::FIRST_ITEM_EVENT, vec![]);
            self.last_item = now;
        }
        #[cfg(feature = "metrics")]
        if self.chunks.is_some() && self.span.metrics.is_some() {
            let now = match self.items {
                0 => self.last_item,
                _ => Instant::now(),
            };
            self.measure_chunk(now);
            self.last_item = now;
        }
        self.items += 1;
    }

    #[cfg(feature = "metrics")]
    fn measure_chunk(&mut self, now: Instant) {
        let (Some(m), Some(totals)) = (&self.span.metrics, &mut self.chunks) else {
            return;
        };
        let super::instruments::Measure::Llm { model, provider } = &m.measure else {
            return;
        };
        let attributes = totals.metric_attributes.get_or_insert_with(|| {
            let mut a = vec![
                KeyValue::new(k::GEN_AI_OPERATION_NAME, k::OP_CHAT),
                KeyValue::new(k::GEN_AI_REQUEST_MODEL, *model),
            ];
            if let Some(p) = provider {
                a.push(KeyValue::new(k::GEN_AI_PROVIDER_NAME, *p));
            }
            a
        });
        let i = &m.instruments;
        if self.items == 0 {
            let first = now.duration_since(self.started).as_secs_f64();
            i.time_to_first_chunk.record(first, attributes);
        } else {
            let between = now.duration_since(self.last_item).as_secs_f64();
            i.time_per_output_chunk.record(between, attributes);
        }
    }

    /// Records how the stream ended; the span ends when `self` drops.
    fn finish(mut self, completed: bool) {
        let s = self.span.cx.span();
        s.set_attribute(KeyValue::new(
            k::AGENT_TRACE_STREAM_ITEMS,
            count_value(self.items),
        ));
        s.set_attribute(KeyValue::new(k::AGENT_TRACE_STREAM_COMPLETED, completed));
        if let Some(totals) = self.chunks.take() {
            totals.record(&mut self.span);
        }
    }
}

/// Wraps a stream returned by a traced function (`None`: no span, the stream passes through).
#[inline]
pub fn instrument_stream<S, R>(
    span: Option<ActiveSpan>,
    stream: S,
    record_item: R,
) -> InstrumentedStream<S, R>
where
    S: futures_core::Stream,
    R: FnMut(&S::Item, &mut StreamSpan),
{
    InstrumentedStream {
        inner: stream,
        span: span.map(StreamSpan::new),
        record_item,
    }
}

/// A `Result` whose `Ok` is a stream: the stream in the span (an `Err` was recorded by the
/// outcome already, and the span ends with it).
#[inline]
pub fn stream_in_result<S, E, R>(
    span: Option<ActiveSpan>,
    out: Result<S, E>,
    record_item: R,
) -> Result<InstrumentedStream<S, R>, E>
where
    S: futures_core::Stream,
    R: FnMut(&S::Item, &mut StreamSpan),
{
    out.map(|s| instrument_stream(span, s, record_item))
}

/// An `Option` that holds a stream: the stream in the span (with `None`, the span ends).
#[inline]
pub fn stream_in_option<S, R>(
    span: Option<ActiveSpan>,
    out: Option<S>,
    record_item: R,
) -> Option<InstrumentedStream<S, R>>
where
    S: futures_core::Stream,
    R: FnMut(&S::Item, &mut StreamSpan),
{
    out.map(|s| instrument_stream(span, s, record_item))
}

pin_project_lite::pin_project! {
    /// A stream whose span is current while it is polled and lasts until the stream ends or is
    /// dropped. It records `agent_trace.stream.time_to_first_item_ms` (a model call:
    /// `gen_ai.response.time_to_first_chunk`, seconds), a `first_item` event,
    /// `agent_trace.stream.items` and `agent_trace.stream.completed`; `Err` items mark the span
    /// as an error (the stream goes on); a model call's chunks give its usage and response
    /// attributes. Dropping it early is not an error (the consumer had enough), unless a panic
    /// drops it.
    pub struct InstrumentedStream<S, R> {
        #[pin]
        inner: S,
        span: Option<StreamSpan>,
        record_item: R,
    }

    impl<S, R> PinnedDrop for InstrumentedStream<S, R> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(mut st) = this.span.take() {
                if std::thread::panicking() {
                    st.span.record_cancelled(); // records the panic that drops it
                }
                st.finish(false);
            }
        }
    }
}

impl<S, R> fmt::Debug for InstrumentedStream<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstrumentedStream")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

impl<S, R> futures_core::Stream for InstrumentedStream<S, R>
where
    S: futures_core::Stream,
    R: FnMut(&S::Item, &mut StreamSpan),
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let Some(st) = this.span.as_mut() else {
            return this.inner.poll_next(cx);
        };
        let inner = this.inner;
        let polled = match st.span.run(|| inner.poll_next(cx)) {
            Ok(polled) => polled,
            Err(payload) => {
                if let Some(mut st) = this.span.take() {
                    st.span.record_panic(&*payload);
                    st.finish(false);
                }
                resume_unwind(payload)
            }
        };
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(item)) => {
                st.item();
                (this.record_item)(&item, st);
                Poll::Ready(Some(item))
            }
            Poll::Ready(None) => {
                if let Some(st) = this.span.take() {
                    st.finish(true);
                }
                Poll::Ready(None)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
