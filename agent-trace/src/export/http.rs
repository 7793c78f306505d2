//! OTLP/HTTP transport with protobuf bodies (reqwest, async, on the export thread's runtime).
//!
//! The client is built here, explicitly, so no cargo feature elsewhere in the dependency tree can
//! swap in a client that needs a different runtime.

use std::time::{Duration, Instant};

use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_sdk::trace::SpanData;
use prost::Message;

use crate::pipeline::{with_retries, Attempt, BoxFuture, ExportResult, Transport};

pub(crate) struct HttpTransport {
    client: reqwest::Client,
    url: String,
    headers: reqwest::header::HeaderMap,
    resource: ResourceAttributesWithSchema,
}

impl HttpTransport {
    pub(crate) fn new(
        url: &str,
        headers: &[(String, String)],
        timeout: Duration,
        resource: ResourceAttributesWithSchema,
    ) -> Result<Self, String> {
        let mut map = reqwest::header::HeaderMap::new();
        for (k, v) in headers {
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| format!("invalid header name {k}: {e}"))?;
            let value = reqwest::header::HeaderValue::from_str(v)
                .map_err(|e| format!("invalid header {k}: {e}"))?;
            map.insert(name, value);
        }
        map.insert(
            reqwest::header::CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static("application/x-protobuf"),
        );
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .no_proxy()
            .build()
            .map_err(|e| format!("could not build the HTTP client: {e}"))?;
        Ok(HttpTransport {
            client,
            url: url.to_string(),
            headers: map,
            resource,
        })
    }
}

impl Transport for HttpTransport {
    fn send(&mut self, batch: Vec<SpanData>, deadline: Instant) -> BoxFuture<'_, ExportResult> {
        let body = bytes::Bytes::from(super::to_request(batch, &self.resource).encode_to_vec());
        Box::pin(async move {
            with_retries(deadline, || {
                let req = self
                    .client
                    .post(&self.url)
                    .headers(self.headers.clone())
                    .timeout(deadline.saturating_duration_since(Instant::now()))
                    .body(body.clone());
                async move {
                    match req.send().await {
                        Ok(resp) => classify(resp.status().as_u16(), retry_after(&resp)),
                        // Connection refused, reset, timeouts: transient by nature.
                        Err(e) => Attempt::Retry {
                            reason: format!("HTTP request failed: {}", error_chain(&e)),
                            after: None,
                        },
                    }
                }
            })
            .await
        })
    }
}

/// The OTLP/HTTP retry table.
pub(crate) fn classify(status: u16, retry_after: Option<Duration>) -> Attempt {
    match status {
        200..=299 => Attempt::Done,
        429 | 502 | 503 | 504 => Attempt::Retry {
            reason: format!("HTTP {status}"),
            after: retry_after,
        },
        _ => Attempt::Fatal(format!("HTTP {status}")),
    }
}

fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    // Delay-seconds form only; an HTTP-date falls back to our own backoff.
    v.trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(30)))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_table() {
        for s in [429, 502, 503, 504] {
            assert!(matches!(classify(s, None), Attempt::Retry { .. }), "{s}");
        }
        for s in [400, 401, 403, 404, 500, 501] {
            assert!(matches!(classify(s, None), Attempt::Fatal(_)), "{s}");
        }
        assert!(matches!(classify(200, None), Attempt::Done));
    }
}
