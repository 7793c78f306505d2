//! Carriers: where trace context travels between processes.
//!
//! - [`http`]: `http::HeaderMap` (any HTTP client or server built on the `http` crate).
//! - [`env`](mod@env): `TRACEPARENT` / `TRACESTATE` / `BAGGAGE` for child processes.
//! - [`envelope`]: inside a message (queues, pub/sub), tolerant of old and malformed messages.
//! - [`mcp`]: inside an MCP request's `params._meta` (`traceparent`, `tracestate`, `baggage`).
//! - `redis` (feature `redis`): Redis pub/sub and list queues on top of [`envelope`].
//!
//! Layers, bottom up: `env`, `envelope`, `http`, `mcp` < `redis`. (`tests/layout.rs`)

pub mod env;
pub mod envelope;
pub mod http;
pub mod mcp;
#[cfg(feature = "redis")]
pub mod redis;
