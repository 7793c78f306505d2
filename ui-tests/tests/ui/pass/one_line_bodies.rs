//! One-line, single-expression bodies under `deny(warnings)`: the expansion must not make
//! rustc warn in the user's crate (it once said "unnecessary braces around block return
//! value", which breaks `-D warnings` builds).
#![deny(warnings)]

use agent_trace::{a2a_call, a2a_span, agent_phase, agent_run, llm_call, traced_tool};

#[traced_tool]
fn tool() -> Result<u32, std::io::Error> { Ok(1) }

#[traced_tool]
fn tool_plain() -> u32 { 1 }

#[traced_tool(err(Debug))]
fn tool_err_debug() -> Result<u32, std::io::Error> { Ok(1) }

#[traced_tool]
async fn tool_async() -> Result<u32, std::io::Error> { Ok(1) }

#[a2a_call(target = "coder")]
fn call() -> Result<u32, std::io::Error> { Ok(1) }

#[a2a_call(target = "coder")]
async fn call_async() -> Result<u32, std::io::Error> { Ok(1) }

#[agent_phase("plan")]
fn phase() -> Result<u32, std::io::Error> { Ok(1) }

#[agent_phase("plan")]
async fn phase_async() -> u32 { 1 }

#[llm_call(model = "m")]
fn llm() -> Result<String, std::io::Error> { Ok(String::new()) }

#[llm_call(model = "m")]
async fn llm_async() -> String { String::new() }

#[agent_run]
fn run() -> Result<u32, std::io::Error> { Ok(1) }

#[agent_run]
async fn run_async() -> Result<u32, std::io::Error> { Ok(1) }

#[traced_tool]
fn returns_future() -> impl std::future::Future<Output = u32> { async { 1 } }

#[traced_tool]
fn boxed() -> std::pin::Pin<Box<dyn std::future::Future<Output = u32>>> { Box::pin(async { 1 }) }

fn inline() -> u32 { a2a_span!(target = "coder", { 1 }) }

async fn inline_async() -> u32 { a2a_span!(target = "coder", async { 1 }).await }

fn main() {
    let _ = (tool(), tool_plain(), tool_err_debug(), call(), phase(), llm(), run(), inline());
    drop((tool_async(), call_async(), phase_async(), llm_async(), run_async()));
    drop((returns_future(), boxed(), inline_async()));
}
