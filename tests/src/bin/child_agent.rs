//! A helper process for the subprocess tests: it initialises tracing from its environment
//! (endpoint and TRACEPARENT set by the parent), does one traced step that logs, and exits.

use agent_trace::traced_tool;

#[traced_tool(name = "child_step")]
fn child_step(input: &str) -> Result<usize, std::io::Error> {
    tracing::info!(input, "child working");
    Ok(input.len())
}

fn main() {
    let guard = match agent_trace::init("child-agent") {
        Ok(g) => g,
        Err(e) => {
            eprintln!("init failed: {e}");
            std::process::exit(2);
        }
    };
    let n = child_step("from the parent").unwrap_or(0);
    println!("{n}");
    if let Err(e) = guard.shutdown() {
        eprintln!("shutdown: {e}");
        std::process::exit(3);
    }
}
