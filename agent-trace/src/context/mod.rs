//! Trace context across process boundaries.
//!
//! - `propagation/`: the formats (W3C Trace Context and Baggage, B3, Jaeger), one per file,
//!   and the composite propagator `init` installs (public as `agent_trace::propagation`);
//! - `carriers/`: where a context travels (HTTP headers, message envelopes, a child
//!   process's environment, MCP `_meta`, Redis), each written and read with the installed
//!   propagator (public as `agent_trace::carriers`);
//! - `sampling/`: consistent probability sampling, decided from the trace context and written
//!   to its `ot` tracestate entry (public as `agent_trace::sampling`).
//!
//! Layers, bottom up: `carriers`, `propagation`, `sampling`. (None imports another, checked by
//! `tests/layout.rs`: carriers read and write through the installed global propagator.)

pub mod carriers;
pub mod propagation;
pub mod sampling;
