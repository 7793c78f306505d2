//! Tests of the export pipeline.

use super::*;
use crate::export::prepare::cut_point;
use opentelemetry::trace::Status;
use opentelemetry_sdk::trace::SpanExporter;
use std::sync::atomic::{AtomicU64, AtomicUsize};

fn span(i: u64) -> SpanData {
    SpanData {
        attributes: vec![KeyValue::new("big", "é".repeat(100))],
        ..test_span(1, i, 0)
    }
}

#[derive(Debug)]
struct Scripted {
    calls: Arc<AtomicUsize>,
    panic_on: usize,
    fail: bool,
    /// Spans each successful answer says were rejected (partial success).
    reject: u64,
    rejected: Arc<AtomicU64>,
}

impl SpanExporter for Scripted {
    async fn export(&self, _b: Vec<SpanData>) -> OTelSdkResult {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        assert!(call != self.panic_on, "scripted exporter panic");
        if self.fail {
            return Err(OTelSdkError::InternalFailure("scripted failure".into()));
        }
        self.rejected.fetch_add(self.reject, Ordering::Relaxed);
        Ok(())
    }
}

fn scripted(calls: &Arc<AtomicUsize>, panic_on: usize, fail: bool) -> Scripted {
    Scripted {
        calls: calls.clone(),
        panic_on,
        fail,
        reject: 0,
        rejected: Arc::new(AtomicU64::new(0)),
    }
}

fn pipeline(batch: BatchConfig, t: Scripted) -> QueueProcessor {
    let rejected = Some(t.rejected.clone());
    let shared = start(
        batch,
        Duration::from_secs(5),
        10,
        BeforeExport::default(),
        false,
        Box::new(move || ExportTarget {
            exporter: Box::new(t),
            rejected,
        }),
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
    let p = pipeline(batch(100, 1), scripted(&calls, 2, false));
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
        scripted(&Arc::new(AtomicUsize::new(0)), 0, true),
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

/// Polls the pipeline's counts until `exported` reaches `n`, for at most `within`.
fn exported_reaches(p: &QueueProcessor, n: u64, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if p.shared.stats().exported >= n {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// A steady stream paces the export thread (it looks at the queue when most of a batch should
/// be there, unwoken); when the stream stops it goes idle, and a lone span after that is still
/// exported by the schedule delay, without a flush.
#[test]
fn a_paced_stream_is_exported_whole_and_a_lone_span_after_it_too() {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut b = batch(100_000, 64);
    b.schedule_delay = Duration::from_millis(100);
    let p = pipeline(b, scripted(&calls, 0, false));
    let mut n = 0;
    for _ in 0..40 {
        for _ in 0..32 {
            n += 1;
            p.on_end(span(n));
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    assert!(
        exported_reaches(&p, n, Duration::from_secs(10)),
        "{:?}",
        p.shared.stats()
    );
    // Longer than any paced sleep (the schedule delay): the export thread is idle now.
    std::thread::sleep(Duration::from_millis(250));
    n += 1;
    p.on_end(span(n));
    // Woken by it (an export thread left waiting for a batch would sleep a whole second).
    assert!(
        exported_reaches(&p, n, IDLE_WAIT / 2),
        "{:?}",
        p.shared.stats()
    );
    let s = p.shared.shutdown(Duration::from_secs(5));
    assert_eq!((s.ended, s.exported, s.dropped()), (n, n, 0));
}

#[test]
fn partial_success_counts_rejected_spans_as_failed() {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut t = scripted(&calls, 0, false);
    t.reject = 2;
    let p = pipeline(batch(100, 5), t);
    for i in 1..=5 {
        p.on_end(span(i));
    }
    let s = p.shared.shutdown(Duration::from_secs(10));
    assert_eq!((s.ended, s.exported, s.failed), (5, 3, 2), "{s:?}");
    assert!(!s.all_delivered());
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

/// Pending-span markers: one for a span still running when the export thread takes the queue,
/// none for a span that ended before that, never counted as spans, none when the option is off.
#[test]
fn markers_go_out_for_running_spans_only_and_are_not_counted() {
    use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    for pending in [true, false] {
        let memory = InMemorySpanExporter::default();
        let exporter = memory.clone();
        let shared = start(
            batch(100, 100),
            Duration::from_secs(5),
            1024,
            BeforeExport::default(),
            pending,
            Box::new(move || ExportTarget {
                exporter: Box::new(exporter),
                rejected: None,
            }),
        )
        .expect("start");
        let provider = SdkTracerProvider::builder()
            .with_span_processor(QueueProcessor {
                shared: shared.clone(),
            })
            .build();
        let tracer = provider.tracer("t");
        let mut long = tracer.start("long");
        shared.flush(Duration::from_secs(10)).expect("flush");
        let mut short = tracer.start("short");
        short.end();
        shared.flush(Duration::from_secs(10)).expect("flush");
        long.end();
        shared.flush(Duration::from_secs(10)).expect("flush");
        let stats = shared.stats();
        assert_eq!((stats.ended, stats.exported), (2, 2), "{stats:?}");
        let got: Vec<(String, bool)> = memory
            .get_finished_spans()
            .expect("spans")
            .iter()
            .map(|s| {
                let marker = s.attributes.iter().any(|kv| {
                    kv.key.as_str() == crate::span::semconv::AGENT_TRACE_SPAN_PENDING
                        && kv.value == true.into()
                });
                assert!(!marker || s.end_time == s.start_time);
                (s.name.to_string(), marker)
            })
            .collect();
        let mut want = vec![("short".to_string(), false), ("long".to_string(), false)];
        if pending {
            want.insert(0, ("long".to_string(), true));
        }
        assert_eq!(got, want, "pending spans {pending}");
        shared.shutdown(Duration::from_secs(10));
    }
}

/// A finished span for unit tests: sampled, `name` "s", no attributes; adjust with `..`.
#[test]
fn one_value_per_key_the_later_winning() {
    let kv = |k: &'static str, v: i64| KeyValue::new(k, v);
    for n in [3usize, 40] {
        let mut span = test_span(1, 2, 0);
        span.attributes = (0..n as i64)
            .map(|i| kv(["a", "b", "c"][i as usize % 3], i))
            .collect();
        span.attributes.push(kv("z", 7));
        super::unique_keys(&mut span);
        let got: Vec<(String, String)> = span
            .attributes
            .iter()
            .map(|kv| (kv.key.to_string(), kv.value.to_string()))
            .collect();
        let last = |k: usize| ((0..n).rev().find(|i| i % 3 == k).unwrap()).to_string();
        assert_eq!(
            got,
            [
                ("a".to_string(), last(0)),
                ("b".to_string(), last(1)),
                ("c".to_string(), last(2)),
                ("z".to_string(), "7".to_string()),
            ],
            "{n} attributes"
        );
    }
    // No repeat: untouched.
    let mut span = test_span(1, 2, 0);
    span.attributes = vec![kv("a", 1), kv("b", 2)];
    super::unique_keys(&mut span);
    assert_eq!(span.attributes, vec![kv("a", 1), kv("b", 2)]);
}

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

/// A recorder keeps its pipeline for the life of the process; the export thread frees the
/// buffers as it ends (the emptied records kept for reuse among them).
#[test]
fn a_pipeline_ended_keeps_no_buffers() {
    let calls = Arc::new(AtomicUsize::new(0));
    let p = pipeline(batch(100, 10), scripted(&calls, 0, false));
    for _ in 0..25 {
        let _ = RecordSink::push(&*p.shared, Box::new(SpanRecord::empty()));
    }
    p.shared.flush(Duration::from_secs(10)).expect("flush");
    assert!(
        !p.shared.lock().reuse.is_empty(),
        "emptied records come back"
    );
    let s = p.shared.shutdown(Duration::from_secs(10));
    assert_eq!((s.ended, s.exported), (25, 25));
    let st = p.shared.lock();
    assert_eq!(st.reuse.capacity(), 0);
    assert_eq!(st.queue.capacity(), 0);
    assert_eq!(st.markers.capacity(), 0);
}

/// Emptied records come back for reuse oldest first (while spans do not keep coming, none
/// wait: `Pace::records_waiting`).
#[test]
fn records_are_reused_oldest_first() {
    let calls = Arc::new(AtomicUsize::new(0));
    // Nothing is taken before the flush: no full batch, a long delay.
    let mut b = batch(10_000, 64);
    b.schedule_delay = Duration::from_secs(60);
    let p = pipeline(b, scripted(&calls, 0, false));
    let first = Box::new(SpanRecord::empty());
    let first_at: *const SpanRecord = &*first;
    assert!(RecordSink::push(&*p.shared, first).is_none());
    for _ in 0..10 {
        assert!(RecordSink::push(&*p.shared, Box::new(SpanRecord::empty())).is_none());
    }
    p.shared.flush(Duration::from_secs(10)).expect("flush");
    let reused = RecordSink::push(&*p.shared, Box::new(SpanRecord::empty())).expect("reused");
    assert_eq!(&*reused as *const SpanRecord, first_at);
    let s = p.shared.shutdown(Duration::from_secs(10));
    assert_eq!(s.exported, 12);
}
