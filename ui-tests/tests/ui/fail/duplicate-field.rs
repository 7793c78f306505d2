#[agent_trace::traced_tool(fields(user.id = 1, user.id = 2))]
fn search() {}

fn main() {}
