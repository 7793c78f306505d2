#[agent_trace::llm_call(model = "m", temperature = "hot", max_tokens = 1.5, stop_sequences = 3)]
fn ask() {}

fn main() {}
