const MODEL: &str = "gpt-4o";

#[agent_trace::llm_call(model = MODEL)]
fn ask() -> String {
    String::new()
}

fn main() {}
