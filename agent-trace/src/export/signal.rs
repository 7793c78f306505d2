//! [`shutdown_signal`](crate::shutdown_signal): a future that resolves on SIGTERM or
//! Ctrl-C, for a server's graceful shutdown before the guard flushes.

/// Resolves when the process is asked to stop: SIGTERM (what Kubernetes and most process
/// managers send) or SIGINT (Ctrl-C); on non-Unix platforms, Ctrl-C. Hand it to your
/// server's graceful shutdown, then let the [`TraceGuard`](crate::TraceGuard) drop (or call
/// its `shutdown`): every span ended before the signal is delivered, within the guard's
/// shutdown timeout. Without it, SIGTERM ends the process at once and the queued spans are
/// lost. Needs a Tokio runtime with I/O enabled (`#[tokio::main]` has it). Called inside the
/// runtime, the handlers are registered at the call, so a signal that arrives between the
/// call and the first poll is not missed (outside one, at the first poll).
///
/// ```no_run
/// # async fn serve_until(_stop: impl std::future::Future<Output = ()>) {}
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let guard = agent_trace::init("orchestrator")?;
/// // With axum: axum::serve(listener, app).with_graceful_shutdown(agent_trace::shutdown_signal())
/// serve_until(agent_trace::shutdown_signal()).await;
/// guard.shutdown()?; // or let it drop
/// # Ok(())
/// # }
/// ```
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    // Registered now when called inside a runtime (so a signal right after this call is not
    // missed), else on the first poll.
    #[cfg(unix)]
    let early = tokio::runtime::Handle::try_current()
        .ok()
        .and_then(|_| signals().ok());
    async move {
        #[cfg(unix)]
        {
            let registered = match early {
                Some(s) => Ok(s),
                None => signals(),
            };
            match registered {
                Ok((mut term, mut int)) => {
                    std::future::poll_fn(|cx| {
                        let term = term.poll_recv(cx).is_ready();
                        match term || int.poll_recv(cx).is_ready() {
                            true => std::task::Poll::Ready(()),
                            false => std::task::Poll::Pending,
                        }
                    })
                    .await;
                }
                // No signal handler could be registered: Ctrl-C alone.
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// SIGTERM and SIGINT (Ctrl-C) handlers.
#[cfg(unix)]
fn signals() -> std::io::Result<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)> {
    use tokio::signal::unix::{signal, SignalKind};
    Ok((
        signal(SignalKind::terminate())?,
        signal(SignalKind::interrupt())?,
    ))
}
