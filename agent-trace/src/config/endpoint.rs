//! Checking an OTLP endpoint URL (traces, metrics, logs).

use super::error::InitError;
use super::types::Protocol;

/// Checks an endpoint URL and, for HTTP, appends `/v1/traces` when `append_path` is set.
pub(crate) fn resolve_endpoint(
    name: &str,
    raw: &str,
    protocol: Protocol,
    append_path: bool,
) -> Result<String, InitError> {
    let uri: http::Uri = raw.parse().map_err(|_| {
        InitError::invalid(
            name,
            raw,
            "a URL like http://localhost:4317 or https://host:4318",
        )
    })?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => {
            return Err(InitError::invalid(
                name,
                raw,
                "a URL starting with http:// or https://",
            ))
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(InitError::invalid(name, raw, "a URL with a host"));
    }
    if uri.port_u16() == Some(0) {
        return Err(InitError::invalid(
            name,
            raw,
            "a URL with a port other than 0 (nothing can be reached on port 0)",
        ));
    }
    if protocol.is_http() && append_path {
        let base = raw.trim_end_matches('/');
        if base.ends_with("/v1/traces") {
            return Ok(base.to_string());
        }
        return Ok(format!("{base}/v1/traces"));
    }
    Ok(raw.to_string())
}
