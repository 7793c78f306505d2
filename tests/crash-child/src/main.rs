//! A child process for `tests/tests/crash.rs`. Exports to `OTEL_EXPORTER_OTLP_ENDPOINT`.
//!
//! - `crash-child abort`: ends 150 spans, then panics inside a traced tool inside a phase.
//! - `crash-child sigterm`: ends 600 spans, prints `ready`, waits for
//!   `agent_trace::shutdown_signal()` (SIGTERM), then shuts tracing down and exits 0.
//! - `guard-dropped`: `let _ = agent_trace::init(..)`, then a traced call (nothing is
//!   exported; the WARN says why).
//! - `hook-replaced`: sets a panic hook of its own after `init`, then flushes (the WARN names
//!   it) and exits 0.
//! - one mode per integration, each panicking while that integration's span is open:
//!   `stream` (a traced model stream), `http` (a handler under `TraceLayer`, called through
//!   `TraceMiddleware`), `a2a-server` (the stream `a2a::serve_stream` answers with),
//!   `a2a-client` (the consumer of `a2a::send_stream`), `envelope` (a message handler under
//!   `carriers::envelope::consume`), `mcp` (a tool of a `TracedService`).
//!
//! Built with `panic = "abort"` (the test does), nothing unwinds: only the panic hook can end
//! the open spans and send the queued ones.

mod integrations;

use agent_trace::{agent_phase, traced_tool};

#[traced_tool]
fn work(i: u64) -> u64 {
    i * 2
}

#[traced_tool]
fn explode(n: u64) -> u64 {
    if n > 0 {
        panic!("the tool failed hard");
    }
    n
}

#[agent_phase("crash")]
fn crash() -> u64 {
    explode(1)
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    match mode.as_str() {
        "abort" => {
            let _guard = agent_trace::init("crash-child").expect("init");
            let total: u64 = (0..150).map(work).sum();
            println!("ended 150 spans ({total})");
            crash();
        }
        "sigterm" => sigterm(),
        "guard-dropped" => {
            // What rustc's help suggests after the `must_use` note: the guard is gone at once.
            let _ = agent_trace::init("crash-child");
            println!("traced {}", work(21));
        }
        "hook-replaced" => {
            let guard = agent_trace::init("crash-child").expect("init");
            std::panic::set_hook(Box::new(|_| eprintln!("the application's own hook")));
            println!("traced {}", work(21));
            let _ = agent_trace::force_flush(std::time::Duration::from_secs(5));
            drop(guard);
        }
        other => {
            if !integrations::run(other) {
                eprintln!(
                    "unknown mode {other:?}: abort, sigterm, guard-dropped, hook-replaced, {}",
                    integrations::MODES.join(", ")
                );
                std::process::exit(2);
            }
        }
    }
}

#[tokio::main]
async fn sigterm() {
    let guard = agent_trace::init("crash-child").expect("init");
    let total: u64 = (0..600).map(work).sum();
    // The handler is registered when shutdown_signal is called: only then say "ready".
    let stop = agent_trace::shutdown_signal();
    println!("ready ({total})");
    stop.await;
    match guard.shutdown() {
        Ok(stats) => println!("delivered {} of {}", stats.exported, stats.ended),
        Err(e) => println!("not delivered: {e}"),
    }
}
