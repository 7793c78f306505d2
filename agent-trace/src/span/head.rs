//! What the installed head sampler will decide, known before its span starts: the fast paths
//! that make a span the sampler would drop without the SDK's sampler and span, exactly as the
//! SDK would make it (its context field by field), and without building its attributes.
//!
//! - a child of a parent that was not sampled, under a parent-based sampler;
//! - a root under a ratio sampler (`traceidratio`, `probability`, parent-based or not): the
//!   trace id is drawn here and decided by the sampler's own rule; a root it keeps gets that
//!   id from the SDK (through the id generator `init` installs), so the SDK decides the same.

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry::Context;

use crate::state::{Head, RootRule};

/// What the root fast path found.
pub(crate) enum RootFate {
    /// Not a root under a ratio sampler: the usual path decides.
    Undecided,
    /// A root the sampler keeps: its trace id is preset for the SDK.
    Kept,
    /// A root the sampler drops, made as the SDK would make it.
    Dropped(Context),
}

/// `false` when the SDK's sampler will surely drop a span whose parent is `parent`.
#[inline]
pub(crate) fn may_sample(head: Head, parent: &Context) -> bool {
    let root_off = match head {
        Head::Unknown
        | Head::Ratio {
            parent_based: false,
            ..
        } => return true,
        Head::Off => return false,
        Head::ParentBased { root_off } => root_off,
        Head::Ratio {
            parent_based: true, ..
        } => false,
    };
    let span = parent.span();
    let sc = span.span_context();
    if sc.is_valid() {
        sc.is_sampled()
    } else {
        !root_off
    }
}

/// The context of a child of `parent` that the SDK's sampler would drop because its parent
/// was not sampled (`parentbased_*`), made without the SDK's round trip: the span context the
/// SDK gives a dropped span (the parent's trace id and trace state, a new random span id,
/// flags not sampled, not remote), as a non-recording span. `None`
/// when that is not sure, or telemetry is suppressed: then the SDK starts the span. (Out of
/// line: inlined, it grows the frame of every traced function, which the tracing-off path
/// pays for.)
#[inline(never)]
pub(crate) fn unsampled_child(head: Head, parent: &Context) -> Option<Context> {
    let parent_based = matches!(
        head,
        Head::ParentBased { .. }
            | Head::Ratio {
                parent_based: true,
                ..
            }
    );
    if !parent_based || parent.is_telemetry_suppressed() {
        return None;
    }
    let span = parent.span();
    let sc = span.span_context();
    // An `ot` tracestate entry is the sampler's to rewrite (a probability sampler erases
    // its threshold on a span it drops).
    if !sc.is_valid() || sc.is_sampled() || sc.trace_state().get("ot").is_some() {
        return None;
    }
    let child = SpanContext::new(
        sc.trace_id(),
        SpanId::from(crate::state::random_u64()),
        TraceFlags::default(),
        false,
        sc.trace_state().clone(),
    );
    Some(parent.with_remote_span_context(child))
}

/// A root's fate under a ratio sampler: decided here on a trace id drawn here. Inlined to one
/// comparison for every other sampler.
#[inline(always)]
pub(crate) fn root_fate(head: Head, parent: &Context) -> RootFate {
    match head {
        Head::Ratio { rule, .. } => ratio_root(rule, parent),
        _ => RootFate::Undecided,
    }
}

#[inline(never)]
fn ratio_root(rule: RootRule, parent: &Context) -> RootFate {
    // A parent (even an invalid active span, which the SDK's parent-based samplers follow),
    // or suppressed telemetry: the SDK decides.
    if parent.has_active_span() || parent.is_telemetry_suppressed() {
        return RootFate::Undecided;
    }
    let trace_id = TraceId::from(
        u128::from(crate::state::random_u64()) << 64 | u128::from(crate::state::random_u64()),
    );
    if keeps(rule, trace_id) {
        crate::state::preset_trace_id(Some(trace_id));
        return RootFate::Kept;
    }
    // What the SDK makes for a root its sampler drops: the trace id, its own span id, no flags,
    // not remote, the sampler's trace state (empty for a root: nothing to inherit, no
    // threshold on a dropped span).
    let root = SpanContext::new(
        trace_id,
        SpanId::from(crate::state::random_u64()),
        TraceFlags::default(),
        false,
        TraceState::default(),
    );
    RootFate::Dropped(parent.with_remote_span_context(root))
}

/// The sampler's own rule on a trace id (the SDK's `TraceIdRatioBased`, or `R >= T`).
pub(crate) fn keeps(rule: RootRule, trace_id: TraceId) -> bool {
    let bytes = trace_id.to_bytes();
    let mut low = [0u8; 8];
    low.copy_from_slice(&bytes[8..16]);
    let low = u64::from_be_bytes(low);
    match rule {
        RootRule::TraceIdRatio { all, .. } if all => true,
        RootRule::TraceIdRatio { bound, .. } => (low >> 1) < bound,
        RootRule::Threshold(t) => (low & ((1 << 56) - 1)) >= t,
    }
}

#[cfg(test)]
#[path = "head_tests.rs"]
mod tests;
