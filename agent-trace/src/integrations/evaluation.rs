//! Evaluation results as the GenAI conventions define them: a `gen_ai.evaluation.result`
//! event (an OpenTelemetry log record with that event name) with `gen_ai.evaluation.name`,
//! `gen_ai.evaluation.score.value` and/or `gen_ai.evaluation.score.label`,
//! `gen_ai.evaluation.explanation`, and the trace and span ids of the operation it judges: the
//! current span, or an ended one by its span context; `gen_ai.response.id` ties it to a model
//! call's response too. Needs the logs signal (feature `logs`, `OTEL_LOGS_EXPORTER`): without
//! it, nothing is recorded and [`record`] returns `false`.
//!
//! ```
//! use agent_trace::evaluation::{self, Evaluation};
//!
//! #[agent_trace::llm_call(model = "local-7b")]
//! fn answer(q: &str) -> String {
//!     q.to_uppercase()
//! }
//!
//! let text = answer("why?");
//! let judged = Evaluation::new("relevance").score(0.8).label("relevant");
//! let _recorded = evaluation::record(judged.explanation(format!("{} answers it", text)));
//! ```

use opentelemetry::trace::{SpanContext, TraceContextExt as _};

use crate::span::semconv as k;

/// One evaluation result: a name, a score and/or a label, an explanation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Evaluation {
    /// The evaluation metric (`Relevance`, `IntentResolution`).
    pub name: String,
    /// The score the evaluator gave.
    pub score: Option<f64>,
    /// Its human-readable label (`relevant`, `pass`).
    pub label: Option<String>,
    /// Why.
    pub explanation: Option<String>,
    /// The `gen_ai.response.id` of the model response it judges.
    pub response_id: Option<String>,
}

impl Evaluation {
    /// An evaluation named `name`, with no score or label yet.
    pub fn new(name: impl Into<String>) -> Evaluation {
        Evaluation {
            name: name.into(),
            score: None,
            label: None,
            explanation: None,
            response_id: None,
        }
    }

    /// The score.
    pub fn score(mut self, value: f64) -> Evaluation {
        self.score = Some(value);
        self
    }

    /// The label.
    pub fn label(mut self, label: impl Into<String>) -> Evaluation {
        self.label = Some(label.into());
        self
    }

    /// The explanation.
    pub fn explanation(mut self, text: impl Into<String>) -> Evaluation {
        self.explanation = Some(text.into());
        self
    }

    /// The response it judges (`gen_ai.response.id`).
    pub fn response_id(mut self, id: impl Into<String>) -> Evaluation {
        self.response_id = Some(id.into());
        self
    }
}

/// Records `evaluation` on the current span; `false` when nothing was recorded (no logs
/// signal, or no span).
pub fn record(evaluation: Evaluation) -> bool {
    let cx = opentelemetry::Context::current();
    let span = cx.span().span_context().clone();
    record_for(&span, evaluation)
}

/// Records `evaluation` on the span `judged` (ended or not, of this process or another);
/// `false` when nothing was recorded (no logs signal, or an invalid span context).
pub fn record_for(judged: &SpanContext, evaluation: Evaluation) -> bool {
    use opentelemetry::Value;
    let cut = |s: &str| Value::from(crate::span::text::cut(s, crate::span::text::MESSAGE_LIMIT));
    let mut attributes = vec![(k::GEN_AI_EVALUATION_NAME, cut(&evaluation.name))];
    if let Some(v) = evaluation.score.filter(|v| v.is_finite()) {
        attributes.push((k::GEN_AI_EVALUATION_SCORE_VALUE, Value::F64(v)));
    }
    if let Some(l) = &evaluation.label {
        attributes.push((k::GEN_AI_EVALUATION_SCORE_LABEL, cut(l)));
    }
    if let Some(e) = &evaluation.explanation {
        attributes.push((k::GEN_AI_EVALUATION_EXPLANATION, cut(e)));
    }
    if let Some(id) = &evaluation.response_id {
        let id = crate::span::text::cut(id, 256);
        attributes.push((k::GEN_AI_RESPONSE_ID, Value::from(id)));
    }
    crate::span::events::emit(k::GEN_AI_EVALUATION_RESULT_EVENT, false, judged, attributes)
}
