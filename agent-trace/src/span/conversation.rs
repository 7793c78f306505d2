//! One conversation across services: `gen_ai.conversation.id` travels in the W3C baggage of
//! the trace context (entry `gen_ai.conversation.id`), so every span of the conversation, in
//! every process the carriers reach, carries it and a backend's session view (Phoenix,
//! Langfuse) groups the whole multi-agent conversation. A span whose own attributes name a
//! conversation (`#[agent_run(conversation_id = ..)]`, an A2A `contextId`,
//! [`in_conversation`](crate::in_conversation)) puts it into the baggage of its context; a
//! span without one takes it from its parent's baggage.

use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::{Context, KeyValue, Value};

use super::semconv as k;

/// The longest conversation id carried in baggage (longer ones are cut).
const MAX_ID: usize = 256;

/// Before a span starts under `parent` with `attributes`: the conversation id to carry in
/// its context when the attributes name one the parent's baggage does not; otherwise the
/// parent's id (if any) is added to the attributes and `None` is returned.
pub(crate) fn join<A>(parent: &Context, attributes: &mut A) -> Option<String>
where
    A: std::ops::Deref<Target = [KeyValue]> + Extend<KeyValue>,
{
    let inherited = parent.baggage().get(k::GEN_AI_CONVERSATION_ID);
    let own = attributes
        .iter()
        .find(|kv| kv.key.as_str() == k::GEN_AI_CONVERSATION_ID);
    match (own, inherited) {
        (Some(kv), inherited) => {
            let id = match &kv.value {
                Value::String(s) => s.as_str().to_string(),
                other => other.to_string(),
            };
            let id = super::text::cut(&id, MAX_ID);
            let same = inherited.is_some_and(|v| v.as_str() == id);
            (!same).then_some(id)
        }
        (None, Some(v)) => {
            attributes.extend([KeyValue::new(
                k::GEN_AI_CONVERSATION_ID,
                v.as_str().to_string(),
            )]);
            None
        }
        (None, None) => None,
    }
}

/// `cx` with `id` as the conversation in its baggage (the rest of the baggage kept).
pub(crate) fn carry(cx: Context, id: String) -> Context {
    let id = super::text::cut(&id, MAX_ID);
    cx.with_baggage([KeyValue::new(k::GEN_AI_CONVERSATION_ID, id)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_names_or_inherits_the_conversation() {
        let root = carry(Context::new(), "c-1".into());
        // Inherited: the attribute is added, nothing new to carry.
        let mut attrs = Vec::new();
        assert_eq!(join(&root, &mut attrs), None);
        assert_eq!(attrs[0].value.as_str(), "c-1");
        // Its own: carried when it differs.
        let mut own = vec![KeyValue::new(k::GEN_AI_CONVERSATION_ID, "c-2")];
        assert_eq!(join(&root, &mut own), Some("c-2".into()));
        let mut same = vec![KeyValue::new(k::GEN_AI_CONVERSATION_ID, "c-1")];
        assert_eq!(join(&root, &mut same), None);
        // None at all.
        let mut none = Vec::new();
        assert_eq!(join(&Context::new(), &mut none), None);
        assert!(none.is_empty());
        // A huge id from the wire is cut before it rides in baggage.
        let big = carry(Context::new(), "x".repeat(100_000));
        let carried = big
            .baggage()
            .get(k::GEN_AI_CONVERSATION_ID)
            .map(|v| v.as_str().len());
        assert!(carried.is_some_and(|n| n <= MAX_ID + 4), "{carried:?}");
    }
}
