#[agent_trace::traced_tool(skip(secret), err)]
fn login(secret: &str) -> Result<(), String> {
    let _ = secret;
    Ok(())
}

fn main() {}
