//! Work spawned inside a traced function nests under the spawning span: tokio tasks (through
//! the helper and the future extension) and std threads.

use agent_trace::task::FutureExt as _;
use agent_trace::testing::Capture;
use agent_trace::{agent_phase, traced_tool};

#[traced_tool]
async fn fetch(n: u32) -> u32 {
    n + 1
}

#[traced_tool]
fn crunch(n: u32) -> u32 {
    n * 2
}

#[agent_phase("fan_out")]
async fn fan_out() -> u32 {
    let a = agent_trace::task::spawn(fetch(1));
    let b = tokio::spawn(fetch(2).in_current_trace());
    let c = agent_trace::task::spawn_thread(|| crunch(3));
    a.await.unwrap() + b.await.unwrap() + c.join().unwrap()
}

#[agent_phase("unhelped")]
async fn unhelped() -> u32 {
    tokio::spawn(fetch(1)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_tasks_and_threads_nest_under_the_spawning_span() {
    let cap = Capture::start();
    assert_eq!(cap.future(fan_out()).await, 2 + 3 + 6);
    let tree = cap.tree();
    let phase = tree.find("agent_phase fan_out").expect("phase span");
    let children: Vec<_> = tree
        .children(phase)
        .iter()
        .map(|s| s.name.clone())
        .collect();
    assert_eq!(children.len(), 3, "{tree}");
    assert_eq!(
        children
            .iter()
            .filter(|n| *n == "execute_tool fetch")
            .count(),
        2,
        "{tree}"
    );
    assert!(
        children.contains(&"execute_tool crunch".to_string()),
        "{tree}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_tokio_spawn_does_not_carry_the_trace() {
    // Why the helpers exist: without them the spawned span is not the phase's child (it is
    // outside the capture's trace altogether).
    let cap = Capture::start();
    cap.future(unhelped()).await;
    let tree = cap.tree();
    let phase = tree.find("agent_phase unhelped").expect("phase span");
    assert!(tree.children(phase).is_empty(), "{tree}");
    assert!(tree.find("execute_tool fetch").is_none(), "{tree}");
}
