//! Draws a trace as an indented waterfall in the terminal.
//!
//! Used by the console exporter and by the `testing` span-tree view; it works on a plain
//! [`SpanView`] so any source (the SDK, OTLP protobuf, saved JSON) can be drawn.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::time::Duration;

/// One span, as the renderer needs it. Made by the receiver and the console exporter; its
/// fields may grow.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SpanView {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// Parent span id, `None` for a root.
    pub parent_span_id: Option<String>,
    /// Span name.
    pub name: String,
    /// The `service.name` of the process that made the span.
    pub service: String,
    /// `INTERNAL`, `CLIENT`, `SERVER`, `PRODUCER` or `CONSUMER`.
    pub kind: &'static str,
    /// Start, nanoseconds since the Unix epoch.
    pub start_ns: u64,
    /// End, nanoseconds since the Unix epoch.
    pub end_ns: u64,
    /// `Some(description)` when the status is Error.
    pub error: Option<String>,
    /// Attributes as `key=value` strings, in the order they were set.
    pub attributes: Vec<(String, String)>,
    /// Events (`tracing` events, `exception`, `first_item`, ...): name and attributes.
    pub events: Vec<(String, Vec<(String, String)>)>,
    /// Links to other spans: (trace id, span id), hex.
    pub links: Vec<(String, String)>,
}

impl SpanView {
    /// A span with these ids and name, of kind `INTERNAL`, no parent, service, times,
    /// attributes, events or links: set the fields you need.
    ///
    /// ```
    /// use agent_trace::export::{render_trace, RenderOptions, SpanView};
    ///
    /// let mut span = SpanView::new("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "plan");
    /// span.service = "planner".into();
    /// span.end_ns = 1_500_000;
    /// assert!(render_trace(&[span], RenderOptions::default()).contains("plan [INTERNAL]"));
    /// ```
    pub fn new(
        trace_id: impl Into<String>,
        span_id: impl Into<String>,
        name: impl Into<String>,
    ) -> SpanView {
        SpanView {
            trace_id: trace_id.into(),
            span_id: span_id.into(),
            parent_span_id: None,
            name: name.into(),
            service: String::new(),
            kind: "INTERNAL",
            start_ns: 0,
            end_ns: 0,
            error: None,
            attributes: Vec::new(),
            events: Vec::new(),
            links: Vec::new(),
        }
    }

    /// The span's duration.
    pub fn duration(&self) -> Duration {
        Duration::from_nanos(self.end_ns.saturating_sub(self.start_ns))
    }
}

/// The widest time bar drawn; a wider [`RenderOptions::bar_width`] is drawn this wide.
pub const MAX_BAR_WIDTH: usize = 1000;

/// The widest service column; a longer service name is cut (`…`).
const MAX_SERVICE_WIDTH: usize = 40;

/// The deepest indentation drawn: spans nested deeper are drawn at this depth (flattened), so
/// each line stays bounded however deep a trace is, and the drawing linear in its spans.
pub const MAX_DEPTH: usize = 64;

/// How to draw. Build it from `RenderOptions::default()` and set the fields you need (more
/// may come).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RenderOptions {
    /// Width of the time bar, in characters (at most [`MAX_BAR_WIDTH`]; 0 draws no bar).
    pub bar_width: usize,
    /// Print each span's attributes under it.
    pub attributes: bool,
    /// Replace durations with `<dur>` (for snapshot tests).
    pub mask_durations: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            bar_width: 30,
            attributes: false,
            mask_durations: false,
        }
    }
}

/// Formats a duration the way the waterfall shows it (`850 µs`, `12.3 ms`, `1.24 s`).
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{} µs", ns / 1_000)
    } else if ns < 1_000_000_000 {
        format!("{:.1} ms", ns as f64 / 1e6)
    } else {
        format!("{:.2} s", ns as f64 / 1e9)
    }
}

/// Draws the spans of one trace. Spans whose parent is not among them are drawn as roots
/// (a trace that came in from another, un-traced service, or whose parent is still running).
pub fn render_trace(spans: &[SpanView], opts: RenderOptions) -> String {
    let mut out = String::new();
    if spans.is_empty() {
        return out;
    }
    let tree = Tree::new(spans);
    let services: HashSet<&str> = spans.iter().map(|s| s.service.as_str()).collect();
    write_header(&mut out, spans, services.len(), tree.t1 - tree.t0, opts);
    let layout = Layout {
        opts,
        t0: tree.t0,
        t1: tree.t1,
        depth_limit: MAX_DEPTH * 3,
        svc_width: services
            .iter()
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0)
            .min(MAX_SERVICE_WIDTH + 1),
    };

    // Depth-first, iteratively, with a guard against cycles in malformed input.
    let mut seen = HashSet::new();
    let mut stack: Vec<(usize, String, bool, bool)> = tree
        .roots
        .iter()
        .rev()
        .enumerate()
        .map(|(n, &i)| (i, String::new(), n == 0, true))
        .collect();
    let mut next_unseen = 0;
    loop {
        let Some((i, prefix, last, is_root)) = stack.pop() else {
            // Spans caught in a parent cycle (malformed input) are drawn as roots at the end.
            while next_unseen < spans.len() && seen.contains(&next_unseen) {
                next_unseen += 1;
            }
            if next_unseen == spans.len() {
                break;
            }
            stack.push((next_unseen, String::new(), true, true));
            continue;
        };
        if !seen.insert(i) {
            continue;
        }
        let s = &spans[i];
        let child_prefix = layout.write_span(&mut out, s, &prefix, last, is_root);
        if let Some(kids) = tree.children.get(s.span_id.as_str()) {
            for (n, &k) in kids.iter().enumerate().rev() {
                stack.push((k, child_prefix.clone(), n + 1 == kids.len(), false));
            }
        }
    }
    out
}

/// Parents and children by index, in start order, and the trace's time range.
struct Tree<'a> {
    roots: Vec<usize>,
    children: HashMap<&'a str, Vec<usize>>,
    t0: u64,
    t1: u64,
}

impl<'a> Tree<'a> {
    fn new(spans: &'a [SpanView]) -> Self {
        let ids: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
        let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut roots = Vec::new();
        for (i, s) in spans.iter().enumerate() {
            match s.parent_span_id.as_deref() {
                Some(p) if ids.contains(p) && p != s.span_id => {
                    children.entry(p).or_default().push(i)
                }
                _ => roots.push(i),
            }
        }
        let by_start =
            |v: &mut Vec<usize>| v.sort_by_key(|&i| (spans[i].start_ns, spans[i].end_ns));
        by_start(&mut roots);
        for v in children.values_mut() {
            by_start(v);
        }
        let t0 = spans.iter().map(|s| s.start_ns).min().unwrap_or(0);
        let t1 = spans
            .iter()
            .map(|s| s.end_ns)
            .max()
            .unwrap_or(t0)
            .max(t0.saturating_add(1));
        Tree {
            roots,
            children,
            t0,
            t1,
        }
    }
}

/// `trace {id} · N spans · M services · duration · errors`.
fn write_header(
    out: &mut String,
    spans: &[SpanView],
    services: usize,
    ns: u64,
    opts: RenderOptions,
) {
    let errors = spans.iter().filter(|s| s.error.is_some()).count();
    let _ = writeln!(
        out,
        "trace {} · {} span{} · {} service{} · {}{}",
        spans[0].trace_id,
        spans.len(),
        if spans.len() == 1 { "" } else { "s" },
        services,
        if services == 1 { "" } else { "s" },
        if opts.mask_durations {
            "<dur>".to_string()
        } else {
            format_duration(Duration::from_nanos(ns))
        },
        match errors {
            0 => String::new(),
            n => format!(" · {n} error{}", if n == 1 { "" } else { "s" }),
        }
    );
    // What the trace's model calls used and cost, summed over the model-call spans (the
    // agents' own totals would count them twice).
    let mut total = Usage::default();
    let calls = spans.iter().filter(|s| {
        s.attributes
            .iter()
            .any(|(k, v)| k == K::GEN_AI_OPERATION_NAME && v != K::OP_INVOKE_AGENT)
    });
    for s in calls {
        total.add(&Usage::of(s));
    }
    if total.any() {
        let _ = writeln!(out, "usage: {}", total.describe());
    }
}

use crate::span::semconv as K;

/// An agent's own usage and cost, to print beside its name (`  (12 tokens in, ...)`); empty
/// for other spans.
fn agent_usage(s: &SpanView) -> String {
    let agent = s
        .attributes
        .iter()
        .any(|(k, v)| k == K::GEN_AI_OPERATION_NAME && v == K::OP_INVOKE_AGENT);
    match agent {
        true => Some(Usage::of(s))
            .filter(Usage::any)
            .map(|u| format!("  ({})", u.describe()))
            .unwrap_or_default(),
        false => String::new(),
    }
}

/// The usage and cost a span records (`gen_ai.usage.*`, `agent_trace.usage.cost`).
#[derive(Debug, Default)]
struct Usage {
    input: Option<u64>,
    output: Option<u64>,
    cost: Option<f64>,
}

impl Usage {
    fn of(s: &SpanView) -> Usage {
        let get = |key: &str| s.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        Usage {
            input: get(K::GEN_AI_USAGE_INPUT_TOKENS).and_then(|v| v.parse().ok()),
            output: get(K::GEN_AI_USAGE_OUTPUT_TOKENS).and_then(|v| v.parse().ok()),
            cost: get(K::AGENT_TRACE_USAGE_COST)
                .and_then(|v| v.parse().ok())
                .filter(|c: &f64| c.is_finite()),
        }
    }

    fn any(&self) -> bool {
        self.input.is_some() || self.output.is_some()
    }

    fn add(&mut self, other: &Usage) {
        let sum = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
        };
        self.input = sum(self.input, other.input);
        self.output = sum(self.output, other.output);
        if let Some(c) = other.cost {
            self.cost = Some(self.cost.unwrap_or(0.0) + c);
        }
    }

    /// `1,234 tokens in, 56 out, cost 0.000123`.
    fn describe(&self) -> String {
        let mut text = format!(
            "{} tokens in, {} out",
            self.input.unwrap_or(0),
            self.output.unwrap_or(0)
        );
        if let Some(c) = self.cost {
            let _ = write!(text, ", cost {c:.6}");
        }
        text
    }
}

/// How lines are laid out: options, time range, width of the service column.
struct Layout {
    opts: RenderOptions,
    t0: u64,
    t1: u64,
    svc_width: usize,
    /// The longest child prefix drawn, in characters (three per level).
    depth_limit: usize,
}

impl Layout {
    /// The bar of one span, `│  ███   │ `.
    fn bar(&self, s: &SpanView) -> String {
        let width = self.opts.bar_width.min(MAX_BAR_WIDTH);
        if width == 0 {
            return String::new();
        }
        let w = width as u128;
        let span_total = u128::from(self.t1.saturating_sub(self.t0)).max(1);
        // A position on the bar, at most its width (a start after every end, from the wire, too).
        let at = |t: u64| (u128::from(t.saturating_sub(self.t0)) * w / span_total).min(w) as usize;
        let (from, to) = (at(s.start_ns), at(s.end_ns));
        let to = to.max(from + 1).min(width);
        let from = from.min(to - 1);
        let fill = if s.error.is_some() { '▓' } else { '█' };
        let mut b = String::with_capacity(width + 2);
        b.push('│');
        b.extend(std::iter::repeat_n(' ', from));
        b.extend(std::iter::repeat_n(fill, to - from));
        b.extend(std::iter::repeat_n(' ', width - to));
        b.push_str("│ ");
        b
    }

    /// Writes one span's line (and its attributes); returns the prefix of its children.
    fn write_span(
        &self,
        out: &mut String,
        s: &SpanView,
        prefix: &str,
        last: bool,
        root: bool,
    ) -> String {
        let branch = match (root, last) {
            (true, _) => "",
            (false, true) => "└─ ",
            (false, false) => "├─ ",
        };
        let dur = if self.opts.mask_durations {
            "<dur>".to_string()
        } else {
            format_duration(s.duration())
        };
        let usage = agent_usage(s);
        let status = match &s.error {
            Some(msg) if msg.is_empty() => "  ✗ ERROR".to_string(),
            Some(msg) => format!("  ✗ ERROR: {}", one_line(msg, 120)),
            None if is_running(s) => "  ⋯ running".to_string(),
            None => String::new(),
        };
        let svc_width = self.svc_width;
        let _ = writeln!(
            out,
            "{bar}{dur:>9}  {svc:<svc_width$}  {prefix}{branch}{name} [{kind}]{usage}{status}",
            bar = self.bar(s),
            svc = one_line(&s.service, MAX_SERVICE_WIDTH),
            name = s.name,
            kind = s.kind,
        );
        let child_prefix = match (root, last) {
            (true, _) => prefix.to_string(),
            // Deeper than the limit: the children are drawn at this depth.
            (false, _) if prefix.chars().count() >= self.depth_limit => prefix.to_string(),
            (false, true) => format!("{prefix}   "),
            (false, false) => format!("{prefix}│  "),
        };
        if self.opts.attributes {
            let pad = " ".repeat(match self.opts.bar_width.min(MAX_BAR_WIDTH) {
                0 => 0,
                w => w + 3,
            });
            let mut detail = |text: String| {
                let _ = writeln!(
                    out,
                    "{pad}{:>9}  {:<svc_width$}  {child_prefix}   · {text}",
                    "", ""
                );
            };
            for (k, v) in &s.attributes {
                detail(format!("{k}={}", one_line(v, 200)));
            }
            for (name, attrs) in &s.events {
                let attrs: Vec<String> = attrs
                    .iter()
                    .map(|(k, v)| format!("{k}={}", one_line(v, 120)))
                    .collect();
                detail(
                    format!("event {name} {}", attrs.join(" "))
                        .trim_end()
                        .to_string(),
                );
            }
            for (trace, span) in &s.links {
                detail(format!("link → {trace}/{span}"));
            }
        }
        child_prefix
    }
}

/// Whether `s` is a pending-span marker (`agent_trace.span.pending=true`): a span that had
/// started and not ended when it was drawn.
fn is_running(s: &SpanView) -> bool {
    s.attributes
        .iter()
        .any(|(k, v)| k == crate::span::semconv::AGENT_TRACE_SPAN_PENDING && v == "true")
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match crate::span::text::cut_point(&flat, max) {
        Some(cut) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// Converts an SDK span.
pub(crate) fn from_span_data(s: &opentelemetry_sdk::trace::SpanData, service: &str) -> SpanView {
    use opentelemetry::trace::{SpanKind, Status};
    let ns = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    };
    SpanView {
        trace_id: s.span_context.trace_id().to_string(),
        span_id: s.span_context.span_id().to_string(),
        parent_span_id: (s.parent_span_id != opentelemetry::trace::SpanId::INVALID)
            .then(|| s.parent_span_id.to_string()),
        name: s.name.to_string(),
        service: service.to_string(),
        kind: match s.span_kind {
            SpanKind::Client => "CLIENT",
            SpanKind::Server => "SERVER",
            SpanKind::Producer => "PRODUCER",
            SpanKind::Consumer => "CONSUMER",
            SpanKind::Internal => "INTERNAL",
        },
        start_ns: ns(s.start_time),
        end_ns: ns(s.end_time),
        error: match &s.status {
            Status::Error { description } => Some(description.to_string()),
            _ => None,
        },
        attributes: s
            .attributes
            .iter()
            .map(|kv| (kv.key.to_string(), kv.value.to_string()))
            .collect(),
        events: s
            .events
            .iter()
            .map(|e| {
                let attrs = e
                    .attributes
                    .iter()
                    .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                    .collect();
                (e.name.to_string(), attrs)
            })
            .collect(),
        links: s
            .links
            .iter()
            .map(|l| {
                let sc = &l.span_context;
                (sc.trace_id().to_string(), sc.span_id().to_string())
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(id: &str, parent: Option<&str>, name: &str, start: u64, end: u64) -> SpanView {
        SpanView {
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            span_id: id.into(),
            parent_span_id: parent.map(Into::into),
            name: name.into(),
            service: "svc".into(),
            kind: "INTERNAL",
            start_ns: start,
            end_ns: end,
            error: None,
            attributes: vec![],
            events: vec![],
            links: vec![],
        }
    }

    #[test]
    fn usage_is_summed_per_trace_and_shown_per_agent() {
        let with = |mut s: SpanView, attrs: &[(&str, &str)]| {
            s.attributes = attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            s
        };
        let op = K::GEN_AI_OPERATION_NAME;
        let call = [
            (op, "chat"),
            (K::GEN_AI_USAGE_INPUT_TOKENS, "10"),
            (K::GEN_AI_USAGE_OUTPUT_TOKENS, "2"),
            (K::AGENT_TRACE_USAGE_COST, "0.5"),
        ];
        let spans = vec![
            with(
                v("a", None, "invoke_agent lead", 0, 100),
                &[
                    (op, "invoke_agent"),
                    (K::GEN_AI_USAGE_INPUT_TOKENS, "20"),
                    (K::GEN_AI_USAGE_OUTPUT_TOKENS, "4"),
                    (K::AGENT_TRACE_USAGE_COST, "1"),
                ],
            ),
            with(v("b", Some("a"), "chat m", 0, 50), &call),
            with(v("c", Some("a"), "chat m", 50, 100), &call),
            with(
                v("d", Some("a"), "chat bad", 60, 70),
                &[(op, "chat"), (K::GEN_AI_USAGE_INPUT_TOKENS, "x")],
            ),
        ];
        let out = render_trace(&spans, RenderOptions::default());
        // The trace: the calls only (the agent's totals would count them twice).
        assert!(
            out.contains("usage: 20 tokens in, 4 out, cost 1.000000"),
            "{out}"
        );
        assert!(
            out.contains("invoke_agent lead [INTERNAL]  (20 tokens in, 4 out, cost 1.000000)"),
            "{out}"
        );
        assert!(!out.contains("chat m [INTERNAL]  ("), "{out}");
    }

    #[test]
    fn draws_tree_in_start_order_with_errors() {
        let mut failing = v("c", Some("a"), "tool", 50, 100);
        failing.error = Some("boom\nsecond line".into());
        let spans = vec![
            failing,
            v("a", None, "root", 0, 100),
            v("b", Some("a"), "first", 0, 50),
            v("d", Some("b"), "nested", 10, 20),
        ];
        let out = render_trace(
            &spans,
            RenderOptions {
                bar_width: 10,
                mask_durations: true,
                ..Default::default()
            },
        );
        let expected = "\
trace 0af7651916cd43dd8448eb211c80319c · 4 spans · 1 service · <dur> · 1 error
│██████████│     <dur>  svc  root [INTERNAL]
│█████     │     <dur>  svc  ├─ first [INTERNAL]
│ █        │     <dur>  svc  │  └─ nested [INTERNAL]
│     ▓▓▓▓▓│     <dur>  svc  └─ tool [INTERNAL]  ✗ ERROR: boom second line
";
        assert_eq!(out, expected);
    }

    #[test]
    fn attributes_mode_shows_events_and_links() {
        let mut s = v("a", None, "root", 0, 100);
        s.attributes = vec![("tool.name".into(), "search".into())];
        s.events = vec![
            (
                "exception".into(),
                vec![("exception.type".into(), "panic".into())],
            ),
            ("first_item".into(), vec![]),
        ];
        s.links = vec![(
            "4bf92f3577b34da6a3ce929d0e0e4736".into(),
            "00f067aa0ba902b7".into(),
        )];
        let out = render_trace(
            &[s],
            RenderOptions {
                bar_width: 0,
                mask_durations: true,
                attributes: true,
            },
        );
        let details: Vec<&str> = out.lines().skip(2).map(str::trim).collect();
        assert_eq!(
            details,
            [
                "· tool.name=search",
                "· event exception exception.type=panic",
                "· event first_item",
                "· link → 4bf92f3577b34da6a3ce929d0e0e4736/00f067aa0ba902b7",
            ],
            "{out}"
        );
    }

    #[test]
    fn orphans_and_cycles_do_not_hang() {
        let spans = vec![v("a", Some("b"), "x", 0, 1), v("b", Some("a"), "y", 0, 1)];
        let out = render_trace(&spans, RenderOptions::default());
        // A parent cycle: both spans are still drawn, once each.
        assert_eq!(out.lines().count(), 3, "{out}");
        let spans = vec![v("a", Some("zz"), "orphan", 0, 1)];
        assert!(render_trace(&spans, RenderOptions::default()).contains("orphan"));
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(Duration::from_nanos(999)), "999 ns");
        assert_eq!(format_duration(Duration::from_micros(850)), "850 µs");
        assert_eq!(format_duration(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(format_duration(Duration::from_millis(1_240)), "1.24 s");
    }
}
