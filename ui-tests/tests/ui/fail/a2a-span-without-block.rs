fn main() {
    let _ = agent_trace::a2a_span!(target = "coder");
}
