use std::pin::Pin;

use agent_trace::{llm_call, traced_tool};
use futures_core::Stream;

#[llm_call(model = "m")]
fn tokens(n: u32) -> impl Stream<Item = Result<u32, String>> + Send {
    futures_util::stream::iter((0..n).map(Ok))
}

#[traced_tool]
fn boxed<'a>(s: &'a str) -> Pin<Box<dyn Stream<Item = char> + Send + 'a>> {
    Box::pin(futures_util::stream::iter(s.chars()))
}

fn main() {
    drop(tokens(3));
    drop(boxed("abc"));
}
