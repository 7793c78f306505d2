//! Consistent probability sampling, as the OpenTelemetry specification defines it
//! ("TraceState: Probability Sampling", and the `CompositeSampler` of the SDK specification).
//!
//! Every service decides from the same 56 random bits of the trace (the trace id's low 7
//! bytes, W3C Trace Context Level 2, or an explicit `rv` in the `ot` tracestate entry) against
//! a rejection threshold `T` derived from its probability, and writes the threshold it kept a
//! span at into the `ot` tracestate entry (`ot=th:...`). Services sampling at different rates
//! then keep whole traces, and the Collector and backends can count what was dropped: a span
//! kept at threshold `T` stands for `2^56 / (2^56 - T)` spans ([`adjusted_count`]).
//!
//! - `ot.rs`: the `ot` entry ([`Threshold`], its `th` encoding, `rv`);
//! - `composite.rs`: [`CompositeSampler`] over [`Composable`] samplers, an SDK `ShouldSample`;
//! - `honest.rs`: the SDK's own samplers, made to erase a `th` they did not decide by;
//! - `choice.rs`: the sampler `init` installs for a configured [`Sampler`](crate::Sampler).
//!
//! `init` installs the composite sampler with `OTEL_TRACES_SAMPLER=probability` or
//! `parentbased_probability` (ratio in `OTEL_TRACES_SAMPLER_ARG`), or
//! [`Sampler::Probability`](crate::Sampler::Probability) /
//! [`Sampler::ParentBasedProbability`](crate::Sampler::ParentBasedProbability) in code. What
//! each combination exports is in `docs/configuration.md` (sampling).
//!
//! Layers, bottom up: `ot` < `composite`, `honest` < `choice`. (`tests/layout.rs`)

mod choice;
mod composite;
mod honest;
mod ot;

pub use composite::{Composable, CompositeSampler};
pub use ot::{adjusted_count, threshold_of, ParseThresholdError, Threshold};

pub(crate) use choice::{head_of, head_sampler};
#[cfg(test)]
pub(crate) use honest::Honest;
pub(crate) use ot::rewrite_threshold;

#[cfg(test)]
mod tests;
