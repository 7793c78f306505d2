#[agent_trace::traced_tool(tool = "search")]
fn search() {}

#[agent_trace::a2a_call(agent = "coder")]
fn call() {}

fn main() {}
