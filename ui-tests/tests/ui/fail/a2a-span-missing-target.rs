fn main() {
    let v: u8 = agent_trace::a2a_span!(url = "http://127.0.0.1:1", { 1 });
    let _ = v;
}
