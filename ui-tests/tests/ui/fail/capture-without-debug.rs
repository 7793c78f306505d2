struct Secret(String);

#[agent_trace::traced_tool(capture(secret))]
fn login(secret: Secret) -> usize {
    secret.0.len()
}

fn main() {}
