//! Tracing never changes what the program does: a `Display` or `Debug` that panics is
//! recorded as a placeholder instead of unwinding into the application, and a huge argument
//! is formatted only up to the capture limit.

use std::cell::Cell;
use std::fmt;

use agent_trace::testing::Capture;
use agent_trace::traced_tool;

#[derive(Debug)]
struct ExplodingError;

impl fmt::Display for ExplodingError {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Display of the error panicked")
    }
}

#[traced_tool]
fn fails_with_exploding_error() -> Result<u8, ExplodingError> {
    Err(ExplodingError)
}

struct ExplodingDebug;

impl fmt::Debug for ExplodingDebug {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug of the argument panicked")
    }
}

#[traced_tool(capture(arg))]
fn takes_exploding_arg(arg: &ExplodingDebug) -> u8 {
    let _ = arg;
    7
}

#[test]
fn a_panicking_display_or_debug_never_reaches_the_application() {
    let cap = Capture::start();
    let (err, value) = cap.in_scope(|| {
        (
            fails_with_exploding_error().is_err(),
            takes_exploding_arg(&ExplodingDebug),
        )
    });
    assert!(err, "the application still gets its Err");
    assert_eq!(value, 7, "and its value");
    let tree = cap.tree();
    let failed = tree
        .find("execute_tool fails_with_exploding_error")
        .expect("span");
    let placeholder = "<unprintable: its formatting implementation panicked>";
    assert_eq!(failed.error().as_deref(), Some(placeholder));
    let captured = tree.find("execute_tool takes_exploding_arg").expect("span");
    assert_eq!(
        captured.attr("agent_trace.arg.arg").as_deref(),
        Some(placeholder)
    );
}

/// An argument whose Debug form would be 8 MiB; counts what it was asked to write.
struct Huge<'a>(&'a Cell<usize>);

impl fmt::Debug for Huge<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for _ in 0..(1 << 20) {
            self.0.set(self.0.get() + 8);
            f.write_str("abcdefgh")?;
        }
        Ok(())
    }
}

#[traced_tool(capture(big))]
fn takes_huge(big: Huge<'_>) -> usize {
    let _ = big;
    1
}

#[test]
fn capture_formats_no_more_than_the_limit() {
    let cap = Capture::start();
    let asked = Cell::new(0);
    cap.in_scope(|| takes_huge(Huge(&asked)));
    let value = cap.spans()[0]
        .attr("agent_trace.arg.big")
        .expect("captured");
    assert_eq!(value.chars().count(), agent_trace::CAPTURE_LIMIT + 1);
    assert!(value.ends_with('…'));
    assert!(
        asked.get() <= agent_trace::CAPTURE_LIMIT + 8,
        "formatting went on after the limit: {} bytes",
        asked.get()
    );
}
