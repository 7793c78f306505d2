#[agent_trace::traced_tool(name = "a", name = "b")]
fn twice() {}

fn main() {}
