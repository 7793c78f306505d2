#[agent_trace::traced_tool]
struct Search;

fn main() {}
