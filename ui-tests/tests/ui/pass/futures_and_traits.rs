use std::future::Future;
use std::pin::Pin;

use agent_trace::traced_tool;

#[traced_tool]
fn returns_impl_future(x: u32) -> impl Future<Output = Result<u32, String>> + Send {
    async move { Ok(x) }
}

#[traced_tool]
fn returns_boxed_future<'a>(x: &'a str) -> Pin<Box<dyn Future<Output = usize> + Send + 'a>> {
    Box::pin(async move { x.len() })
}

trait NativeAsync {
    async fn run(&self) -> Result<u8, String>;

    #[traced_tool]
    async fn with_default(&self) -> u8 {
        1
    }
}

struct S;

impl NativeAsync for S {
    #[traced_tool(name = "native")]
    async fn run(&self) -> Result<u8, String> {
        Ok(1)
    }
}

#[async_trait::async_trait]
trait BoxedAsync {
    async fn go(&self, x: u8) -> anyhow::Result<u8>;
}

#[async_trait::async_trait]
impl BoxedAsync for S {
    #[traced_tool(name = "boxed")]
    async fn go(&self, x: u8) -> anyhow::Result<u8> {
        Ok(x)
    }
}

#[async_trait::async_trait(?Send)]
trait LocalAsync {
    async fn local(&self) -> u8;
}

#[async_trait::async_trait(?Send)]
impl LocalAsync for S {
    #[traced_tool]
    async fn local(&self) -> u8 {
        2
    }
}

/// The shape `#[async_trait]` produces, written by hand: our macro sees the same tokens when
/// `#[async_trait]` on the impl has already expanded.
struct Manual;
impl Manual {
    #[traced_tool]
    fn desugared<'life0, 'async_trait>(
        &'life0 self,
    ) -> Pin<Box<dyn Future<Output = Result<u8, String>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { Ok(3) })
    }
}

fn main() {
    drop(returns_impl_future(1));
    drop(returns_boxed_future("x"));
    drop(S.run());
    drop(S.with_default());
    drop(S.go(1));
    drop(S.local());
    drop(Manual.desugared());
}
