#[agent_trace::traced_tool]
fn f() -> usize {
    let x = ;
    1
}

fn main() {
    let _ = f();
}
