//! Log lines that carry the trace and span ids, as JSON.
//! Run: `cargo run -p agent-trace-examples --example json_logs`

use agent_trace::{traced_tool, Exporter, LogFormat};

#[traced_tool]
fn work(n: u32) -> u32 {
    tracing::info!(n, "working");
    n * 2
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _guard = agent_trace::builder()
        .service_name("logs-example")
        .exporter(Exporter::Console)
        .log_format(LogFormat::Json)
        .install()?;
    tracing::info!("outside any span: no ids");
    work(21);
    println!(
        "trace id outside the span: {:?}",
        agent_trace::current_trace_id()
    );
    Ok(())
}
