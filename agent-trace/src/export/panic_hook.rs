//! The panic hook `init` installs, for the moment the process is about to die.
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

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Once;
use std::time::Duration;

/// How long the panic hook waits, under `panic = "abort"`, for the queued spans to reach the
/// collector before the process aborts. A collector that hangs delays the abort by at most
/// this.
pub const PANIC_FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

static HOOK: Once = Once::new();
/// The address of the installed hook's closure (it holds the previous hook, so it is not
/// zero-sized and its box has an address of its own); 0 before `install_panic_hook`.
static HOOK_ADDRESS: AtomicUsize = AtomicUsize::new(0);
/// Whether the replaced hook was already reported.
static REPORTED: AtomicBool = AtomicBool::new(false);

type Hook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

fn address(hook: &Hook) -> usize {
    &**hook as *const (dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send) as *const () as usize
}

/// Chains the hook in front of the current one; only the first call does anything.
pub(crate) fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        let hook: Hook = Box::new(move |info| {
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
        });
        HOOK_ADDRESS.store(address(&hook), Ordering::Relaxed);
        std::panic::set_hook(hook);
    });
}

/// Whether the process's panic hook is no longer the one `init` installed: something set its
/// own afterwards (color-eyre, human-panic, a test harness). Looked at by taking the hook and
/// putting it back at once, never on a panicking thread.
pub(crate) fn hook_replaced() -> bool {
    let ours = HOOK_ADDRESS.load(Ordering::Relaxed);
    if ours == 0 || std::thread::panicking() {
        return false;
    }
    let current = std::panic::take_hook();
    let replaced = address(&current) != ours;
    std::panic::set_hook(current);
    replaced
}

/// At a flush or shutdown: says once per process, as a WARN, that the panic hook was replaced
/// after `init`, and what that costs.
pub(crate) fn warn_if_hook_replaced() {
    if REPORTED.load(Ordering::Relaxed) || !hook_replaced() {
        return;
    }
    if REPORTED.swap(true, Ordering::Relaxed) {
        return;
    }
    crate::state::warn(HOOK_REPLACED);
}

/// What [`warn_if_hook_replaced`] says.
pub(crate) const HOOK_REPLACED: &str =
    "agent-trace: the panic hook that agent_trace::init installed was replaced by another one \
     (color-eyre, human-panic, std::panic::set_hook): under panic = \"abort\" a panic will not \
     end the open spans nor send the queued ones, and with unwinding a future dropped by a \
     panic says `cancelled`. Install other panic hooks before calling init: agent-trace chains \
     in front of the hook it finds";

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
    if let Some(pipeline) = active.as_deref().and_then(super::status::pipeline_of) {
        let _ = pipeline.flush(PANIC_FLUSH_TIMEOUT);
    }
}
