//! The export pipeline: a bounded queue, one export thread, exact counts, around any
//! OpenTelemetry SDK `SpanExporter`.
//!
//! What crosses the wire is the exporter's job: by default `opentelemetry-otlp`'s (gRPC or
//! HTTP, with its retry table, compression and TLS), or a user's (`Builder::span_exporter`).
//! This module adds what the SDK's `BatchSpanProcessor` lacks: every span that ends is
//! accounted for (`ended == exported + dropped + pending + sampled_out`, with OTLP partial
//! success counted as failed), shutdown is bounded by its timeout in every fault and says
//! honestly what was lost, an exporter that panics loses its batch and not tracing, and the
//! export thread owns a private single-threaded runtime, so exporting works the same under
//! `#[tokio::main]`, a `current_thread` runtime or a plain `main` (the gRPC exporter is built
//! inside that runtime, as tonic requires).
//!
//! The application's threads only ever take a short lock to push onto the queue; when the
//! queue is full the span is dropped and counted, never waited for.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::state::ExportStats;

use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::config::BatchConfig;
pub(crate) use crate::export::prepare::{truncate_span, unique_keys, BeforeExport};
use crate::export::queued::Queued;
pub(crate) use crate::export::target::{DynExporter, ExportTarget, Failing, MakeExporter};
use crate::export::timing::Pace;
pub(crate) use crate::export::timing::{deadline_after, RateLimit};
use crate::state::{RecordSink, SpanRecord};

#[derive(Default)]
struct State {
    queue: VecDeque<Queued>,
    /// Pending-span markers (`AGENT_TRACE_PENDING_SPANS`): copies of spans as they started,
    /// for `agent-trace view`. Not spans: never counted in the stats, dropped beyond
    /// [`MAX_MARKERS`] and at shutdown.
    markers: VecDeque<SpanData>,
    /// Spans the export thread took from the queue (all at once, swapping buffers) and has
    /// not yet handed to the exporter; they count against the queue's bound.
    taken: u64,
    in_flight: u64,
    stats: ExportStats,
    /// The exact sum behind `stats.adjusted_count`.
    adjusted: f64,
    flush_requested: u64,
    flush_completed: u64,
    /// While the export thread waits on `work`: the queue length at which a span wakes it
    /// (set and cleared by it under the lock; 0 when it is not waiting). `Condvar::notify_one`
    /// is a futex syscall whether or not anyone waits, and on a virtual machine waking a
    /// sleeping CPU costs microseconds: a span pays it only when the export thread asked for it
    /// (see [`Pace`]).
    wake_at: usize,
    shutdown_deadline: Option<Instant>,
    worker_done: bool,
    /// Records the export thread emptied, handed back to the application threads as they
    /// queue (at most [`MAX_REUSED`]). Boxed: their allocations are what is reused. The oldest
    /// goes first, once more than `reuse_after` wait (set by the export thread from the rate
    /// spans come at: [`Pace::records_waiting`]).
    reuse: VecDeque<Box<SpanRecord>>,
    reuse_after: usize,
}

/// A value on cache lines of its own (128 bytes: adjacent lines are fetched in pairs).
#[derive(Default)]
#[repr(align(128))]
struct OwnLines<T>(T);

pub(crate) struct Shared {
    /// On lines of its own: the export thread takes this lock for every batch, and an
    /// application thread's `Arc` count of this struct (one per recorded span) would otherwise
    /// share its line and move between the cores with it.
    state: OwnLines<Mutex<State>>,
    /// Wakes the export thread.
    work: Condvar,
    /// Wakes callers waiting for a flush or shutdown.
    progress: Condvar,
    batch: BatchConfig,
    export_timeout: Duration,
    attribute_value_limit: usize,
    warn: RateLimit,
    /// Whether a marker is queued when a span starts.
    pending_spans: bool,
}

/// Emptied records kept for reuse at most (a record is under a kilobyte).
const MAX_REUSED: usize = 4096;

/// Emptied records kept waiting at most before one is reused (oldest first): see
/// [`State::reuse`]. About 1.4 MB, for a process that makes spans as fast as it can.
const MAX_WAITING: usize = 2048;

/// Markers waiting at most; more are dropped (a marker only shows a running span sooner).
const MAX_MARKERS: usize = 1024;

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the counters half-updated in a way that
        // matters more than losing tracing altogether, so a poisoned lock is used as is.
        self.state.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn stats(&self) -> ExportStats {
        let st = self.lock();
        let mut s = st.snapshot();
        s.pending = st.queue.len() as u64 + st.taken + st.in_flight;
        s
    }

    /// Queues an ended span (or counts it dropped or lost); wakes the export thread when it
    /// waits for the first span or a full batch. Returns an emptied record for reuse, when
    /// the export thread left one.
    fn enqueue(&self, span: Queued) -> Option<Box<SpanRecord>> {
        let shared = self;
        let mut st = shared.lock();
        let reused = if st.reuse.len() > st.reuse_after {
            st.reuse.pop_front()
        } else {
            None
        };
        st.stats.ended += 1;
        if st.shutdown_deadline.is_some() {
            st.stats.lost_at_shutdown += 1;
            return reused;
        }
        if st.queue.len() + st.taken as usize >= shared.batch.max_queue_size {
            st.stats.dropped_queue_full += 1;
            let dropped = st.stats.dropped_queue_full;
            drop(st);
            shared.warn.warn(|suppressed| {
                tracing::warn!(
                    target: "agent_trace::export",
                    dropped_total = dropped,
                    suppressed_warnings = suppressed,
                    "span queue full ({} spans): dropping spans until the exporter catches up",
                    shared.batch.max_queue_size
                )
            });
            return reused;
        }
        st.queue.push_back(span);
        // Wake the export thread only at the queue length it asked for as it began to wait
        // (under this lock): the first span when idle, a full batch, or a burst when paced.
        if st.wake_at != 0 && st.queue.len() >= st.wake_at {
            st.wake_at = 0;
            shared.work.notify_one();
        }
        reused
    }

    /// Queues a marker of a span that just started: its copy, ended when it started, with
    /// `agent_trace.span.pending=true`. The export thread sends it only if the span is still
    /// running when the marker is taken from the queue.
    fn mark_started(&self, span: &Span) {
        use opentelemetry::trace::Span as _;
        if !span.span_context().is_sampled() {
            return;
        }
        let Some(mut marker) = span.exported_data() else {
            return;
        };
        marker.end_time = marker.start_time;
        marker.attributes.push(KeyValue::new(
            crate::span::semconv::AGENT_TRACE_SPAN_PENDING,
            true,
        ));
        let mut st = self.lock();
        if st.shutdown_deadline.is_some() || st.markers.len() >= MAX_MARKERS {
            return;
        }
        st.markers.push_back(marker);
        if st.wake_at == 1 && st.markers.len() == 1 && st.queue.is_empty() {
            st.wake_at = 0;
            self.work.notify_one();
        }
    }

    /// Counts spans the tail sampler left out: they ended, and are accounted for.
    pub(crate) fn count_sampled_out(&self, n: u64) {
        let mut st = self.lock();
        st.stats.ended += n;
        st.stats.sampled_out += n;
    }

    /// Asks the export thread to send everything queued; waits at most `timeout`.
    pub(crate) fn flush(&self, timeout: Duration) -> Result<(), ExportStats> {
        let deadline = deadline_after(timeout);
        let mut st = self.lock();
        if st.worker_done {
            drop(st);
            return Ok(());
        }
        st.flush_requested += 1;
        let target = st.flush_requested;
        self.work.notify_all();
        while st.flush_completed < target && !st.worker_done {
            let now = Instant::now();
            if now >= deadline {
                drop(st);
                return Err(self.stats());
            }
            st = self
                .progress
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        drop(st);
        Ok(())
    }

    /// Stops the pipeline: exports what it can until `timeout`, then counts the rest as lost.
    /// Never waits longer than `timeout`; safe to call more than once and from any thread.
    pub(crate) fn shutdown(&self, timeout: Duration) -> ExportStats {
        let deadline = deadline_after(timeout);
        let mut st = self.lock();
        if st.shutdown_deadline.is_none() {
            st.shutdown_deadline = Some(deadline);
        }
        self.work.notify_all();
        while !st.worker_done {
            let now = Instant::now();
            if now >= deadline {
                // The export thread is stuck in an export; it will give up at its own timeout
                // and exit. What is still queued will not be sent: say so now.
                let lost = st.queue.len() as u64 + st.taken + st.in_flight;
                st.stats.lost_at_shutdown += st.queue.len() as u64;
                st.queue.clear();
                let mut s = st.snapshot();
                // What the export thread holds it counts itself, as sent or lost.
                s.pending = st.taken + st.in_flight;
                debug_assert!(lost >= s.pending);
                return s;
            }
            st = self
                .progress
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let mut s = st.snapshot();
        s.pending = st.queue.len() as u64 + st.taken + st.in_flight;
        s
    }
}

impl State {
    /// The counts, with the adjusted count rounded.
    fn snapshot(&self) -> ExportStats {
        let mut s = self.stats;
        s.adjusted_count = self.adjusted.round() as u64;
        s
    }
}

/// How many spans of `batch` carry a sampling threshold, and the sum of their adjusted counts.
fn thresholds(batch: &[SpanData]) -> (u64, f64) {
    batch
        .iter()
        .filter_map(|s| crate::sampling::adjusted_count(s.span_context.trace_state()))
        .fold((0, 0.0), |(n, sum), c| (n + 1, sum + c))
}

/// How long the export thread sleeps at a time while nothing is queued (it is woken sooner
/// by the first span, a flush or shutdown).
const IDLE_WAIT: Duration = Duration::from_secs(1);

impl RecordSink for Shared {
    fn push(&self, record: Box<SpanRecord>) -> Option<Box<SpanRecord>> {
        self.enqueue(Queued::Record(record))
    }
}

/// The `SpanProcessor` the tracer provider calls; it only queues.
#[derive(Debug, Clone)]
pub(crate) struct QueueProcessor {
    pub(crate) shared: Arc<Shared>,
}

impl SpanProcessor for QueueProcessor {
    fn on_start(&self, span: &mut Span, _cx: &Context) {
        if self.shared.pending_spans {
            self.shared.mark_started(span);
        }
    }

    fn on_end(&self, span: SpanData) {
        // The application thread only queues: truncation, unique keys, redaction and the
        // OpenInference copies happen on the export thread.
        if span.span_context.is_sampled() {
            let _ = self.shared.enqueue(Queued::Data(Box::new(span)));
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.shared
            .flush(self.shared.export_timeout)
            .map_err(|_| OTelSdkError::Timeout(self.shared.export_timeout))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let s = self.shared.shutdown(timeout);
        if s.all_delivered() {
            Ok(())
        } else {
            Err(OTelSdkError::InternalFailure(format!(
                "{} of {} spans not delivered",
                s.ended - s.exported,
                s.ended
            )))
        }
    }

    fn set_resource(&mut self, _resource: &Resource) {}
}

/// Starts the export thread. `make_exporter` runs inside the thread's runtime context.
pub(crate) fn start(
    batch: BatchConfig,
    export_timeout: Duration,
    attribute_value_limit: usize,
    before_export: BeforeExport,
    pending_spans: bool,
    make_exporter: MakeExporter,
) -> std::io::Result<Arc<Shared>> {
    let shared = Arc::new(Shared {
        state: OwnLines(Mutex::new(State::default())),
        work: Condvar::new(),
        progress: Condvar::new(),
        batch,
        export_timeout,
        attribute_value_limit,
        warn: RateLimit::new(Duration::from_secs(10)),
        pending_spans,
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("at-export-io")
        .on_thread_start(suppress_telemetry_on_this_thread)
        .build()?;
    let worker_shared = shared.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("agent-trace-export".into())
        .spawn(move || {
            suppress_telemetry_on_this_thread();
            // An exporter whose construction panics exports nothing; tracing goes on.
            let target = {
                let _rt = runtime.enter();
                catch_unwind(AssertUnwindSafe(make_exporter)).unwrap_or_else(|payload| {
                    ExportTarget {
                        exporter: Box::new(Failing(format!(
                            "building the exporter panicked: {}",
                            crate::span::panic_message(&*payload)
                        ))),
                        rejected: None,
                    }
                })
            };
            let _ = ready_tx.send(());
            Worker {
                shared: worker_shared,
                runtime,
                target,
                taken: VecDeque::new(),
                pace: Pace::default(),
                before_export,
                scope: crate::span::record::scope(),
                emptied: Vec::new(),
                markers: VecDeque::new(),
            }
            .run();
        })?;
    // Return with the export thread running and its exporter built (bounded: building the
    // exporter makes no connection, so this is quick; if it is not, spans simply queue).
    let _ = ready_rx.recv_timeout(Duration::from_secs(5));
    Ok(shared)
}

/// The export thread and its helper threads must not trace themselves: HTTP and gRPC
/// libraries emit `tracing` spans, which the bridge would turn into spans to export, forever.
fn suppress_telemetry_on_this_thread() {
    // Held for the thread's whole life; the guard is not needed again.
    std::mem::forget(Context::enter_telemetry_suppressed_scope());
    crate::state::mark_export_thread();
}

struct Worker {
    shared: Arc<Shared>,
    runtime: tokio::runtime::Runtime,
    target: ExportTarget,
    /// Spans taken from the queue in one swap (so the application threads never wait on a
    /// batch being moved), exported from here batch by batch.
    taken: VecDeque<Queued>,
    /// When to look at the queue next while spans keep coming.
    pace: Pace,
    /// Applied before the exporter sees a batch.
    before_export: BeforeExport,
    /// The instrumentation scope of the spans agent-trace records itself.
    scope: opentelemetry::InstrumentationScope,
    /// Records emptied by the last batch, handed back at the next lock.
    #[allow(clippy::vec_box)]
    emptied: Vec<Box<SpanRecord>>,
    /// Markers taken from the queue with the spans.
    markers: VecDeque<SpanData>,
}

impl Worker {
    fn run(mut self) {
        // The counter agent-trace's own spans are timed with, calibrated here rather than on
        // an application thread (they read the wall clock until it is, and for good should
        // the calibration fail: the export thread carries on).
        let _ = catch_unwind(crate::span::clock::calibrate);
        loop {
            let (batch, shutdown_deadline) = self.next_batch();
            if !self.markers.is_empty() {
                self.export_markers(&batch, shutdown_deadline);
            }
            if !batch.is_empty() {
                self.export(batch, shutdown_deadline);
            }
            let mut st = self.shared.lock();
            st.reuse_after = self.pace.records_waiting(MAX_WAITING);
            let room = MAX_REUSED.saturating_sub(st.reuse.len());
            st.reuse.extend(self.emptied.drain(..).take(room));
            let drained = st.queue.is_empty() && st.markers.is_empty() && self.taken.is_empty();
            if drained && st.flush_completed < st.flush_requested {
                st.flush_completed = st.flush_requested;
                self.shared.progress.notify_all();
            }
            if let Some(deadline) = st.shutdown_deadline {
                if drained || Instant::now() >= deadline {
                    st.stats.lost_at_shutdown += (st.queue.len() + self.taken.len()) as u64;
                    st.queue.clear();
                    st.markers.clear();
                    self.taken.clear();
                    st.taken = 0;
                    drop(st);
                    let budget = deadline
                        .saturating_duration_since(Instant::now())
                        .max(Duration::from_millis(100));
                    let exporter = &mut self.target.exporter;
                    let runtime = &self.runtime;
                    // Some exporters need the runtime to shut down; none may hang it.
                    let _ = catch_unwind(AssertUnwindSafe(|| {
                        let _rt = runtime.enter();
                        exporter.shutdown(budget)
                    }));
                    let mut st = self.shared.lock();
                    st.worker_done = true;
                    // A recorder keeps the pipeline for the life of the process: its buffers
                    // go now.
                    st.reuse = VecDeque::new();
                    st.queue = VecDeque::new();
                    st.markers = VecDeque::new();
                    st.flush_completed = st.flush_requested;
                    self.shared.progress.notify_all();
                    return;
                }
            }
        }
    }

    /// Waits until a batch is full, the delay passed since the oldest queued span was seen,
    /// a flush was asked for, or shutdown; while spans keep coming, until the time [`Pace`]
    /// expects most of a batch to be queued. An empty queue is waited on, never polled: with
    /// `OTEL_BSP_SCHEDULE_DELAY=0` an idle pipeline still sleeps (the first span into an
    /// empty queue wakes it).
    fn next_batch(&mut self) -> (Vec<SpanData>, Option<Instant>) {
        let shared = &self.shared;
        let max = shared.batch.max_export_batch_size;
        let mut st = shared.lock();
        let took = self.taken.is_empty();
        if took {
            let mut delay_ends: Option<Instant> = None;
            let mut paced_at = self.pace.next_look();
            loop {
                let urgent =
                    st.shutdown_deadline.is_some() || st.flush_requested > st.flush_completed;
                if urgent || st.queue.len() >= max {
                    break;
                }
                let now = Instant::now();
                let (wait, wake_at) = if let Some(at) = paced_at {
                    // Spans keep coming: look again when most of a batch should be queued; a
                    // span wakes the export thread only if far more came than expected.
                    if now >= at {
                        if !st.queue.is_empty() || !st.markers.is_empty() {
                            break;
                        }
                        // They stopped: wait as an idle pipeline does.
                        self.pace.stopped();
                        paced_at = None;
                        continue;
                    }
                    (at - now, self.pace.wake_at(&shared.batch))
                } else if st.queue.is_empty() && st.markers.is_empty() {
                    delay_ends = None;
                    (IDLE_WAIT, 1)
                } else {
                    let at = *delay_ends
                        .get_or_insert_with(|| deadline_after(shared.batch.schedule_delay));
                    if now >= at {
                        break;
                    }
                    (at - now, max)
                };
                st.wake_at = wake_at;
                st = shared
                    .work
                    .wait_timeout(st, wait)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
                st.wake_at = 0;
            }
            // Everything queued, in O(1): the producers get the empty buffer (its capacity
            // kept) and never wait for spans being moved.
            std::mem::swap(&mut st.queue, &mut self.taken);
            std::mem::swap(&mut st.markers, &mut self.markers);
        }
        let n = self.taken.len().min(max);
        st.taken = (self.taken.len() - n) as u64;
        st.in_flight = n as u64;
        let deadline = st.shutdown_deadline;
        drop(st);
        if took {
            self.pace
                .took(self.taken.len(), &shared.batch, Instant::now());
        }
        let scope = &self.scope;
        let clock = crate::span::clock::Reading::now();
        let mut emptied = Vec::new();
        let batch = self
            .taken
            .drain(..n)
            .map(|q| q.into_data(scope, &clock, &mut emptied))
            .collect();
        self.emptied = emptied;
        (batch, deadline)
    }

    /// Sends the markers of spans that are still running: not those of the spans in `batch`
    /// or still taken (they ended). Linear in the markers and spans; the outcome is not
    /// counted (markers are not spans) and a failure is not retried.
    fn export_markers(&mut self, batch: &[SpanData], shutdown_deadline: Option<Instant>) {
        let ended: std::collections::HashSet<opentelemetry::trace::SpanId> = batch
            .iter()
            .map(|s| s.span_context.span_id())
            .chain(self.taken.iter().map(Queued::span_id))
            .collect();
        let running: Vec<SpanData> = self
            .markers
            .drain(..)
            .filter(|m| !ended.contains(&m.span_context.span_id()))
            .collect();
        if running.is_empty() || shutdown_deadline.is_some() {
            return;
        }
        let _ = self.send(running, shutdown_deadline);
        if let Some(r) = &self.target.rejected {
            r.store(0, Ordering::Relaxed);
        }
    }

    /// Prepares `batch` (truncation, then the before-export steps) and hands it to the
    /// exporter, within the export timeout and the shutdown deadline.
    fn send(
        &self,
        mut batch: Vec<SpanData>,
        shutdown_deadline: Option<Instant>,
    ) -> Result<(), String> {
        let limit = self.shared.attribute_value_limit;
        batch.iter_mut().for_each(|span| truncate_span(span, limit));
        self.before_export.apply(&mut batch);
        let mut deadline = deadline_after(self.shared.export_timeout);
        if let Some(sd) = shutdown_deadline {
            deadline = deadline.min(sd);
        }
        let exporter = &self.target.exporter;
        let runtime = &self.runtime;
        // The exporter retries as the OTLP spec says; the deadline bounds all of it.
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on(async {
                let budget = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(budget, exporter.export(batch)).await {
                    Ok(r) => r.map_err(|e| e.to_string()),
                    Err(_) => Err(format!("export timed out after {} ms", budget.as_millis())),
                }
            })
        }));
        match outcome {
            Ok(r) => r,
            Err(payload) => Err(format!(
                "exporter panicked: {}",
                crate::span::panic_message(&*payload)
            )),
        }
    }

    fn export(&mut self, batch: Vec<SpanData>, shutdown_deadline: Option<Instant>) {
        let n = batch.len() as u64;
        let (with_threshold, adjusted) = thresholds(&batch);
        let outcome = self.send(batch, shutdown_deadline);
        let rejected = match &self.target.rejected {
            Some(r) => r.swap(0, Ordering::Relaxed).min(n),
            None => 0,
        };
        let mut st = self.shared.lock();
        st.in_flight = 0;
        let (failed_now, reason) = match outcome {
            Ok(()) => {
                st.stats.exported += n - rejected;
                // A partial rejection does not say which spans: count in proportion.
                let accepted = (n - rejected) as f64 / n.max(1) as f64;
                st.stats.exported_with_threshold +=
                    (with_threshold as f64 * accepted).round() as u64;
                st.adjusted += adjusted * accepted;
                (
                    rejected,
                    "the collector rejected them (OTLP partial success)".to_string(),
                )
            }
            Err(e) => (n, e),
        };
        if failed_now > 0 {
            st.stats.failed += failed_now;
            let failed = st.stats.failed;
            drop(st);
            self.shared.warn.warn(|suppressed| {
                tracing::warn!(
                    target: "agent_trace::export",
                    spans = failed_now,
                    failed_total = failed,
                    suppressed_warnings = suppressed,
                    "could not export spans: {reason}"
                )
            });
        }
    }
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
#[cfg(test)]
pub(crate) use tests::test_span;
