//! The SDK sampler `init` installs for a configured [`Sampler`], and what is known of its
//! decisions before a span starts (the macros' fast paths).

use opentelemetry_sdk::trace::ShouldSample;

use super::composite::{Composable, CompositeSampler};
use super::honest::Honest;
use crate::config::Sampler;

/// What is known of the head sampler's decisions before a span starts. `tail`: a tail sampler
/// records what a consistent head sampler drops, so nothing is known.
pub(crate) fn head_of(s: Sampler, tail: bool) -> crate::state::Head {
    use crate::state::{Head, RootRule};
    let legacy = |r: f64| RootRule::TraceIdRatio {
        // The SDK's `TraceIdRatioBased`, to the bit.
        bound: (r.max(0.0) * (1u64 << 63) as f64) as u64,
        all: r >= 1.0,
    };
    let threshold = |r: f64| {
        let never = super::ot::MAX_ADJUSTED_COUNT;
        match Composable::probability(r) {
            Some(Composable::Probability { threshold, .. }) => {
                RootRule::Threshold(threshold.value())
            }
            _ => RootRule::Threshold(never),
        }
    };
    match s {
        // A tail sampler records what a consistent head drops: nothing is known.
        Sampler::Probability(_) | Sampler::ParentBasedProbability(_) if tail => Head::Unknown,
        Sampler::AlwaysOff => Head::Off,
        Sampler::ParentBasedAlwaysOn => Head::ParentBased { root_off: false },
        Sampler::ParentBasedAlwaysOff => Head::ParentBased { root_off: true },
        Sampler::TraceIdRatio(r) => Head::Ratio {
            rule: legacy(r),
            parent_based: false,
        },
        Sampler::ParentBasedTraceIdRatio(r) => Head::Ratio {
            rule: legacy(r),
            parent_based: true,
        },
        Sampler::Probability(r) => Head::Ratio {
            rule: threshold(r),
            parent_based: false,
        },
        Sampler::ParentBasedProbability(r) => Head::Ratio {
            rule: threshold(r),
            parent_based: true,
        },
        _ => Head::Unknown,
    }
}

/// The SDK sampler of `s`; `tail`: a tail sampler sits behind it.
pub(crate) fn head_sampler(s: Sampler, tail: bool) -> Box<dyn ShouldSample> {
    use opentelemetry_sdk::trace::Sampler as S;
    let probability = |r: f64| Composable::probability(r).unwrap_or(Composable::AlwaysOff);
    let composite = match s {
        Sampler::Probability(r) => Some(CompositeSampler::new(probability(r))),
        Sampler::ParentBasedProbability(r) => Some(CompositeSampler::new(
            Composable::parent_threshold(probability(r)),
        )),
        _ => None,
    };
    if let Some(c) = composite {
        return match tail {
            true => Box::new(c.recording_locally()),
            false => Box::new(c),
        };
    }
    let sdk = match s {
        // Tail sampling needs every local trace recorded; the ratio is applied at the tail.
        _ if tail => S::ParentBased(Box::new(S::AlwaysOn)),
        Sampler::AlwaysOn => S::AlwaysOn,
        Sampler::AlwaysOff => S::AlwaysOff,
        Sampler::TraceIdRatio(r) => S::TraceIdRatioBased(r),
        Sampler::ParentBasedAlwaysOff => S::ParentBased(Box::new(S::AlwaysOff)),
        Sampler::ParentBasedTraceIdRatio(r) => S::ParentBased(Box::new(S::TraceIdRatioBased(r))),
        _ => S::ParentBased(Box::new(S::AlwaysOn)),
    };
    Box::new(Honest::new(sdk))
}
