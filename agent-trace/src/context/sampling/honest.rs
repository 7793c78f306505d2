//! The SDK's samplers (`always_on`, `always_off`, `traceidratio`, `parentbased_*`) do not
//! decide by the `ot` threshold, yet hand a span its parent's trace state unchanged: a span
//! they keep would carry a `th` claiming a probability it was not kept at. [`Honest`] erases
//! it, as the specification asks of non-probability samplers: an independent decision
//! (`always_on`, `traceidratio`) never keeps an incoming `th`; a parent-based one keeps it only
//! while the parent's sampled flag agrees with it (`R >= T`), since the child was then kept
//! exactly when its parent was.

use opentelemetry::trace::{Link, SpanKind, TraceContextExt as _, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SamplingResult, ShouldSample};

use super::ot::{ot_entry, rewrite_threshold, trace_id_randomness};

/// An SDK sampler that leaves no `th` it cannot vouch for.
#[derive(Debug, Clone)]
pub(crate) struct Honest {
    inner: Sampler,
    parent_based: bool,
}

impl Honest {
    pub(crate) fn new(inner: Sampler) -> Honest {
        let parent_based = matches!(inner, Sampler::ParentBased(_));
        Honest {
            inner,
            parent_based,
        }
    }
}

impl ShouldSample for Honest {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let mut result =
            self.inner
                .should_sample(parent_context, trace_id, name, span_kind, attributes, links);
        if result.decision == SamplingDecision::Drop {
            return result;
        }
        let Some(entry) = ot_entry(&result.trace_state) else {
            return result;
        };
        if !entry.had_th {
            return result;
        }
        let vouched = self.parent_based
            && entry.threshold.is_some_and(|t| {
                let randomness = entry
                    .randomness
                    .unwrap_or_else(|| trace_id_randomness(trace_id));
                let parent_sampled =
                    parent_context.is_some_and(|cx| cx.span().span_context().is_sampled());
                parent_sampled && t.keeps(randomness)
            });
        if !vouched {
            result.trace_state = rewrite_threshold(&result.trace_state, None);
        }
        result
    }
}
