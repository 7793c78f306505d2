//! Where finished spans go, off the application's threads.
//!
//! - `pipeline.rs`: the bounded queue, the export thread and its runtime, exact counts and a
//!   bounded shutdown, around any SDK `SpanExporter` (`target.rs`: that exporter made
//!   object-safe);
//! - `build.rs`: the exporter and the export thread for a resolved configuration;
//! - `tail.rs`: tail sampling in front of the pipeline; `queued.rs`: what the queue holds (a
//!   span the SDK ended, or one agent-trace recorded itself); `timing.rs`: bounded waits,
//!   rate-limited warnings and the export thread's pace;
//! - `prepare.rs`: what the export thread does to a span before the exporter sees it
//!   (truncation, one value per key, then `redact.rs` and `openinference.rs`);
//! - `otlp.rs`, `console.rs`: opentelemetry-otlp's exporters, and the waterfall printer;
//! - `render.rs`: the waterfall drawing (also used by `agent-trace view`);
//! - `metrics.rs`: the meter provider over OTLP (feature `metrics`); `logs.rs`: the logger
//!   provider of the logs signal (feature `logs`);
//! - `guard.rs`: `TraceGuard` (flush, bounded shutdown); `status.rs`: `is_enabled`,
//!   `export_stats`, `tail_stats`;
//! - `panic_hook.rs`: the panic hook (bounded flush under `panic = "abort"`), and the check
//!   that nothing replaced it; `signal.rs`: `shutdown_signal`.
//!
//! Layers, bottom up: `openinference`, `queued`, `redact`, `render`, `signal`, `target`, `timing` < `console`, `prepare` <
//! `pipeline` < `otlp`, `tail` < `build`, `logs`, `metrics`, `status` < `panic_hook` < `guard`. (Each
//! file imports only files of the layers below it, checked by `tests/layout.rs`.)
//!
//! Besides any OpenTelemetry SDK `SpanExporter` given to
//! [`Builder::span_exporter`](crate::Builder::span_exporter), the pipeline can send spans
//! through OTLP (the default) or the [`ConsoleExporter`].

pub(crate) mod build;
mod console;
pub(crate) mod guard;
#[cfg(feature = "logs")]
pub(crate) mod logs;
#[cfg(feature = "metrics")]
pub(crate) mod metrics;
pub(crate) mod openinference;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) mod otlp;
pub(crate) mod panic_hook;
pub(crate) mod pipeline;
mod prepare;
mod queued;
pub(crate) mod redact;
mod render;
pub(crate) mod signal;
pub(crate) mod status;
pub(crate) mod tail;
mod target;
mod timing;

pub use crate::config::{DEFAULT_REDACT_KEYS, DEFAULT_REDACT_PATTERNS};
pub use console::ConsoleExporter;
pub use redact::REDACTED;
pub use render::{
    format_duration, render_trace, RenderOptions, SpanView, MAX_BAR_WIDTH, MAX_DEPTH,
};
pub use tail::TailStats;
