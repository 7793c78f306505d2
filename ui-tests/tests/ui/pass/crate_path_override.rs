/// A crate that re-exports agent-trace under another name.
mod reexport {
    pub use agent_trace as tracing_kit;
}

#[agent_trace::traced_tool(crate = crate::reexport::tracing_kit)]
fn via_reexport() -> u8 {
    1
}

#[agent_trace::a2a_call(target = "x", crate = crate::reexport::tracing_kit)]
fn a2a_via_reexport() -> u8 {
    2
}

fn main() {
    via_reexport();
    a2a_via_reexport();
}
