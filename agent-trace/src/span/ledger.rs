//! What an in-process agent invocation (`#[agent_run]`) tallies of the work it does itself:
//! the usage and cost of its model calls, and how many model and tool calls it made. The
//! tally rides in the context of its `invoke_agent` span, so the model and tool spans
//! started inside find the innermost agent; a sub-agent has its own tally, and a remote
//! agent runs in another process, so each call counts against one invocation only, as the
//! conventions' agent metrics say. At the end, the agent's span carries the summed
//! `gen_ai.usage.*` and `agent_trace.usage.cost`, and the two agent metrics are recorded.
//!
//! Cost: with [`Prices`](crate::Prices) installed, each model-call span with usage gets
//! `agent_trace.usage.cost`. A model without a price gets no cost (one WARN per model); an
//! agent whose calls were not all priced gets no cost either, never a partial sum.

use std::sync::{Arc, Mutex, MutexGuard};

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, KeyValue};

use super::semconv as k;
use super::text::count_value;

/// The usage one model call reported, or a sum of them (each count absent when no answer
/// said it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) input: Option<u64>,
    pub(crate) output: Option<u64>,
    pub(crate) cache_read: Option<u64>,
    pub(crate) cache_write: Option<u64>,
    pub(crate) reasoning: Option<u64>,
}

impl Counts {
    fn any(&self) -> bool {
        self.input.is_some() || self.output.is_some()
    }

    fn add(&mut self, other: &Counts) {
        let sum = |a: &mut Option<u64>, b: Option<u64>| {
            if let Some(b) = b {
                *a = Some(a.unwrap_or(0).saturating_add(b));
            }
        };
        sum(&mut self.input, other.input);
        sum(&mut self.output, other.output);
        sum(&mut self.cache_read, other.cache_read);
        sum(&mut self.cache_write, other.cache_write);
        sum(&mut self.reasoning, other.reasoning);
    }

    /// The counts as `gen_ai.usage.*` attributes.
    pub(crate) fn attributes(&self) -> impl Iterator<Item = KeyValue> {
        [
            (k::GEN_AI_USAGE_INPUT_TOKENS, self.input),
            (k::GEN_AI_USAGE_OUTPUT_TOKENS, self.output),
            (k::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, self.cache_read),
            (k::GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, self.cache_write),
            (k::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, self.reasoning),
        ]
        .into_iter()
        .filter_map(|(key, n)| Some(KeyValue::new(key, count_value(n?))))
    }
}

#[derive(Debug, Default)]
struct Tally {
    usage: Counts,
    inference_calls: u64,
    tool_calls: u64,
    cost: f64,
    /// Model calls with usage and a price, and with usage but no price.
    priced: u64,
    unpriced: u64,
}

/// The tally of one in-process agent invocation, in the context of its span.
#[derive(Debug, Clone, Default)]
pub(crate) struct AgentLedger(Arc<Mutex<Tally>>);

impl AgentLedger {
    fn lock(&self) -> MutexGuard<'_, Tally> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A call an agent makes itself.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) enum Call {
    Inference,
    Tool,
}

/// Counts a model or tool call against the agent it ran in (if any).
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) fn count_call(cx: &Context, call: Call) {
    if let Some(ledger) = cx.get::<AgentLedger>() {
        let mut t = ledger.lock();
        match call {
            Call::Inference => t.inference_calls += 1,
            Call::Tool => t.tool_calls += 1,
        }
    }
}

/// On a model-call span whose usage is known (`counts`): its cost, when the installed prices
/// have one of `models` (the response's model, then the request's), and the usage and cost
/// added to the agent it ran in.
pub(crate) fn record_usage(cx: &Context, counts: &Counts, models: &[&str], provider: Option<&str>) {
    if !counts.any() {
        return;
    }
    let cost = cost_of(counts, models, provider);
    if let Some(c) = cost {
        cx.span()
            .set_attribute(KeyValue::new(k::AGENT_TRACE_USAGE_COST, c));
    }
    if let Some(ledger) = cx.get::<AgentLedger>() {
        let mut t = ledger.lock();
        t.usage.add(counts);
        match cost {
            Some(c) => {
                t.cost += c;
                t.priced += 1;
            }
            None => t.unpriced += 1,
        }
    }
}

/// The cost of one call with the installed prices; `None` without prices or without a price
/// for the model (said once per model).
fn cost_of(counts: &Counts, models: &[&str], provider: Option<&str>) -> Option<f64> {
    let active = crate::state::ACTIVE.load();
    let prices = active.as_ref()?.prices.as_ref()?;
    let Some(price) = prices.find(models, provider) else {
        warn_unpriced(models);
        return None;
    };
    Some(price.cost(
        counts.input.unwrap_or(0),
        counts.output.unwrap_or(0),
        counts.cache_read.unwrap_or(0),
        counts.cache_write.unwrap_or(0),
    ))
}

/// One WARN per model that has no price (at most 256 models remembered).
#[cold]
fn warn_unpriced(models: &[&str]) {
    let Some(model) = models.first() else { return };
    let mut seen = crate::state::UNPRICED
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if seen.len() >= 256 || seen.iter().any(|m| m == model) {
        return;
    }
    seen.push(super::text::cut(model, 256));
    drop(seen);
    crate::state::warn(&format!(
        "agent-trace: no price for the model {:?} ({}): its calls get no cost \
         (add it to the prices file, or with Prices::with_model)",
        super::text::cut(model, 256),
        models
            .iter()
            .map(|m| super::text::cut(m, 256))
            .collect::<Vec<_>>()
            .join(", ")
    ));
}

/// At the end of an agent's span: its summed usage and cost on the span; returns the numbers
/// of model and tool calls it made, for the agent metrics.
pub(crate) fn finish(cx: &Context) -> Option<(u64, u64)> {
    let ledger = cx.get::<AgentLedger>()?;
    let t = ledger.lock();
    let span = cx.span();
    if span.is_recording() {
        for kv in t.usage.attributes() {
            span.set_attribute(kv);
        }
        if t.priced > 0 && t.unpriced == 0 {
            span.set_attribute(KeyValue::new(k::AGENT_TRACE_USAGE_COST, t.cost));
        }
    }
    Some((t.inference_calls, t.tool_calls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sum_only_what_was_said_and_never_overflow() {
        let mut total = Counts::default();
        total.add(&Counts {
            input: Some(10),
            output: Some(2),
            ..Counts::default()
        });
        total.add(&Counts {
            input: Some(u64::MAX),
            cache_read: Some(4),
            ..Counts::default()
        });
        assert_eq!(total.input, Some(u64::MAX));
        assert_eq!(total.output, Some(2));
        assert_eq!(total.cache_read, Some(4));
        assert_eq!(total.cache_write, None);
        assert_eq!(total.attributes().count(), 3);
    }
}
