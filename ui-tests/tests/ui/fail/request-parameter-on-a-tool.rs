#[agent_trace::traced_tool(temperature = 0.2)]
fn search() {}

#[agent_trace::llm_call(model = "m", stop = "END", n = 2)]
fn ask() {}

fn main() {}
