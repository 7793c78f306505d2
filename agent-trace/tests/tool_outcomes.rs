//! `#[traced_tool]`: the exact span for each outcome rule.

use std::borrow::Cow;
use std::fmt;

use agent_trace::testing::Capture;
use agent_trace::{traced_tool, ErrorType};

#[traced_tool]
fn ok_io() -> std::io::Result<u32> {
    Ok(1)
}

#[traced_tool]
fn err_io() -> std::io::Result<u32> {
    Err(std::io::Error::other("disk on fire"))
}

#[test]
fn ok_and_err_with_io_result_alias() {
    let cap = Capture::start();
    cap.in_scope(|| {
        ok_io().unwrap();
        err_io().unwrap_err();
    });
    assert_eq!(
        cap.tree().to_string(),
        "\
execute_tool ok_io [INTERNAL]
  · gen_ai.operation.name=execute_tool
  · gen_ai.tool.name=ok_io
  · gen_ai.tool.type=function
  · tool.name=ok_io
  · tool.success=true
execute_tool err_io [INTERNAL] ERROR: disk on fire
  · error.type=std::io::error::Error
  · gen_ai.operation.name=execute_tool
  · gen_ai.tool.name=err_io
  · gen_ai.tool.type=function
  · tool.name=err_io
  · tool.success=false
  ! exception exception.message=disk on fire exception.type=std::io::error::Error
"
    );
}

type MyResult<T> = Result<T, MyError>;

#[derive(Debug)]
enum MyError {
    Timeout,
    NotFound(String),
}

impl fmt::Display for MyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MyError::Timeout => write!(f, "timed out"),
            MyError::NotFound(what) => write!(f, "{what} not found"),
        }
    }
}

impl ErrorType for MyError {
    fn error_type(&self) -> Cow<'static, str> {
        match self {
            MyError::Timeout => "timeout".into(),
            MyError::NotFound(_) => "not_found".into(),
        }
    }
}

#[traced_tool(name = "fetch")]
fn fetch(key: &str) -> MyResult<String> {
    if key.is_empty() {
        return Err(MyError::Timeout);
    }
    Err(MyError::NotFound(key.to_string()))
}

#[derive(Debug)]
struct PlainError;
impl fmt::Display for PlainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "plain")
    }
}
impl std::error::Error for PlainError {}

#[traced_tool]
fn boxed() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Err(Box::new(PlainError))
}

#[traced_tool]
fn with_anyhow() -> anyhow::Result<()> {
    Err(anyhow::anyhow!("context: {}", PlainError))
}

#[test]
fn user_alias_error_type_trait_box_and_anyhow() {
    let cap = Capture::start();
    cap.in_scope(|| {
        fetch("k1").unwrap_err();
        fetch("").unwrap_err();
        boxed().unwrap_err();
        with_anyhow().unwrap_err();
    });
    let tree = cap.tree();
    let f = tree.find("execute_tool fetch").unwrap();
    assert_eq!(f.attr("error.type").as_deref(), Some("not_found"));
    assert_eq!(f.error().as_deref(), Some("k1 not found"));
    let ev = f.event("exception").unwrap();
    assert!(ev.contains(&("exception.type".into(), "not_found".into())));
    let timeouts: Vec<_> = tree
        .spans()
        .iter()
        .filter(|s| s.attr("error.type").as_deref() == Some("timeout"))
        .collect();
    assert_eq!(timeouts.len(), 1, "each error chooses its own error.type");
    let b = tree.find("execute_tool boxed").unwrap();
    assert_eq!(b.attr("error.type").as_deref(), Some("Box<dyn Error>"));
    assert_eq!(b.error().as_deref(), Some("plain"));
    let a = tree.find("execute_tool with_anyhow").unwrap();
    assert_eq!(a.attr("error.type").as_deref(), Some("anyhow::Error"));
    assert_eq!(a.error().as_deref(), Some("context: plain"));
    assert_eq!(a.attr("tool.success").as_deref(), Some("false"));
}

/// Looks like a Result but is not one: must not be recorded as an error.
#[derive(Debug)]
#[allow(dead_code)]
enum Outcome {
    Ok(u32),
    Err(String),
}

#[traced_tool]
fn not_a_result() -> Outcome {
    Outcome::Err("still a success for tracing".into())
}

#[traced_tool]
fn unit() {}

#[traced_tool]
fn generic<T: Default>() -> T {
    T::default()
}

#[traced_tool]
fn generic_result<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, E> {
    r
}

#[test]
fn non_result_returns_are_successes() {
    let cap = Capture::start();
    cap.in_scope(|| {
        not_a_result();
        unit();
        let _: Option<u8> = generic();
        generic_result::<u8, String>(Err("generic err".into())).unwrap_err();
    });
    let tree = cap.tree();
    for name in [
        "execute_tool not_a_result",
        "execute_tool unit",
        "execute_tool generic",
    ] {
        let s = tree.find(name).unwrap();
        assert_eq!(s.error(), None, "{name}");
        assert_eq!(s.attr("tool.success").as_deref(), Some("true"), "{name}");
        assert!(s.events.is_empty());
    }
    let g = tree.find("execute_tool generic_result").unwrap();
    assert_eq!(g.error().as_deref(), Some("generic err"));
    assert_eq!(
        g.attr("error.type").as_deref(),
        Some("alloc::string::String")
    );
}

#[traced_tool]
fn early(n: i32) -> Result<i32, std::num::ParseIntError> {
    if n < 0 {
        return Ok(0);
    }
    let parsed: i32 = "not a number".parse()?;
    Ok(parsed + n)
}

#[test]
fn question_mark_and_early_return_are_recorded() {
    let cap = Capture::start();
    cap.in_scope(|| {
        assert_eq!(early(-1), Ok(0));
        assert!(early(1).is_err());
    });
    let spans = cap.tree();
    let all: Vec<_> = spans.spans().iter().collect();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].error(), None);
    assert_eq!(all[0].attr("tool.success").as_deref(), Some("true"));
    assert_eq!(
        all[1].error().as_deref(),
        Some("invalid digit found in string")
    );
    assert_eq!(
        all[1].attr("error.type").as_deref(),
        Some("core::num::error::ParseIntError")
    );
}

#[traced_tool]
fn panics(msg: &str) -> u32 {
    if !msg.is_empty() {
        panic!("tool exploded: {msg}");
    }
    0
}

#[test]
fn panic_is_recorded_then_resumed() {
    let cap = Capture::start();
    let caught = cap.in_scope(|| std::panic::catch_unwind(|| panics("bad input")));
    let payload = caught.expect_err("the panic continues to unwind");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("tool exploded: bad input")
    );
    assert_eq!(
        cap.tree().to_string(),
        "\
execute_tool panics [INTERNAL] ERROR: tool exploded: bad input
  · error.type=panic
  · gen_ai.operation.name=execute_tool
  · gen_ai.tool.name=panics
  · gen_ai.tool.type=function
  · tool.name=panics
  · tool.success=false
  ! exception exception.message=tool exploded: bad input exception.type=panic
"
    );
}

#[derive(Debug)]
struct Query {
    text: String,
}

#[traced_tool(
    name = "search",
    call_id = call_id,
    capture(query, limit),
    capture_result,
    fields(search.engine = "local", search.limit = limit, "raw key" = ?query.text, shown = %limit)
)]
fn search(call_id: &str, query: Query, limit: u32) -> Result<Vec<String>, std::io::Error> {
    Ok(vec![query.text.clone(); limit as usize])
}

#[test]
fn capture_fields_and_call_id() {
    let cap = Capture::start();
    cap.in_scope(|| {
        search(
            "call_42",
            Query {
                text: "rust".into(),
            },
            2,
        )
        .unwrap()
    });
    assert_eq!(
        cap.tree().to_string(),
        "\
execute_tool search [INTERNAL]
  · agent_trace.arg.limit=2
  · agent_trace.arg.query=Query { text: \"rust\" }
  · agent_trace.result=[\"rust\", \"rust\"]
  · gen_ai.operation.name=execute_tool
  · gen_ai.tool.call.id=call_42
  · gen_ai.tool.name=search
  · gen_ai.tool.type=function
  · raw key=\"rust\"
  · search.engine=local
  · search.limit=2
  · shown=2
  · tool.name=search
  · tool.success=true
"
    );
}

#[traced_tool(capture(data), capture_result)]
fn huge(data: &str) -> String {
    data.to_uppercase()
}

#[test]
fn captures_are_cut_to_the_documented_limit() {
    let cap = Capture::start();
    let input = "x".repeat(100_000);
    cap.in_scope(|| huge(&input));
    let s = cap.tree().find("execute_tool huge").unwrap().clone();
    let arg = s.attr("agent_trace.arg.data").unwrap();
    assert_eq!(
        arg.chars().count(),
        agent_trace::CAPTURE_LIMIT + 1,
        "cut plus the ellipsis"
    );
    assert!(arg.ends_with('…'));
    let result = s.attr("agent_trace.result").unwrap();
    assert_eq!(result.chars().count(), agent_trace::CAPTURE_LIMIT + 1);
}

#[test]
fn arguments_are_not_recorded_unless_asked() {
    let cap = Capture::start();
    cap.in_scope(|| fetch("secret-key").ok());
    let s = cap.tree();
    let span = s.find("execute_tool fetch").unwrap();
    assert!(span
        .attributes
        .iter()
        .all(|(_, v)| !v.to_string().contains("secret-key") || span.error().is_some()));
    assert!(span
        .attributes
        .iter()
        .all(|(k, _)| !k.starts_with("agent_trace.arg")));
}

#[test]
fn captures_are_isolated_from_each_other() {
    let a = Capture::start();
    let b = Capture::start();
    a.in_scope(|| ok_io().unwrap());
    b.in_scope(|| {
        ok_io().unwrap();
        ok_io().unwrap();
    });
    ok_io().unwrap(); // outside any capture
    assert_eq!(a.spans().len(), 1);
    assert_eq!(b.spans().len(), 2);
    assert_ne!(a.trace_id(), b.trace_id());
}

/// A wrapper error whose cause is only in `source()`, as thiserror's `#[source]` makes.
#[derive(Debug)]
struct ConfigError {
    source: std::io::Error,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("reading agent config")
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

#[traced_tool]
fn load_config() -> Result<(), ConfigError> {
    Err(ConfigError {
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory"),
    })
}

#[traced_tool]
fn load_with_anyhow() -> anyhow::Result<()> {
    use anyhow::Context as _;
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        "No such file or directory",
    ))
    .context("reading agent config")
}

#[test]
fn the_whole_error_chain_is_recorded() {
    let cap = Capture::start();
    cap.in_scope(|| {
        let _ = load_config();
        let _ = load_with_anyhow();
    });
    let tree = cap.tree();
    for name in ["execute_tool load_config", "execute_tool load_with_anyhow"] {
        let span = tree.find(name).expect("span");
        assert_eq!(
            span.error().as_deref(),
            Some("reading agent config: No such file or directory"),
            "{name}"
        );
        let event = span.event("exception").expect("exception event");
        assert!(
            event.iter().any(|(k, v)| k == "exception.message"
                && v == "reading agent config: No such file or directory"),
            "{event:?}"
        );
    }
}

#[derive(Debug)]
#[allow(dead_code)] // read through Debug
enum Upstream {
    Refused { host: &'static str, port: u16 },
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("upstream refused")
    }
}

#[traced_tool(err(Debug))]
fn call_upstream() -> Result<(), Upstream> {
    Err(Upstream::Refused {
        host: "db",
        port: 5432,
    })
}

#[traced_tool(err(Display))]
fn call_upstream_display() -> Result<(), Upstream> {
    Err(Upstream::Refused {
        host: "db",
        port: 5432,
    })
}

#[test]
fn err_debug_records_the_debug_form() {
    let cap = Capture::start();
    cap.in_scope(|| {
        let _ = call_upstream();
        let _ = call_upstream_display();
    });
    let tree = cap.tree();
    let debug = tree.find("execute_tool call_upstream").expect("span");
    assert_eq!(
        debug.error().as_deref(),
        Some(r#"Refused { host: "db", port: 5432 }"#)
    );
    let display = tree
        .find("execute_tool call_upstream_display")
        .expect("span");
    assert_eq!(display.error().as_deref(), Some("upstream refused"));
}
