#[agent_trace::traced_tool(name = search)]
fn search() {}

fn main() {}
