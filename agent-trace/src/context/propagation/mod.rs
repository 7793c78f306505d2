//! Context propagation formats and the composite propagator `init` installs.
//!
//! W3C Trace Context is parsed here ([`W3cTraceContext`]), strictly and in linear time: the
//! SDK's parser accepts several headers the specification rejects, and its `TraceState` still
//! enforces Level 1's key grammar. W3C Baggage is extracted by the SDK's propagator (linear,
//! capped at 8192 bytes) and injected here ([`W3cBaggage`]) so that `+` and `%` survive the
//! trip to other languages' SDKs. B3 (single and multi header) and Jaeger (`uber-trace-id` and
//! `uberctx-*` baggage) are implemented here too: no propagator crate for them exists for the
//! opentelemetry 0.33 line. Every extractor is total and linear in its input: malformed input
//! yields the context it was given, unchanged, never a panic and never a partial span context.
//!
//! Layers, bottom up: `b3`, `baggage`, `jaeger`, `trace_context`. One file per format, none
//! importing another (`tests/layout.rs`); the composite propagator is here.

use opentelemetry::baggage::{BaggageExt as _, KeyValueMetadata};
use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::BaggagePropagator;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

use crate::config::Propagator;

mod b3;
mod baggage;
mod jaeger;
mod trace_context;

use baggage::BAGGAGE_ENCODE;
use trace_context::IncomingTrace;

pub use b3::B3Propagator;
pub use baggage::W3cBaggage;
pub use jaeger::JaegerPropagator;
pub use trace_context::W3cTraceContext;

/// Builds the composite propagator for `kinds`, in order (later formats win on extract).
pub fn propagator_for(kinds: &[Propagator]) -> TextMapCompositePropagator {
    let list: Vec<Box<dyn TextMapPropagator + Send + Sync>> = kinds
        .iter()
        .map(|k| -> Box<dyn TextMapPropagator + Send + Sync> {
            match k {
                Propagator::TraceContext => Box::new(W3cTraceContext::new()),
                Propagator::Baggage => Box::new(W3cBaggage::new()),
                Propagator::B3 => Box::new(B3Propagator::single()),
                Propagator::B3Multi => Box::new(B3Propagator::multi()),
                Propagator::Jaeger => Box::new(JaegerPropagator::new()),
            }
        })
        .collect();
    TextMapCompositePropagator::new(list)
}

/// At most this many `tracestate` list members are accepted; a longer list is invalid and
/// dropped (the parent is kept), as the W3C test suite expects. Parsing stops at the 33rd.
pub const TRACESTATE_MAX_MEMBERS: usize = 32;
/// A `tracestate` longer than this (members joined by `,`) is cut by whole members: members
/// over [`TRACESTATE_LARGE_MEMBER`] characters go first, then members from the end.
pub const TRACESTATE_MAX_LEN: usize = 512;
/// Members longer than this are the first to go when a `tracestate` is cut.
pub const TRACESTATE_LARGE_MEMBER: usize = 128;
/// Baggage (W3C `baggage` or Jaeger `uberctx-*`) is read up to this many bytes in all.
pub const BAGGAGE_MAX_LEN: usize = 8192;
/// Baggage (W3C `baggage` or Jaeger `uberctx-*`) keeps at most this many entries.
pub const BAGGAGE_MAX_ENTRIES: usize = 64;

pub(super) fn parse_trace_id(s: &str) -> Option<TraceId> {
    // 16 or 32 hex digits (64-bit ids are left-padded), lowercase or uppercase.
    if !(s.len() == 16 || s.len() == 32) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let id = u128::from_str_radix(s, 16).ok()?;
    (id != 0).then(|| TraceId::from(id))
}

pub(super) fn parse_span_id(s: &str) -> Option<SpanId> {
    if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let id = u64::from_str_radix(s, 16).ok()?;
    (id != 0).then(|| SpanId::from(id))
}

pub(super) fn remote(cx: &Context, trace_id: TraceId, span_id: SpanId, sampled: bool) -> Context {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    cx.with_remote_span_context(SpanContext::new(
        trace_id,
        span_id,
        flags,
        true,
        TraceState::default(),
    ))
    // These formats say nothing about how the trace id was made: never claim `random`.
    .with_value(IncomingTrace {
        trace_id,
        random: false,
        tracestate: None,
    })
}

#[cfg(test)]
mod tests;
