#[agent_trace::traced_tool]
const fn limit() -> u32 {
    3
}

fn main() {}
