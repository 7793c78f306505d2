//! Turning users' values into attribute text and values, safely: bounded in size and in work,
//! never unwinding into the application when a `Debug` or `Display` implementation panics,
//! and never changing a number's sign or size ([`count_value`], [`int_value`]).
//!
//! Tracing must not change what the program does. `format!("{value:?}")` on an 8 MiB value
//! writes 8 MiB before anything is cut, and a panicking `Display` would panic the
//! application only when tracing is on. Everything here formats into a writer that refuses
//! more than its limit (the formatter stops at the first refused write) inside
//! `catch_unwind`, and records a placeholder when the implementation panics. The panic hook
//! that `init` installs stays silent for such a contained panic, so neither the default
//! message nor an error reporter's hook sees a panic the application never had. Under
//! `panic = "abort"` nothing can be contained: a panicking `Debug` or `Display` aborts.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Error messages (status descriptions, `exception.message`) are formatted into at most this
/// many characters; the export pipeline then cuts them to the attribute value limit.
pub(crate) const MESSAGE_LIMIT: usize = 32 * 1024;

/// What is recorded in place of a value whose `Debug` or `Display` implementation panicked.
pub(crate) const PANICKED: &str = "<unprintable: its formatting implementation panicked>";

/// A `fmt::Write` that keeps at most `left` characters and then refuses further writes.
struct Bounded {
    out: String,
    left: usize,
    cut: bool,
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Fewer bytes than the allowance means fewer characters too: the common case is one
        // comparison and one copy.
        if s.len() <= self.left {
            self.out.push_str(s);
            self.left -= s.chars().count();
            return Ok(());
        }
        match cut_point(s, self.left) {
            None => {
                self.out.push_str(s);
                self.left -= s.chars().count();
                Ok(())
            }
            Some(at) => {
                self.out.push_str(&s[..at]);
                self.left = 0;
                self.cut = true;
                Err(fmt::Error) // stops the formatter: no more work for the rest
            }
        }
    }
}

/// Formats `args` into at most `limit` characters, with `…` appended when cut; a panic in a
/// formatting implementation gives [`PANICKED`].
pub(crate) fn bounded(
    limit: usize,
    args: impl FnOnce(&mut dyn fmt::Write) -> fmt::Result,
) -> String {
    // The panic hook stays silent for a panic contained here (see `export/panic_hook.rs`).
    let formatted = crate::state::while_formatting(|| {
        catch_unwind(AssertUnwindSafe(|| {
            let mut w = Bounded {
                out: String::new(),
                left: limit,
                cut: false,
            };
            let _ = args(&mut w); // an error is our own refusal, or the value's: keep what came
            if w.cut {
                w.out.push('…');
            }
            w.out
        }))
    });
    formatted.unwrap_or_else(|_| PANICKED.to_string())
}

/// `value`'s `Debug` form, bounded as [`bounded`] says.
pub(crate) fn debug(value: &dyn fmt::Debug, limit: usize) -> String {
    bounded(limit, |w| write!(w, "{value:?}"))
}

/// The `Debug` form of a list of `items`, bounded as [`bounded`] says, touching at most
/// `limit + 1` of them: each item writes at least one character, so the rest could only be
/// cut. The text is the same as `debug(&items, limit)`, whose `Debug` for slices walks every
/// item even after the writer refused (8 MiB of bytes: tens of milliseconds).
pub(crate) fn debug_items<T: fmt::Debug>(items: &[T], limit: usize) -> String {
    struct Head<'a, T>(&'a [T], usize);
    impl<T: fmt::Debug> fmt::Debug for Head<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_list()
                .entries(self.0.iter().take(self.1.saturating_add(1)))
                .finish()
        }
    }
    debug(&Head(items, limit), limit)
}

/// The `Debug` form of a string, bounded as [`bounded`] says, reading at most `limit + 1` of
/// its characters (`str`'s `Debug` scans the whole string for escapes first).
pub(crate) fn debug_str(s: &str, limit: usize) -> String {
    let head = match cut_point(s, limit.saturating_add(1)) {
        Some(at) => &s[..at],
        None => s,
    };
    debug(&head, limit)
}

/// `value` as JSON, bounded in size and work: the serializer writes into a buffer that
/// refuses more than `limit` bytes, and stops at the first refused write. JSON that fits is
/// returned as its value; longer JSON as a JSON string of its first bytes (cut on a character
/// boundary) and `…`, so the attribute that holds it stays valid JSON. `None` when the
/// `Serialize` implementation fails (the caller records the `Debug` text instead); a
/// panicking one gives [`PANICKED`], contained as in [`bounded`].
pub(crate) fn json<T: serde::Serialize + ?Sized>(
    value: &T,
    limit: usize,
) -> Option<serde_json::Value> {
    struct Capped {
        out: Vec<u8>,
        left: usize,
        cut: bool,
    }
    impl std::io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if buf.len() <= self.left {
                self.out.extend_from_slice(buf);
                self.left -= buf.len();
                return Ok(buf.len());
            }
            self.out.extend_from_slice(&buf[..self.left]);
            self.left = 0;
            self.cut = true;
            Err(std::io::Error::other("over the capture limit"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let outcome = crate::state::while_formatting(|| {
        catch_unwind(AssertUnwindSafe(|| {
            let mut w = Capped {
                out: Vec::new(),
                left: limit,
                cut: false,
            };
            let ok = serde_json::to_writer(&mut w, value).is_ok();
            (ok, w)
        }))
    });
    let (ok, w) = match outcome {
        Ok(r) => r,
        Err(_) => return Some(serde_json::Value::String(PANICKED.to_string())),
    };
    if w.cut {
        let text = match std::str::from_utf8(&w.out) {
            Ok(t) => t,
            Err(e) => std::str::from_utf8(&w.out[..e.valid_up_to()]).unwrap_or_default(),
        };
        return Some(serde_json::Value::String(format!("{text}…")));
    }
    if !ok {
        return None;
    }
    serde_json::from_slice(&w.out).ok()
}

/// A captured value's `Debug` text as the JSON value the GenAI conventions want for tool
/// arguments and results: a number or `true`/`false` as itself, anything else as a JSON
/// string of the text (strings themselves are recorded raw by the probes, not through here).
pub(crate) fn json_of_debug(text: &str) -> serde_json::Value {
    let scalar = text.len() <= 64
        && (matches!(text, "true" | "false")
            || text
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'e' | b'E' | b'+')));
    match scalar.then(|| serde_json::from_str::<serde_json::Value>(text)) {
        Some(Ok(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_)))) => v,
        _ => serde_json::Value::String(text.to_string()),
    }
}

/// `value`'s `Display` form, bounded as [`bounded`] says.
pub(crate) fn display(value: &dyn fmt::Display, limit: usize) -> String {
    bounded(limit, |w| write!(w, "{value}"))
}

/// `error`'s message with its whole `source()` chain, `outer: inner: innermost`, bounded as
/// [`bounded`] says. A source whose message the text already ends with (wrappers that repeat
/// their cause) is not repeated. At most 32 sources are followed.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static), limit: usize) -> String {
    let mut text = display(error, limit);
    let mut source = error.source();
    let mut depth = 0;
    while let Some(cause) = source {
        depth += 1;
        if depth > 32 || text.chars().count() >= limit {
            break;
        }
        let message = display(cause, limit);
        if !message.is_empty() && !text.ends_with(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    cut(&text, limit)
}

/// `value`'s alternate `Display` form (`{:#}`), bounded as [`bounded`] says: for `anyhow`
/// and `eyre` errors that is the whole context chain.
pub(crate) fn display_alternate(value: &dyn fmt::Display, limit: usize) -> String {
    bounded(limit, |w| write!(w, "{value:#}"))
}

/// A copy of at most `limit` characters of `s`, with `…` appended when cut (only the kept
/// part is copied).
pub(crate) fn cut(s: &str, limit: usize) -> String {
    match cut_point(s, limit) {
        None => s.to_string(),
        Some(at) => {
            let mut out = String::with_capacity(at + '…'.len_utf8());
            out.push_str(&s[..at]);
            out.push('…');
            out
        }
    }
}

/// Byte index after `limit` characters, if the string is longer than that.
pub(crate) fn cut_point(s: &str, limit: usize) -> Option<usize> {
    if s.len() <= limit {
        return None; // fewer bytes than the limit means fewer characters too
    }
    s.char_indices().nth(limit).map(|(i, _)| i)
}

/// Runs user code that only informs a span (an `ErrorType`, an `LlmResponse`); a panic in it
/// is contained and gives `fallback`.
pub(crate) fn contained<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    crate::state::while_formatting(|| catch_unwind(AssertUnwindSafe(f))).unwrap_or(fallback)
}

/// An unsigned count as an attribute value: an `int` when it fits in `i64`, else its decimal
/// text (a value never changes its sign or size on the way).
pub(crate) fn count_value(n: u64) -> opentelemetry::Value {
    match i64::try_from(n) {
        Ok(n) => opentelemetry::Value::I64(n),
        Err(_) => opentelemetry::Value::String(n.to_string().into()),
    }
}

/// Any integer as an attribute value: an `int` when it fits in `i64`, else its decimal text.
pub(crate) fn int_value<T: TryInto<i64> + ToString + Copy>(n: T) -> opentelemetry::Value {
    match n.try_into() {
        Ok(n) => opentelemetry::Value::I64(n),
        Err(_) => opentelemetry::Value::String(n.to_string().into()),
    }
}

/// A list of strings as a `string[]` attribute value.
pub(crate) fn string_array(items: Vec<String>) -> opentelemetry::Value {
    let items: Vec<opentelemetry::StringValue> = items.into_iter().map(Into::into).collect();
    opentelemetry::Value::Array(items.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Counts how many bytes a Debug implementation was asked to write in all.
    struct Huge<'a> {
        pieces: usize,
        asked: &'a Cell<usize>,
    }
    impl fmt::Debug for Huge<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for _ in 0..self.pieces {
                self.asked.set(self.asked.get() + 8);
                f.write_str("abcdefgh")?;
            }
            Ok(())
        }
    }

    #[test]
    fn formatting_stops_at_the_limit() {
        let asked = Cell::new(0);
        let s = debug(
            &Huge {
                pieces: 1 << 20, // 8 MiB if written out
                asked: &asked,
            },
            1024,
        );
        assert_eq!(s.chars().count(), 1025, "1024 characters and the ellipsis");
        assert!(s.ends_with('…'));
        assert!(asked.get() <= 1024 + 8, "wrote {} bytes", asked.get());
        // A long Vec stops after its first elements too.
        let v = vec![7u8; 8 << 20];
        let s = debug(&v, 64);
        assert!(s.starts_with("[7, 7, ") && s.ends_with('…') && s.chars().count() == 65);
        // Short values are whole, multi-byte characters never split.
        assert_eq!(debug(&"héllo", 100), "\"héllo\"");
        assert_eq!(display(&"ééé", 2), "éé…");
        assert_eq!(cut("ééé", 2), "éé…");
        assert_eq!(cut("abc", 3), "abc");
    }

    #[test]
    fn error_chains_are_joined_once() {
        #[derive(Debug)]
        struct Wrap(&'static str, Option<Box<dyn std::error::Error + 'static>>);
        impl fmt::Display for Wrap {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for Wrap {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref()
            }
        }
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let e = Wrap("reading agent config", Some(Box::new(io)));
        assert_eq!(
            error_chain(&e, 1000),
            "reading agent config: No such file or directory"
        );
        // A wrapper that already says its cause is not repeated.
        let inner = Wrap("disk full", None);
        let e = Wrap("saving: disk full", Some(Box::new(inner)));
        assert_eq!(error_chain(&e, 1000), "saving: disk full");
        assert_eq!(error_chain(&e, 4), "savi…");
    }

    #[test]
    fn panicking_implementations_give_a_placeholder() {
        struct Bad;
        impl fmt::Display for Bad {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                panic!("Display exploded")
            }
        }
        impl fmt::Debug for Bad {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                panic!("Debug exploded")
            }
        }
        assert_eq!(display(&Bad, 10), PANICKED);
        assert_eq!(debug(&Bad, 10), PANICKED);
        assert_eq!(contained(1, || panic!("no")), 1);
    }

    #[test]
    fn integers_keep_their_sign_and_size() {
        use opentelemetry::Value;
        assert_eq!(super::count_value(7), Value::I64(7));
        assert_eq!(
            super::count_value(u64::MAX),
            Value::String(u64::MAX.to_string().into())
        );
        assert_eq!(super::int_value(-5i128), Value::I64(-5));
        assert_eq!(
            super::int_value(i128::MIN),
            Value::String(i128::MIN.to_string().into())
        );
        assert_eq!(
            super::int_value(u128::MAX),
            Value::String(u128::MAX.to_string().into())
        );
    }

    proptest::proptest! {
        /// Every integer reads back as itself: as an `int` when it fits, else as its decimal
        /// text; never clamped, never with another sign.
        #[test]
        fn every_integer_reads_back_as_itself(n in proptest::num::i128::ANY) {
            let back: i128 = match super::int_value(n) {
                opentelemetry::Value::I64(v) => i128::from(v),
                opentelemetry::Value::String(s) => s.as_str().parse().expect("decimal"),
                other => panic!("{other:?}"),
            };
            proptest::prop_assert_eq!(back, n);
        }

        #[test]
        fn every_count_reads_back_as_itself(n in proptest::num::u64::ANY) {
            let back: u64 = match super::count_value(n) {
                opentelemetry::Value::I64(v) => u64::try_from(v).expect("not negative"),
                opentelemetry::Value::String(s) => s.as_str().parse().expect("decimal"),
                other => panic!("{other:?}"),
            };
            proptest::prop_assert_eq!(back, n);
        }
    }
}
