//! The specification's `CompositeSampler` over its composable samplers (`ComposableAlwaysOn`,
//! `ComposableAlwaysOff`, `ComposableProbability`, `ComposableParentThreshold`), as an SDK
//! [`ShouldSample`].

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::{
    Link, SpanContext, SpanKind, TraceContextExt as _, TraceId, TraceState,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, ShouldSample};

use super::ot::{ot_entry, rewrite_threshold, trace_id_randomness, Threshold};

/// A composable sampler of the specification: it states an intent (a threshold, and whether
/// that threshold is a probability a span-to-metrics pipeline may rely on), and a
/// [`CompositeSampler`] turns the intent into a decision and the `ot` tracestate entry.
///
/// ```
/// use agent_trace::sampling::Composable;
///
/// // Roots at 10%; children follow their parent's threshold.
/// let c = Composable::parent_threshold(Composable::probability(0.1).unwrap());
/// assert_eq!(
///     c.to_string(),
///     "ComposableParentThreshold(root=ComposableProbability(ratio=0.1, th=e6666666666666))"
/// );
/// assert!(Composable::probability(1.5).is_none());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Composable {
    /// Keep every span, at threshold 0 (written as `th:0`).
    AlwaysOn,
    /// Keep nothing (no threshold).
    AlwaysOff,
    /// Keep each span whose randomness reaches this threshold.
    Probability {
        /// The ratio asked for.
        ratio: f64,
        /// Its threshold.
        threshold: Threshold,
    },
    /// A child follows its parent's threshold (or, without one, its sampled flag); a root is
    /// decided by `root`.
    ParentThreshold {
        /// The sampler of spans without a valid parent.
        root: Box<Composable>,
    },
}

impl Composable {
    /// `ComposableProbability(ratio)`; a ratio of 0 is `AlwaysOff` (never is not a
    /// probability), `None` outside `[0, 1]`.
    pub fn probability(ratio: f64) -> Option<Composable> {
        if ratio == 0.0 {
            return Some(Composable::AlwaysOff);
        }
        if !(0.0..=1.0).contains(&ratio) {
            return None;
        }
        Some(match Threshold::from_probability(ratio) {
            Some(threshold) => Composable::Probability { ratio, threshold },
            None => Composable::AlwaysOff,
        })
    }

    /// `ComposableParentThreshold(root)`.
    pub fn parent_threshold(root: Composable) -> Composable {
        Composable::ParentThreshold {
            root: Box::new(root),
        }
    }

    /// The intent for a span whose parent is `parent` (`None` for a root).
    fn intent(&self, parent: Option<&Parent>) -> Intent {
        match (self, parent) {
            (Composable::AlwaysOn, _) => Intent::reliable(Threshold::ALWAYS),
            (Composable::AlwaysOff, _) => Intent::NEVER,
            (Composable::Probability { threshold, .. }, _) => Intent::reliable(*threshold),
            (Composable::ParentThreshold { root, .. }, None) => root.intent(None),
            (Composable::ParentThreshold { .. }, Some(p)) => match p.consistent_threshold() {
                Some(t) => Intent::reliable(t).inherited(),
                None if p.sampled => Intent {
                    threshold: Some(Threshold::ALWAYS),
                    reliable: false,
                    independent: false,
                },
                None => Intent::NEVER.inherited(),
            },
        }
    }
}

impl std::fmt::Display for Composable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Composable::AlwaysOn => f.write_str("ComposableAlwaysOn"),
            Composable::AlwaysOff => f.write_str("ComposableAlwaysOff"),
            Composable::Probability { ratio, threshold } => {
                write!(f, "ComposableProbability(ratio={ratio}, th={threshold})")
            }
            Composable::ParentThreshold { root } => {
                write!(f, "ComposableParentThreshold(root={root})")
            }
        }
    }
}

/// A sampling intent: the threshold (`None`: drop) and whether it is a probability.
#[derive(Debug, Clone, Copy)]
struct Intent {
    threshold: Option<Threshold>,
    reliable: bool,
    /// Decided here, not taken from the parent.
    independent: bool,
}

impl Intent {
    const NEVER: Intent = Intent {
        threshold: None,
        reliable: false,
        independent: true,
    };

    fn reliable(t: Threshold) -> Intent {
        Intent {
            threshold: Some(t),
            reliable: true,
            independent: true,
        }
    }

    fn inherited(self) -> Intent {
        Intent {
            independent: false,
            ..self
        }
    }
}

/// What a decision needs of a valid parent, read once.
struct Parent {
    sampled: bool,
    threshold: Option<Threshold>,
    randomness: u64,
}

impl Parent {
    /// The parent's threshold when its sampled flag agrees with it (`R >= T` exactly when
    /// sampled). An apparently inconsistent threshold is erased, as the specification asks.
    fn consistent_threshold(&self) -> Option<Threshold> {
        self.threshold
            .filter(|t| t.keeps(self.randomness) == self.sampled)
    }
}

/// The specification's `CompositeSampler`: an SDK sampler that asks a [`Composable`] for its
/// intent, decides `R >= T` with the randomness of the trace (a valid `rv` in the parent's
/// `ot` tracestate entry, else the trace id's 56 low bits), and writes the threshold it kept
/// the span at into `ot=th:...` (erasing `th` when the span is dropped or the threshold is not
/// a probability). Other `ot` members, `rv` among them, and other vendors' entries are kept.
///
/// Use it with your own `SdkTracerProvider`, or let `init` install it
/// (`OTEL_TRACES_SAMPLER=parentbased_probability`, [`Sampler::ParentBasedProbability`](crate::Sampler::ParentBasedProbability)).
///
/// ```
/// use agent_trace::opentelemetry::trace::{Tracer as _, TracerProvider as _, Span as _, TraceContextExt as _};
/// use agent_trace::opentelemetry_sdk::trace::SdkTracerProvider;
/// use agent_trace::sampling::{Composable, CompositeSampler};
///
/// let sampler = CompositeSampler::new(Composable::parent_threshold(Composable::probability(1.0).unwrap()));
/// let provider = SdkTracerProvider::builder().with_sampler(sampler).build();
/// let span = provider.tracer("doc").start("root");
/// assert!(span.span_context().is_sampled());
/// assert_eq!(span.span_context().trace_state().header(), "ot=th:0");
/// ```
#[derive(Debug, Clone)]
pub struct CompositeSampler {
    delegate: Composable,
    record_locally: bool,
}

impl CompositeSampler {
    /// The composite sampler over `delegate`.
    pub fn new(delegate: Composable) -> CompositeSampler {
        CompositeSampler {
            delegate,
            record_locally: false,
        }
    }

    /// Records the spans it drops as `RecordOnly` when they start a trace here or have a local
    /// recording parent (for a tail sampler that keeps some of them): their context still
    /// says "not sampled" and carries no threshold, so other services see the probability
    /// decision. A remote parent's "not sampled" is respected.
    pub(crate) fn recording_locally(mut self) -> CompositeSampler {
        self.record_locally = true;
        self
    }

    /// The composable sampler deciding.
    pub fn delegate(&self) -> &Composable {
        &self.delegate
    }

    /// The decision and trace state for a span of `trace_id` under `parent_cx`.
    fn decide(&self, parent_cx: Option<&Context>, trace_id: TraceId) -> (bool, TraceState) {
        let span = parent_cx.map(|cx| cx.span());
        let parent_sc: Option<&SpanContext> = span.as_ref().map(|s| s.span_context());
        let parent_state = parent_sc.map(|sc| sc.trace_state());
        let entry = parent_state.and_then(ot_entry);
        let randomness = entry
            .as_ref()
            .and_then(|e| e.randomness)
            .unwrap_or_else(|| trace_id_randomness(trace_id));
        let parent = parent_sc.filter(|sc| sc.is_valid()).map(|sc| Parent {
            sampled: sc.is_sampled(),
            threshold: entry.as_ref().and_then(|e| e.threshold),
            randomness,
        });
        let intent = self.delegate.intent(parent.as_ref());
        let from_trace_id = entry.as_ref().and_then(|e| e.randomness).is_none();
        if let Some(sc) = parent_sc.filter(|sc| sc.is_remote() && sc.is_valid()) {
            if from_trace_id && intent.independent && intent.threshold > Some(Threshold::ALWAYS) {
                warn_presumed_randomness(sc);
            }
        }
        let sampled = intent.threshold.is_some_and(|t| t.keeps(randomness));
        let written = intent.threshold.filter(|_| sampled && intent.reliable);
        let state = match parent_state {
            Some(s) => rewrite_threshold(s, written),
            None => rewrite_threshold(&TraceState::default(), written),
        };
        (sampled, state)
    }
}

/// The specification's compatibility warning, once per process: a decision for a child of a
/// remote parent presumed the trace id random although the parent did not say so (W3C
/// Level 2 `random` flag unset, no `rv`).
fn warn_presumed_randomness(parent: &SpanContext) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    const RANDOM: u8 = 0x02;
    if parent.trace_flags().to_u8() & RANDOM != 0 || WARNED.swap(true, Ordering::Relaxed) {
        return;
    }
    tracing::warn!(
        target: "agent_trace",
        "the probability sampler is presuming trace ids are random and expects the trace \
         random flag to be set in confirmation: upgrade the caller(s) to W3C Trace Context \
         Level 2 (said once)"
    );
}

impl ShouldSample for CompositeSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        _name: &str,
        _span_kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let (sampled, trace_state) = self.decide(parent_context, trace_id);
        let decision = if sampled {
            SamplingDecision::RecordAndSample
        } else if self.record_locally && records_locally(parent_context) {
            SamplingDecision::RecordOnly
        } else {
            SamplingDecision::Drop
        };
        SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state,
        }
    }
}

/// Whether a dropped span is one a local tail sampler may still keep: a root here, or the
/// child of a span recording here.
fn records_locally(parent: Option<&Context>) -> bool {
    let Some(cx) = parent else { return true };
    let span = cx.span();
    let sc = span.span_context();
    !sc.is_valid() || (!sc.is_remote() && span.is_recording())
}
