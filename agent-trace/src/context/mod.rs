//! Trace context across process boundaries.
//!
//! - `propagation/`: the formats (W3C Trace Context and Baggage, B3, Jaeger), one per file,
//!   and the composite propagator `init` installs (public as `agent_trace::propagation`);
//! - `carriers/`: where a context travels (HTTP headers, message envelopes, a child
//!   process's environment, MCP `_meta`, Redis), each written and read with the installed
//!   propagator (public as `agent_trace::carriers`).
//!
//! Layers, bottom up: `carriers`, `propagation`. (Neither imports the other, checked by
//! `tests/layout.rs`: carriers read and write through the installed global propagator.)

pub mod carriers;
pub mod propagation;
