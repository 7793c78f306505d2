//! What connects agent-trace to other software: HTTP servers (tower/axum) and clients
//! (reqwest-middleware), MCP through rmcp, A2A JSON-RPC, model clients' types (async-openai),
//! the `tracing` ecosystem, and the user's tests.
//!
//! Each file builds on the span core and the carriers and on nothing else here, except
//! `a2a`, whose server span sits under `server`'s HTTP span at run time only (no import), and
//! `testing`, which installs a pipeline for tests (it uses `install`'s pieces).

pub mod a2a;
#[cfg(feature = "reqwest")]
pub mod client;
pub mod logs;
#[cfg(feature = "rmcp")]
pub mod mcp;
#[cfg(feature = "async-openai")]
pub mod openai;
#[cfg(feature = "tower")]
pub mod server;
pub mod testing;
