#[agent_trace::agent_phase(coding)]
fn coding() {}

fn main() {}
