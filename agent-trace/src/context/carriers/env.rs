//! Trace context in environment variables, for child processes (`TRACEPARENT`, `TRACESTATE`,
//! `BAGGAGE`, per the OpenTelemetry environment-variable carrier specification).
//!
//! The parent sets them on a `Command` with [`CommandExt::with_trace_context`]; in the child,
//! [`init`](crate::init) reads them, and spans without another parent become children of the
//! span that spawned the process. Garbage in these variables is ignored (with a debug log).
//!
//! ```no_run
//! use agent_trace::carriers::env::CommandExt as _;
//! let status = std::process::Command::new("helper").with_trace_context().status();
//! ```

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::Context;

use crate::config::env::EnvLookup;

/// The variables this carrier reads and writes, uppercase per the specification.
pub const VARIABLES: [&str; 3] = ["TRACEPARENT", "TRACESTATE", "BAGGAGE"];

/// The current context as environment variables (name, value) for a child process.
pub fn current_vars() -> Vec<(String, String)> {
    context_vars(&Context::current())
}

/// `cx` as environment variables (name, value).
pub fn context_vars(cx: &Context) -> Vec<(String, String)> {
    struct Vars(HashMap<String, String>);
    impl Injector for Vars {
        fn set(&mut self, key: &str, value: String) {
            // Environment variable names: uppercase, `-` is not portable.
            let name = key.to_ascii_uppercase().replace('-', "_");
            self.0.insert(name, value);
        }
    }
    let mut vars = Vars(HashMap::new());
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(cx, &mut vars));
    let mut out: Vec<_> = vars.0.into_iter().collect();
    out.sort();
    out
}

/// Sets the current trace context on a command about to spawn a child process.
pub trait CommandExt {
    /// Sets `TRACEPARENT` (and `TRACESTATE`, `BAGGAGE` when present) from the current context,
    /// and removes stale ones inherited from this process.
    fn with_trace_context(&mut self) -> &mut Self;
}

/// One body for every `Command` type (they share method names but no trait).
macro_rules! command_ext {
    ($command:ty) => {
        impl CommandExt for $command {
            fn with_trace_context(&mut self) -> &mut Self {
                for v in VARIABLES {
                    self.env_remove(v);
                }
                for (k, v) in current_vars() {
                    self.env(k, v);
                }
                self
            }
        }
    };
}

command_ext!(std::process::Command);
#[cfg(feature = "tokio-process")]
command_ext!(tokio::process::Command);

struct LookupExtractor(HashMap<String, String>);

impl Extractor for LookupExtractor {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(&key.to_ascii_uppercase().replace('-', "_"))
            .map(String::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Reads a context from environment variables given by `lookup`.
pub(crate) fn extract_from(lookup: impl Fn(&str) -> Option<String>) -> Context {
    let mut vars = HashMap::new();
    for name in VARIABLES.iter().copied().chain([
        "UBER_TRACE_ID",
        "B3",
        "X_B3_TRACEID",
        "X_B3_SPANID",
        "X_B3_SAMPLED",
    ]) {
        if let Some(v) = lookup(name) {
            vars.insert(name.to_string(), v);
        }
    }
    if vars.is_empty() {
        return Context::new();
    }
    let extractor = LookupExtractor(vars);
    opentelemetry::global::get_text_map_propagator(|p| p.extract(&extractor))
}

/// Called by `init`: adopts this process's `TRACEPARENT` as the parent of root spans.
pub(crate) fn adopt_process_parent(env: Option<&EnvLookup>) {
    let cx = match env {
        Some(lookup) => extract_from(|k| lookup(k).ok().flatten()),
        None => extract_from(|k| std::env::var(k).ok()),
    };
    if cx.span().span_context().is_valid() {
        crate::state::set_process_parent(cx);
    } else {
        let raw = match env {
            Some(lookup) => lookup("TRACEPARENT").ok().flatten(),
            None => std::env::var("TRACEPARENT").ok(),
        };
        if let Some(raw) = raw {
            tracing::debug!(target: "agent_trace", traceparent = %raw.escape_debug(), "ignoring an invalid TRACEPARENT");
        }
    }
}
