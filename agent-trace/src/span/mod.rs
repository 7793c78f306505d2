//! The span core and everything a traced call does on the application's thread.
//!
//! - `core.rs`: starting a span under a context, keeping it current, recording its outcome,
//!   ending it; used by the macros and by every integration and carrier.
//! - `start.rs`: the starters the macro expansions call and the attributes they compute.
//! - `run.rs`: running a body inside a span (sync calls, futures); `stream.rs`: streams in
//!   their span, and what a streamed model answer's chunks say.
//! - `probes.rs`: the autoref-specialized probes that pick how a return value is recorded.
//! - `private.rs`: `agent_trace::__private`, the list of what expansions call.
//! - `outcome.rs`, `instruments.rs`, `text.rs`, `semconv.rs`, `task.rs`: error and response
//!   traits, metric measurements, bounded text, attribute keys, context across tasks.
//!
//! Layering inside the folder (checked by `tests/layout.rs`): `semconv`, `text`, `outcome`,
//! `instruments` are leaves; `core` builds on them; `start`, `run`, `stream`, `probes`
//! and `task` on `core`; `private` only re-exports.

mod core;
pub(crate) mod instruments;
pub(crate) mod outcome;
pub mod private;
mod probes;
mod run;
pub mod semconv;
mod start;
mod stream;
pub mod task;
pub(crate) mod text;

#[cfg(panic = "abort")]
pub(crate) use self::core::mark_error;
pub(crate) use self::core::{
    current_or_process_parent, ours_is_innermost, panic_message, start_span, start_span_with_links,
    ActiveSpan,
};
pub(crate) use run::{call, instrument};
pub(crate) use start::server_attributes;
#[cfg(feature = "async-openai")]
pub(crate) use start::StopSequences;
#[cfg(feature = "rmcp")]
pub(crate) use {self::core::start_span_measured, instruments::Measure};

/// Captured arguments and results (`capture(..)`, `capture_result`) and `fields` strings are
/// cut to this many characters, with `…` appended.
pub const CAPTURE_LIMIT: usize = 1024;
