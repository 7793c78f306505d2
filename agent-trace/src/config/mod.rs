//! Configuration: the standard `OTEL_*` variables, the Python-era aliases, the settings made
//! in code, and how they resolve.
//!
//! Precedence is always: a value set in code (on [`Builder`](crate::Builder)) wins over the
//! environment, which wins over the defaults. An empty variable counts as unset (as the
//! OpenTelemetry specification says). Any other value that cannot be used is an [`InitError`]
//! naming the variable and what it accepts; nothing is silently ignored.
//!
//! - `types.rs`: the public choices and the resolved `Config`;
//! - `env.rs`: every variable, once, with the values it takes, and the typed reader;
//! - `resolve.rs`: one function per section;
//! - `error.rs`: [`InitError`];
//! - `report.rs`: what `init` says: the outcome line, unknown variables.
//!
//! Layers, bottom up: `error`, `types` < `endpoint`, `env` < `logs`, `prices`, `report` <
//! `resolve`. (Each file imports only
//! files of the layers below it, checked by `tests/layout.rs`.) Of the other folders, only
//! `state` is imported here.

pub(crate) mod endpoint;
pub(crate) mod env;
mod error;
pub(crate) mod logs;
pub(crate) mod prices;
pub(crate) mod report;
mod resolve;
mod types;

pub use error::InitError;
pub use prices::PricesError;
pub(crate) use resolve::{resolve, resource};
#[cfg(feature = "logs")]
pub(crate) use types::LogsTarget;
pub(crate) use types::{
    missing_feature, protocol_built, BatchConfig, Config, Overrides, TailConfig,
};
pub use types::{
    Compression, Exporter, LogFormat, Propagator, Protocol, Sampler,
    DEFAULT_ATTRIBUTE_VALUE_LENGTH_LIMIT, DEFAULT_REDACT_KEYS, DEFAULT_REDACT_PATTERNS,
};

#[cfg(test)]
mod tests;
