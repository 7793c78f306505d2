#[agent_trace::traced_tool(capture_result = true)]
fn open() -> u8 {
    1
}

fn main() {}
