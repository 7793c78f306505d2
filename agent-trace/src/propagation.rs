//! Context propagation formats and the composite propagator `init` installs.
//!
//! W3C Trace Context is parsed here ([`W3cTraceContext`]), strictly and in linear time: the
//! SDK's parser accepts several headers the specification rejects, and its `TraceState` still
//! enforces Level 1's key grammar. W3C Baggage is extracted by the SDK's propagator (linear,
//! capped at 8192 bytes) and injected here ([`W3cBaggage`]) so that `+` and `%` survive the
//! trip to other languages' SDKs. B3 (single and multi header) and Jaeger (`uber-trace-id` and
//! `uberctx-*` baggage) are implemented here too: no propagator crate for them exists for the
//! opentelemetry 0.33 line. Every extractor is total and linear in its input: malformed input
//! yields the context it was given, unchanged, never a panic and never a partial span context.

use opentelemetry::baggage::{BaggageExt as _, KeyValueMetadata};
use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::BaggagePropagator;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

use crate::config::Propagator;

/// Builds the composite propagator for `kinds`, in order (later formats win on extract).
pub fn propagator_for(kinds: &[Propagator]) -> TextMapCompositePropagator {
    let list: Vec<Box<dyn TextMapPropagator + Send + Sync>> = kinds
        .iter()
        .map(|k| -> Box<dyn TextMapPropagator + Send + Sync> {
            match k {
                Propagator::TraceContext => Box::new(W3cTraceContext::new()),
                Propagator::Baggage => Box::new(W3cBaggage::new()),
                Propagator::B3 => Box::new(B3Propagator::single()),
                Propagator::B3Multi => Box::new(B3Propagator::multi()),
                Propagator::Jaeger => Box::new(JaegerPropagator::new()),
            }
        })
        .collect();
    TextMapCompositePropagator::new(list)
}

/// At most this many `tracestate` list members are accepted; a longer list is invalid and
/// dropped (the parent is kept), as the W3C test suite expects. Parsing stops at the 33rd.
pub const TRACESTATE_MAX_MEMBERS: usize = 32;
/// A `tracestate` longer than this (members joined by `,`) is cut by whole members: members
/// over [`TRACESTATE_LARGE_MEMBER`] characters go first, then members from the end.
pub const TRACESTATE_MAX_LEN: usize = 512;
/// Members longer than this are the first to go when a `tracestate` is cut.
pub const TRACESTATE_LARGE_MEMBER: usize = 128;
/// Baggage (W3C `baggage` or Jaeger `uberctx-*`) is read up to this many bytes in all.
pub const BAGGAGE_MAX_LEN: usize = 8192;
/// Baggage (W3C `baggage` or Jaeger `uberctx-*`) keeps at most this many entries.
pub const BAGGAGE_MAX_ENTRIES: usize = 64;

/// What an extractor learned about the incoming trace that the SDK's `SpanContext` cannot hold:
/// the Level 2 `random` flag (the SDK resets flags on unsampled children and never sets it on
/// new roots) and `tracestate` members whose keys the SDK's `TraceState` rejects (more than one
/// `@`, or more than 13 characters after it, both valid in the current grammar).
#[derive(Debug, Clone)]
struct IncomingTrace {
    trace_id: TraceId,
    random: bool,
    /// `(what the SDK's TraceState holds, the full validated header)`, when they differ.
    tracestate: Option<(String, String)>,
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

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";
const FLAG_SAMPLED: u8 = 0x01;
/// Level 2: the trace id's right-most 7 bytes are random.
const FLAG_RANDOM: u8 = 0x02;
/// Sampled and (Level 2) random: the flags this implementation knows and propagates.
const KNOWN_FLAGS: u8 = FLAG_SAMPLED | FLAG_RANDOM;

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
fn truncate_tracestate(members: &mut Vec<(&str, &str)>) {
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
fn sdk_trace_state(members: &[(&str, &str)]) -> TraceState {
    let ok = members.iter().filter(|(k, _)| sdk_accepts_key(k)).copied();
    TraceState::from_key_value(ok).unwrap_or_default()
}

fn sdk_accepts_key(key: &str) -> bool {
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
        // Members the SDK could not hold travel on unless the application changed the state.
        if let Some((held, full)) = incoming.and_then(|i| i.tracestate.as_ref()) {
            if *held == state {
                state = full.clone();
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

/// What baggage keys and values are percent-encoded with: controls, space, the delimiters
/// `"`, `,`, `;`, `=`, `\`, and `%` (so a literal `%41` survives) and `+` (which Python's SDK
/// reads as a space).
const BAGGAGE_ENCODE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b',')
    .add(b';')
    .add(b'=')
    .add(b'\\')
    .add(b'%')
    .add(b'+');

/// W3C Baggage: extraction is the SDK's `BaggagePropagator` (linear, headers over
/// [`BAGGAGE_MAX_LEN`] bytes dropped, at most [`BAGGAGE_MAX_ENTRIES`] entries); injection
/// percent-encodes `+` and `%` as well, which the SDK's does not, so values round-trip through
/// every SDK (Python's reads a raw `+` as a space).
#[derive(Debug, Default)]
pub struct W3cBaggage {
    sdk: BaggagePropagator,
}

impl W3cBaggage {
    /// A W3C Baggage propagator.
    pub fn new() -> Self {
        W3cBaggage::default()
    }
}

impl TextMapPropagator for W3cBaggage {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let baggage = cx.baggage();
        if baggage.is_empty() {
            return;
        }
        let mut header = String::new();
        for (name, (value, metadata)) in baggage.iter() {
            if !header.is_empty() {
                header.push(',');
            }
            header.extend(utf8_percent_encode(name.as_str().trim(), BAGGAGE_ENCODE));
            header.push('=');
            header.extend(utf8_percent_encode(value.as_str().trim(), BAGGAGE_ENCODE));
            let metadata = metadata.as_str().trim();
            if !metadata.is_empty() {
                header.push(';');
                header.push_str(metadata);
            }
        }
        injector.set("baggage", header);
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        self.sdk.extract_with_context(cx, extractor)
    }

    fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
        self.sdk.fields()
    }
}

fn parse_trace_id(s: &str) -> Option<TraceId> {
    // 16 or 32 hex digits (64-bit ids are left-padded), lowercase or uppercase.
    if !(s.len() == 16 || s.len() == 32) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let id = u128::from_str_radix(s, 16).ok()?;
    (id != 0).then(|| TraceId::from(id))
}

fn parse_span_id(s: &str) -> Option<SpanId> {
    if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let id = u64::from_str_radix(s, 16).ok()?;
    (id != 0).then(|| SpanId::from(id))
}

fn remote(cx: &Context, trace_id: TraceId, span_id: SpanId, sampled: bool) -> Context {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    cx.with_remote_span_context(SpanContext::new(
        trace_id,
        span_id,
        flags,
        true,
        TraceState::default(),
    ))
    // These formats say nothing about how the trace id was made: never claim `random`.
    .with_value(IncomingTrace {
        trace_id,
        random: false,
        tracestate: None,
    })
}

/// Zipkin B3 propagation, single `b3` header or multiple `X-B3-*` headers.
///
/// Extract accepts both forms whichever was configured (the single header wins), as the B3
/// specification recommends; inject writes the configured form.
#[derive(Debug, Clone)]
pub struct B3Propagator {
    single: bool,
}

const B3_SINGLE: &str = "b3";
const B3_TRACE_ID: &str = "x-b3-traceid";
const B3_SPAN_ID: &str = "x-b3-spanid";
const B3_SAMPLED: &str = "x-b3-sampled";
const B3_FLAGS: &str = "x-b3-flags";
const B3_PARENT: &str = "x-b3-parentspanid";

impl B3Propagator {
    /// Writes the single `b3` header.
    pub fn single() -> Self {
        B3Propagator { single: true }
    }

    /// Writes `X-B3-TraceId`, `X-B3-SpanId` and `X-B3-Sampled`.
    pub fn multi() -> Self {
        B3Propagator { single: false }
    }

    fn extract_single(value: &str) -> Option<(TraceId, SpanId, bool)> {
        // At most 5 pieces are looked at: a longer value is invalid, however long it is.
        let parts: Vec<&str> = value.trim().splitn(5, '-').collect();
        // `b3: 0` alone is a sampling decision without ids: nothing to continue.
        if parts.len() < 2 || parts.len() > 4 {
            return None;
        }
        let trace_id = parse_trace_id(parts[0])?;
        let span_id = parse_span_id(parts[1])?;
        let sampled = match parts.get(2).copied() {
            None => true, // deferred decision: follow our sampler, which defaults to on
            Some("1") | Some("d") => true,
            Some("0") => false,
            Some(_) => return None,
        };
        if let Some(parent) = parts.get(3) {
            parse_span_id(parent)?;
        }
        Some((trace_id, span_id, sampled))
    }

    fn extract_multi(extractor: &dyn Extractor) -> Option<(TraceId, SpanId, bool)> {
        let trace_id = parse_trace_id(extractor.get(B3_TRACE_ID)?.trim())?;
        let span_id = parse_span_id(extractor.get(B3_SPAN_ID)?.trim())?;
        let debug = extractor.get(B3_FLAGS).map(str::trim) == Some("1");
        let sampled = match extractor.get(B3_SAMPLED).map(str::trim) {
            None => true,
            Some("1") | Some("true") => true,
            Some("0") | Some("false") => debug,
            Some(_) => return None,
        };
        if let Some(parent) = extractor.get(B3_PARENT) {
            parse_span_id(parent.trim())?;
        }
        Some((trace_id, span_id, sampled || debug))
    }
}

impl TextMapPropagator for B3Propagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        let sampled = if sc.is_sampled() { "1" } else { "0" };
        if self.single {
            injector.set(
                B3_SINGLE,
                format!("{}-{}-{}", sc.trace_id(), sc.span_id(), sampled),
            );
        } else {
            injector.set(B3_TRACE_ID, sc.trace_id().to_string());
            injector.set(B3_SPAN_ID, sc.span_id().to_string());
            injector.set(B3_SAMPLED, sampled.to_string());
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let found = match extractor.get(B3_SINGLE) {
            Some(v) => Self::extract_single(v),
            None => Self::extract_multi(extractor),
        };
        match found {
            Some((t, s, sampled)) => remote(cx, t, s, sampled),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
        static MULTI: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        static SINGLE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        let v = if self.single {
            SINGLE.get_or_init(|| vec![B3_SINGLE.to_string()])
        } else {
            MULTI.get_or_init(|| {
                [B3_TRACE_ID, B3_SPAN_ID, B3_SAMPLED, B3_FLAGS, B3_PARENT]
                    .map(String::from)
                    .to_vec()
            })
        };
        opentelemetry::propagation::text_map_propagator::FieldIter::new(v)
    }
}

/// Jaeger propagation: `uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}`, and
/// baggage as one `uberctx-{key}: {percent-encoded value}` header per entry, as Jaeger's
/// clients and the Python and JavaScript Jaeger propagators write it. At most
/// [`BAGGAGE_MAX_ENTRIES`] entries and [`BAGGAGE_MAX_LEN`] bytes of baggage are read.
#[derive(Debug, Clone, Default)]
pub struct JaegerPropagator {
    _private: (),
}

const UBER_TRACE_ID: &str = "uber-trace-id";
const UBER_BAGGAGE_PREFIX: &str = "uberctx-";

impl JaegerPropagator {
    /// A Jaeger propagator.
    pub fn new() -> Self {
        JaegerPropagator::default()
    }

    fn parse(value: &str) -> Option<(TraceId, SpanId, bool)> {
        // Some clients URL-encode the colons.
        let decoded;
        let value = if value.contains("%3A") || value.contains("%3a") {
            decoded = value.replace("%3A", ":").replace("%3a", ":");
            decoded.as_str()
        } else {
            value
        };
        let parts: Vec<&str> = value.trim().splitn(5, ':').collect();
        if parts.len() != 4 {
            return None;
        }
        let hex = |s: &str, max: usize| {
            !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_hexdigit())
        };
        // Jaeger drops leading zeros: ids may be shorter than their full width.
        if !hex(parts[0], 32) || !hex(parts[1], 16) || !hex(parts[2], 16) || !hex(parts[3], 2) {
            return None;
        }
        let trace_id = u128::from_str_radix(parts[0], 16).ok()?;
        let span_id = u64::from_str_radix(parts[1], 16).ok()?;
        let flags = u8::from_str_radix(parts[3], 16).ok()?;
        if trace_id == 0 || span_id == 0 {
            return None;
        }
        // Bit 1: sampled; bit 2: debug (implies sampled).
        let sampled = flags & 0x01 != 0 || flags & 0x02 != 0;
        Some((TraceId::from(trace_id), SpanId::from(span_id), sampled))
    }
}

impl JaegerPropagator {
    /// Adds `uberctx-*` headers to the baggage of `cx`; one pass over the keys, bounded.
    fn extract_baggage(cx: Context, extractor: &dyn Extractor) -> Context {
        let mut baggage: Vec<KeyValueMetadata> = cx
            .baggage()
            .iter()
            .map(|(k, (v, m))| KeyValueMetadata::new(k.clone(), v.clone(), m.clone()))
            .collect();
        let before = baggage.len();
        let (mut entries, mut bytes) = (0usize, 0usize);
        for key in extractor.keys() {
            let Some(name) = key
                .get(..UBER_BAGGAGE_PREFIX.len())
                .filter(|p| p.eq_ignore_ascii_case(UBER_BAGGAGE_PREFIX))
                .map(|_| &key[UBER_BAGGAGE_PREFIX.len()..])
            else {
                continue;
            };
            let Some(raw) = extractor.get(key) else {
                continue;
            };
            bytes += name.len() + raw.len();
            entries += 1;
            if entries > BAGGAGE_MAX_ENTRIES || bytes > BAGGAGE_MAX_LEN {
                break;
            }
            let Ok(value) = percent_decode_str(raw).decode_utf8() else {
                continue;
            };
            if !name.is_empty() {
                baggage.push(KeyValueMetadata::new(
                    name.to_ascii_lowercase(),
                    value.trim().to_string(),
                    "",
                ));
            }
        }
        if baggage.len() == before {
            cx
        } else {
            cx.with_baggage(baggage)
        }
    }
}

impl TextMapPropagator for JaegerPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        let flags = if sc.is_sampled() { "01" } else { "00" };
        injector.set(
            UBER_TRACE_ID,
            format!("{}:{}:0:{}", sc.trace_id(), sc.span_id(), flags),
        );
        for (key, (value, _)) in cx.baggage().iter() {
            injector.set(
                &format!("{UBER_BAGGAGE_PREFIX}{}", key.as_str()),
                utf8_percent_encode(value.as_str(), BAGGAGE_ENCODE).to_string(),
            );
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let cx = match extractor.get(UBER_TRACE_ID).and_then(Self::parse) {
            Some((t, s, sampled)) => remote(cx, t, s, sampled),
            None => cx.clone(),
        };
        Self::extract_baggage(cx, extractor)
    }

    fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
        static FIELDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        opentelemetry::propagation::text_map_propagator::FieldIter::new(
            FIELDS.get_or_init(|| vec![UBER_TRACE_ID.to_string()]),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
    const SPAN: &str = "e457b5a2e4d86bd1";

    fn extract(p: &dyn TextMapPropagator, headers: &[(&str, &str)]) -> Option<SpanContext> {
        let map: HashMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        let cx = p.extract(&map);
        let sc = cx.span().span_context().clone();
        sc.is_valid().then_some(sc)
    }

    fn inject(p: &dyn TextMapPropagator, sampled: bool) -> HashMap<String, String> {
        let sc = SpanContext::new(
            TraceId::from_hex(TRACE).unwrap(),
            SpanId::from_hex(SPAN).unwrap(),
            if sampled {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::default()
            },
            true,
            TraceState::default(),
        );
        let cx = Context::new().with_remote_span_context(sc);
        let mut map = HashMap::new();
        p.inject_context(&cx, &mut map);
        map
    }

    #[test]
    fn b3_single_known_good() {
        let p = B3Propagator::single();
        // Examples from the B3 specification.
        let sc = extract(
            &p,
            &[(
                "b3",
                "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90",
            )],
        )
        .unwrap();
        assert_eq!(sc.trace_id().to_string(), TRACE);
        assert_eq!(sc.span_id().to_string(), SPAN);
        assert!(sc.is_sampled() && sc.is_remote());
        let sc = extract(&p, &[("b3", "a3ce929d0e0e4736-00f067aa0ba902b7-d")]).unwrap();
        assert_eq!(
            sc.trace_id().to_string(),
            "0000000000000000a3ce929d0e0e4736"
        );
        assert!(sc.is_sampled(), "debug means sampled");
        let sc = extract(&p, &[("b3", &format!("{TRACE}-{SPAN}-0"))]).unwrap();
        assert!(!sc.is_sampled());
        assert_eq!(
            inject(&p, true).get("b3").unwrap(),
            &format!("{TRACE}-{SPAN}-1")
        );
        assert_eq!(
            inject(&p, false).get("b3").unwrap(),
            &format!("{TRACE}-{SPAN}-0")
        );
    }

    #[test]
    fn b3_multi_known_good() {
        let p = B3Propagator::multi();
        let sc = extract(
            &p,
            &[
                ("X-B3-TraceId", TRACE),
                ("X-B3-SpanId", SPAN),
                ("X-B3-ParentSpanId", "05e3ac9a4f6e3b90"),
                ("X-B3-Sampled", "1"),
            ],
        )
        .unwrap();
        assert_eq!(sc.trace_id().to_string(), TRACE);
        assert!(sc.is_sampled());
        let sc = extract(
            &p,
            &[
                ("X-B3-TraceId", TRACE),
                ("X-B3-SpanId", SPAN),
                ("X-B3-Flags", "1"),
                ("X-B3-Sampled", "0"),
            ],
        )
        .unwrap();
        assert!(sc.is_sampled(), "debug flag forces sampling");
        let out = inject(&p, true);
        assert_eq!(out.get("x-b3-traceid").unwrap(), TRACE);
        assert_eq!(out.get("x-b3-spanid").unwrap(), SPAN);
        assert_eq!(out.get("x-b3-sampled").unwrap(), "1");
        // The single header is accepted by the multi propagator too.
        assert!(extract(&p, &[("b3", &format!("{TRACE}-{SPAN}-1"))]).is_some());
    }

    #[test]
    fn b3_rejects_malformed() {
        let p = B3Propagator::single();
        for bad in [
            "0",
            "",
            "-",
            "zz-zz",
            &format!("{TRACE}-{SPAN}-2"),
            &format!("{TRACE}-0000000000000000-1"),
            &format!("00000000000000000000000000000000-{SPAN}-1"),
            &format!("{TRACE}x-{SPAN}-1"),
            &format!("{TRACE}-{SPAN}-1-short"),
            &format!("{TRACE}-{SPAN}-1-{SPAN}-extra"),
            "é-é-é",
        ] {
            assert!(extract(&p, &[("b3", bad)]).is_none(), "{bad:?}");
        }
        let m = B3Propagator::multi();
        assert!(extract(&m, &[("X-B3-TraceId", TRACE)]).is_none());
        assert!(extract(
            &m,
            &[
                ("X-B3-TraceId", TRACE),
                ("X-B3-SpanId", SPAN),
                ("X-B3-Sampled", "yes")
            ]
        )
        .is_none());
    }

    #[test]
    fn jaeger_known_good() {
        let p = JaegerPropagator::new();
        let sc = extract(&p, &[("uber-trace-id", &format!("{TRACE}:{SPAN}:0:1"))]).unwrap();
        assert_eq!(sc.trace_id().to_string(), TRACE);
        assert_eq!(sc.span_id().to_string(), SPAN);
        assert!(sc.is_sampled());
        // Short ids (leading zeros dropped) and URL-encoded colons, as Jaeger clients send.
        let sc = extract(&p, &[("uber-trace-id", "a3ce929d0e0e4736%3A7b%3A0%3A3")]).unwrap();
        assert_eq!(
            sc.trace_id().to_string(),
            "0000000000000000a3ce929d0e0e4736"
        );
        assert_eq!(sc.span_id().to_string(), "000000000000007b");
        assert!(sc.is_sampled());
        let sc = extract(&p, &[("uber-trace-id", &format!("{TRACE}:{SPAN}:0:0"))]).unwrap();
        assert!(!sc.is_sampled());
        assert_eq!(
            inject(&p, true).get("uber-trace-id").unwrap(),
            &format!("{TRACE}:{SPAN}:0:01")
        );
    }

    #[test]
    fn jaeger_rejects_malformed() {
        let p = JaegerPropagator::new();
        for bad in [
            "",
            ":::",
            "1:2:3",
            &format!("{TRACE}:{SPAN}:0:1:9"),
            &format!("0:{SPAN}:0:1"),
            &format!("{TRACE}:0:0:1"),
            &format!("{TRACE}0:{SPAN}:0:1"),
            &format!("{TRACE}:{SPAN}:0:zz"),
            &format!("{TRACE}:{SPAN}:0:100"),
            "é:é:é:é",
        ] {
            assert!(extract(&p, &[("uber-trace-id", bad)]).is_none(), "{bad:?}");
        }
    }

    /// A multi-value extractor, like HTTP headers.
    struct Multi(Vec<(&'static str, String)>);
    impl Extractor for Multi {
        fn get(&self, key: &str) -> Option<&str> {
            self.0
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.iter().map(|(k, _)| *k).collect()
        }
        fn get_all(&self, key: &str) -> Option<Vec<&str>> {
            let v: Vec<&str> = self
                .0
                .iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
                .collect();
            (!v.is_empty()).then_some(v)
        }
    }

    fn w3c(headers: &[(&'static str, &str)]) -> Option<SpanContext> {
        let m = Multi(headers.iter().map(|(k, v)| (*k, v.to_string())).collect());
        let cx = W3cTraceContext::new().extract(&m);
        let sc = cx.span().span_context().clone();
        sc.is_valid().then_some(sc)
    }

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn w3c_valid_headers() {
        let sc = w3c(&[("traceparent", TP)]).unwrap();
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert!(sc.is_sampled() && sc.is_remote());
        // Level 2 random flag kept; unknown flags dropped.
        let sc = w3c(&[(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff",
        )])
        .unwrap();
        assert_eq!(sc.trace_flags().to_u8(), 0x03);
        // A future version may carry more fields.
        assert!(w3c(&[(
            "traceparent",
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds"
        )])
        .is_some());
        // Repeated tracestate headers are merged, in order.
        let sc = w3c(&[
            ("traceparent", TP),
            ("tracestate", "rojo=00f067aa0ba902b7"),
            ("tracestate", "congo=t61rcWkgMzE,tenant@vendor=x"),
        ])
        .unwrap();
        assert_eq!(
            sc.trace_state().header(),
            "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,tenant@vendor=x"
        );
        let mut out = HashMap::new();
        W3cTraceContext::new()
            .inject_context(&Context::new().with_remote_span_context(sc), &mut out);
        assert_eq!(out["traceparent"], TP);
        assert_eq!(
            out["tracestate"],
            "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,tenant@vendor=x"
        );
    }

    #[test]
    fn w3c_invalid_traceparents_start_a_new_trace() {
        for bad in [
            "",
            "00",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.future",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\u{e9}",
        ] {
            assert!(w3c(&[("traceparent", bad)]).is_none(), "{bad:?}");
        }
        assert!(
            w3c(&[("traceparent", TP), ("traceparent", TP)]).is_none(),
            "a duplicated traceparent is ambiguous"
        );
    }

    #[test]
    fn w3c_invalid_tracestate_is_dropped_but_parent_kept() {
        let too_many: String = (0..33)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        for bad in [
            "Upper=1",
            "k=",
            "k=v=w",
            "=v",
            "@foo=1,bar=2",
            "foo =1",
            "foo.bar=1",
            "foo=,bar=3",
            "k=\u{e9}",
            too_many.as_str(),
        ] {
            let sc = w3c(&[("traceparent", TP), ("tracestate", bad)]).expect("parent kept");
            assert_eq!(sc.trace_state().header(), "", "{bad:?}");
        }
        let ok: String = (0..32)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        let sc = w3c(&[("traceparent", TP), ("tracestate", &ok)]).unwrap();
        assert_eq!(sc.trace_state().header().matches('=').count(), 32);
    }

    fn tracestate_out(headers: &[(&'static str, &str)]) -> String {
        let m = Multi(headers.iter().map(|(k, v)| (*k, v.to_string())).collect());
        let cx = W3cTraceContext::new().extract(&m);
        let mut out = HashMap::new();
        W3cTraceContext::new().inject_context(&cx, &mut out);
        out.remove("tracestate").unwrap_or_default()
    }

    #[test]
    fn w3c_current_key_grammar_is_forwarded_whole() {
        // Keys the SDK's TraceState rejects (Level 1's `@` rules) but the current grammar and
        // the W3C suite accept: they must travel on, with the other members, in order.
        let long_vendor = format!("{}@{}", "t".repeat(241), "v".repeat(14));
        let short_tenant = format!("t@{}", "v".repeat(15));
        for key in [
            "foo@bar@baz",
            "foo@@bar",
            "foo@",
            long_vendor.as_str(),
            short_tenant.as_str(),
            "abcdefghijklmnopqrstuvwxyz0123456789_-*/@a-z0-9_-*/",
        ] {
            let state = format!("{key}=1,bar=2");
            assert_eq!(
                tracestate_out(&[("traceparent", TP), ("tracestate", &state)]),
                state,
                "{key}"
            );
        }
        // A 256-character key is valid, 257 is not.
        let k256 = "z".repeat(256);
        let k257 = "z".repeat(257);
        assert_eq!(
            tracestate_out(&[
                ("traceparent", TP),
                ("tracestate", "foo=1"),
                ("tracestate", &format!("{k256}=1"))
            ]),
            format!("foo=1,{k256}=1")
        );
        assert_eq!(
            tracestate_out(&[
                ("traceparent", TP),
                ("tracestate", "foo=1"),
                ("tracestate", &format!("{k257}=1"))
            ]),
            ""
        );
        // The SDK's view holds what it can; the SDK-valid members are readable there.
        let sc = w3c(&[("traceparent", TP), ("tracestate", "foo@bar@baz=1,bar=2")]).unwrap();
        assert_eq!(sc.trace_state().get("bar"), Some("2"));
    }

    #[test]
    fn w3c_duplicate_keys_keep_the_first_member() {
        for (headers, expected) in [
            (vec!["foo=1,foo=1"], "foo=1"),
            (vec!["foo=1,foo=2"], "foo=1"),
            (vec!["foo=1", "foo=2"], "foo=1"),
            (vec!["a=1,foo=1,b=2,foo=3"], "a=1,foo=1,b=2"),
        ] {
            let mut h = vec![("traceparent", TP)];
            h.extend(headers.iter().map(|v| ("tracestate", *v)));
            assert_eq!(tracestate_out(&h), expected, "{headers:?}");
        }
    }

    #[test]
    fn w3c_tracestate_parsing_stops_at_the_member_limit() {
        // 45,000 members (the denial-of-service report): the parser must not look past the
        // 33rd. Counted through the iterator of header values, one member per value.
        let pulled = std::cell::Cell::new(0usize);
        let values: Vec<String> = (0..45_000).map(|i| format!("k{i}=v")).collect();
        let it = values.iter().map(|v| {
            pulled.set(pulled.get() + 1);
            v.as_str()
        });
        assert!(W3cTraceContext::parse_tracestate_members(it).is_none());
        assert_eq!(pulled.get(), TRACESTATE_MAX_MEMBERS + 1);
        // The same in one header: dropped, parent kept.
        let one = values.join(",");
        let sc = w3c(&[("traceparent", TP), ("tracestate", &one)]).unwrap();
        assert_eq!(sc.trace_state().header(), "");
        // Thousands of empty members cost a scan, not a member each.
        let empties = format!("{}a=1", ",".repeat(100_000));
        assert_eq!(
            tracestate_out(&[("traceparent", TP), ("tracestate", &empties)]),
            "a=1"
        );
    }

    #[test]
    fn w3c_long_tracestate_is_cut_by_whole_members() {
        // 5 members of 130 characters (large) and small ones: large go first, from the end.
        let big = |c: char| format!("{c}={}", "x".repeat(128));
        let state = [
            big('a'),
            "s1=1".into(),
            big('b'),
            big('c'),
            "s2=2".into(),
            big('d'),
        ]
        .join(",");
        let out = tracestate_out(&[("traceparent", TP), ("tracestate", &state)]);
        assert!(out.len() <= TRACESTATE_MAX_LEN, "{}", out.len());
        assert_eq!(
            out,
            [big('a'), "s1=1".into(), big('b'), big('c'), "s2=2".into()].join(",")
        );
        // Only small members: cut from the end.
        let small: Vec<String> = (0..32)
            .map(|i| format!("k{i:02}={}", "v".repeat(20)))
            .collect();
        let out = tracestate_out(&[("traceparent", TP), ("tracestate", &small.join(","))]);
        assert!(out.len() <= TRACESTATE_MAX_LEN);
        assert!(out.starts_with("k00=") && !out.contains("k31="), "{out}");
        assert_eq!(out.matches(',').count() + 1, out.len().div_ceil(25).min(32));
    }

    fn w3c_out(cx: &Context) -> String {
        // The traceparent `cx` would send.
        let mut out = HashMap::new();
        W3cTraceContext::new().inject_context(cx, &mut out);
        out.remove("traceparent").unwrap_or_default()
    }

    #[test]
    fn w3c_level2_random_flag_through_the_sdk() {
        use opentelemetry::trace::{Tracer as _, TracerProvider as _};
        use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
        let provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
            .build();
        let tracer = provider.tracer("t");
        let child_of = |traceparent: Option<&str>| {
            let m = Multi(
                traceparent
                    .map(|t| ("traceparent", t.to_string()))
                    .into_iter()
                    .collect(),
            );
            let parent = W3cTraceContext::new().extract(&m);
            let span = tracer.start_with_context("child", &parent);
            w3c_out(&parent.with_span(span))
        };
        // Unsampled + random: the SDK resets the child's flags to 00; `random` must survive.
        let out = child_of(Some(
            "00-12345678901234567890123456789012-1234567890123456-02",
        ));
        assert!(
            out.starts_with("00-12345678901234567890123456789012-"),
            "{out}"
        );
        assert!(
            !out.contains("-1234567890123456-"),
            "a new parent id: {out}"
        );
        assert!(out.ends_with("-02"), "{out}");
        // Sampled + random.
        let out = child_of(Some(
            "00-12345678901234567890123456789012-1234567890123456-03",
        ));
        assert!(out.ends_with("-03"), "{out}");
        // A parent without the flag: the child does not claim it.
        let out = child_of(Some(
            "00-12345678901234567890123456789012-1234567890123456-01",
        ));
        assert!(out.ends_with("-01"), "{out}");
        // A new root: its id is random, and Level 2 says the flag SHOULD be set.
        let out = child_of(None);
        assert!(out.ends_with("-03"), "{out}");
        // B3 parents say nothing about randomness: never claimed.
        let m: HashMap<String, String> = [("b3".to_string(), format!("{TRACE}-{SPAN}-1"))].into();
        let parent = B3Propagator::single().extract(&m);
        let out = w3c_out(&parent.with_span(tracer.start_with_context("c", &parent)));
        assert!(out.ends_with("-01"), "{out}");
    }

    #[test]
    fn jaeger_baggage_round_trip() {
        let p = JaegerPropagator::new();
        let cx = Context::new()
            .with_remote_span_context(SpanContext::new(
                TraceId::from_hex(TRACE).unwrap(),
                SpanId::from_hex(SPAN).unwrap(),
                TraceFlags::SAMPLED,
                true,
                TraceState::default(),
            ))
            .with_baggage(vec![
                opentelemetry::KeyValue::new("user", "a b+c/d é"),
                opentelemetry::KeyValue::new("tier", "gold"),
            ]);
        let mut out = HashMap::new();
        p.inject_context(&cx, &mut out);
        assert_eq!(out["uberctx-tier"], "gold");
        assert_eq!(out["uberctx-user"], "a%20b%2Bc/d%20%C3%A9");
        let back = p.extract(&out);
        assert_eq!(back.baggage().get("user").unwrap().as_str(), "a b+c/d é");
        assert_eq!(back.baggage().get("tier").unwrap().as_str(), "gold");
        assert_eq!(back.span().span_context().trace_id().to_string(), TRACE);
        // Headers as Jaeger clients send them (any case), without a trace id too.
        let m: HashMap<String, String> = [("uberctx-k".to_string(), "v%2C1".to_string())].into();
        assert_eq!(p.extract(&m).baggage().get("k").unwrap().as_str(), "v,1");
        // Bounded: 10,000 entries keep at most BAGGAGE_MAX_ENTRIES.
        let many: HashMap<String, String> = (0..10_000)
            .map(|i| (format!("uberctx-k{i}"), "v".to_string()))
            .collect();
        assert!(p.extract(&many).baggage().len() <= BAGGAGE_MAX_ENTRIES);
    }

    #[test]
    fn baggage_values_survive_plus_percent_and_non_ascii() {
        let p = W3cBaggage::new();
        let values = ["a b", "1+1=2", "/path/x", "é ü 漢", "50%", "%41", "x;y,z\\"];
        let cx = Context::new().with_baggage(
            values
                .iter()
                .enumerate()
                .map(|(i, v)| opentelemetry::KeyValue::new(format!("k{i}"), *v))
                .collect::<Vec<_>>(),
        );
        let mut out = HashMap::new();
        p.inject_context(&cx, &mut out);
        let header = &out["baggage"];
        assert!(
            !header.contains('+'),
            "a raw + reads as a space in Python: {header}"
        );
        assert!(header.contains("1%2B1%3D2"), "{header}");
        let back = p.extract(&out);
        for (i, v) in values.iter().enumerate() {
            assert_eq!(back.baggage().get(format!("k{i}")).unwrap().as_str(), *v);
        }
    }

    #[test]
    fn composite_order_and_fields() {
        let p = propagator_for(&[Propagator::TraceContext, Propagator::B3, Propagator::Jaeger]);
        let out = inject(&p, true);
        assert!(out.contains_key("traceparent"));
        assert!(out.contains_key("b3"));
        assert!(out.contains_key("uber-trace-id"));
        let fields: Vec<_> = p.fields().collect();
        assert!(fields.contains(&"b3") && fields.contains(&"uber-trace-id"));
    }
}
