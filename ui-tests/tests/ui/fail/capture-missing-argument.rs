#[agent_trace::traced_tool(capture(qeury))]
fn search(query: &str, limit: u32) {
    let _ = (query, limit);
}

fn main() {}
