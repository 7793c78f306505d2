//! The running pipeline's handle: [`TraceGuard`] (flush, shutdown within a budget, honest
//! counts) and the process-wide [`force_flush`](crate::force_flush).

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::status::{owned, pipeline_of};
use crate::state::{set_active, ExportStats, ACTIVE, GUARDS, INSTALL, LAST_STATS};

/// Why [`TraceGuard::shutdown`] could not deliver everything.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShutdownError {
    /// Some spans never reached the collector; the counts say how many and why.
    #[error(
        "{} of {} spans were not delivered ({} dropped: queue full, {} failed to export, \
         {} lost at shutdown; {} still in flight)",
        .0.ended - .0.exported, .0.ended, .0.dropped_queue_full, .0.failed, .0.lost_at_shutdown, .0.pending
    )]
    Incomplete(ExportStats),
}

/// Keeps tracing installed; flushes and shuts the pipeline down when the last guard goes.
///
/// Dropping waits at most the shutdown timeout (5 s by default), from any thread, inside or
/// outside an async runtime, even while a panic unwinds.
#[must_use = "tracing shuts down when the guard is dropped: bind it with `let _guard = ...`"]
#[derive(Debug)]
pub struct TraceGuard {
    pub(crate) shutdown_timeout: Duration,
    pub(crate) done: bool,
}

impl TraceGuard {
    /// Flushes and stops the pipeline now, waiting at most `timeout`, and says honestly
    /// whether every span reached the collector. Calling it again (or on another guard)
    /// returns the final counts.
    pub fn shutdown_with_timeout(
        mut self,
        timeout: Duration,
    ) -> Result<ExportStats, ShutdownError> {
        self.done = true;
        GUARDS.fetch_sub(1, Ordering::SeqCst);
        shutdown_pipeline(timeout)
    }

    /// [`shutdown_with_timeout`](Self::shutdown_with_timeout) with the guard's timeout.
    pub fn shutdown(self) -> Result<ExportStats, ShutdownError> {
        let t = self.shutdown_timeout;
        self.shutdown_with_timeout(t)
    }

    /// Sends everything queued now; waits at most `timeout`.
    pub fn force_flush(&self, timeout: Duration) -> Result<ExportStats, ShutdownError> {
        force_flush(timeout)
    }
}

impl Drop for TraceGuard {
    fn drop(&mut self) {
        if !self.done && GUARDS.fetch_sub(1, Ordering::SeqCst) == 1 {
            let was_on = crate::state::enabled();
            let stats = shutdown_pipeline(self.shutdown_timeout);
            if was_on && stats.is_ok_and(|s| s.ended == 0) {
                crate::state::warn(DROPPED_UNUSED);
            }
        }
    }
}

/// What a guard dropped before any span ended says: most often `let _ = init(..)`, which drops
/// the guard at once (and turns tracing off) although the log said tracing is on.
pub(crate) const DROPPED_UNUSED: &str =
    "agent-trace: the TraceGuard was dropped before any span ended, and tracing is off from \
     here: `let _ = agent_trace::init(..)` drops it at once. Bind it for as long as the \
     program runs: `let _guard = agent_trace::init(..)?;`";

fn shutdown_pipeline(timeout: Duration) -> Result<ExportStats, ShutdownError> {
    super::panic_hook::warn_if_hook_replaced();
    let started = std::time::Instant::now();
    let installed = {
        let _lock = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
        set_active(None)
    };
    let stats = match installed {
        Some(i) => {
            if let Some(t) = owned(&i).and_then(|o| o.tail.as_ref()) {
                t.drain();
            }
            let stats = match pipeline_of(&i) {
                Some(p) => p.shutdown(timeout),
                None => ExportStats::default(),
            };
            // The log records still queued, within what is left of the same budget.
            #[cfg(feature = "logs")]
            if let Some((provider, counts)) = owned(&i).and_then(|o| o.logs.clone()) {
                crate::state::LOG_BRIDGE.store(None);
                let left = timeout.saturating_sub(started.elapsed());
                super::logs::shutdown(provider, &counts, left);
                *crate::state::LAST_LOG_STATS
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(counts.stats());
            }
            // The last metrics are exported at shutdown.
            #[cfg(feature = "metrics")]
            if let Some(m) = &i.metrics {
                // Within the same overall budget as the spans. The SDK's meter provider (0.33)
                // ignores its timeout and may wait 5 s on a hanging collector, so it shuts
                // down on a helper thread that is waited for only as long as the budget
                // allows; a late one finishes (and ends) by itself.
                let left = timeout.saturating_sub(started.elapsed());
                let provider = m.provider.clone();
                super::timing::run_within("agent-trace-metrics-shutdown", left, move || {
                    let _ = provider.shutdown_with_timeout(left);
                });
            }
            // Our processor is already stopped; users' processors get what is left.
            let left = timeout.saturating_sub(started.elapsed());
            let _ = i
                .provider
                .shutdown_with_timeout(left.max(Duration::from_millis(10)));
            *LAST_STATS.lock().unwrap_or_else(|p| p.into_inner()) = Some(stats);
            stats
        }
        None => LAST_STATS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or_default(),
    };
    if stats.all_delivered() {
        Ok(stats)
    } else {
        Err(ShutdownError::Incomplete(stats))
    }
}

/// Sends everything queued now, waiting at most `timeout`; returns the counts, or an error
/// with the counts if the queue could not be emptied in time or something was dropped.
pub fn force_flush(timeout: Duration) -> Result<ExportStats, ShutdownError> {
    super::panic_hook::warn_if_hook_replaced();
    let Some(pipeline) = ACTIVE.load().as_deref().and_then(pipeline_of) else {
        return Ok(ExportStats::default());
    };
    match pipeline.flush(timeout) {
        Ok(()) => {
            let s = pipeline.stats();
            if s.all_delivered() {
                Ok(s)
            } else {
                Err(ShutdownError::Incomplete(s))
            }
        }
        Err(s) => Err(ShutdownError::Incomplete(s)),
    }
}
