#[agent_trace::traced_tool(stream = "no")]
async fn a() {}

#[agent_trace::traced_tool(stream)]
async fn b() {}

fn main() {}
