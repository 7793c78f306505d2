#[agent_trace::traced_tool(nme = "search")]
fn search() {}

fn main() {}
