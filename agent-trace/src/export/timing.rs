//! Bounded waiting and rate-limited warnings, for the pipeline and the other providers'
//! shutdowns: a deadline that cannot overflow, a helper thread waited for at most a budget,
//! a warning logged at most once per interval, and the export thread's [`Pace`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::config::BatchConfig;

/// Runs `f` on a helper thread named `name` and waits for it at most `budget`: a provider
/// whose shutdown ignores its timeout (the SDK's meter provider) cannot hold the caller
/// longer. A late one finishes (and ends) by itself.
#[cfg_attr(not(any(feature = "metrics", feature = "logs")), allow(dead_code))]
pub(crate) fn run_within(name: &str, budget: Duration, f: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<()>(1);
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            f();
            let _ = done_tx.send(());
        });
    if spawned.is_ok() {
        let _ = done_rx.recv_timeout(budget.max(Duration::from_millis(1)));
    }
}

/// `now + d`, or a far deadline when that would overflow (`Duration::MAX`).
pub(crate) fn deadline_after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// Logs at most one warning per interval; counts what it held back.
#[derive(Debug)]
pub(crate) struct RateLimit {
    started: Instant,
    last_ms: AtomicU64,
    pub(crate) suppressed: AtomicU64,
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

/// When the export thread looks at the queue while spans keep coming, so that the application
/// threads do not wake it. Without it a hot producer pays a futex wake per batch (two, when
/// the export thread empties the queue faster than it fills): a few microseconds each on a
/// virtual machine, where waking a sleeping CPU is an interrupt through the hypervisor.
///
/// After a take of at least half a batch, the export thread measures the rate the spans came
/// at since its previous take and sleeps until three quarters of a batch should be queued
/// (never longer than the schedule delay, never shorter than [`MIN_PACE`]); a span wakes it
/// only if twice a batch is queued before that (a burst). When a look finds the queue empty,
/// the spans stopped, and the export thread waits as an idle one does, woken by the first span.
#[derive(Debug, Default)]
pub(crate) struct Pace {
    /// When the spans of the last take were taken, and how long to sleep after it.
    last: Option<(Instant, Option<Duration>)>,
    /// The time between two spans, as the last paced take measured it (seconds).
    per_span: Option<f64>,
}

/// How long an emptied record waits before it is reused, at the rate spans come at (see
/// [`Pace::records_waiting`]).
const REUSE_WINDOW: Duration = Duration::from_micros(500);

/// The shortest paced sleep (a faster producer fills batches beyond three quarters).
const MIN_PACE: Duration = Duration::from_micros(20);

impl Pace {
    /// Notes a take of `n` spans at `now`.
    pub(crate) fn took(&mut self, n: usize, batch: &BatchConfig, now: Instant) {
        let max = batch.max_export_batch_size.max(1);
        self.per_span = None;
        let sleep = match self.last {
            Some((previous, _)) if n >= max.div_ceil(2) => {
                let elapsed = now.saturating_duration_since(previous);
                // The time three quarters of a batch take to come at the rate measured.
                let per_span = elapsed.as_secs_f64() / n as f64;
                self.per_span = Some(per_span);
                let sleep = Duration::try_from_secs_f64(per_span * (max as f64 * 0.75))
                    .unwrap_or(batch.schedule_delay);
                Some(sleep.clamp(MIN_PACE, batch.schedule_delay.max(MIN_PACE)))
            }
            _ => None,
        };
        self.last = Some((now, sleep));
    }

    /// When to look at the queue next, if spans keep coming.
    pub(crate) fn next_look(&self) -> Option<Instant> {
        let (at, sleep) = self.last?;
        at.checked_add(sleep?)
    }

    /// The queue length at which a span wakes a paced export thread: twice a batch (a burst),
    /// within the queue's bound.
    pub(crate) fn wake_at(&self, batch: &BatchConfig) -> usize {
        let max = batch.max_export_batch_size.max(1);
        (2 * max).min(batch.max_queue_size.max(max))
    }

    /// How many emptied records wait before the oldest is reused: those of [`REUSE_WINDOW`]
    /// at the rate spans come at, at most `cap`; none while spans do not keep coming. A record
    /// emptied that long ago has left the export thread's cache, so an application thread's
    /// first reads of it do not each wait for a line held by the other CPU (hundreds of
    /// nanoseconds each when the host placed the two far apart); a process that makes few
    /// spans keeps no more records than it needs.
    pub(crate) fn records_waiting(&self, cap: usize) -> usize {
        match self.per_span {
            Some(per_span) if per_span > 0.0 => {
                let n = REUSE_WINDOW.as_secs_f64() / per_span;
                if n >= cap as f64 {
                    cap
                } else {
                    n as usize
                }
            }
            Some(_) => cap,
            None => 0,
        }
    }

    /// The spans stopped coming: the next take is measured afresh.
    pub(crate) fn stopped(&mut self) {
        self.last = None;
        self.per_span = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> BatchConfig {
        BatchConfig {
            max_queue_size: 2048,
            max_export_batch_size: 512,
            schedule_delay: Duration::from_secs(5),
            ..BatchConfig::default()
        }
    }

    #[test]
    fn pace_sleeps_until_three_quarters_of_a_batch_should_be_queued() {
        let b = batch();
        let t0 = Instant::now();
        let mut pace = Pace::default();
        // The first take has no rate to go by.
        pace.took(512, &b, t0);
        assert_eq!(pace.next_look(), None);
        // 512 spans in 512 µs: 384 more in 384 µs.
        let t1 = t0 + Duration::from_micros(512);
        pace.took(512, &b, t1);
        let look = pace.next_look().expect("paced");
        let sleep = look - t1;
        assert!(
            (Duration::from_micros(383)..=Duration::from_micros(385)).contains(&sleep),
            "{sleep:?}"
        );
        // A burst wakes it at twice a batch, within the queue's bound.
        assert_eq!(pace.wake_at(&b), 1024);
        let small = BatchConfig {
            max_queue_size: 600,
            ..b
        };
        assert_eq!(pace.wake_at(&small), 600);
        // 1 span a µs: the records of 500 µs wait before one is reused, within the cap.
        assert_eq!(pace.records_waiting(4096), 500);
        assert_eq!(pace.records_waiting(100), 100);
        // Less than half a batch: not paced (the schedule delay and a full batch rule again),
        // and records are reused as they come back.
        pace.took(100, &b, t1 + Duration::from_millis(1));
        assert_eq!(pace.next_look(), None);
        assert_eq!(pace.records_waiting(4096), 0);
    }

    #[test]
    fn pace_stays_within_its_bounds_and_forgets_a_stopped_stream() {
        let b = batch();
        let t0 = Instant::now();
        let mut pace = Pace::default();
        pace.took(512, &b, t0);
        // Slow: never longer than the schedule delay.
        pace.took(512, &b, t0 + Duration::from_secs(3600));
        let t1 = t0 + Duration::from_secs(3600);
        assert_eq!(pace.next_look(), Some(t1 + b.schedule_delay));
        // Very fast: never shorter than MIN_PACE.
        pace.took(512, &b, t1);
        assert_eq!(pace.next_look(), Some(t1 + MIN_PACE));
        // A schedule delay of 0 still sleeps MIN_PACE, not a busy loop.
        let zero = BatchConfig {
            schedule_delay: Duration::ZERO,
            ..b
        };
        pace.took(512, &zero, t1 + Duration::from_millis(1));
        assert_eq!(
            pace.next_look(),
            Some(t1 + Duration::from_millis(1) + MIN_PACE)
        );
        // Faster than the clock can tell: the cap.
        pace.took(512, &zero, t1 + Duration::from_millis(1));
        assert_eq!(pace.records_waiting(64), 64);
        pace.stopped();
        assert_eq!(pace.next_look(), None);
        assert_eq!(pace.records_waiting(64), 0);
        pace.took(512, &b, t1 + Duration::from_millis(2));
        assert_eq!(pace.next_look(), None);
    }
}
