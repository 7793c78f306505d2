use agent_trace::{a2a_call, agent_phase, traced_tool};

#[traced_tool]
fn sync_plain(x: u32) -> u32 {
    x
}

#[traced_tool(name = "renamed", capture(q), capture_result, call_id = "id-1", fields(a = 1, b = ?q, c = %q))]
fn with_options(q: &str) -> std::io::Result<String> {
    Ok(q.to_string())
}

#[traced_tool]
async fn async_plain(x: u32) -> Result<u32, String> {
    Ok(x)
}

#[a2a_call(target = "coder", source = "me", url = "http://127.0.0.1:1/a2a", method = "POST", capture(task))]
async fn call(task: String) -> anyhow::Result<String> {
    Ok(task)
}

#[agent_phase("plan")]
fn plan() {}

#[agent_phase(name = "code", fields(k = 1))]
async fn code() {}

#[traced_tool]
fn early_and_question_mark(s: &str) -> Result<i32, std::num::ParseIntError> {
    if s.is_empty() {
        return Ok(0);
    }
    let v: i32 = s.parse()?;
    Ok(v)
}

fn main() {
    sync_plain(1);
    with_options("x").unwrap();
    early_and_question_mark("1").unwrap();
    plan();
    drop(async_plain(1));
    drop(call(String::new()));
    drop(code());
}
