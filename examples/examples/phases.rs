//! `#[agent_phase]` nesting, and `a2a_span!` around a block of code.
//! Run: `cargo run -p agent-trace-examples --example phases`

use agent_trace::{a2a_span, agent_phase, Exporter};

#[agent_phase("plan")]
fn plan(goal: &str) -> Vec<String> {
    vec![format!("research {goal}"), format!("write {goal}")]
}

#[agent_phase("execute", fields(steps = steps.len()))]
fn execute(steps: &[String]) -> usize {
    steps
        .iter()
        .map(|s| {
            // A hand-off to another agent without a function of its own.
            a2a_span!(target = "worker", url = "http://127.0.0.1:9000/a2a", {
                s.len()
            })
        })
        .sum()
}

#[agent_phase("run")]
fn run() -> usize {
    execute(&plan("a poem"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _guard = agent_trace::builder()
        .service_name("phases-example")
        .exporter(Exporter::Console)
        .install()?;
    println!("{}", run());
    Ok(())
}
