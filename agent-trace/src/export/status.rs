//! What is installed and what it says of itself, process-wide: the pipeline and tail sampler
//! `install` keeps, [`is_enabled`](crate::is_enabled), [`export_stats`](crate::export_stats),
//! [`tail_stats`](crate::tail_stats), [`log_stats`](crate::log_stats).

use std::sync::Arc;

use super::pipeline::Shared;
use super::tail::{TailSampler, TailStats};
use crate::state::{ExportStats, Installed, ACTIVE, LAST_STATS};

/// What `install` keeps beside the state's `Installed`: the export pipeline and the tail
/// sampler, for flush, stats and shutdown.
pub(crate) struct Owned {
    pub(crate) pipeline: Option<Arc<Shared>>,
    pub(crate) tail: Option<Arc<TailSampler>>,
    /// The logger provider of the logs signal and its counts (feature `logs`).
    #[cfg(feature = "logs")]
    pub(crate) logs: Option<(
        opentelemetry_sdk::logs::SdkLoggerProvider,
        Arc<crate::state::LogCounts>,
    )>,
}

pub(crate) fn owned(i: &Installed) -> Option<&Owned> {
    i.owned.as_deref()?.downcast_ref::<Owned>()
}

pub(crate) fn pipeline_of(i: &Installed) -> Option<Arc<Shared>> {
    owned(i)?.pipeline.clone()
}

/// Counts of the log records of the logs signal so far (`OTEL_LOGS_EXPORTER`); after
/// shutdown, the final ones. All zero while the logs signal is off.
///
/// ```
/// let stats = agent_trace::log_stats();
/// assert!(stats.emitted >= stats.exported);
/// ```
pub fn log_stats() -> crate::state::LogStats {
    #[cfg(feature = "logs")]
    if let Some(b) = crate::state::LOG_BRIDGE.load().as_deref() {
        return b.counts.stats();
    }
    crate::state::LAST_LOG_STATS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .unwrap_or_default()
}

/// Counts of exported and dropped spans so far (all zero while tracing is off).
pub fn export_stats() -> ExportStats {
    match ACTIVE.load().as_deref().and_then(pipeline_of) {
        Some(p) => p.stats(),
        None => LAST_STATS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or_default(),
    }
}

/// What the tail sampler decided so far; `None` unless tail sampling is on
/// (`AGENT_TRACE_KEEP_ERRORS`, `AGENT_TRACE_KEEP_SLOWER_THAN`).
pub fn tail_stats() -> Option<TailStats> {
    owned(ACTIVE.load().as_ref()?)?
        .tail
        .as_ref()
        .map(|t| t.stats())
}

/// Whether spans are being recorded in this process.
pub fn is_enabled() -> bool {
    crate::state::enabled()
}
