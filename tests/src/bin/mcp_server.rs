//! A real MCP server process for the stdio tests: rmcp over stdin/stdout, wrapped in
//! `agent_trace::mcp::TracedService`, exporting to the endpoint in its environment. It exits
//! when its stdin closes (the client went away), after flushing its spans.

use agent_trace::mcp::TracedService;
use agent_trace_tests::mcp::Tools;
use rmcp::ServiceExt as _;

fn main() {
    let guard = match agent_trace::init("mcp-server") {
        Ok(g) => g,
        Err(e) => {
            eprintln!("init failed: {e}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let served = rt.block_on(async {
        let server = TracedService::new(Tools::default())
            .serve(rmcp::transport::stdio())
            .await?;
        // Bounded: the test closes stdin when done; two minutes at most whatever happens.
        match tokio::time::timeout(std::time::Duration::from_secs(120), server.waiting()).await {
            Ok(r) => r.map(|_| ()).map_err(anyhow::Error::from),
            Err(_) => Ok(()),
        }
    });
    if let Err(e) = served {
        eprintln!("mcp server: {e:#}");
    }
    if let Err(e) = guard.shutdown() {
        eprintln!("shutdown: {e}");
        std::process::exit(3);
    }
}
