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

const EIGHT_MIB: usize = 8 << 20;

#[traced_tool(capture(bytes, owned, text, borrowed), fields(head = ?bytes))]
fn takes_blobs(bytes: &[u8], owned: Vec<u8>, text: String, borrowed: &str) -> usize {
    bytes.len() + owned.len() + text.len() + borrowed.len()
}

/// What a full `Debug` form cut to the capture limit looks like.
fn cut_debug(v: &dyn fmt::Debug) -> String {
    let full = format!("{v:?}");
    let mut head: String = full.chars().take(agent_trace::CAPTURE_LIMIT).collect();
    head.push('…');
    head
}

/// 8 MiB slices, vectors and strings are formatted from their head only (their `Debug` would
/// otherwise walk all 8 MiB even after the writer refused: ~27 ms a call), and the text is
/// exactly the full form cut to the limit, on the `capture(..)` and `fields(k = ?v)` paths.
#[test]
fn eight_mib_slices_and_strings_are_cut_from_their_head() {
    let cap = Capture::start();
    let bytes = vec![7u8; EIGHT_MIB];
    let text = "ü\"".repeat(EIGHT_MIB / 3);
    let n = cap.in_scope(|| takes_blobs(&bytes, bytes.clone(), text.clone(), &text));
    assert_eq!(n, 2 * EIGHT_MIB + 2 * text.len());
    let span = &cap.spans()[0];
    let bytes_cut = cut_debug(&bytes);
    let text_cut = cut_debug(&text);
    assert_eq!(
        span.attr("agent_trace.arg.bytes").as_deref(),
        Some(bytes_cut.as_str())
    );
    assert_eq!(
        span.attr("agent_trace.arg.owned").as_deref(),
        Some(bytes_cut.as_str())
    );
    assert_eq!(
        span.attr("agent_trace.arg.text").as_deref(),
        Some(text_cut.as_str())
    );
    assert_eq!(
        span.attr("agent_trace.arg.borrowed").as_deref(),
        Some(text_cut.as_str())
    );
    assert_eq!(span.attr("head").as_deref(), Some(bytes_cut.as_str()));
    // Short values are whole.
    cap.in_scope(|| takes_blobs(&[1, 2], vec![], "a".into(), "b"));
    let span = &cap.spans()[1];
    assert_eq!(
        span.attr("agent_trace.arg.bytes").as_deref(),
        Some("[1, 2]")
    );
    assert_eq!(span.attr("agent_trace.arg.text").as_deref(), Some("\"a\""));
}

/// With content capture on, the same cut values go into `gen_ai.tool.call.arguments`, which
/// stays valid JSON.
#[test]
fn eight_mib_arguments_keep_the_tool_call_arguments_json_valid() {
    agent_trace::isolate!();
    let _guard = agent_trace::builder()
        .service_name("capture-on")
        .capture_message_content(true)
        .install()
        .expect("install");
    let cap = Capture::start();
    let bytes = vec![7u8; EIGHT_MIB];
    let text = "x".repeat(EIGHT_MIB);
    cap.in_scope(|| takes_blobs(&bytes, Vec::new(), text.clone(), "b"));
    let span = &cap.spans()[0];
    let json: serde_json::Value =
        serde_json::from_str(&span.attr("gen_ai.tool.call.arguments").expect("arguments"))
            .expect("valid JSON");
    // Bytes are `Serialize`: their JSON array, cut, as a JSON string (still valid JSON).
    let head = serde_json::to_string(&bytes[..agent_trace::CAPTURE_LIMIT + 1]).expect("json");
    assert_eq!(
        json["bytes"].as_str(),
        Some(format!("{}…", &head[..agent_trace::CAPTURE_LIMIT]).as_str())
    );
    // A string argument is a JSON string of its own text, cut the same way.
    let mut head: String = text.chars().take(agent_trace::CAPTURE_LIMIT).collect();
    head.push('…');
    assert_eq!(json["text"].as_str(), Some(head.as_str()));
}

#[traced_tool(capture_result)]
fn returns_bytes(n: usize) -> Vec<u8> {
    vec![7u8; n]
}

#[traced_tool(capture_result)]
fn returns_text(n: usize) -> Result<String, std::io::Error> {
    Ok("y".repeat(n))
}

/// `capture_result` takes the same head-only path for slices, vectors and strings, bare or
/// inside `Ok`.
#[test]
fn eight_mib_results_are_cut_from_their_head() {
    let cap = Capture::start();
    let bytes = cap.in_scope(|| returns_bytes(EIGHT_MIB));
    let text = cap.in_scope(|| returns_text(EIGHT_MIB)).unwrap();
    let spans = cap.spans();
    assert_eq!(
        spans[0].attr("agent_trace.result").as_deref(),
        Some(cut_debug(&bytes).as_str())
    );
    assert_eq!(
        spans[1].attr("agent_trace.result").as_deref(),
        Some(cut_debug(&text).as_str())
    );
}

#[derive(Debug)]
struct Point {
    x: i32,
}

#[traced_tool(capture(topic, count, flag, point, ratio), capture_result)]
fn typed_arguments(topic: &str, count: u32, flag: bool, point: Point, ratio: f64) -> String {
    format!("{topic} {count} {flag} {} {ratio}", point.x)
}

#[derive(Debug, serde::Serialize)]
struct Query {
    q: String,
    n: u8,
}

/// A `Serialize` implementation that fails (as serde_json does for a map with non-string
/// keys) or panics.
#[derive(Debug)]
struct Unserializable(bool);

impl serde::Serialize for Unserializable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        if self.0 {
            panic!("serialize panicked");
        }
        Err(serde::ser::Error::custom("no"))
    }
}

#[traced_tool(capture(query, tags, maybe, odd), capture_result)]
fn serde_arguments(
    query: Query,
    tags: Vec<&str>,
    maybe: Option<u32>,
    odd: Unserializable,
) -> Result<Query, String> {
    let _ = (tags, maybe, odd);
    Ok(query)
}

/// `Serialize` arguments and results are their JSON (objects, arrays, `null`); a failing
/// `Serialize` falls back to the `Debug` text as a JSON string, and a panicking one is
/// contained.
#[test]
fn serialize_arguments_and_results_are_their_json() {
    agent_trace::isolate!();
    let _guard = agent_trace::builder()
        .service_name("serde-args")
        .capture_message_content(true)
        .install()
        .expect("install");
    let cap = Capture::start();
    let query = || Query {
        q: "rust".into(),
        n: 2,
    };
    cap.in_scope(|| serde_arguments(query(), vec!["a", "b"], None, Unserializable(false)))
        .expect("ok");
    cap.in_scope(|| serde_arguments(query(), vec![], Some(4), Unserializable(true)))
        .expect("ok");
    let spans = cap.spans();
    let json = |i: usize, key: &str| -> serde_json::Value {
        serde_json::from_str(&spans[i].attr(key).expect(key)).expect("JSON")
    };
    assert_eq!(
        json(0, "gen_ai.tool.call.arguments"),
        serde_json::json!({
            "query": {"q": "rust", "n": 2}, "tags": ["a", "b"], "maybe": null,
            "odd": "Unserializable(false)"
        })
    );
    assert_eq!(
        json(1, "gen_ai.tool.call.arguments"),
        serde_json::json!({
            "query": {"q": "rust", "n": 2}, "tags": [], "maybe": 4,
            "odd": "<unprintable: its formatting implementation panicked>"
        })
    );
    assert_eq!(
        json(0, "gen_ai.tool.call.result"),
        serde_json::json!({"q": "rust", "n": 2})
    );
    // Our own attributes keep the Debug forms.
    assert_eq!(
        spans[0].attr("agent_trace.arg.query").as_deref(),
        Some("Query { q: \"rust\", n: 2 }")
    );
    assert!(
        !matches!(spans[1].status, opentelemetry::trace::Status::Error { .. }),
        "a contained panic is no error"
    );
}

/// Tool arguments and results as the GenAI conventions want them: a string is a JSON string
/// of its text (not of its `Debug` form), a number or bool is itself, anything else is the
/// JSON string of its `Debug` form.
#[test]
fn tool_call_arguments_and_results_are_json_values() {
    agent_trace::isolate!();
    let _guard = agent_trace::builder()
        .service_name("json-args")
        .capture_message_content(true)
        .install()
        .expect("install");
    let cap = Capture::start();
    cap.in_scope(|| typed_arguments("Rust \"2024\"", 3, true, Point { x: 1 }, 0.5));
    let span = &cap.spans()[0];
    let args: serde_json::Value =
        serde_json::from_str(&span.attr("gen_ai.tool.call.arguments").expect("arguments"))
            .expect("JSON");
    assert_eq!(
        args,
        serde_json::json!({
            "topic": "Rust \"2024\"", "count": 3, "flag": true,
            "point": "Point { x: 1 }", "ratio": 0.5
        })
    );
    let result: serde_json::Value =
        serde_json::from_str(&span.attr("gen_ai.tool.call.result").expect("result")).expect("JSON");
    assert_eq!(result, "Rust \"2024\" 3 true 1 0.5");
    // The attributes of our own keep the Debug forms.
    assert_eq!(
        span.attr("agent_trace.arg.topic").as_deref(),
        Some("\"Rust \\\"2024\\\"\"")
    );
}
