//! The export pipeline: a bounded queue, one export thread, exact counts.
//!
//! Why not the SDK's `BatchSpanProcessor` with `opentelemetry-otlp`: it reports `Ok` from shutdown
//! even when nothing reached the collector, does not say how many spans it dropped, its gRPC
//! exporter needs the application's Tokio runtime (built outside one it panics; flushed from a
//! `current_thread` runtime's own thread it blocks and loses the spans), and its HTTP exporter
//! picks a client by cargo feature unification. Here the export thread owns a private
//! single-threaded runtime, so exporting works the same under `#[tokio::main]`, a
//! `current_thread` runtime or a plain `main`, and every span that ends is accounted for:
//! `ended == exported + dropped + pending`.
//!
//! The application's threads only ever take a short lock to push onto the queue; when the
//! queue is full the span is dropped and counted, never waited for.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use opentelemetry::trace::Status;
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;

use crate::config::BatchConfig;

/// Why an export attempt failed.
#[derive(Debug, Clone)]
pub(crate) struct ExportFailure {
    pub(crate) reason: String,
}

impl ExportFailure {
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        ExportFailure {
            reason: reason.into(),
        }
    }
}

/// The result of sending one batch, after the transport's own retries.
pub(crate) type ExportResult = Result<(), ExportFailure>;

/// A boxed future, as transports return.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where a batch goes: OTLP/gRPC, OTLP/HTTP, the console. Runs on the export thread only,
/// inside its private runtime, so it may use Tokio freely.
pub(crate) trait Transport: Send + 'static {
    /// Sends one batch, retrying as the OTLP spec allows until `deadline`.
    fn send(&mut self, batch: Vec<SpanData>, deadline: Instant) -> BoxFuture<'_, ExportResult>;
    /// Called once when the pipeline shuts down.
    fn shutdown(&mut self) {}
}

/// Counts of what happened to the spans this process ended, since the pipeline started.
///
/// `ended == exported + dropped() + pending + sampled_out` holds in every snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportStats {
    /// Sampled spans that ended and reached the pipeline.
    pub ended: u64,
    /// Spans the collector acknowledged (or the console printed).
    pub exported: u64,
    /// Spans dropped because the queue was full.
    pub dropped_queue_full: u64,
    /// Spans in batches whose export failed for good (after retries, on timeout, or on panic).
    pub failed: u64,
    /// Spans still queued when shutdown gave up waiting.
    pub lost_at_shutdown: u64,
    /// Spans queued or being exported right now.
    pub pending: u64,
    /// Spans left out on purpose by tail sampling (not a loss).
    pub sampled_out: u64,
}

impl ExportStats {
    /// All spans that will never reach the collector.
    pub fn dropped(&self) -> u64 {
        self.dropped_queue_full + self.failed + self.lost_at_shutdown
    }

    /// True when every span that ended was exported (or left out on purpose by tail sampling).
    pub fn all_delivered(&self) -> bool {
        self.exported + self.sampled_out == self.ended
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<SpanData>,
    in_flight: u64,
    stats: ExportStats,
    flush_requested: u64,
    flush_completed: u64,
    shutdown_deadline: Option<Instant>,
    worker_done: bool,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    /// Wakes the export thread.
    work: Condvar,
    /// Wakes callers waiting for a flush or shutdown.
    progress: Condvar,
    batch: BatchConfig,
    export_timeout: Duration,
    attribute_value_limit: usize,
    warn: RateLimit,
}

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
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn stats(&self) -> ExportStats {
        let st = self.lock();
        let mut s = st.stats;
        s.pending = st.queue.len() as u64 + st.in_flight;
        s
    }

    /// Counts spans the tail sampler left out: they ended, and are accounted for.
    pub(crate) fn count_sampled_out(&self, n: u64) {
        let mut st = self.lock();
        st.stats.ended += n;
        st.stats.sampled_out += n;
    }

    /// Asks the export thread to send everything queued; waits at most `timeout`.
    pub(crate) fn flush(&self, timeout: Duration) -> Result<(), ExportStats> {
        let deadline = Instant::now() + timeout;
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
        let deadline = Instant::now() + timeout;
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
                let lost = st.queue.len() as u64 + st.in_flight;
                st.stats.lost_at_shutdown += st.queue.len() as u64;
                st.queue.clear();
                let mut s = st.stats;
                s.pending = st.in_flight;
                debug_assert!(lost >= s.pending);
                return s;
            }
            st = self
                .progress
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let mut s = st.stats;
        s.pending = st.queue.len() as u64 + st.in_flight;
        s
    }
}

/// The `SpanProcessor` the tracer provider calls; it only queues.
#[derive(Debug, Clone)]
pub(crate) struct QueueProcessor {
    pub(crate) shared: Arc<Shared>,
}

impl SpanProcessor for QueueProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, mut span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        truncate_span(&mut span, self.shared.attribute_value_limit);
        let shared = &self.shared;
        let mut st = shared.lock();
        st.stats.ended += 1;
        if st.shutdown_deadline.is_some() {
            st.stats.lost_at_shutdown += 1;
            return;
        }
        if st.queue.len() >= shared.batch.max_queue_size {
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
            return;
        }
        st.queue.push_back(span);
        if st.queue.len() >= shared.batch.max_export_batch_size {
            shared.work.notify_one();
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

/// Cuts every string a span carries to `limit` characters: its name, its status description,
/// and string values of span, event and link attributes (and event names). A client-chosen
/// HTTP method or a huge error message must not make a span, or the batch it is sent in,
/// too large to export.
pub(crate) fn truncate_span(span: &mut SpanData, limit: usize) {
    if let Some(cut) = cut_point(&span.name, limit) {
        span.name = span.name[..cut].to_string().into();
    }
    if let Status::Error { description } = &mut span.status {
        if let Some(cut) = cut_point(description, limit) {
            *description = description[..cut].to_string().into();
        }
    }
    for kv in span.attributes.iter_mut() {
        truncate_value(kv, limit);
    }
    for event in span.events.events.iter_mut() {
        if let Some(cut) = cut_point(&event.name, limit) {
            event.name = event.name[..cut].to_string().into();
        }
        for kv in event.attributes.iter_mut() {
            truncate_value(kv, limit);
        }
    }
    for link in span.links.links.iter_mut() {
        for kv in link.attributes.iter_mut() {
            truncate_value(kv, limit);
        }
    }
}

fn truncate_value(kv: &mut KeyValue, limit: usize) {
    match &mut kv.value {
        Value::String(s) => {
            if let Some(cut) = cut_point(s.as_str(), limit) {
                *s = s.as_str()[..cut].to_string().into();
            }
        }
        Value::Array(opentelemetry::Array::String(items)) => {
            for s in items.iter_mut() {
                if let Some(cut) = cut_point(s.as_str(), limit) {
                    *s = s.as_str()[..cut].to_string().into();
                }
            }
        }
        _ => {}
    }
}

pub(crate) use crate::text::cut_point;

/// Logs at most one warning per interval; counts what it held back.
#[derive(Debug)]
pub(crate) struct RateLimit {
    started: Instant,
    last_ms: AtomicU64,
    suppressed: AtomicU64,
    interval_ms: u64,
}

impl RateLimit {
    pub(crate) fn new(interval: Duration) -> Self {
        RateLimit {
            started: Instant::now(),
            last_ms: AtomicU64::new(u64::MAX),
            suppressed: AtomicU64::new(0),
            interval_ms: interval.as_millis() as u64,
        }
    }

    pub(crate) fn warn(&self, log: impl FnOnce(u64)) {
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_ms.load(Ordering::Relaxed);
        let due = last == u64::MAX || now.saturating_sub(last) >= self.interval_ms;
        if due
            && self
                .last_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            log(self.suppressed.swap(0, Ordering::Relaxed));
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Starts the export thread. `make_transport` runs inside the thread's runtime context.
pub(crate) fn start(
    batch: BatchConfig,
    export_timeout: Duration,
    attribute_value_limit: usize,
    make_transport: Box<dyn FnOnce() -> Box<dyn Transport> + Send>,
) -> std::io::Result<Arc<Shared>> {
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        work: Condvar::new(),
        progress: Condvar::new(),
        batch,
        export_timeout,
        attribute_value_limit,
        warn: RateLimit::new(Duration::from_secs(10)),
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
            let transport = {
                let _rt = runtime.enter();
                make_transport()
            };
            let _ = ready_tx.send(());
            Worker {
                shared: worker_shared,
                runtime,
                transport,
            }
            .run();
        })?;
    // Return with the export thread running and its transport built (bounded: building the
    // transport makes no connection, so this is quick; if it is not, spans simply queue).
    let _ = ready_rx.recv_timeout(Duration::from_secs(5));
    Ok(shared)
}

/// The export thread and its helper threads must not trace themselves: HTTP and gRPC
/// libraries emit `tracing` spans, which the bridge would turn into spans to export, forever.
fn suppress_telemetry_on_this_thread() {
    // Held for the thread's whole life; the guard is not needed again.
    std::mem::forget(Context::enter_telemetry_suppressed_scope());
    crate::logs::mark_export_thread();
}

struct Worker {
    shared: Arc<Shared>,
    runtime: tokio::runtime::Runtime,
    transport: Box<dyn Transport>,
}

impl Worker {
    fn run(mut self) {
        loop {
            let (batch, shutdown_deadline) = self.next_batch();
            if !batch.is_empty() {
                self.export(batch, shutdown_deadline);
            }
            let mut st = self.shared.lock();
            if st.queue.is_empty() && st.flush_completed < st.flush_requested {
                st.flush_completed = st.flush_requested;
                self.shared.progress.notify_all();
            }
            if let Some(deadline) = st.shutdown_deadline {
                if st.queue.is_empty() || Instant::now() >= deadline {
                    st.stats.lost_at_shutdown += st.queue.len() as u64;
                    st.queue.clear();
                    drop(st);
                    let transport = &mut self.transport;
                    let _ = catch_unwind(AssertUnwindSafe(|| transport.shutdown()));
                    let mut st = self.shared.lock();
                    st.worker_done = true;
                    st.flush_completed = st.flush_requested;
                    self.shared.progress.notify_all();
                    return;
                }
            }
        }
    }

    /// Waits until a batch is full, the delay passed, a flush was asked for, or shutdown.
    fn next_batch(&self) -> (Vec<SpanData>, Option<Instant>) {
        let shared = &self.shared;
        let wake_at = Instant::now() + shared.batch.schedule_delay;
        let mut st = shared.lock();
        loop {
            let urgent = st.shutdown_deadline.is_some() || st.flush_requested > st.flush_completed;
            if urgent || st.queue.len() >= shared.batch.max_export_batch_size {
                break;
            }
            let now = Instant::now();
            if now >= wake_at {
                break;
            }
            st = shared
                .work
                .wait_timeout(st, wake_at - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let n = st.queue.len().min(shared.batch.max_export_batch_size);
        let batch: Vec<SpanData> = st.queue.drain(..n).collect();
        st.in_flight = n as u64;
        (batch, st.shutdown_deadline)
    }

    fn export(&mut self, batch: Vec<SpanData>, shutdown_deadline: Option<Instant>) {
        let n = batch.len() as u64;
        let mut deadline = Instant::now() + self.shared.export_timeout;
        if let Some(sd) = shutdown_deadline {
            deadline = deadline.min(sd);
        }
        let transport = &mut self.transport;
        let runtime = &self.runtime;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on(async {
                let budget = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(budget, transport.send(batch, deadline)).await {
                    Ok(r) => r,
                    Err(_) => Err(ExportFailure::new(format!(
                        "export timed out after {} ms",
                        budget.as_millis()
                    ))),
                }
            })
        }));
        let outcome = match outcome {
            Ok(r) => r,
            Err(payload) => Err(ExportFailure::new(format!(
                "exporter panicked: {}",
                crate::__private::panic_message(&*payload)
            ))),
        };
        let mut st = self.shared.lock();
        st.in_flight = 0;
        match outcome {
            Ok(()) => st.stats.exported += n,
            Err(e) => {
                st.stats.failed += n;
                let failed = st.stats.failed;
                drop(st);
                self.shared.warn.warn(|suppressed| {
                    tracing::warn!(
                        target: "agent_trace::export",
                        spans = n,
                        failed_total = failed,
                        suppressed_warnings = suppressed,
                        "could not export spans: {}",
                        e.reason
                    )
                });
            }
        }
    }
}

/// OTLP retry policy: exponential backoff from 100 ms, honouring a server's delay,
/// never past `deadline`.
#[cfg_attr(
    not(any(feature = "otlp-grpc", feature = "otlp-http")),
    allow(dead_code)
)]
pub(crate) async fn with_retries<F, Fut>(deadline: Instant, mut attempt: F) -> ExportResult
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt>,
{
    let mut backoff = Duration::from_millis(100);
    loop {
        match attempt().await {
            Attempt::Done => return Ok(()),
            Attempt::Fatal(reason) => return Err(ExportFailure::new(reason)),
            Attempt::Retry { reason, after } => {
                let wait = after.unwrap_or(backoff);
                if Instant::now() + wait >= deadline {
                    return Err(ExportFailure::new(format!(
                        "{reason} (gave up retrying before the export deadline)"
                    )));
                }
                tokio::time::sleep(wait).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// One attempt's outcome, as transports classify it per the OTLP retry table.
#[derive(Debug)]
#[cfg_attr(
    not(any(feature = "otlp-grpc", feature = "otlp-http")),
    allow(dead_code)
)]
pub(crate) enum Attempt {
    Done,
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    Fatal(String),
}

/// A finished span for unit tests: sampled, `name` "s", no attributes; adjust with `..`.
#[cfg(test)]
pub(crate) fn test_span(trace: u128, id: u64, parent: u64) -> SpanData {
    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceFlags, TraceId, TraceState};
    let start = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    SpanData {
        span_context: SpanContext::new(
            TraceId::from(trace),
            SpanId::from(id),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: SpanId::from(parent),
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: "s".into(),
        start_time: start,
        end_time: start,
        attributes: vec![],
        dropped_attributes_count: 0,
        events: Default::default(),
        links: Default::default(),
        status: opentelemetry::trace::Status::Unset,
        instrumentation_scope: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn span(i: u64) -> SpanData {
        SpanData {
            attributes: vec![KeyValue::new("big", "é".repeat(100))],
            ..test_span(1, i, 0)
        }
    }

    struct Scripted {
        calls: Arc<AtomicUsize>,
        panic_on: usize,
        fail: bool,
    }

    impl Transport for Scripted {
        fn send(&mut self, _b: Vec<SpanData>, _d: Instant) -> BoxFuture<'_, ExportResult> {
            let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            assert!(call != self.panic_on, "scripted exporter panic");
            let fail = self.fail;
            Box::pin(async move {
                if fail {
                    Err(ExportFailure::new("scripted failure"))
                } else {
                    Ok(())
                }
            })
        }
    }

    fn pipeline(batch: BatchConfig, t: Scripted) -> QueueProcessor {
        let shared = start(
            batch,
            Duration::from_secs(5),
            10,
            Box::new(move || Box::new(t)),
        )
        .expect("start");
        QueueProcessor { shared }
    }

    fn batch(queue: usize, size: usize) -> BatchConfig {
        BatchConfig {
            max_queue_size: queue,
            max_export_batch_size: size,
            schedule_delay: Duration::from_millis(10),
            export_timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn counts_add_up_and_panicking_exporter_does_not_end_tracing() {
        let calls = Arc::new(AtomicUsize::new(0));
        let p = pipeline(
            batch(100, 1),
            Scripted {
                calls: calls.clone(),
                panic_on: 2,
                fail: false,
            },
        );
        for i in 1..=5 {
            p.on_end(span(i));
            p.shared.flush(Duration::from_secs(10)).expect("flush");
        }
        let s = p.shared.shutdown(Duration::from_secs(10));
        assert_eq!(s.ended, 5);
        assert_eq!(s.failed, 1, "the panicking call's one span");
        assert_eq!(s.exported, 4, "export continued after the panic");
        assert_eq!(s.exported + s.dropped() + s.pending, s.ended);
        assert!(calls.load(Ordering::SeqCst) >= 5);
    }

    #[test]
    fn full_queue_drops_and_counts() {
        // The exporter never gets a chance: a long delay and a large batch keep spans queued.
        let mut b = batch(3, 3);
        b.schedule_delay = Duration::from_secs(60);
        let p = pipeline(
            BatchConfig {
                max_export_batch_size: 100,
                ..b
            },
            Scripted {
                calls: Arc::new(AtomicUsize::new(0)),
                panic_on: 0,
                fail: true,
            },
        );
        for i in 1..=10 {
            p.on_end(span(i));
        }
        let s = p.shared.stats();
        assert_eq!(s.ended, 10);
        assert_eq!(s.dropped_queue_full, 7);
        assert_eq!(s.pending, 3);
        let s = p.shared.shutdown(Duration::from_secs(10));
        assert_eq!(s.failed, 3);
        assert!(!s.all_delivered());
        assert_eq!(s.exported + s.dropped() + s.pending, s.ended);
        // After shutdown, spans are counted as lost, not queued.
        p.on_end(span(11));
        let s2 = p.shared.shutdown(Duration::from_secs(1));
        assert_eq!(s2.lost_at_shutdown, s.lost_at_shutdown + 1);
    }

    #[test]
    fn attribute_values_are_cut_on_char_boundaries() {
        let mut s = span(1);
        truncate_span(&mut s, 10);
        assert_eq!(s.attributes[0].value.as_str().chars().count(), 10);
        assert_eq!(cut_point("short", 10), None);
        assert_eq!(cut_point("ééé", 2), Some(4));
    }

    #[test]
    fn names_status_events_and_links_are_cut_too() {
        use opentelemetry::trace::{Event, Link, SpanContext, TraceState};
        let huge = "M".repeat(100_000);
        let mut events = opentelemetry_sdk::trace::SpanEvents::default();
        events.events.push(Event::new(
            huge.clone(),
            std::time::SystemTime::UNIX_EPOCH,
            vec![KeyValue::new("exception.message", huge.clone())],
            0,
        ));
        let mut links = opentelemetry_sdk::trace::SpanLinks::default();
        links.links.push(Link::new(
            SpanContext::new(
                1u128.into(),
                2u64.into(),
                Default::default(),
                true,
                TraceState::default(),
            ),
            vec![KeyValue::new("why", huge.clone())],
            0,
        ));
        let mut s = SpanData {
            name: huge.clone().into(),
            status: Status::error(huge.clone()),
            events,
            links,
            ..test_span(1, 1, 0)
        };
        truncate_span(&mut s, 16);
        assert_eq!(s.name.len(), 16);
        assert!(matches!(&s.status, Status::Error { description } if description.len() == 16));
        assert_eq!(s.events.events[0].name.len(), 16);
        assert_eq!(s.events.events[0].attributes[0].value.as_str().len(), 16);
        assert_eq!(s.links.links[0].attributes[0].value.as_str().len(), 16);
    }

    #[test]
    fn rate_limit_counts_suppressed() {
        let rl = RateLimit::new(Duration::from_secs(3600));
        let mut logged = Vec::new();
        for _ in 0..5 {
            rl.warn(|s| logged.push(s));
        }
        assert_eq!(logged, vec![0]);
        assert_eq!(rl.suppressed.load(Ordering::Relaxed), 4);
    }
}
