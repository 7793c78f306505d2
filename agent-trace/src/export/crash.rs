//! When the process is about to die: the panic hook `init` installs, and
//! [`shutdown_signal`](crate::shutdown_signal) for SIGTERM.
//!
//! The hook is chained in front of the one the application had (the default message, an
//! error reporter's): it runs once per panic, then calls the previous hook. It does two
//! things:
//! - a panic that agent-trace contained while formatting a user's value (a panicking `Debug`
//!   or `Display`) is not the application's: the hook returns without calling the previous
//!   one, so nothing reports a panic the application never saw;
//! - under `panic = "abort"`, where no destructor runs, it ends every span still open in the
//!   process with the panic recorded (`error.type=panic`; a span current on another thread
//!   says that the process aborted on a panic elsewhere), whichever integration made it, and
//!   flushes the queue, waiting at most [`PANIC_FLUSH_TIMEOUT`], before the process aborts;
//! - with unwinding, the spans end as the panic unwinds through them and the guards flush;
//!   the hook only keeps the panic's message for the spans the unwinding drops (a future or
//!   stream dropped by a panic records `error.type=panic`, not a cancellation).

use std::sync::Once;
use std::time::Duration;

/// How long the panic hook waits, under `panic = "abort"`, for the queued spans to reach the
/// collector before the process aborts. A collector that hangs delays the abort by at most
/// this.
pub const PANIC_FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

static HOOK: Once = Once::new();

/// Chains the hook in front of the current one; only the first call does anything.
pub(crate) fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if crate::state::formatting() {
                return; // contained by agent-trace: not the application's panic
            }
            #[cfg(panic = "abort")]
            before_abort(info.payload());
            #[cfg(not(panic = "abort"))]
            if crate::state::enabled() {
                crate::state::set_panic_message(crate::span::panic_message(info.payload()));
            }
            previous(info);
        }));
    });
}

/// Ends every open span with the panic recorded and flushes, within the bound.
#[cfg(panic = "abort")]
fn before_abort(payload: &(dyn std::any::Any + Send)) {
    use opentelemetry::trace::TraceContextExt as _;
    if !crate::state::enabled() || crate::state::in_export_thread() {
        return;
    }
    let message = crate::span::panic_message(payload);
    let elsewhere = format!("the process aborted on a panic on another thread: {message}");
    let here: Vec<_> = crate::state::with_ours(|o| o.iter().map(|(id, _)| *id).collect());
    for (cx, tool) in crate::state::take_open() {
        let on_this_thread = here.contains(&cx.span().span_context().span_id());
        let message = match on_this_thread {
            true => message.clone(),
            false => elsewhere.clone(),
        };
        let error_type = crate::span::semconv::ERROR_TYPE_PANIC.into();
        crate::span::mark_error(&cx, tool, error_type, message);
        cx.span().end();
    }
    let active = crate::state::ACTIVE.load();
    if let Some(pipeline) = active.as_deref().and_then(super::guard::pipeline_of) {
        let _ = pipeline.flush(PANIC_FLUSH_TIMEOUT);
    }
}

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
