//! Async: the span is current during each poll and only then; cancellation ends the span;
//! `impl Future`, `Pin<Box<dyn Future>>`, `#[async_trait]` and native async trait methods.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use agent_trace::testing::Capture;
use agent_trace::{agent_phase, traced_tool};
use opentelemetry::trace::TraceContextExt as _;

#[traced_tool]
async fn fetch(fail: bool) -> Result<u32, std::io::Error> {
    tokio::task::yield_now().await;
    if fail {
        return Err(std::io::Error::other("upstream 500"));
    }
    Ok(7)
}

#[tokio::test]
async fn async_ok_and_err() {
    let cap = Capture::start();
    cap.future(async {
        fetch(false).await.unwrap();
        fetch(true).await.unwrap_err();
    })
    .await;
    let tree = cap.tree();
    let spans = tree.spans();
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0].attr("tool.success").as_deref(), Some("true"));
    assert_eq!(spans[1].error().as_deref(), Some("upstream 500"));
}

#[traced_tool]
async fn slow() -> u32 {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    1
}

#[tokio::test(start_paused = true)]
async fn dropped_future_ends_its_span_as_cancelled() {
    let cap = Capture::start();
    let r = cap
        .future(tokio::time::timeout(Duration::from_millis(10), slow()))
        .await;
    assert!(r.is_err(), "timed out");
    cap.future(async {
        tokio::select! {
            _ = slow() => unreachable!(),
            _ = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
    })
    .await;
    // Never polled at all: still one span, cancelled.
    drop(cap.in_scope(slow));
    assert_eq!(
        cap.tree().to_string(),
        "\
execute_tool slow [INTERNAL] ERROR: cancelled: the future was dropped before it completed
  · error.type=cancelled
  · gen_ai.operation.name=execute_tool
  · gen_ai.tool.name=slow
  · gen_ai.tool.type=function
  · tool.name=slow
  · tool.success=false
  ! exception exception.message=cancelled: the future was dropped before it completed exception.type=cancelled
execute_tool slow [INTERNAL] ERROR: cancelled: the future was dropped before it completed
  · error.type=cancelled
  · gen_ai.operation.name=execute_tool
  · gen_ai.tool.name=slow
  · gen_ai.tool.type=function
  · tool.name=slow
  · tool.success=false
  ! exception exception.message=cancelled: the future was dropped before it completed exception.type=cancelled
"
        .to_string(),
        "two polled-then-dropped futures; the never-polled one made no span (async fn bodies start on first poll)"
    );
}

fn current_span_id() -> Option<String> {
    let cx = opentelemetry::Context::current();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| sc.span_id().to_string())
}

#[traced_tool]
async fn waits(rx: tokio::sync::oneshot::Receiver<()>) -> Option<String> {
    let inside = current_span_id();
    rx.await.ok();
    // Still current after being resumed, possibly on another poll.
    assert_eq!(current_span_id(), inside);
    inside
}

#[tokio::test(flavor = "current_thread")]
async fn context_is_current_only_while_polled() {
    let cap = Capture::start();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(cap.future(waits(rx)));
    tokio::task::yield_now().await; // let it start and park
    tokio::task::yield_now().await;
    // Another task on the same thread, between the traced future's polls: no leaked context.
    let other = tokio::spawn(async { current_span_id() }).await.unwrap();
    assert_eq!(other, None, "span leaked into another task");
    assert_eq!(current_span_id(), None, "span leaked into the test task");
    tx.send(()).unwrap();
    let inside = task.await.unwrap().expect("span current while polled");
    let span = cap.tree().find("execute_tool waits").unwrap().clone();
    assert_eq!(span.span_id, inside);
}

#[traced_tool(name = "impl_future")]
fn returns_impl_future(n: u32) -> impl Future<Output = Result<u32, String>> + Send {
    async move {
        if n == 0 {
            Err("zero".to_string())
        } else {
            Ok(n)
        }
    }
}

#[traced_tool(name = "boxed_future")]
fn returns_boxed_future(n: u32) -> Pin<Box<dyn Future<Output = Result<u32, String>> + Send>> {
    Box::pin(async move {
        if n == 0 {
            Err("zero".into())
        } else {
            Ok(n)
        }
    })
}

#[tokio::test]
async fn impl_future_and_boxed_future_returns() {
    let cap = Capture::start();
    cap.future(async {
        returns_impl_future(1).await.unwrap();
        returns_impl_future(0).await.unwrap_err();
        returns_boxed_future(2).await.unwrap();
        returns_boxed_future(0).await.unwrap_err();
    })
    .await;
    let tree = cap.tree();
    let errors: Vec<_> = tree
        .spans()
        .iter()
        .map(|s| (s.name.clone(), s.error()))
        .collect();
    assert_eq!(
        errors,
        vec![
            ("execute_tool impl_future".to_string(), None),
            (
                "execute_tool impl_future".to_string(),
                Some("zero".to_string())
            ),
            ("execute_tool boxed_future".to_string(), None),
            (
                "execute_tool boxed_future".to_string(),
                Some("zero".to_string())
            ),
        ]
    );
}

#[async_trait::async_trait]
trait Tool: Send + Sync {
    async fn run(&self, input: &str) -> Result<usize, String>;
}

struct Counter;

#[async_trait::async_trait]
impl Tool for Counter {
    #[traced_tool(name = "counter")]
    async fn run(&self, input: &str) -> Result<usize, String> {
        tokio::task::yield_now().await;
        if input.is_empty() {
            return Err("empty".into());
        }
        Ok(input.len())
    }
}

trait NativeTool {
    async fn run_native(&mut self, input: &str) -> Result<usize, String>;
}

struct Native(u32);

impl NativeTool for Native {
    #[traced_tool(name = "native")]
    async fn run_native(&mut self, input: &str) -> Result<usize, String> {
        self.0 += 1;
        Ok(input.len())
    }
}

#[tokio::test]
async fn async_trait_and_native_async_trait_methods() {
    let cap = Capture::start();
    cap.future(async {
        let tool: Box<dyn Tool> = Box::new(Counter);
        tool.run("abc").await.unwrap();
        tool.run("").await.unwrap_err();
        let mut n = Native(0);
        n.run_native("xy").await.unwrap();
        assert_eq!(n.0, 1);
    })
    .await;
    let tree = cap.tree();
    let names: Vec<_> = tree
        .spans()
        .iter()
        .map(|s| (s.name.as_str(), s.error()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("execute_tool counter", None),
            ("execute_tool counter", Some("empty".to_string())),
            ("execute_tool native", None),
        ]
    );
}

#[agent_phase("outer")]
async fn outer_phase() -> u32 {
    inner_phase().await + fetch(false).await.unwrap()
}

#[agent_phase("inner")]
async fn inner_phase() -> u32 {
    tokio::task::yield_now().await;
    1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_phases_nest_across_threads() {
    let cap = Capture::start();
    let v = tokio::spawn(cap.future(outer_phase())).await.unwrap();
    assert_eq!(v, 8);
    assert_eq!(
        cap.tree().to_string(),
        "\
agent_phase outer [INTERNAL]
  · agent.phase=outer
  agent_phase inner [INTERNAL]
    · agent.phase=inner
  execute_tool fetch [INTERNAL]
    · gen_ai.operation.name=execute_tool
    · gen_ai.tool.name=fetch
    · gen_ai.tool.type=function
    · tool.name=fetch
    · tool.success=true
"
    );
}

#[traced_tool]
async fn panics_async() -> u32 {
    tokio::task::yield_now().await;
    panic!("async boom")
}

#[tokio::test]
async fn async_panic_is_recorded_and_resumed() {
    let cap = Capture::start();
    let handle = tokio::spawn(cap.future(panics_async()));
    let err = handle.await.expect_err("the task panicked");
    assert!(err.is_panic());
    let span = cap
        .tree()
        .find("execute_tool panics_async")
        .unwrap()
        .clone();
    assert_eq!(span.error().as_deref(), Some("async boom"));
    assert_eq!(span.attr("error.type").as_deref(), Some("panic"));
}
