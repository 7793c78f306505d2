#[agent_trace::agent_phase]
fn coding() {}

fn main() {}
