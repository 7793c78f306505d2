#[agent_trace::traced_tool(nme = "a", capture(nope), name = 3)]
fn search(query: &str) {
    let _ = query;
}

fn main() {}
