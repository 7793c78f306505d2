#[agent_trace::a2a_call(target = "  ")]
fn call() {}

fn main() {}
