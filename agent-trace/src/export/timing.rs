//! Bounded waiting and rate-limited warnings, for the pipeline and the other providers'
//! shutdowns: a deadline that cannot overflow, a helper thread waited for at most a budget,
//! and a warning logged at most once per interval.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
