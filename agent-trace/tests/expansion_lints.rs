//! Expansions compile cleanly under strict lints, use absolute paths only (a local `mod core`
//! or `mod std` changes nothing), and their hidden locals cannot be named by user code.
#![deny(
    warnings,
    unused_qualifications,
    clippy::all,
    clippy::pedantic,
    unused_results
)]
#![allow(
    clippy::missing_errors_doc,
    clippy::unused_async,
    clippy::unnecessary_wraps
)]

/// Shadows `::core` for code that (wrongly) wrote `core::...` without a leading `::`.
#[allow(dead_code)]
mod core {}
#[allow(dead_code)]
mod std {}
#[allow(dead_code)]
mod agent_trace {}

use ::agent_trace::{a2a_call, a2a_span, agent_phase, traced_tool};

#[traced_tool(capture(a), capture_result, call_id = "c1", fields(k = a, d = ?a, s = %a))]
fn tool(a: u32) -> Result<u32, ::std::io::Error> {
    Ok(a)
}

#[agent_phase("p")]
async fn phase() -> u32 {
    tool(1).map_or(0, |v| v)
}

#[a2a_call(target = "x", url = "http://127.0.0.1:1")]
fn call() -> ::std::pin::Pin<::std::boxed::Box<dyn ::std::future::Future<Output = u32> + Send>> {
    ::std::boxed::Box::pin(async { 1 })
}

#[test]
fn strict_lints_and_shadowed_modules() {
    let r: Result<u32, ::std::io::Error> = a2a_span!(target = "y", { tool(2) });
    assert_eq!(r.ok(), Some(2));
    drop(phase());
    drop(call());
}

#[traced_tool]
fn user_names_do_not_clash(__agent_trace_span: u32, __agent_trace_result: u32) -> u32 {
    // These arguments share names with the expansion's hidden locals: hygiene keeps them apart.
    let __agent_trace_s = 1;
    __agent_trace_span + __agent_trace_result + __agent_trace_s
}

#[test]
fn hidden_locals_are_hygienic() {
    assert_eq!(user_names_do_not_clash(1, 2), 4);
}
