#[agent_trace::traced_tool(err(Verbose))]
fn search(query: &str) -> Result<usize, std::io::Error> {
    Ok(query.len())
}

fn main() {
    let _ = search("q");
}
