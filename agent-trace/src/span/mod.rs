//! The span core and everything a traced call does on the application's thread.
//!
//! - `core.rs`: starting a span under a context, keeping it current, recording its outcome,
//!   ending it; used by the macros and by every integration and carrier.
//! - `start.rs`: the starters the macro expansions call and the attributes they compute.
//! - `run.rs`: running a body inside a span (sync calls, futures); `stream.rs`: streams in
//!   their span, and what a streamed model answer's chunks say.
//! - `probes/`: the autoref-specialized probes that pick how a return value is recorded
//!   (what the expansions call of all these, `agent_trace::__private`, is listed in `lib.rs`).
//! - `outcome.rs`, `instruments.rs`, `text.rs`, `semconv.rs`, `task.rs`: error and response
//!   traits, metric measurements, bounded text, attribute keys, context across tasks;
//!   `ledger.rs`: what an agent invocation tallies of its own model and tool calls;
//!   `conversation.rs`: the conversation id in the baggage of the trace context;
//!   `events.rs`: the GenAI events (log records) agent-trace emits.
//!
//! - `record.rs`: agent-trace's own span recording (when spans go nowhere but its pipeline);
//!   `clock.rs`: the time-stamp counter its spans are timed with.
//! - `values.rs`: the traits through which a user's values become attributes.
//! - `head.rs`: what the head sampler will decide, known before a span starts (the fast
//!   paths of spans it drops).
//!
//! Layers, bottom up: `clock`, `head`, `outcome`, `semconv`, `task`, `text` < `conversation`, `events`, `instruments`,
//! `ledger`, `record`, `values` <
//! `core` <
//! `run`, `start`, `stream` < `probes`. (Each file imports only files of the layers below it,
//! checked by `tests/layout.rs`.)

pub(crate) mod clock;
pub(crate) mod conversation;
pub(crate) mod core;
pub(crate) mod events;
pub(crate) mod head;
pub(crate) mod instruments;
pub(crate) mod ledger;
pub(crate) mod outcome;
pub(crate) mod probes;
pub(crate) mod record;
pub(crate) mod run;
pub mod semconv;
pub(crate) mod start;
pub(crate) mod stream;
pub mod task;
pub(crate) mod text;
pub(crate) mod values;

#[cfg(panic = "abort")]
pub(crate) use self::core::mark_error;
pub(crate) use self::core::{
    current_or_process_parent, ours_is_innermost, panic_message, start_span, start_span_with_links,
    ActiveSpan,
};
pub(crate) use run::{call, instrument};
pub(crate) use start::server_attributes;
#[cfg(feature = "async-openai")]
pub(crate) use values::StopSequences;
pub use values::{RequestCount, RequestNumber, ToAttributeValue};
#[cfg(feature = "rmcp")]
pub(crate) use {self::core::start_span_measured, instruments::Measure};

/// Captured arguments and results (`capture(..)`, `capture_result`) and `fields` strings are
/// cut to this many characters, with `…` appended.
pub const CAPTURE_LIMIT: usize = 1024;
