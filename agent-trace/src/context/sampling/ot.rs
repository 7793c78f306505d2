//! The OpenTelemetry entry of the W3C `tracestate` (`ot=th:...;rv:...`), as the specification's
//! "TraceState Handling" page encodes it: the rejection threshold `th` (1 to 14 lowercase hex
//! digits, trailing zeros dropped) and the explicit randomness `rv` (exactly 14 lowercase hex
//! digits). Parsing is one pass over at most 256 bytes; nothing here allocates for a trace
//! state without an `ot` entry.

use std::fmt;
use std::str::FromStr;

use opentelemetry::trace::{TraceId, TraceState};

/// The `tracestate` key of OpenTelemetry's entry.
pub(crate) const OT_KEY: &str = "ot";
/// The longest `ot` value the specification allows.
pub(crate) const MAX_OT_LEN: usize = 256;
/// Hex digits of a 56-bit value.
const DIGITS: usize = 14;
/// `2^56`: the number of distinct randomness values, and the threshold that rejects all.
pub(crate) const MAX_ADJUSTED_COUNT: u64 = 1 << 56;

/// A rejection threshold `T` of consistent probability sampling: a span whose randomness `R`
/// (56 bits) is at least `T` is kept. `T = 0` keeps everything; the largest valid threshold,
/// `2^56 - 1`, keeps one trace in `2^56`.
///
/// Its [`Display`](fmt::Display) is the `th` value of the `ot` tracestate entry (hex, trailing
/// zeros dropped) and [`FromStr`] reads one back.
///
/// ```
/// use agent_trace::sampling::Threshold;
///
/// let t = Threshold::from_probability(0.25).unwrap();
/// assert_eq!(t.to_string(), "c");
/// assert_eq!("c".parse::<Threshold>().unwrap(), t);
/// assert_eq!(t.adjusted_count(), 4.0);
/// assert_eq!(Threshold::from_probability(1.0).unwrap().to_string(), "0");
/// // 1% at full precision: the same digits other SDKs write.
/// assert_eq!(Threshold::from_probability(0.01).unwrap().to_string(), "fd70a3d70a3d71");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Threshold(u64);

impl Threshold {
    /// Keeps every span (`th:0`).
    pub const ALWAYS: Threshold = Threshold(0);

    /// The threshold of sampling probability `p`: `2^56 - round(p * 2^56)`, at full 56-bit
    /// precision (as the JavaScript SDK's `@opentelemetry/sampler-composite` computes it).
    /// `None` when `p` is not in `(0, 1]` or so small that it rounds to "never" (below
    /// `2^-57`): never sampling is not a probability.
    pub fn from_probability(p: f64) -> Option<Threshold> {
        if !(p > 0.0 && p <= 1.0) {
            return None;
        }
        let kept = (p * MAX_ADJUSTED_COUNT as f64).round() as u64;
        (kept > 0).then(|| Threshold(MAX_ADJUSTED_COUNT - kept.min(MAX_ADJUSTED_COUNT)))
    }

    /// The threshold with this 56-bit value; `None` from `2^56` up.
    pub fn from_value(value: u64) -> Option<Threshold> {
        (value < MAX_ADJUSTED_COUNT).then_some(Threshold(value))
    }

    /// The 56-bit value.
    pub fn value(self) -> u64 {
        self.0
    }

    /// The probability that a span is kept: `(2^56 - T) / 2^56`.
    pub fn probability(self) -> f64 {
        (MAX_ADJUSTED_COUNT - self.0) as f64 / MAX_ADJUSTED_COUNT as f64
    }

    /// How many spans a span kept at this threshold stands for: `2^56 / (2^56 - T)`, the
    /// inverse of [`probability`](Self::probability).
    pub fn adjusted_count(self) -> f64 {
        MAX_ADJUSTED_COUNT as f64 / (MAX_ADJUSTED_COUNT - self.0) as f64
    }

    /// Whether a span with this randomness is kept: `R >= T`.
    pub fn keeps(self, randomness: u64) -> bool {
        randomness >= self.0
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0");
        }
        let hex = format!("{:014x}", self.0);
        f.write_str(hex.trim_end_matches('0'))
    }
}

/// A `th` value that is not 1 to 14 lowercase hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseThresholdError(());

impl fmt::Display for ParseThresholdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sampling threshold is 1 to 14 lowercase hexadecimal digits")
    }
}

impl std::error::Error for ParseThresholdError {}

impl FromStr for Threshold {
    type Err = ParseThresholdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let value = hex56(s, false).ok_or(ParseThresholdError(()))?;
        // Extended with trailing zeros to 14 digits.
        Ok(Threshold(value << (4 * (DIGITS - s.len()))))
    }
}

/// 1 to 14 (or, with `exact`, exactly 14) lowercase hex digits as a number.
fn hex56(s: &str, exact: bool) -> Option<u64> {
    let ok_len = if exact {
        s.len() == DIGITS
    } else {
        (1..=DIGITS).contains(&s.len())
    };
    if !ok_len {
        return None;
    }
    s.bytes().try_fold(0u64, |acc, b| {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        Some(acc << 4 | u64::from(d))
    })
}

/// The randomness the trace id carries: its least-significant 56 bits (W3C Level 2).
pub(crate) fn trace_id_randomness(trace_id: TraceId) -> u64 {
    let bytes = trace_id.to_bytes();
    let mut low = [0u8; 8];
    low[1..].copy_from_slice(&bytes[9..16]);
    u64::from_be_bytes(low)
}

/// What an `ot` entry says, read once: the threshold if exactly one valid `th` is there, the
/// randomness if exactly one valid `rv` is, and the other members untouched.
#[derive(Debug, Default)]
pub(crate) struct OtEntry<'a> {
    /// The one valid `th`; `None` when absent, invalid or repeated.
    pub(crate) threshold: Option<Threshold>,
    /// The one valid `rv`.
    pub(crate) randomness: Option<u64>,
    /// Whether any `th:` member was there (valid or not): rewriting erases them all.
    pub(crate) had_th: bool,
    /// Every member but `th:` ones, in order (`rv` included, never modified).
    pub(crate) others: Vec<&'a str>,
}

impl<'a> OtEntry<'a> {
    /// Reads `value` (the `ot` entry); `None` when it is longer than the specification
    /// allows, in which case it is left as it is.
    pub(crate) fn parse(value: &'a str) -> Option<OtEntry<'a>> {
        if value.len() > MAX_OT_LEN {
            return None;
        }
        let mut entry = OtEntry::default();
        let (mut ths, mut rvs) = (0, 0);
        for member in value.split(';').filter(|m| !m.is_empty()) {
            if let Some(th) = member.strip_prefix("th:") {
                ths += 1;
                entry.had_th = true;
                entry.threshold = if ths == 1 { th.parse().ok() } else { None };
                continue;
            }
            if let Some(rv) = member.strip_prefix("rv:") {
                rvs += 1;
                entry.randomness = if rvs == 1 { hex56(rv, true) } else { None };
            }
            entry.others.push(member);
        }
        Some(entry)
    }

    /// The entry with `threshold` as its `th` (first) and no other `th`; `None` when it would
    /// be empty. A `th` that would make it longer than 256 characters is not written (the
    /// specification advises not to set a value that does not fit).
    pub(crate) fn with_threshold(&self, threshold: Option<Threshold>) -> Option<String> {
        let others = self.others.join(";");
        let th = threshold.map(|t| format!("th:{t}"));
        let joined = match (th, others.is_empty()) {
            (Some(th), true) => th,
            (Some(th), false) if th.len() + 1 + others.len() <= MAX_OT_LEN => {
                format!("{th};{others}")
            }
            (_, true) => return None,
            (_, false) => others,
        };
        Some(joined)
    }
}

/// The `ot` entry of `state`, parsed; `None` without one (or an oversized one).
pub(crate) fn ot_entry(state: &TraceState) -> Option<OtEntry<'_>> {
    state.get(OT_KEY).and_then(OtEntry::parse)
}

/// The sampling threshold a trace state carries (`ot=th:...`), if one valid `th` is there.
///
/// ```
/// use agent_trace::opentelemetry::trace::TraceState;
/// use agent_trace::sampling::threshold_of;
///
/// let state = TraceState::from_key_value([("ot", "th:c;rv:00112233445566"), ("vendor", "x")]).unwrap();
/// assert_eq!(threshold_of(&state).map(|t| t.adjusted_count()), Some(4.0));
/// assert_eq!(threshold_of(&TraceState::default()), None);
/// ```
pub fn threshold_of(state: &TraceState) -> Option<Threshold> {
    ot_entry(state).and_then(|e| e.threshold)
}

/// The adjusted count of a span with this trace state: how many spans it stands for, from its
/// `th` (`2^56 / (2^56 - T)`). `None` without a threshold: the span was kept by a decision
/// that is not a probability (always on, a tail sampler keeping errors, ...), whose count is
/// unknown.
///
/// ```
/// use agent_trace::opentelemetry::trace::TraceState;
/// use agent_trace::sampling::adjusted_count;
///
/// // Kept at 1/8: it stands for 8 spans.
/// let state = TraceState::from_key_value([("ot", "th:e")]).unwrap();
/// assert_eq!(adjusted_count(&state), Some(8.0));
/// // Kept by always-on or a tail sampler: unknown.
/// assert_eq!(adjusted_count(&TraceState::default()), None);
/// ```
pub fn adjusted_count(state: &TraceState) -> Option<f64> {
    threshold_of(state).map(Threshold::adjusted_count)
}

/// `state` with its `ot` entry's `th` set to `threshold` (or erased with `None`), every other
/// `ot` member and every other vendor's entry kept. Unchanged when there is nothing to change.
pub(crate) fn rewrite_threshold(state: &TraceState, threshold: Option<Threshold>) -> TraceState {
    let value = state.get(OT_KEY);
    let entry = match value {
        Some(v) => match OtEntry::parse(v) {
            Some(e) => e,
            // Oversized: not ours to read, so not ours to rewrite.
            None => return state.clone(),
        },
        None if threshold.is_none() => return state.clone(),
        None => OtEntry::default(),
    };
    if threshold.is_none() && !entry.had_th {
        return state.clone();
    }
    if entry.had_th && threshold.is_some() && entry.threshold == threshold {
        // Already exactly this, and the only `th`.
        let ths = value.map_or(0, |v| v.split(';').filter(|m| m.starts_with("th:")).count());
        if ths == 1 {
            return state.clone();
        }
    }
    let rewritten = match entry.with_threshold(threshold) {
        Some(v) => state.insert(OT_KEY, v),
        None => state.delete(OT_KEY),
    };
    rewritten.unwrap_or_else(|_| state.clone())
}
