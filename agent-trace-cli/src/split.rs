//! Spotting a trace split in two: a SERVER span that is the root of its trace, and, in
//! another trace, a CLIENT span to the same path that was in flight the whole time the server
//! span lasted. That is what a caller without `TraceMiddleware` (or any `traceparent`
//! injection) produces. Whichever of the two traces is drawn second gets a note.
//!
//! A callee without `TraceLayer` has no HTTP SERVER span at all: its first spans (an
//! `a2a::serve` span, an `#[agent_run]`, a phase) are roots. A root of another service that
//! has no HTTP path and ran entirely inside an HTTP client call of another trace gets a
//! softer note ("if it serves that call ...").
//!
//! Two other mistakes make such roots, and each gets its own fix named instead:
//! - an MCP SERVER span that is a root: its request came without context in `params._meta`
//!   (sent with rmcp's own `client.call_tool(..)`, not `client.traced()`);
//! - a root that started while a span of the same service, in another trace, was running:
//!   work handed to a plain `tokio::spawn` (or a thread) without the trace
//!   (`agent_trace::task::spawn`, `.in_current_trace()`).
//!
//! Each root gets at most one note.

use std::collections::VecDeque;

use agent_trace::export::SpanView;

/// How many recent client calls and server roots are remembered (bounded memory).
const REMEMBERED: usize = 1000;
/// Clock skew allowed between the client's and the server's timestamps (same machine or
/// NTP-synchronised hosts).
const SKEW_NS: u64 = 50_000_000;

#[derive(Debug, Clone)]
struct Seen {
    trace_id: String,
    name: String,
    service: String,
    path: String,
    start_ns: u64,
    end_ns: u64,
}

/// Recent CLIENT spans with a URL, and recent SERVER roots.
#[derive(Debug, Default)]
pub(crate) struct SplitTraces {
    clients: VecDeque<Seen>,
    server_roots: VecDeque<Seen>,
    /// Roots with no HTTP path (no `TraceLayer` in front of them), and whether a note was
    /// given for each.
    bare_roots: VecDeque<(Seen, bool)>,
    /// Spans that are not roots, for spawned work: a root that started inside one of them,
    /// of the same service, in another trace.
    running: VecDeque<Seen>,
}

fn seen(s: &SpanView, path: String) -> Seen {
    Seen {
        trace_id: s.trace_id.clone(),
        name: s.name.clone(),
        service: s.service.clone(),
        path,
        start_ns: s.start_ns,
        end_ns: s.end_ns,
    }
}

fn attr<'a>(s: &'a SpanView, key: &str) -> Option<&'a str> {
    s.attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The path of a URL (`http://host:1/a2a?x=1` → `/a2a`).
fn path_of(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    Some(uri.path().to_string())
}

/// Whether `client` was in flight for the whole of `server`, to the same path.
fn matches(client: &Seen, server: &Seen) -> bool {
    client.trace_id != server.trace_id
        && client.path == server.path
        && client.start_ns <= server.start_ns.saturating_add(SKEW_NS)
        && server.end_ns <= client.end_ns.saturating_add(SKEW_NS)
}

/// Whether `root` (no HTTP path) ran inside `client`, in another trace and another service.
fn inside(client: &Seen, root: &Seen) -> bool {
    client.trace_id != root.trace_id
        && client.service != root.service
        && client.start_ns <= root.start_ns.saturating_add(SKEW_NS)
        && root.end_ns <= client.end_ns.saturating_add(SKEW_NS)
}

/// Whether `root` ran within `span` of the same service, in another trace.
fn spawned_from(span: &Seen, root: &Seen) -> bool {
    span.trace_id != root.trace_id
        && span.service == root.service
        && span.start_ns <= root.start_ns
        && root.end_ns <= span.end_ns.saturating_add(SKEW_NS)
}

fn spawn_note(span: &Seen, root: &Seen) -> String {
    format!(
        "⚠ split trace? the root `{}` [{}] of trace {} ran within `{}` of the same service in \
         trace {}: if it is work handed to a plain `tokio::spawn` (or a thread), it started \
         without the trace. Spawn it with `agent_trace::task::spawn(..)`, or \
         `tokio::spawn(work.in_current_trace())` (`agent_trace::task::FutureExt`).\n",
        root.name, root.service, root.trace_id, span.name, span.trace_id
    )
}

fn mcp_note(root: &Seen) -> String {
    format!(
        "⚠ split trace: the MCP request `{}` [{}] is the root of trace {}: it came without \
         trace context in `params._meta`. With rmcp, send it through `client.traced()` \
         (`agent_trace::mcp::McpClientExt`) rather than rmcp's own `client.call_tool(..)`; \
         with another SDK, inject the context into `_meta`.\n",
        root.name, root.service, root.trace_id
    )
}

fn bare_note(client: &Seen, root: &Seen) -> String {
    format!(
        "⚠ split trace? the root `{}` [{}] of trace {} ran inside the call `{}` [{}] of trace \
         {} and has no HTTP SERVER span: if it serves that call, nothing read the caller's \
         traceparent. Is TraceLayer on the callee's router? See docs/troubleshooting.md's \"No traces, or \
         my trace is split in two\".\n",
        root.name, root.service, root.trace_id, client.name, client.service, client.trace_id
    )
}

fn remember<T>(list: &mut VecDeque<T>, s: T) {
    if list.len() == REMEMBERED {
        list.pop_front();
    }
    list.push_back(s);
}

fn note(client: &Seen, server: &Seen) -> String {
    format!(
        "⚠ split trace: the root `{}` [{}] of trace {} is the call `{}` [{}] of trace {}, \
         but no trace context came with it. Is TraceMiddleware (or carriers::http::inject) \
         on the caller's HTTP client, and TraceLayer on the server? See docs/troubleshooting.md's \
         \"No traces, or my trace is split in two\".\n",
        server.name, server.service, server.trace_id, client.name, client.service, client.trace_id
    )
}

impl SplitTraces {
    /// Remembers this trace's client calls and server roots; returns a note for each match
    /// with one seen before.
    pub(crate) fn check(&mut self, spans: &[SpanView]) -> String {
        let mut notes = String::new();
        // First the spans that are not roots: a root seen before that started inside one of
        // them (same service, another trace) was spawned from it, whatever else it ran in.
        for s in spans.iter().filter(|s| s.parent_span_id.is_some()) {
            let span = seen(s, String::new());
            for (root, noted) in self.bare_roots.iter_mut() {
                if !*noted && spawned_from(&span, root) {
                    notes.push_str(&spawn_note(&span, root));
                    *noted = true;
                }
            }
            remember(&mut self.running, span);
        }
        for s in spans {
            let root = s.parent_span_id.is_none() && s.kind != "CLIENT" && s.kind != "PRODUCER";
            if root && s.kind == "SERVER" && attr(s, "mcp.method.name").is_some() {
                notes.push_str(&mcp_note(&seen(s, String::new())));
                continue;
            }
            if root && attr(s, "url.path").is_none() {
                let root = seen(s, String::new());
                let note = match self.running.iter().find(|p| spawned_from(p, &root)) {
                    Some(span) => Some(spawn_note(span, &root)),
                    None => self
                        .clients
                        .iter()
                        .find(|c| inside(c, &root))
                        .map(|client| bare_note(client, &root)),
                };
                let noted = note.is_some();
                notes.push_str(&note.unwrap_or_default());
                remember(&mut self.bare_roots, (root, noted));
            } else if s.kind == "SERVER" && s.parent_span_id.is_none() {
                let Some(path) = attr(s, "url.path").map(str::to_string) else {
                    continue;
                };
                let server = seen(s, path);
                for client in self.clients.iter().filter(|c| matches(c, &server)) {
                    notes.push_str(&note(client, &server));
                }
                remember(&mut self.server_roots, server);
            } else if s.kind == "CLIENT" {
                // `url.full` of an HTTP client span, or the URL of an `#[a2a_call(url = ..)]`.
                let url = attr(s, "url.full").or_else(|| attr(s, "agent.target_url"));
                let Some(path) = url.and_then(path_of) else {
                    continue;
                };
                let client = seen(s, path);
                for server in self.server_roots.iter().filter(|r| matches(&client, r)) {
                    notes.push_str(&note(&client, server));
                }
                if attr(s, "url.full").is_some() {
                    for (root, noted) in self.bare_roots.iter_mut() {
                        if !*noted && inside(&client, root) {
                            notes.push_str(&bare_note(&client, root));
                            *noted = true;
                        }
                    }
                }
                remember(&mut self.clients, client);
            }
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(
        trace: &str,
        kind: &'static str,
        parent: Option<&str>,
        attrs: &[(&str, &str)],
        t: (u64, u64),
    ) -> SpanView {
        let mut s = SpanView::new(trace, "00f067aa0ba902b7", format!("{kind} span"));
        s.parent_span_id = parent.map(String::from);
        s.service = kind.to_lowercase();
        s.kind = kind;
        s.start_ns = t.0;
        s.end_ns = t.1;
        s.attributes = attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        s
    }

    /// The note printed with the second of two traces, for both orders of arrival; the first
    /// trace alone must get none.
    fn notes_in_either_order(a: &SpanView, b: &SpanView) -> Vec<String> {
        [[a, b], [b, a]]
            .into_iter()
            .map(|order| {
                let mut split = SplitTraces::default();
                assert!(split.check(&[order[0].clone()]).is_empty());
                split.check(&[order[1].clone()])
            })
            .collect()
    }

    #[test]
    fn a_server_root_inside_a_client_call_of_another_trace_is_flagged_either_order() {
        let client = span(
            "aa",
            "CLIENT",
            Some("p"),
            &[("url.full", "http://127.0.0.1:9/a2a")],
            (100, 900_000_000),
        );
        let server = span(
            "bb",
            "SERVER",
            None,
            &[("url.path", "/a2a")],
            (200, 800_000_000),
        );
        for note in notes_in_either_order(&client, &server) {
            assert!(note.contains("split trace"), "{note}");
            assert!(note.contains("TraceMiddleware"), "{note}");
        }
    }

    #[test]
    fn a_callee_without_trace_layer_is_flagged_either_order() {
        let client = span(
            "aa",
            "CLIENT",
            Some("p"),
            &[("url.full", "http://127.0.0.1:9/a2a")],
            (100, 900_000_000),
        );
        // The callee's `a2a::serve` span, with no HTTP SERVER span above it.
        let root = span(
            "bb",
            "SERVER",
            None,
            &[("a2a.method.name", "SendMessage")],
            (200, 800),
        );
        for note in notes_in_either_order(&client, &root) {
            assert!(note.contains("TraceLayer on the callee"), "{note}");
        }
        // Not flagged: the same trace, outside the call, or a child.
        for other in [
            span("aa", "INTERNAL", None, &[], (200, 800)),
            span("bb", "INTERNAL", None, &[], (5_000_000_000, 5_000_000_100)),
            span("bb", "INTERNAL", Some("x"), &[], (200, 800)),
        ] {
            let mut split = SplitTraces::default();
            split.check(std::slice::from_ref(&client));
            assert_eq!(split.check(&[other]), "");
        }
    }

    /// A root that ran within a span of its own service in another trace: work given to a
    /// plain `tokio::spawn`. Named as such (not as a missing `TraceLayer`), once, whichever
    /// trace is drawn first, even when it also ran inside another service's client call.
    #[test]
    fn spawned_work_is_named_not_the_trace_layer_either_order() {
        let caller = span(
            "aa",
            "CLIENT",
            Some("p"),
            &[("url.full", "http://127.0.0.1:9/a2a")],
            (100, 900_000_000),
        );
        let mut handler = span(
            "aa",
            "SERVER",
            Some("c"),
            &[("url.path", "/a2a")],
            (150, 850_000_000),
        );
        handler.service = "callee".into();
        let mut spawned = span("bb", "INTERNAL", None, &[], (200, 800));
        spawned.service = "callee".into();
        let handler_trace = [caller, handler];
        for order in [0, 1] {
            let mut split = SplitTraces::default();
            let (first, second): (&[SpanView], &[SpanView]) = match order {
                0 => (&handler_trace, std::slice::from_ref(&spawned)),
                _ => (std::slice::from_ref(&spawned), &handler_trace),
            };
            let notes = split.check(first) + &split.check(second);
            assert_eq!(notes.matches("⚠").count(), 1, "{notes}");
            assert!(notes.contains("agent_trace::task::spawn"), "{notes}");
            assert!(!notes.contains("TraceLayer"), "{notes}");
        }
    }

    /// An MCP SERVER span that is a root: its request came without `_meta` context. The note
    /// names `.traced()`, once, not `TraceLayer`.
    #[test]
    fn an_mcp_request_without_context_names_traced() {
        let caller = span(
            "aa",
            "CLIENT",
            Some("p"),
            &[("url.full", "http://127.0.0.1:9/mcp")],
            (100, 900_000_000),
        );
        let mcp = span(
            "bb",
            "SERVER",
            None,
            &[("mcp.method.name", "tools/call")],
            (200, 800),
        );
        for order in [[&caller, &mcp], [&mcp, &caller]] {
            let mut split = SplitTraces::default();
            let note = split.check(&[order[0].clone()]) + &split.check(&[order[1].clone()]);
            assert_eq!(note.matches("⚠").count(), 1, "{note}");
            assert!(note.contains("client.traced()"), "{note}");
            assert!(!note.contains("TraceLayer"), "{note}");
        }
    }

    #[test]
    fn joined_traces_other_paths_and_other_times_are_not_flagged() {
        let client = span(
            "aa",
            "CLIENT",
            Some("p"),
            &[("url.full", "http://h/a2a")],
            (100, 200),
        );
        let mut split = SplitTraces::default();
        split.check(&[client]);
        // Same trace (joined), another path, outside the call's time, or not a root.
        for server in [
            span("aa", "SERVER", None, &[("url.path", "/a2a")], (120, 180)),
            span("bb", "SERVER", None, &[("url.path", "/other")], (120, 180)),
            span(
                "bb",
                "SERVER",
                None,
                &[("url.path", "/a2a")],
                (10_000_000_000, 10_000_000_100),
            ),
            span(
                "bb",
                "SERVER",
                Some("x"),
                &[("url.path", "/a2a")],
                (120, 180),
            ),
        ] {
            assert_eq!(split.check(&[server]), "");
        }
    }
}
