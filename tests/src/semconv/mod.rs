//! A conformance check of exported spans and metrics against the semantic conventions'
//! own registry (the YAML in the repository's `semconv/` folder: the upstream registry as
//! vendored, plus agent-trace's own registry of the keys it adds), in the spirit of Weaver's
//! live-check: every key defined and not deprecated, values of the defined type, enum members
//! current, one value per key; per span type its kind, name format, required and
//! conditionally required attributes; per metric its instrument, unit and attributes.
//!
//! Findings come in three severities, as live-check reports them: a *violation* breaks the
//! conventions, an *improvement* is a recommended attribute left out, *information* is a value
//! outside a (open) enum. `AGENT_TRACE_SEMCONV_DIR` checks against another copy of the
//! upstream registry (a folder with `genai/` and `core/`).

mod registry;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use agent_trace::receiver::ReceivedMetric;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;

/// The OTLP types the checks read.
pub use opentelemetry_proto as proto;
pub use registry::{Attribute, Metric, Registry, Requirement, SpanType, Use};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Breaks the conventions.
    Violation,
    /// A recommended (or conditionally required, condition unknown) attribute is absent.
    Improvement,
    /// Worth knowing (a value outside an open enum).
    Information,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// What it is about: `span KIND name` or `metric name`.
    pub subject: String,
    /// The rule broken (`undefined`, `deprecated`, `type`, `kind`, `name`, `required`, ...).
    pub rule: &'static str,
    /// The details.
    pub detail: String,
}

/// What a check found.
#[derive(Debug, Default)]
pub struct Report {
    /// Every finding, sorted, one per subject and detail.
    pub findings: Vec<Finding>,
    /// Spans checked, per span type (`-` for spans of no convention's type).
    pub span_types: BTreeMap<String, usize>,
    /// Metric names checked.
    pub metrics: BTreeMap<String, usize>,
}

impl Report {
    /// Findings of one severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// The report as text: counts, span types, then every finding.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} violations, {} improvements, {} information",
            self.count(Severity::Violation),
            self.count(Severity::Improvement),
            self.count(Severity::Information)
        );
        let _ = writeln!(out, "span types: {:?}", self.span_types);
        let _ = writeln!(out, "metrics: {:?}", self.metrics);
        for f in &self.findings {
            let _ = writeln!(
                out,
                "{:?} [{}] {}: {}",
                f.severity, f.rule, f.subject, f.detail
            );
        }
        out
    }

    fn add(&mut self, severity: Severity, subject: &str, rule: &'static str, detail: String) {
        self.findings.push(Finding {
            severity,
            subject: subject.to_string(),
            rule,
            detail,
        });
    }

    fn finish(&mut self) {
        self.findings.sort();
        self.findings.dedup();
    }
}

/// The repository's `semconv/` folder.
pub fn semconv_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|p| p.join("semconv"))
        .unwrap_or_default()
}

/// The upstream registry (vendored, or `AGENT_TRACE_SEMCONV_DIR`), agent-trace's own, and
/// `extra` folders (an application's registry).
pub fn load(extra: &[PathBuf]) -> Registry {
    let upstream = std::env::var_os("AGENT_TRACE_SEMCONV_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(semconv_dir);
    let mut dirs = vec![
        upstream.join("core/model"),
        upstream.join("genai/model"),
        semconv_dir().join("agent-trace"),
    ];
    dirs.extend_from_slice(extra);
    Registry::load(&dirs).unwrap_or_else(|e| panic!("reading the registry: {e}"))
}

/// The span type of the conventions a span claims to be, from its discriminating attributes.
pub fn classify(reg: &Registry, span: &Span) -> Option<String> {
    let kind = kind_name(span.kind);
    let attr = |k: &str| str_attr(&span.attributes, k);
    let side = |client: &str, server: &str| {
        if kind == "server" {
            server.to_string()
        } else {
            client.to_string()
        }
    };
    let id = if attr("mcp.method.name").is_some() {
        side("mcp.client", "mcp.server")
    } else if let Some(op) = attr("gen_ai.operation.name") {
        match op {
            "chat" | "text_completion" | "generate_content" => "gen_ai.client.inference".into(),
            "embeddings" => "gen_ai.embeddings.client".into(),
            "retrieval" => "gen_ai.retrieval.client".into(),
            "create_agent" => "gen_ai.create_agent.client".into(),
            "execute_tool" => "gen_ai.execute_tool.internal".into(),
            "invoke_agent" if kind == "client" => "gen_ai.invoke_agent.client".into(),
            "invoke_agent" | "invoke_workflow" => "gen_ai.invocation.internal".into(),
            _ => return None,
        }
    } else if attr("agent.phase").is_some() {
        "agent_trace.phase".into()
    } else if attr("a2a.method.name").is_some() {
        side("a2a.client", "a2a.server")
    } else if attr("http.request.method").is_some() {
        side("span.http.client", "span.http.server")
    } else if attr("messaging.system").is_some() {
        match (attr("messaging.operation.type"), kind) {
            (Some("create"), _) => "messaging.create.producer".into(),
            (Some("send"), "client") => "messaging.send.client".into(),
            (Some("receive"), _) => "messaging.receive.client".into(),
            (Some("settle"), _) => "messaging.settle.client".into(),
            (Some("process"), _) | (None, "consumer") => "messaging.process.consumer".into(),
            _ => "messaging.send.producer".into(),
        }
    } else {
        return None;
    };
    reg.spans.contains_key(&id).then_some(id)
}

/// Span name rules the registry refers to prose for ("refer to the Span Name section"),
/// written here from those pages: HTTP (docs/http/http-spans.md#name) and messaging
/// (docs/messaging/messaging-spans.md#span-name).
fn prose_names(id: &str) -> &'static [&'static str] {
    match id {
        "span.http.server" => &[
            "{http.request.method} {http.route}",
            "{http.request.method}",
        ],
        "span.http.client" => &[
            "{http.request.method} {url.template}",
            "{http.request.method}",
        ],
        _ if id.starts_with("messaging.") => &[
            "{messaging.operation.name} {messaging.destination.name}",
            "{messaging.operation.name}",
        ],
        _ => &[],
    }
}

/// What a placeholder of a name format that is not an attribute key stands for, from the
/// pages the notes link: a messaging `{destination}` is the destination template or name
/// (docs/messaging/messaging-spans.md#span-name); any other (MCP's `{target}`) is one of the
/// keys its note names.
fn placeholder_keys<'a>(ty: &'a SpanType, placeholder: &str) -> Vec<&'a str> {
    if placeholder == "destination" && ty.id.starts_with("messaging.") {
        return vec![
            "messaging.destination.template",
            "messaging.destination.name",
        ];
    }
    ty.name_keys.iter().map(String::as_str).collect()
}

/// Checks every span of the requests.
pub fn check_spans(reg: &Registry, requests: &[ExportTraceServiceRequest]) -> Report {
    let mut report = Report::default();
    for request in requests {
        for rs in &request.resource_spans {
            for span in rs.scope_spans.iter().flat_map(|ss| &ss.spans) {
                check_span(reg, span, &mut report);
            }
        }
    }
    report.finish();
    report
}

fn check_span(reg: &Registry, span: &Span, report: &mut Report) {
    let kind = kind_name(span.kind);
    let subject = format!("span {} {:?}", kind.to_uppercase(), span.name);
    check_attributes(reg, &span.attributes, &subject, report);
    // Every event's keys too: `exception`, the A2A stream updates, and the events made
    // from `tracing` events (whose fields are the application's keys, declared in its own
    // registry like any other).
    for e in &span.events {
        check_attributes(
            reg,
            &e.attributes,
            &format!("{subject} event {:?}", e.name),
            report,
        );
    }
    let ty = classify(reg, span);
    *report
        .span_types
        .entry(ty.clone().unwrap_or_else(|| "-".into()))
        .or_default() += 1;
    let Some(ty) = ty.and_then(|t| reg.spans.get(&t)) else {
        // A span the checker cannot classify would escape the kind, name and attribute
        // checks: a misspelled `gen_ai.operation.name`, a span of no type any registry
        // defines.
        report.add(
            Severity::Violation,
            &subject,
            "unclassified",
            "no span type of the registries matches its discriminating attributes".into(),
        );
        return;
    };
    let subject = format!("{subject} ({})", ty.id);
    if ty.kind != kind {
        report.add(
            Severity::Violation,
            &subject,
            "kind",
            format!("kind {kind}, the conventions say {}", ty.kind),
        );
    }
    check_name(reg, ty, span, &subject, report);
    let error = span.status.as_ref().is_some_and(|s| s.code == 2);
    check_uses(&ty.attributes, &span.attributes, error, &subject, report);
}

fn check_name(reg: &Registry, ty: &SpanType, span: &Span, subject: &str, report: &mut Report) {
    let formats: Vec<&str> = if ty.names.is_empty() {
        prose_names(&ty.id).to_vec()
    } else {
        ty.names.iter().map(String::as_str).collect()
    };
    if formats.is_empty() {
        return;
    }
    let targets = |placeholder: &str| -> Vec<String> {
        placeholder_keys(ty, placeholder)
            .into_iter()
            .filter(|k| reg.attributes.contains_key(*k))
            .filter_map(|k| any_text(&span.attributes, k))
            .collect()
    };
    let matches = |format: &str| -> bool {
        let mut expected = Vec::new();
        for word in format.split(' ') {
            let Some(key) = word.strip_prefix('{').and_then(|w| w.strip_suffix('}')) else {
                expected.push(vec![word.to_string()]);
                continue;
            };
            if reg.attributes.contains_key(key) {
                match any_text(&span.attributes, key) {
                    Some(v) => expected.push(vec![v]),
                    None => return false,
                }
            } else {
                expected.push(targets(key));
            }
        }
        let words: Vec<&str> = span.name.splitn(expected.len(), ' ').collect();
        words.len() == expected.len()
            && words
                .iter()
                .zip(&expected)
                .all(|(w, choices)| choices.iter().any(|c| c == w))
    };
    if !formats.iter().any(|f| matches(f)) {
        report.add(
            Severity::Violation,
            subject,
            "name",
            format!("the name should be one of {formats:?}"),
        );
    }
}

/// Whether a conditional requirement applies, when the condition can be read: `Some(true)`
/// for "if `X` is set" with X present or an error condition on a failed operation.
fn condition_holds(cond: &str, attrs: &[KeyValue], error: bool) -> Option<bool> {
    let lower = cond.to_ascii_lowercase();
    if lower.contains("is set") {
        let key = cond.split('`').nth(1)?;
        return Some(attrs.iter().any(|kv| kv.key == key));
    }
    if lower.contains("error") && (lower.contains("ended") || lower.contains("fail")) {
        return Some(error);
    }
    // "If and only if it's different than `http.request.method`": the original differs from
    // the recorded value exactly when that value is the registry's catch-all member `_OTHER`
    // (a method the instrumentation does not know).
    if lower.contains("different than") {
        let key = cond.split('`').nth(1)?;
        let value = attrs.iter().find(|kv| kv.key == key)?;
        return Some(
            value.value.as_ref().and_then(|v| v.value.as_ref())
                == Some(&Value::StringValue("_OTHER".into())),
        );
    }
    None
}

fn check_uses(uses: &[Use], attrs: &[KeyValue], error: bool, subject: &str, report: &mut Report) {
    for u in uses {
        if attrs.iter().any(|kv| kv.key == u.key) {
            continue;
        }
        match &u.requirement {
            Requirement::Required => report.add(
                Severity::Violation,
                subject,
                "required",
                format!("`{}` is required and absent", u.key),
            ),
            Requirement::Conditional(c) => match condition_holds(c, attrs, error) {
                Some(true) => report.add(
                    Severity::Violation,
                    subject,
                    "conditionally_required",
                    format!("`{}` is required here ({c}) and absent", u.key),
                ),
                Some(false) => {}
                None => report.add(
                    Severity::Improvement,
                    subject,
                    "conditionally_required",
                    format!("`{}` absent ({})", u.key, c.trim()),
                ),
            },
            Requirement::Recommended => report.add(
                Severity::Improvement,
                subject,
                "recommended",
                format!("`{}` absent", u.key),
            ),
            Requirement::OptIn => {}
        }
    }
}

fn check_attributes(reg: &Registry, attrs: &[KeyValue], subject: &str, report: &mut Report) {
    for (i, kv) in attrs.iter().enumerate() {
        if attrs[..i].iter().any(|o| o.key == kv.key) {
            report.add(
                Severity::Violation,
                subject,
                "unique",
                format!("`{}` appears more than once", kv.key),
            );
        }
        let Some(def) = reg.attribute(&kv.key) else {
            report.add(
                Severity::Violation,
                subject,
                "undefined",
                format!("`{}` is defined in no registry", kv.key),
            );
            continue;
        };
        if let Some(why) = &def.deprecated {
            report.add(
                Severity::Violation,
                subject,
                "deprecated",
                format!("`{}` is deprecated ({why})", kv.key),
            );
        }
        check_value(def, &kv.key, kv.value.as_ref(), subject, report);
    }
}

fn check_value(
    def: &Attribute,
    key: &str,
    v: Option<&AnyValue>,
    subject: &str,
    report: &mut Report,
) {
    let v = v.and_then(|v| v.value.as_ref());
    let got = type_name(v);
    if def.ty == "enum" {
        let text = match v {
            Some(Value::StringValue(s)) => s.clone(),
            Some(Value::IntValue(i)) => i.to_string(),
            _ => {
                report.add(
                    Severity::Violation,
                    subject,
                    "type",
                    format!("`{key}` is an enum, got {got}"),
                );
                return;
            }
        };
        match def.members.iter().find(|(m, _)| *m == text) {
            Some((_, true)) => report.add(
                Severity::Violation,
                subject,
                "deprecated",
                format!("`{key}` = {text:?} is a deprecated member"),
            ),
            Some((_, false)) => {}
            None => report.add(
                Severity::Information,
                subject,
                "enum",
                format!("`{key}` = {text:?} is not a member"),
            ),
        }
        return;
    }
    if def.ty != "any" && def.ty != got {
        report.add(
            Severity::Violation,
            subject,
            "type",
            format!("`{key}` is {}, got {got}", def.ty),
        );
    }
}

fn type_name(v: Option<&Value>) -> String {
    match v {
        Some(Value::StringValue(_)) => "string".into(),
        Some(Value::BoolValue(_)) => "boolean".into(),
        Some(Value::IntValue(_)) => "int".into(),
        Some(Value::DoubleValue(_)) => "double".into(),
        Some(Value::ArrayValue(a)) => {
            let first = a.values.first().and_then(|v| v.value.as_ref());
            let inner = type_name(first);
            if a.values
                .iter()
                .all(|x| type_name(x.value.as_ref()) == inner)
            {
                format!("{inner}[]")
            } else {
                "mixed[]".into()
            }
        }
        Some(Value::KvlistValue(_)) => "map".into(),
        Some(Value::BytesValue(_)) => "bytes".into(),
        Some(Value::StringValueStrindex(_)) => "string".into(),
        None => "empty".into(),
    }
}

/// Checks metric points: the name defined and current, instrument, unit, attributes.
pub fn check_metrics(reg: &Registry, points: &[ReceivedMetric], report: &mut Report) {
    for p in points {
        *report.metrics.entry(p.name.clone()).or_default() += 1;
        let subject = format!("metric {}", p.name);
        let Some(m) = reg.metrics.get(&p.name) else {
            report.add(
                Severity::Violation,
                &subject,
                "undefined",
                "the metric is defined in no registry".into(),
            );
            continue;
        };
        if let Some(why) = &m.deprecated {
            report.add(Severity::Violation, &subject, "deprecated", why.clone());
        }
        let kind = match m.instrument.as_str() {
            "counter" | "updowncounter" => "sum",
            other => other,
        };
        if kind != p.kind {
            report.add(
                Severity::Violation,
                &subject,
                "instrument",
                format!("{} exported as {}", m.instrument, p.kind),
            );
        }
        if m.unit != p.unit {
            report.add(
                Severity::Violation,
                &subject,
                "unit",
                format!("unit {:?}, the conventions say {:?}", p.unit, m.unit),
            );
        }
        let attrs: Vec<KeyValue> = p
            .attributes
            .iter()
            .map(|(k, v)| KeyValue {
                key: k.clone(),
                value: Some(AnyValue {
                    value: Some(Value::StringValue(v.clone())),
                }),
                ..Default::default()
            })
            .collect();
        for kv in &attrs {
            let Some(def) = reg.attribute(&kv.key) else {
                report.add(
                    Severity::Violation,
                    &subject,
                    "undefined",
                    format!("`{}` is defined in no registry", kv.key),
                );
                continue;
            };
            if let Some(why) = &def.deprecated {
                report.add(
                    Severity::Violation,
                    &subject,
                    "deprecated",
                    format!("`{}` is deprecated ({why})", kv.key),
                );
            }
            // Metric points arrive as text here: only enum membership is checked.
            if def.ty == "enum" {
                check_value(def, &kv.key, kv.value.as_ref(), &subject, report);
            }
        }
        let error = p.attributes.iter().any(|(k, _)| k == "error.type");
        check_uses(&m.attributes, &attrs, error, &subject, report);
    }
    report.finish();
}

fn kind_name(kind: i32) -> &'static str {
    match kind {
        1 => "internal",
        2 => "server",
        3 => "client",
        4 => "producer",
        5 => "consumer",
        _ => "unspecified",
    }
}

fn str_attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs.iter().rev().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        }
    })
}

fn any_text(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs.iter().rev().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.clone()),
            Value::IntValue(i) => Some(i.to_string()),
            Value::BoolValue(b) => Some(b.to_string()),
            Value::DoubleValue(d) => Some(d.to_string()),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    fn text(key: &str, v: &str) -> KeyValue {
        kv(key, Value::StringValue(v.into()))
    }

    fn rules(report: &Report) -> Vec<&'static str> {
        report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Violation)
            .map(|f| f.rule)
            .collect()
    }

    fn check(reg: &Registry, span: Span) -> Report {
        let mut report = Report::default();
        check_span(reg, &span, &mut report);
        report.finish();
        report
    }

    #[test]
    fn the_checker_finds_what_the_registry_forbids() {
        let reg = load(&[]);
        // A conforming MCP server span: no violation.
        let good = Span {
            name: "tools/call add".into(),
            kind: 2,
            attributes: vec![
                text("mcp.method.name", "tools/call"),
                text("gen_ai.tool.name", "add"),
                text("jsonrpc.request.id", "1"),
            ],
            ..Default::default()
        };
        assert_eq!(rules(&check(&reg, good.clone())), Vec::<&str>::new());

        // Deprecated member, wrong kind, wrong name, repeated key, wrong type, unknown key.
        let mut bad = good;
        bad.kind = 1;
        bad.name = "call add".into();
        bad.attributes = vec![
            text("mcp.method.name", "initialize"),
            text("mcp.method.name", "initialize"),
            kv("jsonrpc.request.id", Value::BoolValue(true)),
            text("no.such.key", "x"),
        ];
        let report = check(&reg, bad);
        let found = rules(&report);
        for rule in ["deprecated", "kind", "name", "unique", "type", "undefined"] {
            assert!(found.contains(&rule), "{rule} in {}", report.render());
        }
    }

    #[test]
    fn method_original_only_for_an_unknown_method() {
        let reg = load(&[]);
        let client = |method: &str| Span {
            name: "GET".into(),
            kind: 3,
            attributes: vec![
                text("http.request.method", method),
                text("server.address", "h"),
                kv("server.port", Value::IntValue(80)),
                text("url.full", "http://h/"),
            ],
            ..Default::default()
        };
        let about_original = |r: &Report| {
            r.findings
                .iter()
                .filter(|f| f.detail.contains("http.request.method_original"))
                .map(|f| f.severity)
                .collect::<Vec<_>>()
        };
        assert_eq!(about_original(&check(&reg, client("GET"))), []);
        assert_eq!(
            about_original(&check(&reg, client("_OTHER"))),
            [Severity::Violation]
        );
    }

    #[test]
    fn a_misspelled_operation_name_is_a_violation() {
        let reg = load(&[]);
        let span = |op: &str| Span {
            name: format!("{op} search"),
            kind: 1,
            attributes: vec![
                text("gen_ai.operation.name", op),
                text("gen_ai.tool.name", "search"),
            ],
            ..Default::default()
        };
        let unclassified = |r: &Report| {
            r.findings
                .iter()
                .filter(|f| f.severity == Severity::Violation && f.rule == "unclassified")
                .count()
        };
        assert_eq!(unclassified(&check(&reg, span("execute_tool"))), 0);
        assert_eq!(unclassified(&check(&reg, span("execute_tol"))), 1);
    }

    #[test]
    fn required_and_conditional_attributes() {
        let reg = load(&[]);
        // A chat span without gen_ai.operation.name is no chat span; with it but failed and
        // without error.type, the condition "ended in an error" holds.
        let span = Span {
            name: "chat m".into(),
            kind: 3,
            attributes: vec![
                text("gen_ai.operation.name", "chat"),
                text("gen_ai.request.model", "m"),
                text("server.address", "h"),
            ],
            status: Some(opentelemetry_proto::tonic::trace::v1::Status {
                code: 2,
                ..Default::default()
            }),
            ..Default::default()
        };
        let report = check(&reg, span);
        let details: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Violation)
            .map(|f| f.detail.as_str())
            .collect();
        for key in ["`error.type`", "`server.port`", "`gen_ai.provider.name`"] {
            assert!(
                details.iter().any(|d| d.starts_with(key)),
                "{key}: {}",
                report.render()
            );
        }
    }
}
