use agent_trace::{agent_run, llm_call};

#[llm_call(model = "gpt-4o", provider = "openai", prompt = q, fields(temperature = 0.2))]
async fn ask(q: &str) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::json!({"answer": q}))
}

#[llm_call(model = "local")]
fn sync_ask() -> String {
    String::new()
}

#[agent_run(conversation_id = id)]
async fn handler(id: u64) -> Result<(), String> {
    let _ = id;
    Ok(())
}

fn main() {
    drop(ask("x"));
    sync_ask();
    drop(handler(1));
}
