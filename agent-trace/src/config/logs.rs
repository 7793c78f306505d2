//! Where the logs signal goes: `OTEL_LOGS_EXPORTER` (`otlp`, `console`, `none`; off unless
//! set) and `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`.

use super::endpoint::resolve_endpoint;
use super::env::{Env, LOGS_EXPORTERS, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, OTEL_LOGS_EXPORTER};
use super::error::InitError;
use super::types::{Exporter, LogsChoice, LogsTarget, Protocol};

/// The logs target: `None` unless `OTEL_LOGS_EXPORTER` asks for one, tracing is not disabled
/// and this build has the feature `logs`. Over OTLP, to `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`, else to the traces endpoint's
/// `/v1/logs` (the same address for gRPC), with the traces' protocol, headers and timeout.
pub(super) fn resolve(
    env: &Env<'_>,
    disabled: bool,
    exporter: Exporter,
    protocol: Protocol,
    traces_endpoint: &str,
) -> Result<Option<LogsTarget>, InitError> {
    let Some(choice) = env.choice(OTEL_LOGS_EXPORTER, &LOGS_EXPORTERS)? else {
        return Ok(None);
    };
    if disabled || !cfg!(feature = "logs") {
        return Ok(None);
    }
    match choice {
        LogsChoice::None => Ok(None),
        LogsChoice::Console => Ok(Some(LogsTarget::Console)),
        LogsChoice::Otlp => {
            if let Some(v) = env.get(OTEL_EXPORTER_OTLP_LOGS_ENDPOINT)? {
                let url = resolve_endpoint(OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, &v, protocol, false)?;
                return Ok(Some(LogsTarget::Otlp(url)));
            }
            // No OTLP endpoint: no logs, as no spans (the summary line says `logs off`); the
            // variable is often set fleet-wide for other components.
            if exporter != Exporter::Otlp {
                return Ok(None);
            }
            let url = match protocol {
                Protocol::Grpc => traces_endpoint.to_string(),
                _ => match traces_endpoint.strip_suffix("/v1/traces") {
                    Some(base) => format!("{base}/v1/logs"),
                    None => traces_endpoint.to_string(),
                },
            };
            Ok(Some(LogsTarget::Otlp(url)))
        }
    }
}
