//! [`InitError`]: why `init` failed, naming the variable or builder method at fault.

/// Why [`init`](crate::init) or [`Builder::install`](crate::Builder::install) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// A setting (environment variable or builder call) has a value that cannot be used.
    #[error("invalid value {value:?} for {variable}: expected {expected}")]
    InvalidValue {
        /// The variable (`OTEL_TRACES_SAMPLER`) or builder method (`Builder::endpoint`).
        variable: String,
        /// The value as given.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// An environment variable is set but is not valid UTF-8.
    #[error("{variable} is set but is not valid UTF-8")]
    NotUnicode {
        /// The variable.
        variable: String,
    },
    /// The export pipeline could not be started (thread or runtime creation failed).
    #[error("could not start the export pipeline: {0}")]
    Pipeline(String),
    /// `init` was called again, while a pipeline is installed, with a setting that differs
    /// from the installed one. Drop every [`TraceGuard`](crate::TraceGuard) first to install
    /// another.
    #[error(
        "tracing is already installed with {setting} {installed:?}, and this init asked for \
         {requested:?}: drop every guard of the first init before installing another"
    )]
    Conflict {
        /// What differs: `service name`, `exporter`, `protocol` or `endpoint`.
        setting: &'static str,
        /// The installed pipeline's value.
        installed: String,
        /// This call's value.
        requested: String,
    },
    /// Exporting was asked for with a protocol this build has no exporter for.
    #[error("no exporter for {protocol} in this build: {fix}")]
    MissingFeature {
        /// The protocol (`grpc`, `http/protobuf`, `http/json`).
        protocol: &'static str,
        /// Which cargo feature to enable.
        fix: &'static str,
    },
}

impl InitError {
    pub(crate) fn invalid(
        variable: impl Into<String>,
        value: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        InitError::InvalidValue {
            variable: variable.into(),
            value: value.into(),
            expected: expected.into(),
        }
    }

    /// The variable or builder method the error is about, if any.
    pub fn variable(&self) -> Option<&str> {
        match self {
            InitError::InvalidValue { variable, .. } | InitError::NotUnicode { variable } => {
                Some(variable)
            }
            InitError::Pipeline(_)
            | InitError::MissingFeature { .. }
            | InitError::Conflict { .. } => None,
        }
    }
}
