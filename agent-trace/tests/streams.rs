//! Functions returning a `Stream`: the span lasts until the stream ends or is dropped, is
//! current while the stream is polled, and records time to first item and the item count.

use std::pin::Pin;

use agent_trace::testing::Capture;
use agent_trace::{llm_call, traced_tool};
use futures_core::Stream;
use futures_util::StreamExt as _;

#[traced_tool]
fn inner_tool(i: u32) -> u32 {
    i
}

#[llm_call(model = "stream-model")]
fn tokens(n: u32) -> impl Stream<Item = Result<String, String>> {
    futures_util::stream::unfold(0, move |i| async move {
        if i >= n {
            return None;
        }
        tokio::task::yield_now().await;
        inner_tool(i);
        let item = if i == 2 {
            Err("token decode failed".to_string())
        } else {
            Ok(format!("tok{i}"))
        };
        Some((item, i + 1))
    })
}

#[traced_tool(name = "lines")]
fn boxed_lines(n: usize) -> Pin<Box<dyn Stream<Item = String> + Send>> {
    Box::pin(futures_util::stream::iter(
        (0..n).map(|i| format!("line {i}")),
    ))
}

#[tokio::test]
async fn consumed_stream_records_items_first_item_and_errors() {
    let cap = Capture::start();
    let items: Vec<_> = cap
        .future(async { tokens(4).collect::<Vec<_>>().await })
        .await;
    assert_eq!(items.len(), 4);
    let tree = cap.tree();
    let span = tree.find("chat stream-model").unwrap();
    assert_eq!(span.attr("agent_trace.stream.items").as_deref(), Some("4"));
    assert_eq!(
        span.attr("agent_trace.stream.completed").as_deref(),
        Some("true")
    );
    // A model's stream: the GenAI streaming keys (seconds), not agent-trace's own.
    assert_eq!(span.attr("gen_ai.request.stream").as_deref(), Some("true"));
    let ttfc: f64 = span
        .attr("gen_ai.response.time_to_first_chunk")
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.0..60.0).contains(&ttfc));
    assert_eq!(span.attr("agent_trace.stream.time_to_first_item_ms"), None);
    assert!(span.events.iter().any(|(n, _)| n == "first_item"));
    assert_eq!(
        span.error().as_deref(),
        Some("token decode failed"),
        "an Err item marks the span"
    );
    // The body's own spans (made while the stream is polled) are children of the stream span.
    let children = tree.children(span);
    assert_eq!(children.len(), 4);
    assert!(children.iter().all(|c| c.name == "execute_tool inner_tool"));
}

#[tokio::test]
async fn dropped_stream_ends_its_span_as_incomplete() {
    let cap = Capture::start();
    let first = cap
        .future(async {
            let mut s = Box::pin(tokens(10));
            s.next().await
        })
        .await;
    assert_eq!(first, Some(Ok("tok0".to_string())));
    let tree = cap.tree();
    let span = tree.find("chat stream-model").unwrap();
    assert_eq!(span.attr("agent_trace.stream.items").as_deref(), Some("1"));
    assert_eq!(
        span.attr("agent_trace.stream.completed").as_deref(),
        Some("false")
    );
    assert_eq!(span.error(), None, "stopping early is not an error");
}

#[tokio::test]
async fn boxed_dyn_stream() {
    let cap = Capture::start();
    let lines: Vec<String> = cap.future(async { boxed_lines(3).collect().await }).await;
    assert_eq!(lines, ["line 0", "line 1", "line 2"]);
    let span = cap.tree().find("execute_tool lines").unwrap().clone();
    assert_eq!(span.attr("agent_trace.stream.items").as_deref(), Some("3"));
    assert!(span
        .attr("agent_trace.stream.time_to_first_item_ms")
        .is_some());
    assert_eq!(span.attr("gen_ai.request.stream"), None, "not a model call");
    assert_eq!(
        span.attr("agent_trace.stream.completed").as_deref(),
        Some("true")
    );
}
