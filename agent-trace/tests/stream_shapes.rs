//! Every way a function can hand back a stream gets a span that lasts until the stream ends
//! (or is dropped), not until the function or its future returns: `async fn` returning
//! `impl Stream`, `Result<impl Stream, E>`, `Option<impl Stream>`, a boxed stream behind an
//! alias (`BoxStream`), `#[async_trait]`, `-> impl Future<Output = Result<impl Stream, E>>`,
//! and sync functions returning a `Result` of one. `stream = false` ends the span at the
//! return. Each test checks the span against what the consumer saw: it ends after the last
//! item arrived, and lasts at least as long as the items took to come (each item sleeps).

use std::pin::Pin;
use std::time::{Duration, SystemTime};

use agent_trace::testing::{Capture, CapturedSpan};
use agent_trace::{agent_phase, llm_call, traced_tool};
use futures_core::Stream;
use futures_util::stream::BoxStream;
use futures_util::StreamExt as _;

const GAP: Duration = Duration::from_millis(20);

/// Three items, `GAP` apart.
fn slow_numbers() -> impl Stream<Item = u32> + Send {
    futures_util::stream::unfold(0u32, |i| async move {
        if i == 3 {
            return None;
        }
        tokio::time::sleep(GAP).await;
        Some((i, i + 1))
    })
}

#[traced_tool]
async fn async_impl_stream() -> impl Stream<Item = u32> {
    slow_numbers()
}

#[traced_tool]
async fn async_result_impl_stream(fail: bool) -> Result<impl Stream<Item = u32>, std::io::Error> {
    if fail {
        return Err(std::io::Error::other("could not connect"));
    }
    Ok(slow_numbers())
}

#[traced_tool]
async fn async_option_impl_stream(some: bool) -> Option<impl Stream<Item = u32>> {
    some.then(slow_numbers)
}

#[traced_tool]
async fn async_result_box_stream() -> Result<BoxStream<'static, u32>, std::io::Error> {
    Ok(slow_numbers().boxed())
}

/// An alias the macro cannot see through (as async-openai's `ChatCompletionResponseStream`).
type Numbers = Pin<Box<dyn Stream<Item = u32> + Send>>;

#[traced_tool]
async fn async_alias_stream() -> Numbers {
    Box::pin(slow_numbers())
}

#[traced_tool]
fn sync_result_impl_stream() -> anyhow::Result<impl Stream<Item = u32>> {
    Ok(slow_numbers())
}

#[traced_tool]
fn impl_future_of_stream(
) -> impl std::future::Future<Output = Result<impl Stream<Item = u32>, String>> {
    async { Ok(slow_numbers()) }
}

#[traced_tool(stream = false)]
async fn span_ends_at_return() -> impl Stream<Item = u32> {
    slow_numbers()
}

#[async_trait::async_trait]
trait Source {
    async fn open(&self) -> Result<BoxStream<'static, u32>, std::io::Error>;
}

struct Numbers3;

#[async_trait::async_trait]
impl Source for Numbers3 {
    #[agent_phase("open")]
    async fn open(&self) -> Result<BoxStream<'static, u32>, std::io::Error> {
        Ok(slow_numbers().boxed())
    }
}

/// Consumes `stream` whole; returns the items and when the last one arrived.
async fn drain<S: Stream<Item = u32>>(stream: S) -> (Vec<u32>, SystemTime) {
    let mut stream = std::pin::pin!(stream);
    let mut items = Vec::new();
    let mut last = SystemTime::UNIX_EPOCH;
    while let Some(i) = stream.next().await {
        items.push(i);
        last = SystemTime::now();
    }
    (items, last)
}

/// The span ended after the consumer got the last item, lasted at least the items' gaps, and
/// says the stream completed with three items.
fn spans_the_stream(span: &CapturedSpan, last_item: SystemTime) {
    assert!(
        span.end >= last_item,
        "{}: the span ended before the stream's last item",
        span.name
    );
    let lasted = span.end.duration_since(span.start).unwrap_or_default();
    assert!(lasted >= GAP * 3, "{}: lasted only {lasted:?}", span.name);
    assert_eq!(span.attr("agent_trace.stream.items").as_deref(), Some("3"));
    assert_eq!(
        span.attr("agent_trace.stream.completed").as_deref(),
        Some("true")
    );
}

#[tokio::test]
async fn async_fn_returning_impl_stream() {
    let cap = Capture::start();
    let (items, last) = cap
        .future(async { drain(async_impl_stream().await).await })
        .await;
    assert_eq!(items, [0, 1, 2]);
    spans_the_stream(
        cap.tree().find("execute_tool async_impl_stream").unwrap(),
        last,
    );
}

#[tokio::test]
async fn async_fn_returning_a_result_of_impl_stream() {
    let cap = Capture::start();
    let (items, last) = cap
        .future(async { drain(async_result_impl_stream(false).await.unwrap()).await })
        .await;
    assert_eq!(items, [0, 1, 2]);
    let failed = cap
        .future(async { async_result_impl_stream(true).await.is_err() })
        .await;
    assert!(failed);
    let tree = cap.tree();
    let spans: Vec<_> = tree
        .spans()
        .iter()
        .filter(|s| s.name == "execute_tool async_result_impl_stream")
        .collect();
    assert_eq!(spans.len(), 2);
    let ok = spans.iter().find(|s| s.error().is_none()).unwrap();
    spans_the_stream(ok, last);
    assert_eq!(ok.attr("tool.success").as_deref(), Some("true"));
    let err = spans.iter().find(|s| s.error().is_some()).unwrap();
    assert_eq!(err.error().as_deref(), Some("could not connect"));
    assert_eq!(err.attr("agent_trace.stream.items"), None, "no stream");
}

#[tokio::test]
async fn async_fn_returning_an_option_of_impl_stream() {
    let cap = Capture::start();
    let (items, last) = cap
        .future(async { drain(async_option_impl_stream(true).await.unwrap()).await })
        .await;
    assert_eq!(items.len(), 3);
    assert!(cap.future(async_option_impl_stream(false)).await.is_none());
    let tree = cap.tree();
    let spans: Vec<_> = tree
        .spans()
        .iter()
        .filter(|s| s.name == "execute_tool async_option_impl_stream")
        .collect();
    assert_eq!(spans.len(), 2, "the `None` call's span ends at once");
    let some = spans
        .iter()
        .find(|s| s.attr("agent_trace.stream.items").is_some())
        .unwrap();
    spans_the_stream(some, last);
}

#[tokio::test]
async fn boxed_streams_behind_aliases_are_followed_by_type() {
    let cap = Capture::start();
    let (_, last_a) = cap
        .future(async { drain(async_result_box_stream().await.unwrap()).await })
        .await;
    let (_, last_b) = cap
        .future(async { drain(async_alias_stream().await).await })
        .await;
    let tree = cap.tree();
    spans_the_stream(
        tree.find("execute_tool async_result_box_stream").unwrap(),
        last_a,
    );
    spans_the_stream(
        tree.find("execute_tool async_alias_stream").unwrap(),
        last_b,
    );
}

#[tokio::test]
async fn async_trait_methods_and_impl_future_and_sync_results() {
    let cap = Capture::start();
    let (_, last_a) = cap
        .future(async { drain(Numbers3.open().await.unwrap()).await })
        .await;
    let (_, last_b) = cap
        .future(async { drain(impl_future_of_stream().await.unwrap()).await })
        .await;
    let (_, last_c) = cap
        .future(async { drain(sync_result_impl_stream().unwrap()).await })
        .await;
    let tree = cap.tree();
    spans_the_stream(tree.find("agent_phase open").unwrap(), last_a);
    spans_the_stream(
        tree.find("execute_tool impl_future_of_stream").unwrap(),
        last_b,
    );
    spans_the_stream(
        tree.find("execute_tool sync_result_impl_stream").unwrap(),
        last_c,
    );
}

#[tokio::test]
async fn stream_false_ends_the_span_at_the_return() {
    let cap = Capture::start();
    let stream = cap.future(span_ends_at_return()).await;
    let returned = SystemTime::now();
    let (items, _) = drain(stream).await;
    assert_eq!(items.len(), 3);
    let tree = cap.tree();
    let span = tree.find("execute_tool span_ends_at_return").unwrap();
    assert!(span.end <= returned, "ended when the function returned");
    assert_eq!(span.attr("agent_trace.stream.items"), None);
}

#[tokio::test]
async fn work_done_while_the_stream_is_polled_nests_under_its_span() {
    #[traced_tool]
    fn per_item(i: u32) -> u32 {
        i
    }
    #[traced_tool]
    async fn mapped() -> Result<impl Stream<Item = u32>, String> {
        Ok(slow_numbers().map(per_item))
    }
    let cap = Capture::start();
    cap.future(async { drain(mapped().await.unwrap()).await })
        .await;
    let tree = cap.tree();
    let outer = tree.find("execute_tool mapped").unwrap();
    let children = tree.children(outer);
    assert_eq!(children.len(), 3);
    assert!(children.iter().all(|c| c.name == "execute_tool per_item"));
}

#[tokio::test]
async fn a_stream_dropped_early_ends_its_span_without_an_error() {
    let cap = Capture::start();
    let first = cap
        .future(async {
            let mut s = std::pin::pin!(async_result_impl_stream(false).await.unwrap());
            s.next().await
        })
        .await;
    assert_eq!(first, Some(0));
    let tree = cap.tree();
    let span = tree.find("execute_tool async_result_impl_stream").unwrap();
    assert_eq!(span.attr("agent_trace.stream.items").as_deref(), Some("1"));
    assert_eq!(
        span.attr("agent_trace.stream.completed").as_deref(),
        Some("false")
    );
    assert_eq!(span.error(), None);
}

#[tokio::test]
async fn tracing_off_passes_streams_through() {
    // No Capture and no init: tracing is off, and the stream is the same items.
    let (items, _) = drain(async_result_impl_stream(false).await.unwrap()).await;
    assert_eq!(items, [0, 1, 2]);
    let (items, _) = drain(async_alias_stream().await).await;
    assert_eq!(items, [0, 1, 2]);
}

/// A panic inside the stream (in the item's own code) is recorded on the stream's span as a
/// panic, and the panic goes on; so is a panic of the consumer that drops the stream.
#[tokio::test]
async fn panics_are_panics_not_cancellations() {
    #[llm_call(model = "panicky")]
    async fn panics_on_second() -> Result<impl Stream<Item = u32>, String> {
        Ok(slow_numbers().map(|i| {
            assert!(i < 1, "the second token broke the decoder");
            i
        }))
    }
    let cap = Capture::start();
    let inner = cap
        .future(async {
            let s = panics_on_second().await.unwrap();
            tokio::spawn(drain(s)).await
        })
        .await;
    assert!(inner.unwrap_err().is_panic());
    let consumer = cap
        .future(async {
            let s = async_result_impl_stream(false).await.unwrap();
            tokio::spawn(async move {
                let mut s = std::pin::pin!(s);
                let _ = s.next().await;
                panic!("the consumer failed")
            })
            .await
        })
        .await;
    assert!(consumer.unwrap_err().is_panic());
    let tree = cap.tree();
    let inner = tree.find("chat panicky").unwrap();
    assert_eq!(inner.attr("error.type").as_deref(), Some("panic"));
    assert_eq!(
        inner.error().as_deref(),
        Some("the second token broke the decoder")
    );
    let dropped = tree.find("execute_tool async_result_impl_stream").unwrap();
    assert_eq!(dropped.attr("error.type").as_deref(), Some("panic"));
}
