#[agent_trace::a2a_call(url = "http://127.0.0.1:8081")]
fn call() {}

fn main() {}
