//! A child process continues the parent's trace through TRACEPARENT.
//! Run: `cargo run -p agent-trace-examples --example subprocess`

use agent_trace::carriers::env::CommandExt as _;
use agent_trace::{agent_phase, traced_tool, Exporter};

#[traced_tool(name = "child_work")]
fn child_work() -> u32 {
    7
}

#[agent_phase("spawn")]
fn spawn() -> std::io::Result<std::process::ExitStatus> {
    std::process::Command::new(std::env::current_exe()?)
        .arg("child")
        .with_trace_context()
        .status()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let child = std::env::args().nth(1).as_deref() == Some("child");
    let guard = agent_trace::builder()
        .service_name(if child { "child" } else { "parent" })
        .exporter(Exporter::Console)
        .install()?;
    if child {
        // Each process prints its own part; the trace id and parent link are the same.
        child_work();
        eprintln!(
            "child: trace {}",
            std::env::var("TRACEPARENT").unwrap_or_default()
        );
    } else {
        spawn()?;
    }
    guard.shutdown()?;
    Ok(())
}
