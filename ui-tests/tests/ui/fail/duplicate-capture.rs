#[agent_trace::traced_tool(capture(query, query))]
fn search(query: &str) {
    let _ = query;
}

fn main() {}
