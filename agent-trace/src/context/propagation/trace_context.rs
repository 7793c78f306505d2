//! W3C Trace Context (Level 1 and 2): `traceparent` and `tracestate`, parsed strictly.

use super::*;

/// What an extractor learned about the incoming trace that the SDK's `SpanContext` cannot hold:
/// the Level 2 `random` flag (the SDK resets flags on unsampled children and never sets it on
/// new roots) and `tracestate` members whose keys the SDK's `TraceState` rejects (more than one
/// `@`, or more than 13 characters after it, both valid in the current grammar).
#[derive(Debug, Clone)]
pub(super) struct IncomingTrace {
    pub(super) trace_id: TraceId,
    pub(super) random: bool,
    /// `(what the SDK's TraceState holds, the full validated header)`, when they differ.
    pub(super) tracestate: Option<(String, String)>,
}

/// W3C Trace Context, Level 1 and Level 2, parsed strictly and in linear time:
///
/// - `traceparent` fields have their exact lengths and are lowercase hex; version `ff` is
///   invalid; version `00` has exactly four fields; a later version may add fields after a `-`;
///   all-zero trace or span ids are invalid;
/// - more than one `traceparent` header is invalid (the request is ambiguous);
/// - several `tracestate` headers are merged in order; keys follow the current grammar
///   (`[a-z0-9][a-z0-9_*/@-]{0,255}`), values theirs; a repeated key keeps its first member;
///   more than [`TRACESTATE_MAX_MEMBERS`] members, or any invalid member, drops the whole
///   `tracestate` while a valid `traceparent` is kept, as the specification says; a list over
///   [`TRACESTATE_MAX_LEN`] characters is cut by whole members;
/// - Level 2's `random` flag is kept from the parent, and set on traces started here (their ids
///   come from the SDK's random generator).
///
/// An invalid `traceparent` leaves the context unchanged, so a new trace starts.
#[derive(Debug, Clone, Default)]
pub struct W3cTraceContext {
    _private: (),
}

pub(super) const TRACEPARENT: &str = "traceparent";
pub(super) const TRACESTATE: &str = "tracestate";
pub(super) const FLAG_SAMPLED: u8 = 0x01;
/// Level 2: the trace id's right-most 7 bytes are random.
pub(super) const FLAG_RANDOM: u8 = 0x02;
/// Sampled and (Level 2) random: the flags this implementation knows and propagates.
pub(super) const KNOWN_FLAGS: u8 = FLAG_SAMPLED | FLAG_RANDOM;

impl W3cTraceContext {
    /// A strict W3C Trace Context propagator.
    pub fn new() -> Self {
        W3cTraceContext::default()
    }

    fn lower_hex(s: &str, len: usize) -> bool {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }

    /// Parses one `traceparent` value.
    pub fn parse_traceparent(value: &str) -> Option<(TraceId, SpanId, TraceFlags)> {
        let v = value.trim_matches(|c| c == ' ' || c == '\t');
        if v.len() < 55 || !v.is_ascii() {
            return None;
        }
        let version = &v[0..2];
        if !Self::lower_hex(version, 2) || version == "ff" {
            return None;
        }
        if version == "00" && v.len() != 55 {
            return None;
        }
        // Later versions may append fields, separated by '-'.
        if v.len() > 55 && v.as_bytes()[55] != b'-' {
            return None;
        }
        let b = v.as_bytes();
        if b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
            return None;
        }
        let (trace, span, flags) = (&v[3..35], &v[36..52], &v[53..55]);
        if !Self::lower_hex(trace, 32) || !Self::lower_hex(span, 16) || !Self::lower_hex(flags, 2) {
            return None;
        }
        let trace_id = TraceId::from_hex(trace).ok()?;
        let span_id = SpanId::from_hex(span).ok()?;
        if trace_id == TraceId::INVALID || span_id == SpanId::INVALID {
            return None;
        }
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Some((trace_id, span_id, TraceFlags::new(flags & KNOWN_FLAGS)))
    }

    /// The current key grammar: `( lcalpha / DIGIT ) 0*255( keychar )`, where a keychar is
    /// a lowercase letter, a digit, `_`, `-`, `*`, `/` or `@`.
    fn valid_key(key: &str) -> bool {
        let b = key.as_bytes();
        !b.is_empty()
            && b.len() <= 256
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b.iter().all(|c| {
                c.is_ascii_lowercase()
                    || c.is_ascii_digit()
                    || matches!(c, b'_' | b'-' | b'*' | b'/' | b'@')
            })
    }

    fn valid_value(value: &str) -> bool {
        let b = value.as_bytes();
        !b.is_empty()
            && b.len() <= 256
            && b.iter()
                .all(|&c| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=')
            && b[b.len() - 1] != b' '
    }

    /// Parses merged `tracestate` header values into its members, in order; `None` if any
    /// member is invalid or there are more than [`TRACESTATE_MAX_MEMBERS`]. Linear in the
    /// input: it stops at the first invalid or surplus member, and duplicates are looked for
    /// among at most 32 kept members. A list over [`TRACESTATE_MAX_LEN`] is cut.
    pub fn parse_tracestate_members<'a>(
        values: impl IntoIterator<Item = &'a str>,
    ) -> Option<Vec<(&'a str, &'a str)>> {
        let mut members: Vec<(&str, &str)> = Vec::new();
        let mut seen = 0usize;
        for value in values {
            for member in value.split(',') {
                let member = member.trim_matches(|c| c == ' ' || c == '\t');
                if member.is_empty() {
                    continue; // empty list members are allowed and ignored
                }
                seen += 1;
                if seen > TRACESTATE_MAX_MEMBERS {
                    return None;
                }
                let (k, v) = member.split_once('=')?;
                if !Self::valid_key(k) || !Self::valid_value(v) {
                    return None;
                }
                // The specification lets a receiver drop duplicates; keep the first.
                if !members.iter().any(|(ek, _)| *ek == k) {
                    members.push((k, v));
                }
            }
        }
        truncate_tracestate(&mut members);
        Some(members)
    }

    /// Parses merged `tracestate` header values into the SDK's `TraceState`; `None` if the
    /// list is invalid. Members the SDK's `TraceState` cannot hold (keys valid only in the
    /// current grammar) are left out here; the propagator still forwards them.
    pub fn parse_tracestate(values: &[&str]) -> Option<TraceState> {
        let members = Self::parse_tracestate_members(values.iter().copied())?;
        Some(sdk_trace_state(&members))
    }
}

/// Cuts a member list to [`TRACESTATE_MAX_LEN`] characters by whole members, as the
/// specification says: members over [`TRACESTATE_LARGE_MEMBER`] characters first, then from
/// the end. At most 32 members, so the loop is bounded.
pub(super) fn truncate_tracestate(members: &mut Vec<(&str, &str)>) {
    let size = |m: &(&str, &str)| m.0.len() + 1 + m.1.len();
    let mut total = members.iter().map(size).sum::<usize>() + members.len().saturating_sub(1);
    while total > TRACESTATE_MAX_LEN && !members.is_empty() {
        let at = members
            .iter()
            .rposition(|m| size(m) > TRACESTATE_LARGE_MEMBER)
            .unwrap_or(members.len() - 1);
        let removed = members.remove(at);
        total -= size(&removed) + usize::from(!members.is_empty());
    }
}

/// The members the SDK's `TraceState` accepts (it still enforces Level 1's `@` rules).
pub(super) fn sdk_trace_state(members: &[(&str, &str)]) -> TraceState {
    let ok = members.iter().filter(|(k, _)| sdk_accepts_key(k)).copied();
    TraceState::from_key_value(ok).unwrap_or_default()
}

pub(super) fn sdk_accepts_key(key: &str) -> bool {
    match key.split_once('@') {
        None => true,
        Some((_, system)) => {
            let b = system.as_bytes();
            !b.is_empty() && b.len() <= 13 && !system.contains('@') && !b[0].is_ascii_punctuation()
        }
    }
}

impl TextMapPropagator for W3cTraceContext {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        let incoming = cx
            .get::<IncomingTrace>()
            .filter(|i| i.trace_id == sc.trace_id());
        let flags = sc.trace_flags().to_u8() & KNOWN_FLAGS;
        // The SDK drops `random` on unsampled children and never sets it on new roots: take
        // it from the incoming parent, and set it on traces this process started (local span,
        // no extracted parent), whose ids come from the SDK's random generator.
        let random = flags & FLAG_RANDOM != 0
            || match incoming {
                Some(i) => i.random,
                None => !sc.is_remote(),
            };
        let flags = (flags & FLAG_SAMPLED) | if random { FLAG_RANDOM } else { 0 };
        injector.set(
            TRACEPARENT,
            format!("00-{}-{}-{:02x}", sc.trace_id(), sc.span_id(), flags),
        );
        let mut state = sc.trace_state().header();
        // Members the SDK could not hold travel on unless the application changed the state
        // (a sampler rewriting the `ot` entry alone keeps them: the new `ot` goes first).
        if let Some((held, full)) = incoming.and_then(|i| i.tracestate.as_ref()) {
            if *held == state {
                state = full.clone();
            } else if without_ot(held).eq(without_ot(&state)) {
                let ot = state.split(',').find(|m| m.starts_with("ot="));
                state = ot
                    .into_iter()
                    .chain(without_ot(full))
                    .collect::<Vec<_>>()
                    .join(",");
            }
        }
        if !state.is_empty() {
            injector.set(TRACESTATE, state);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let parents = extractor.get_all(TRACEPARENT).unwrap_or_default();
        let [parent] = parents.as_slice() else {
            return cx.clone(); // absent, or duplicated: ambiguous
        };
        let Some((trace_id, span_id, flags)) = Self::parse_traceparent(parent) else {
            return cx.clone();
        };
        let members = extractor
            .get_all(TRACESTATE)
            .and_then(Self::parse_tracestate_members)
            .unwrap_or_default();
        let state = sdk_trace_state(&members);
        let held = state.header();
        let full = members
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        let incoming = IncomingTrace {
            trace_id,
            random: flags.to_u8() & FLAG_RANDOM != 0,
            tracestate: (held != full).then_some((held, full)),
        };
        cx.with_remote_span_context(SpanContext::new(trace_id, span_id, flags, true, state))
            .with_value(incoming)
    }

    fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
        static FIELDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        opentelemetry::propagation::text_map_propagator::FieldIter::new(
            FIELDS.get_or_init(|| vec![TRACEPARENT.to_string(), TRACESTATE.to_string()]),
        )
    }
}

/// The members of a `tracestate` list other than OpenTelemetry's `ot` entry.
fn without_ot(list: &str) -> impl Iterator<Item = &str> {
    list.split(',')
        .filter(|m| !m.is_empty() && !m.starts_with("ot="))
}
