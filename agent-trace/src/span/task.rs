//! Carrying the current trace into spawned work: tokio tasks and threads.
//!
//! A span is current in the task or thread that runs it. `tokio::spawn(work)` or
//! `std::thread::spawn(work)` inside a traced function starts `work` with no current span, so
//! its spans would begin a separate trace. These helpers take the context that is current when
//! they are called and make it current wherever the work runs, as tracing's
//! `.in_current_span()` does for `tracing` spans:
//!
//! ```
//! use agent_trace::task::FutureExt as _;
//!
//! #[agent_trace::traced_tool]
//! async fn fetch(url: &str) -> usize { url.len() }
//!
//! #[agent_trace::agent_phase("research")]
//! async fn research() -> usize {
//!     // Both spawned `fetch` spans are children of `agent_phase research`.
//!     let a = agent_trace::task::spawn(fetch("https://a.example"));
//!     let b = tokio::spawn(fetch("https://b.example").in_current_trace());
//!     a.await.unwrap() + b.await.unwrap()
//! }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(research());
//! ```

use std::future::Future;

use opentelemetry::trace::{FutureExt as _, WithContext};

use crate::span::current_or_process_parent;

/// Runs a future in the trace that is current where it is created.
pub trait FutureExt: Future + Sized {
    /// This future, with the current trace context made current on every poll, wherever it
    /// is polled (another task, another thread).
    fn in_current_trace(self) -> WithContext<Self> {
        self.with_context(current_or_process_parent())
    }
}

impl<F: Future> FutureExt for F {}

/// `tokio::spawn`, with the current trace carried into the task: spans the task makes are
/// children of the span current here. Must be called inside a Tokio runtime, like
/// `tokio::spawn`.
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future.in_current_trace())
}

/// `std::thread::spawn`, with the current trace current in the new thread for all of `f`.
pub fn spawn_thread<F, R>(f: F) -> std::thread::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let cx = current_or_process_parent();
    std::thread::spawn(move || {
        let _attached = cx.attach();
        f()
    })
}
