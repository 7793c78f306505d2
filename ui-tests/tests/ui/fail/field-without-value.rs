#[agent_trace::traced_tool(fields(user.id))]
fn run() {}

fn main() {}
