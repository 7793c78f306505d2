//! Carriers: where trace context travels between processes.
//!
//! - [`http`]: `http::HeaderMap` (any HTTP client or server built on the `http` crate).
//! - [`env`]: `TRACEPARENT` / `TRACESTATE` / `BAGGAGE` for child processes.

pub mod env;
pub mod http;
