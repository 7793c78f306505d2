// A stream of a concrete type cannot be kept in the span: the span would end when the
// function returns. The message names the fixes.
use futures_util::stream::Iter;

#[agent_trace::traced_tool]
async fn lines() -> Iter<std::vec::IntoIter<String>> {
    futures_util::stream::iter(vec![String::new()])
}

#[agent_trace::llm_call(model = "m")]
async fn tokens() -> Result<Iter<std::ops::Range<u32>>, std::io::Error> {
    Ok(futures_util::stream::iter(0..3))
}

fn main() {}
