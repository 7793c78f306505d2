//! A real MCP server process over streamable HTTP for `tests/tests/mcp_http.rs`: rmcp's
//! `StreamableHttpService` around `agent_trace::mcp::TracedService`, nested at `/mcp` in an
//! axum router with `TraceLayer`, on a free port of 127.0.0.1 (printed as `listening PORT`).
//! `mcp_http_server stateful` keeps sessions for the protocol revisions that have them
//! (rmcp's `legacy_session_mode`); `stateless` serves every revision without one. It exports
//! to the endpoint in its environment and exits when its stdin closes, after flushing.

use agent_trace::mcp::TracedService;
use agent_trace::server::TraceLayer;
use agent_trace_tests::mcp::Tools;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

fn main() {
    let stateful = match std::env::args().nth(1).as_deref() {
        Some("stateful") => true,
        Some("stateless") => false,
        other => {
            eprintln!("usage: mcp_http_server stateful|stateless (got {other:?})");
            std::process::exit(2);
        }
    };
    let guard = match agent_trace::init("mcp-http-server") {
        Ok(g) => g,
        Err(e) => {
            eprintln!("init failed: {e}");
            std::process::exit(2);
        }
    };
    let mut config = StreamableHttpServerConfig::default();
    config.legacy_session_mode = stateful;
    let service: StreamableHttpService<TracedService<Tools>, LocalSessionManager> =
        StreamableHttpService::new(
            || Ok(TracedService::new(Tools::default())),
            Default::default(),
            config,
        );
    let app = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(TraceLayer::new());
    agent_trace_tests::serve_until_stdin_closes(guard, app);
}
