//! Redaction before export: secrets in captured arguments, results, messages, `fields` and
//! error messages are replaced before a span leaves the process.
//!
//! Two rules, applied on the export thread to every span the pipeline exports (the
//! application's threads pay nothing):
//!
//! - **keys**: a string attribute (span, event or link) whose key contains one of the listed
//!   words, in any case, has its whole value replaced by `[REDACTED]`; inside a value that is
//!   a JSON object or array (tool call arguments, messages), members with such keys are;
//! - **value patterns**: every match of a pattern in any string attribute value or status
//!   message is replaced by `[REDACTED]`; what a group named `at_keep` matched is kept in
//!   front of it (the default `key: value` pattern keeps `key: `). JSON values are
//!   redacted member by member and stay valid JSON.
//!
//! The defaults cover common credentials: keys with `password`, `passwd`, `secret`,
//! `access_token` (and the other `*_token` forms: refresh, auth, session, id, api),
//! `api_key`/`apikey`/`api-key`, `authorization`, `cookie`, `credential`, `private_key` (so
//! `gen_ai.usage.input_tokens` is not touched);
//! values that look like bearer tokens, `sk-…` API keys (OpenAI, Anthropic), AWS access key
//! ids, GitHub and Slack tokens, and `password=…`/`"api_key": "…"` pairs inside formatted
//! text. Add your own with [`Builder::redact_keys`](crate::Builder::redact_keys) and
//! [`Builder::redact_pattern`](crate::Builder::redact_pattern), or
//! `AGENT_TRACE_REDACT_KEYS` (comma-separated) and `AGENT_TRACE_REDACT_PATTERN` (a regular
//! expression); `AGENT_TRACE_REDACT_DEFAULTS=false` turns the defaults off.
//!
//! A `SpanProcessor` of your own added with `span_processor` sees spans before redaction.

use crate::span::semconv as k;
use opentelemetry::trace::Status;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use regex::Regex;

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// The replacement: a pattern's group named `at_keep`, if it has one and it matched, is
/// kept in front of the marker (so a pattern can match `key=secret` and replace only the
/// secret); otherwise the whole match is replaced.
const KEEP_THEN_REDACTED: &str = "${at_keep}[REDACTED]";

/// The redaction rules of a pipeline.
#[derive(Debug, Clone)]
pub(crate) struct Redactor {
    /// The key words as one case-insensitive alternation (one linear pass per key).
    keys: Option<Regex>,
    pattern: Option<Regex>,
}

impl Redactor {
    /// Rules from key words and patterns (each a regular expression); an invalid pattern is
    /// returned as the error.
    pub(crate) fn new(keys: Vec<String>, patterns: &[String]) -> Result<Self, String> {
        let pattern = if patterns.is_empty() {
            None
        } else {
            let combined = patterns
                .iter()
                .map(|p| format!("(?:{p})"))
                .collect::<Vec<_>>()
                .join("|");
            Some(Regex::new(&combined).map_err(|e| e.to_string())?)
        };
        Ok(Redactor {
            keys: key_matcher(&keys)?,
            pattern,
        })
    }

    /// Whether `key` contains one of the key words, in any case.
    fn key_matches(&self, key: &str) -> bool {
        self.keys.as_ref().is_some_and(|re| re.is_match(key))
    }

    fn text(&self, s: &str) -> Option<String> {
        let re = self.pattern.as_ref()?;
        re.is_match(s)
            .then(|| re.replace_all(s, KEEP_THEN_REDACTED).into_owned())
    }

    /// A string that is a JSON object or array is redacted as JSON, so it stays JSON:
    /// members whose key matches are replaced whole, string leaves go through the patterns.
    /// `None`: not JSON; `Some(None)`: JSON with nothing to redact. serde_json's nesting
    /// limit (128) bounds the walk.
    fn json(&self, s: &str) -> Option<Option<String>> {
        let t = s.trim_start();
        if !(t.starts_with('{') || t.starts_with('[')) {
            return None;
        }
        let mut v: serde_json::Value = serde_json::from_str(s).ok()?;
        Some(self.walk(&mut v).then(|| v.to_string()))
    }

    fn walk(&self, v: &mut serde_json::Value) -> bool {
        use serde_json::Value as J;
        match v {
            J::Object(members) => {
                let mut changed = false;
                for (key, value) in members.iter_mut() {
                    if self.key_matches(key) && !value.is_null() {
                        *value = J::String(REDACTED.into());
                        changed = true;
                    } else {
                        changed |= self.walk(value);
                    }
                }
                changed
            }
            J::Array(items) => items.iter_mut().fold(false, |c, i| self.walk(i) | c),
            J::String(text) => match self.text(text) {
                Some(clean) => {
                    *text = clean;
                    true
                }
                None => false,
            },
            _ => false,
        }
    }

    fn string(&self, s: &str) -> Option<String> {
        match self.json(s) {
            Some(redacted) => redacted,
            None => self.text(s),
        }
    }

    fn value(&self, kv: &mut KeyValue) {
        // Only strings are ever redacted: numbers and booleans skip the key expression too.
        if !matches!(
            kv.value,
            Value::String(_) | Value::Array(opentelemetry::Array::String(_))
        ) || is_generated(kv.key.as_str())
        {
            return;
        }
        let keyed = self.key_matches(kv.key.as_str());
        match &mut kv.value {
            Value::String(s) => {
                if keyed {
                    *s = REDACTED.into();
                } else if let Some(clean) = self.string(s.as_str()) {
                    *s = clean.into();
                }
            }
            Value::Array(opentelemetry::Array::String(items)) => {
                for s in items.iter_mut() {
                    if keyed {
                        *s = REDACTED.into();
                    } else if let Some(clean) = self.string(s.as_str()) {
                        *s = clean.into();
                    }
                }
            }
            _ => {}
        }
    }

    /// Redacts one span in place. Work is linear in its text (the regex crate guarantees
    /// linear-time matching).
    pub(crate) fn span(&self, span: &mut SpanData) {
        for kv in span.attributes.iter_mut() {
            self.value(kv);
        }
        for event in span.events.events.iter_mut() {
            for kv in event.attributes.iter_mut() {
                self.value(kv);
            }
        }
        for link in span.links.links.iter_mut() {
            for kv in link.attributes.iter_mut() {
                self.value(kv);
            }
        }
        if let Status::Error { description } = &mut span.status {
            if let Some(clean) = self.text(description) {
                *description = clean.into();
            }
        }
    }
}

/// One case-insensitive regular expression matching any of the key words (escaped).
fn key_matcher(keys: &[String]) -> Result<Option<Regex>, String> {
    let words: Vec<String> = keys
        .iter()
        .filter(|k| !k.is_empty())
        .map(|k| regex::escape(k))
        .collect();
    if words.is_empty() {
        return Ok(None);
    }
    Regex::new(&format!("(?i){}", words.join("|")))
        .map(Some)
        .map_err(|e| e.to_string())
}

/// Attributes whose values agent-trace writes itself from names in the code (operation,
/// tool, agent, model and phase names, methods, routes): never user data, so never scanned.
/// Scanning them cost the export thread more than encoding the span.
fn is_generated(key: &str) -> bool {
    matches!(
        key,
        k::GEN_AI_OPERATION_NAME
            | k::GEN_AI_TOOL_NAME
            | k::GEN_AI_TOOL_TYPE
            | k::GEN_AI_TOOL_DESCRIPTION
            | k::GEN_AI_AGENT_NAME
            | k::GEN_AI_REQUEST_MODEL
            | k::GEN_AI_PROVIDER_NAME
            | k::TOOL_NAME
            | k::AGENT_SOURCE
            | k::AGENT_TARGET
            | k::AGENT_PHASE
            | k::CODE_FUNCTION_NAME
            | k::ERROR_TYPE
            | k::HTTP_REQUEST_METHOD
            | k::HTTP_ROUTE
            | k::MCP_METHOD_NAME
            | k::A2A_METHOD_NAME
            | k::NETWORK_TRANSPORT
            | k::NETWORK_PROTOCOL_NAME
            | k::MESSAGING_SYSTEM
            | k::MESSAGING_OPERATION_TYPE
            | k::MESSAGING_OPERATION_NAME
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Redactor {
        Redactor::new(
            crate::config::DEFAULT_REDACT_KEYS
                .iter()
                .map(|k| k.to_string())
                .collect(),
            &crate::config::DEFAULT_REDACT_PATTERNS
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn keys_and_patterns() {
        let r = defaults();
        for (text, must_not_contain) in [
            ("Authorization: Bearer abcdefghij12345", "abcdefghij12345"),
            ("key sk-ant-api03-abcdefghijklmnop", "abcdefghijklmnop"),
            ("AKIAIOSFODNN7EXAMPLE used", "IOSFODNN7EXAMPLE"),
            (
                r#"Config { api_key: "s3cr3t-value", user: "ada" }"#,
                "s3cr3t-value",
            ),
            ("url?password=hunter2&x=1", "hunter2"),
        ] {
            let out = r.text(text).unwrap_or_else(|| text.to_string());
            assert!(!out.contains(must_not_contain), "{text} -> {out}");
            assert!(out.contains(REDACTED), "{out}");
        }
        assert_eq!(r.text("nothing secret here"), None);
        let mut kv = KeyValue::new("agent_trace.arg.api_key", "anything at all");
        r.value(&mut kv);
        assert_eq!(kv.value.as_str(), REDACTED);
        let mut kv = KeyValue::new("gen_ai.tool.name", "password_reset");
        r.value(&mut kv);
        assert_eq!(
            kv.value.as_str(),
            "password_reset",
            "names from the code are not scanned"
        );
        let mut kv = KeyValue::new("Agent_Trace.Arg.API_KEY", "x");
        r.value(&mut kv);
        assert_eq!(kv.value.as_str(), REDACTED, "key words match in any case");
        let mut kv = KeyValue::new("user.name", "ada");
        r.value(&mut kv);
        assert_eq!(kv.value.as_str(), "ada");
        let mut kv = KeyValue::new("llm.max_tokens", "4096");
        r.value(&mut kv);
        assert_eq!(kv.value.as_str(), "4096", "token counts are not secrets");
        assert_eq!(r.text("max_tokens: 4096"), None);
        assert!(Redactor::new(vec![], &["(".to_string()]).is_err());

        // Keys and separators are kept: JSON stays JSON.
        let json = r#"{"api_key":"abc123","token": "t0k3n","city":"Lisbon"}"#;
        let out = r.text(json).unwrap();
        assert_eq!(
            out,
            r#"{"api_key":"[REDACTED]","token": "[REDACTED]","city":"Lisbon"}"#
        );
        serde_json::from_str::<serde_json::Value>(&out).expect("still JSON");
        // JSON values are redacted as JSON: keys, and patterns in string leaves.
        let r = defaults();
        let mut kv = KeyValue::new(
            "gen_ai.tool.call.arguments",
            r#"{"city":"\"Lisbon\"","api_key":"\"sk-abcdefghijklmnopqrstuv\"","n":[{"note":"Bearer abcdefghijkl"}]}"#,
        );
        r.value(&mut kv);
        let v: serde_json::Value = serde_json::from_str(kv.value.as_str().as_ref()).unwrap();
        assert_eq!(v["api_key"], REDACTED);
        assert_eq!(v["city"], "\"Lisbon\"");
        assert_eq!(v["n"][0]["note"], REDACTED);
        // A user pattern without the group is replaced whole.
        let r = Redactor::new(vec![], &[r"\d{3}-\d{2}-\d{4}".to_string()]).unwrap();
        assert_eq!(r.text("ssn 123-45-6789").as_deref(), Some("ssn [REDACTED]"));
    }
}
