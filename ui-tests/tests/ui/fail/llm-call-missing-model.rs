#[agent_trace::llm_call(provider = "openai")]
fn ask() -> String {
    String::new()
}

fn main() {}
