//! Trace context inside a message: producer and consumer spans, and an old message without
//! trace fields that still delivers. No broker needed (see `carriers::redis` for Redis).
//! Run: `cargo run -p agent-trace-examples --example envelope`

use agent_trace::carriers::envelope::{consume, produce, untraced_messages};
use agent_trace::{agent_phase, Exporter};

#[agent_phase("pipeline")]
fn pipeline() -> Result<(), Box<dyn std::error::Error>> {
    let queue = vec![
        produce("jobs", &serde_json::json!({"job": "index"}))?,
        br#"{"job": "written by an old producer"}"#.to_vec(),
    ];
    for msg in &queue {
        let job = consume("jobs", msg, |v: serde_json::Value| v["job"].to_string())?;
        println!("consumed {job}");
    }
    println!("messages without trace context: {}", untraced_messages());
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _guard = agent_trace::builder()
        .service_name("envelope-example")
        .exporter(Exporter::Console)
        .install()?;
    pipeline()
}
