#[agent_trace::traced_tool]
fn peek() -> u8 {
    // The expansion has a local of this name; user code must not see it.
    drop(__agent_trace_span);
    1
}

fn main() {}
