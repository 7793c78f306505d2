#[agent_trace::traced_tool(name = 5)]
fn search() {}

fn main() {}
