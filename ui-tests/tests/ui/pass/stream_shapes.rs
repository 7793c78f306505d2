// Every way a function hands back a stream compiles, and the span follows the stream.
use std::pin::Pin;

use agent_trace::{agent_phase, agent_run, llm_call, traced_tool};
use futures_core::Stream;
use futures_util::stream::{BoxStream, LocalBoxStream};
use futures_util::StreamExt as _;

fn numbers() -> impl Stream<Item = u32> + Send {
    futures_util::stream::iter(0..3)
}

#[traced_tool]
async fn async_impl() -> impl Stream<Item = u32> {
    numbers()
}

#[traced_tool]
async fn async_result(fail: bool) -> Result<impl Stream<Item = u32> + Send, std::io::Error> {
    if fail {
        return Err(std::io::Error::other("no"));
    }
    Ok(numbers())
}

#[traced_tool]
async fn async_io_result() -> std::io::Result<impl Stream<Item = u32>> {
    Ok(numbers())
}

#[agent_run(name = "a")]
async fn async_option() -> Option<impl Stream<Item = u32>> {
    Some(numbers())
}

#[llm_call(model = "m")]
async fn async_box_result() -> anyhow::Result<BoxStream<'static, Result<serde_json::Value, String>>> {
    Ok(futures_util::stream::iter([Ok(serde_json::json!({}))]).boxed())
}

#[traced_tool]
async fn async_local_box() -> LocalBoxStream<'static, u32> {
    numbers().boxed_local()
}

type Alias = Pin<Box<dyn Stream<Item = u32> + Send>>;

#[traced_tool]
async fn async_alias() -> Result<Alias, String> {
    Ok(Box::pin(numbers()))
}

#[traced_tool]
async fn async_option_box<'a>(s: &'a str) -> Option<Pin<Box<dyn Stream<Item = char> + 'a>>> {
    Some(Box::pin(futures_util::stream::iter(s.chars())))
}

#[traced_tool]
fn sync_result() -> Result<impl Stream<Item = u32>, String> {
    Ok(numbers())
}

#[traced_tool]
fn sync_box_result() -> Result<BoxStream<'static, u32>, String> {
    Ok(numbers().boxed())
}

#[traced_tool]
fn future_of_stream() -> impl std::future::Future<Output = Option<impl Stream<Item = u32>>> {
    async { Some(numbers()) }
}

#[agent_phase("stream")]
async fn generic<S: Stream<Item = u32> + Send + 'static>(s: S) -> BoxStream<'static, u32> {
    s.boxed()
}

struct Concrete;
impl Stream for Concrete {
    type Item = u32;
    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<u32>> {
        std::task::Poll::Ready(None)
    }
}

// A concrete stream type cannot be wrapped; `stream = false` ends the span at the return.
#[traced_tool(stream = false)]
async fn concrete() -> Result<Concrete, String> {
    Ok(Concrete)
}

#[llm_call(model = "m", temperature = 0.5, max_tokens = 100u32, top_p = 1.0f32, top_k = 40,
           frequency_penalty = Some(0.1), presence_penalty = 0.0, stop_sequences = vec!["END"],
           seed = 7u64, choice_count = 2)]
fn parameters() -> String {
    String::new()
}

#[async_trait::async_trait]
trait Source {
    async fn open(&self) -> Result<BoxStream<'static, u32>, String>;
}

struct S;

#[async_trait::async_trait]
impl Source for S {
    #[traced_tool]
    async fn open(&self) -> Result<BoxStream<'static, u32>, String> {
        Ok(numbers().boxed())
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        assert_eq!(async_impl().await.count().await, 3);
        assert_eq!(async_result(false).await.unwrap().count().await, 3);
        assert!(async_result(true).await.is_err());
        assert_eq!(async_io_result().await.unwrap().count().await, 3);
        assert_eq!(async_option().await.unwrap().count().await, 3);
        assert_eq!(async_box_result().await.unwrap().count().await, 1);
        assert_eq!(async_local_box().await.count().await, 3);
        assert_eq!(async_alias().await.unwrap().count().await, 3);
        assert_eq!(async_option_box("ab").await.unwrap().count().await, 2);
        assert_eq!(sync_result().unwrap().count().await, 3);
        assert_eq!(sync_box_result().unwrap().count().await, 3);
        assert_eq!(future_of_stream().await.unwrap().count().await, 3);
        assert_eq!(generic(numbers()).await.count().await, 3);
        assert_eq!(concrete().await.unwrap().count().await, 0);
        assert_eq!(S.open().await.unwrap().count().await, 3);
    });
    assert!(parameters().is_empty());
}
