#[agent_trace::agent_phase("x")]
const LIMIT: u32 = 3;

fn main() {}
