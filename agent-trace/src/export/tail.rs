//! Tail sampling in process: keep every local trace that failed or was slow, and a ratio of
//! the rest.
//!
//! Turned on by `AGENT_TRACE_KEEP_ERRORS=true` and/or `AGENT_TRACE_KEEP_SLOWER_THAN=<ms>` (or
//! [`Builder::keep_errors`](crate::Builder::keep_errors) /
//! [`Builder::keep_slower_than`](crate::Builder::keep_slower_than)). Then the head sampler
//! records every trace (parent-based, so an upstream "not sampled" is still respected), spans
//! wait here until their local root ends, and the trace is kept if any of its spans has an
//! error status, or its local root lasted at least the threshold, or its trace id falls in
//! the configured ratio (`OTEL_TRACES_SAMPLER_ARG` of a `traceidratio` sampler; 1.0 otherwise).
//!
//! With a consistent probability head sampler (`probability`, `parentbased_probability`), the
//! ratio is the head's: it samples as usual (its threshold in `ot=th:`, its decision what
//! other services see) and records the traces it drops here only, as `RecordOnly`; this stage
//! keeps the sampled ones and adds the failed or slow ones, exported marked sampled and without
//! a threshold (they were not kept at a probability). Otherwise:
//!
//! The ratio decision uses the same rule as OpenTelemetry's `TraceIdRatioBased` sampler, so
//! services that sample by the same ratio keep the same routine traces. Errors and slowness are
//! only seen where they happen: a service whose part of a failed trace was fine decides by the
//! ratio alone, so a kept trace may miss the parts of other services. For whole-trace
//! decisions across services, sample in a collector (its tail-sampling processor).
//!
//! Memory is bounded: at most `max_spans` spans wait and at most `max_traces` traces are open;
//! beyond that the oldest open trace is decided at once on what is known (an error so far, or
//! the ratio), and counted in [`TailStats::early_decisions`]. Spans that end after their
//! trace was decided follow the decision (the last 4096 decisions are remembered).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use opentelemetry::trace::{SpanId, Status, TraceId};
use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use crate::export::pipeline::QueueProcessor;

pub(crate) use crate::config::TailConfig;

/// What the tail sampler decided so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TailStats {
    /// Traces kept because a span had an error status.
    pub kept_error: u64,
    /// Traces kept because the local root was slow.
    pub kept_slow: u64,
    /// Traces kept by the ratio.
    pub kept_ratio: u64,
    /// Traces left out.
    pub dropped: u64,
    /// Traces decided before their root ended, to stay within the memory cap.
    pub early_decisions: u64,
    /// Spans waiting for their trace's decision.
    pub buffered_spans: u64,
    /// Traces waiting for a decision.
    pub open_traces: u64,
}

/// Whether `trace_id` is kept at `ratio`: the rule of OpenTelemetry's `TraceIdRatioBased`
/// sampler (the low 63 bits of the trace id against `ratio * 2^63`).
pub(crate) fn keeps_by_ratio(trace_id: TraceId, ratio: f64) -> bool {
    if ratio >= 1.0 {
        return true;
    }
    let bound = (ratio.max(0.0) * (1u64 << 63) as f64) as u64;
    let bytes = trace_id.to_bytes();
    let mut low = [0u8; 8];
    low.copy_from_slice(&bytes[8..16]);
    (u64::from_be_bytes(low) >> 1) < bound
}

#[derive(Default)]
struct OpenTrace {
    spans: Vec<SpanData>,
    error: bool,
    /// A span of it was sampled by the head sampler (consistent probability mode).
    head_sampled: bool,
}

#[derive(Default)]
struct State {
    open: HashMap<TraceId, OpenTrace>,
    order: VecDeque<TraceId>,
    buffered: usize,
    decided: HashMap<TraceId, bool>,
    decided_order: VecDeque<TraceId>,
    stats: TailStats,
}

const REMEMBERED_DECISIONS: usize = 4096;

#[derive(Clone, Copy)]
enum Why {
    Error,
    Slow,
    Ratio,
    Dropped,
}

impl State {
    fn remember(&mut self, trace: TraceId, keep: bool) {
        if self.decided.insert(trace, keep).is_none() {
            self.decided_order.push_back(trace);
            if self.decided_order.len() > REMEMBERED_DECISIONS {
                if let Some(old) = self.decided_order.pop_front() {
                    self.decided.remove(&old);
                }
            }
        }
    }

    fn count(&mut self, why: Why) {
        match why {
            Why::Error => self.stats.kept_error += 1,
            Why::Slow => self.stats.kept_slow += 1,
            Why::Ratio => self.stats.kept_ratio += 1,
            Why::Dropped => self.stats.dropped += 1,
        }
    }
}

/// The tail-sampling stage in front of the export queue.
#[derive(Debug)]
pub(crate) struct TailSampler {
    cfg: TailConfig,
    state: Mutex<State>,
    next: QueueProcessor,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl TailSampler {
    pub(crate) fn new(cfg: TailConfig, next: QueueProcessor) -> Self {
        TailSampler {
            cfg,
            state: Mutex::new(State::default()),
            next,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn stats(&self) -> TailStats {
        let st = self.lock();
        let mut s = st.stats;
        s.buffered_spans = st.buffered as u64;
        s.open_traces = st.open.len() as u64;
        s
    }

    fn decide(&self, trace: TraceId, open: &OpenTrace, root: Option<&SpanData>) -> Why {
        let error = open.error;
        if self.cfg.keep_errors && error {
            return Why::Error;
        }
        if let (Some(limit), Some(root)) = (self.cfg.keep_slower_than, root) {
            let took = root
                .end_time
                .duration_since(root.start_time)
                .unwrap_or_default();
            if took >= limit {
                return Why::Slow;
            }
        }
        let by_ratio = match self.cfg.head_decides {
            true => open.head_sampled,
            false => keeps_by_ratio(trace, self.cfg.ratio),
        };
        if by_ratio {
            Why::Ratio
        } else {
            Why::Dropped
        }
    }

    /// Sends kept spans on, counts dropped ones (outside the lock).
    fn release(&self, spans: Vec<SpanData>, keep: bool) {
        if keep {
            for s in spans {
                self.next.on_end(self.vouch(s));
            }
        } else {
            self.next.shared.count_sampled_out(spans.len() as u64);
        }
    }
}

impl TailSampler {
    /// A kept span as it is exported: a span the head sampler dropped but this stage kept
    /// (failed or slow) is marked sampled, and no span keeps a `th` claiming a probability it
    /// was not kept at: with a consistent head sampler, the spans it sampled keep theirs (the
    /// others have none); with the legacy ratio applied here (below 1), an inherited `th` is
    /// erased.
    fn vouch(&self, mut span: SpanData) -> SpanData {
        let sc = &span.span_context;
        let erase = match self.cfg.head_decides {
            true => !sc.is_sampled(),
            false => self.cfg.ratio < 1.0,
        };
        if !erase && sc.is_sampled() {
            return span;
        }
        let state = match erase {
            true => crate::sampling::rewrite_threshold(sc.trace_state(), None),
            false => sc.trace_state().clone(),
        };
        span.span_context = opentelemetry::trace::SpanContext::new(
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags().with_sampled(true),
            sc.is_remote(),
            state,
        );
        span
    }
}

fn is_error(s: &SpanData) -> bool {
    matches!(s.status, Status::Error { .. })
}

impl SpanProcessor for TailSampler {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        // Spans the head sampler dropped reach here recorded only when it is a consistent
        // probability sampler recording for this stage.
        if !span.span_context.is_sampled() && !self.cfg.head_decides {
            return;
        }
        let trace = span.span_context.trace_id();
        let is_root = span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote;
        let mut to_release: Vec<(Vec<SpanData>, bool)> = Vec::new();
        {
            let mut st = self.lock();
            if let Some(&keep) = st.decided.get(&trace) {
                drop(st);
                self.release(vec![span], keep);
                return;
            }
            if !st.open.contains_key(&trace) {
                st.order.push_back(trace);
            }
            let entry = st.open.entry(trace).or_default();
            entry.error |= is_error(&span);
            entry.head_sampled |= span.span_context.is_sampled();
            if is_root {
                let open = st.open.remove(&trace).unwrap_or_default();
                st.order.retain(|t| *t != trace);
                st.buffered -= open.spans.len();
                let why = self.decide(trace, &open, Some(&span));
                let keep = !matches!(why, Why::Dropped);
                st.count(why);
                st.remember(trace, keep);
                let mut spans = open.spans;
                spans.push(span);
                to_release.push((spans, keep));
            } else {
                entry.spans.push(span);
                st.buffered += 1;
            }
            // Over the cap: decide the oldest open traces now.
            while st.buffered > self.cfg.max_spans || st.open.len() > self.cfg.max_traces {
                let Some(oldest) = st.order.pop_front() else {
                    break;
                };
                let Some(open) = st.open.remove(&oldest) else {
                    continue;
                };
                st.buffered -= open.spans.len();
                let why = self.decide(oldest, &open, None);
                let keep = !matches!(why, Why::Dropped);
                st.count(why);
                st.stats.early_decisions += 1;
                st.remember(oldest, keep);
                to_release.push((open.spans, keep));
            }
        }
        for (spans, keep) in to_release {
            self.release(spans, keep);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.next.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.drain();
        self.next.shutdown_with_timeout(timeout)
    }
}

impl TailSampler {
    /// Decides every trace still open (at shutdown), on what is known.
    pub(crate) fn drain(&self) {
        let open: Vec<(TraceId, OpenTrace)> = {
            let mut st = self.lock();
            st.order.clear();
            st.buffered = 0;
            st.open.drain().collect()
        };
        for (trace, t) in open {
            let why = self.decide(trace, &t, None);
            let keep = !matches!(why, Why::Dropped);
            {
                let mut st = self.lock();
                st.count(why);
                st.stats.early_decisions += 1;
            }
            self.release(t.spans, keep);
        }
    }
}

/// The provider's view of a shared [`TailSampler`].
#[derive(Debug)]
pub(crate) struct TailStage(pub(crate) std::sync::Arc<TailSampler>);

impl SpanProcessor for TailStage {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.0.on_start(span, cx)
    }
    fn on_end(&self, span: SpanData) {
        self.0.on_end(span)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BatchConfig;
    use crate::export::pipeline::ExportTarget;
    use opentelemetry::trace::SpanKind;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, ShouldSample};

    fn sampler(cfg: TailConfig) -> TailSampler {
        let shared = crate::export::pipeline::start(
            BatchConfig {
                max_queue_size: 1 << 16,
                max_export_batch_size: 512,
                schedule_delay: Duration::from_millis(10),
                export_timeout: Duration::from_secs(5),
            },
            Duration::from_secs(5),
            1024,
            Default::default(),
            false,
            Box::new(|| ExportTarget {
                exporter: Box::new(InMemorySpanExporter::default()),
                rejected: None,
            }),
        )
        .expect("pipeline");
        TailSampler::new(cfg, QueueProcessor { shared })
    }

    fn span(trace: u128, id: u64, parent: u64, error: bool, took: Duration) -> SpanData {
        let base = crate::export::pipeline::test_span(trace, id, parent);
        SpanData {
            end_time: base.start_time + took,
            status: if error {
                Status::error("boom")
            } else {
                Status::Unset
            },
            ..base
        }
    }

    /// Spreads small numbers over the whole id space, as real trace ids are.
    fn trace_id(i: u128) -> u128 {
        i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835) | 1
    }

    #[test]
    fn ratio_rule_matches_the_sdk_sampler() {
        for ratio in [0.0, 0.1, 0.5, 0.9, 1.0] {
            let sdk = opentelemetry_sdk::trace::Sampler::TraceIdRatioBased(ratio);
            for i in 0..2000u128 {
                let t = TraceId::from(trace_id(i));
                let decision = sdk
                    .should_sample(None, t, "x", &SpanKind::Internal, &[], &[])
                    .decision;
                let sdk_keeps =
                    decision == opentelemetry_sdk::trace::SamplingDecision::RecordAndSample;
                assert_eq!(
                    keeps_by_ratio(t, ratio),
                    sdk_keeps,
                    "ratio {ratio}, trace {i}"
                );
            }
        }
    }

    #[test]
    fn keeps_every_error_and_slow_trace_and_the_ratio_of_the_rest() {
        let ratio = 0.3;
        let t = sampler(TailConfig {
            keep_errors: true,
            keep_slower_than: Some(Duration::from_secs(1)),
            ratio,
            head_decides: false,
            max_spans: 10_000,
            max_traces: 1_000,
        });
        let mut expected = 0;
        for i in 1..=300u128 {
            let (error, slow) = (i % 10 == 0, i % 7 == 0);
            let took = if slow {
                Duration::from_secs(2)
            } else {
                Duration::from_millis(5)
            };
            let id = trace_id(i);
            // The child ends first (and carries the error), then the local root.
            t.on_end(span(id, 2, 1, error, Duration::from_millis(1)));
            t.on_end(span(id, 1, 0, false, took));
            if error || slow || keeps_by_ratio(TraceId::from(id), ratio) {
                expected += 1;
            }
        }
        let s = t.stats();
        assert_eq!(s.kept_error, 30);
        assert_eq!(s.kept_error + s.kept_slow + s.kept_ratio, expected);
        assert_eq!(s.kept_error + s.kept_slow + s.kept_ratio + s.dropped, 300);
        assert!(
            s.kept_slow > 0 && s.kept_ratio > 0 && s.dropped > 0,
            "{s:?}"
        );
        assert_eq!((s.buffered_spans, s.open_traces), (0, 0));
        t.next
            .shared
            .flush(Duration::from_secs(10))
            .expect("flushed");
        let e = t.next.shared.stats();
        assert_eq!(e.exported, 2 * expected);
        assert_eq!(e.sampled_out, 2 * (300 - expected));
        assert_eq!(e.ended, 600);
        assert!(e.all_delivered());
        // A span of a decided trace arriving late follows the decision.
        t.on_end(span(trace_id(10), 3, 1, false, Duration::ZERO));
        assert_eq!(t.next.shared.stats().ended, 601);
    }

    #[test]
    fn a_flood_of_open_traces_stays_within_the_caps() {
        let t = sampler(TailConfig {
            keep_errors: true,
            keep_slower_than: None,
            ratio: 0.0,
            head_decides: false,
            max_spans: 100,
            max_traces: 10,
        });
        // Roots never end: children pile up.
        for i in 0..1_000u128 {
            for c in 0..5u64 {
                t.on_end(span(
                    trace_id(i),
                    10 + c,
                    1,
                    i == 500 && c == 0,
                    Duration::ZERO,
                ));
                let s = t.stats();
                assert!(s.buffered_spans <= 100 && s.open_traces <= 10, "{s:?}");
            }
        }
        let s = t.stats();
        assert!(s.early_decisions >= 990, "{s:?}");
        assert_eq!(
            s.kept_error, 1,
            "the trace with an error so far is kept early"
        );
        let e = t.next.shared.stats();
        assert_eq!(
            e.ended + s.buffered_spans,
            5_000,
            "every span accounted for"
        );
        t.drain();
        let e = t.next.shared.stats();
        assert_eq!(e.ended, 5_000);
        assert_eq!(t.stats().buffered_spans, 0);
    }
}
