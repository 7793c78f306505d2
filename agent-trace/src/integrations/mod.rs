//! What connects agent-trace to other software: HTTP servers (tower/axum) and clients
//! (reqwest-middleware), MCP through rmcp, A2A JSON-RPC, model clients' types (async-openai),
//! the `tracing` ecosystem, and the user's tests.
//!
//! Layers, bottom up: `a2a`, `client`, `evaluation`, `logs`, `mcp`, `openai`, `receiver`, `server`,
//! `testing`. Each builds on the span core, the carriers and the export pipeline, and none
//! imports another (checked by `tests/layout.rs`): `a2a`'s server span sits under `server`'s
//! HTTP span at run time only, and `receiver` (the OTLP receiver of tests and of
//! `agent-trace view`) decodes with `export`'s span view.

pub mod a2a;
#[cfg(feature = "reqwest")]
pub mod client;
pub mod evaluation;
pub mod logs;
#[cfg(feature = "rmcp")]
pub mod mcp;
#[cfg(feature = "async-openai")]
pub mod openai;
#[cfg(feature = "receiver")]
pub mod receiver;
#[cfg(feature = "tower")]
pub mod server;
pub mod testing;
