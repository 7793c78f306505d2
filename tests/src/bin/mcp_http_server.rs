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
use tokio::io::AsyncReadExt as _;

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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("listening {}", listener.local_addr().expect("addr").port());
        tokio::spawn(async move { axum::serve(listener, app).await });
        // Bounded: the test closes stdin when done; two minutes at most whatever happens.
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        let _ = tokio::time::timeout(std::time::Duration::from_secs(120), async {
            while !matches!(stdin.read(&mut buf).await, Ok(0) | Err(_)) {}
        })
        .await;
    });
    drop(rt);
    if let Err(e) = guard.shutdown() {
        eprintln!("shutdown: {e}");
        std::process::exit(3);
    }
}
