//! A traced function that runs before any `init` says so once (on stderr when the application
//! has no `tracing` subscriber), and never again; after an `init`, even one that leaves
//! tracing off, it says nothing.

use std::process::Command;

#[agent_trace::traced_tool]
fn lookup(x: u32) -> u32 {
    x + 1
}

/// Runs this test binary again as a child doing `what`; returns its stderr.
fn child(what: &str) -> String {
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("NO_INIT_CHILD", what)
        .output()
        .expect("run the child");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn child_process() {
    match std::env::var("NO_INIT_CHILD").as_deref() {
        Ok("no-init") => {
            for i in 0..3 {
                assert_eq!(lookup(i), i + 1, "the function still runs");
            }
        }
        Ok("init-off") => {
            let _guard = agent_trace::builder()
                .service_name("off")
                .env(|_| None)
                .install()
                .expect("install");
            assert_eq!(lookup(1), 2);
        }
        _ => {}
    }
}

#[test]
fn a_traced_call_before_init_is_named_once() {
    let stderr = child("no-init");
    assert_eq!(
        stderr.matches("ran before agent_trace::init").count(),
        1,
        "{stderr}"
    );
    let stderr = child("init-off");
    assert!(!stderr.contains("agent_trace::init"), "{stderr}");
}
