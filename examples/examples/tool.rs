//! `#[traced_tool]`: success, `Err`, and a panic, each one span.
//! Run: `cargo run -p agent-trace-examples --example tool`

use agent_trace::{traced_tool, Exporter};

#[traced_tool(name = "lookup", capture(key), fields(cache.hit = false))]
fn lookup(key: &str) -> Result<String, std::io::Error> {
    match key {
        "answer" => Ok("42".into()),
        _ => Err(std::io::Error::other(format!("no entry for {key}"))),
    }
}

#[traced_tool]
fn explode() {
    panic!("tool bug");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _guard = agent_trace::builder()
        .service_name("tool-example")
        .exporter(Exporter::Console)
        .install()?;
    println!("{:?}", lookup("answer"));
    println!("{:?}", lookup("question"));
    // The panic is recorded on the span, then continues to unwind (caught here).
    let _ = std::panic::catch_unwind(explode);
    Ok(())
}
