//! `tracing` spans nest under ours and ours under theirs, through the subscriber `init`
//! installs (tracing-opentelemetry with context activation).

use agent_trace::testing::Capture;
use agent_trace::{agent_phase, traced_tool};

#[tracing::instrument]
fn library_function(x: u32) -> u32 {
    ours_inside_theirs(x)
}

#[traced_tool]
fn ours_inside_theirs(x: u32) -> u32 {
    let span = tracing::info_span!("library_inner");
    let _e = span.enter();
    x + 1
}

#[agent_phase("outer")]
fn outer() -> u32 {
    library_function(1)
}

#[test]
fn nesting_works_both_ways() {
    let _guard = agent_trace::builder()
        .service_name("interop")
        .env(|_| None)
        .install()
        .expect("init installs the subscriber");
    let cap = Capture::start();
    assert_eq!(cap.in_scope(outer), 2);
    let tree = cap.tree();
    let names: Vec<String> = tree
        .to_string()
        .lines()
        .filter(|l| !l.trim_start().starts_with('·'))
        .map(str::to_string)
        .collect();
    assert_eq!(
        names,
        [
            "agent_phase outer [INTERNAL]",
            "  library_function [INTERNAL]",
            "    execute_tool ours_inside_theirs [INTERNAL]",
            "      library_inner [INTERNAL]",
        ],
        "{tree}"
    );
}
