//! Metrics: the GenAI and MCP metrics of the semantic conventions, exported over OTLP beside
//! the traces (feature `metrics`, on by default).
//!
//! | instrument | unit | recorded by | attributes |
//! |---|---|---|---|
//! | `gen_ai.client.inference.duration` (histogram) | `s` | `#[llm_call]` | `gen_ai.operation.name`, `gen_ai.request.model`, `gen_ai.provider.name`, `gen_ai.response.model`, `error.type` |
//! | `gen_ai.client.inference.usage.input_tokens`, `.output_tokens` (counters) | `{token}` | `#[llm_call]` (from the response; 0 when none came back) | as above, and `gen_ai.token.modality=unknown` (agent-trace counts totals) |
//! | `gen_ai.execute_tool.duration` (histogram) | `s` | `#[traced_tool]` | `gen_ai.tool.name`, `gen_ai.tool.type`, `error.type` |
//! | `gen_ai.client.operation.duration` (histogram) | `s` | `#[a2a_call]`, `a2a_span!` (remote agents) | `gen_ai.operation.name=invoke_agent`, `gen_ai.provider.name=a2a`, `gen_ai.agent.name`, `error.type` |
//! | `gen_ai.invocation.duration` (histogram) | `s` | `#[agent_run]` (in-process agents) | `gen_ai.operation.name=invoke_agent`, `gen_ai.agent.name`, `gen_ai.invocation.is_nested`, `error.type` |
//! | `mcp.client.operation.duration` (histogram) | `s` | MCP requests sent with `.traced()` (feature `rmcp`) | `mcp.method.name`, `mcp.protocol.version`, `gen_ai.operation.name`, `gen_ai.tool.name` / `gen_ai.prompt.name`, `error.type` |
//! | `mcp.server.operation.duration` (histogram) | `s` | MCP requests served by `TracedService` (feature `rmcp`) | `mcp.method.name`, `mcp.protocol.version`, `gen_ai.operation.name`, `network.transport`, `network.protocol.name`, `error.type` |
//!
//! Names, instruments, units and attributes are checked against the conventions' registry by
//! the tests (`tests/tests/metrics.rs`). Earlier versions wrote `gen_ai.client.token.usage`,
//! `agent_trace.tool.duration` and `agent_trace.agent.duration`, and chat durations under
//! `gen_ai.client.operation.duration`; those names are gone from the registry and from here.
//!
//! Metrics follow the traces: with an OTLP traces exporter they go to the same collector
//! (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` to send elsewhere, `OTEL_METRICS_EXPORTER=none` to
//! turn them off), every `OTEL_METRIC_EXPORT_INTERVAL` ms (default 60000) and at shutdown.
//! While tracing is off nothing is measured: the instruments are only reached through a span.

use std::sync::Arc;
use std::time::Duration;

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use opentelemetry_sdk::error::OTelSdkError;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::Resource;

use crate::config::Config;
use crate::span::instruments::Instruments;

/// Builds the meter provider and instruments, or `None` when metrics are off.
pub(crate) fn build(config: &Config, resource: Resource) -> Option<Arc<Instruments>> {
    let endpoint = config.metrics_endpoint.clone()?;
    let exporter = OtlpMetricExporter::new(config, endpoint)?;
    let reader = PeriodicReader::builder(exporter)
        .with_interval(config.metrics_interval)
        .build();
    let provider = SdkMeterProvider::builder()
        .with_reader(reader)
        .with_resource(resource)
        .build();
    Some(Arc::new(Instruments::new(provider)))
}

#[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
struct OtlpMetricExporter;

#[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
impl OtlpMetricExporter {
    /// No OTLP transport in this build: no metrics.
    fn new(_config: &Config, _endpoint: String) -> Option<NoExporter> {
        None
    }
}

/// Never built: stands for the exporter type when there is no OTLP transport.
#[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
#[derive(Debug)]
struct NoExporter;

#[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
impl PushMetricExporter for NoExporter {
    async fn export(&self, _metrics: &ResourceMetrics) -> OTelSdkResult {
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

/// opentelemetry-otlp's metric exporter, run on a private runtime: the SDK's reader calls
/// `export` from a thread of its own, where tonic and reqwest would find no runtime.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
struct OtlpMetricExporter {
    /// `Option` only so `Drop` can shut it down without blocking: the exporter may be dropped
    /// on an application thread inside an async runtime, where dropping a runtime panics.
    runtime: Option<tokio::runtime::Runtime>,
    inner: opentelemetry_otlp::MetricExporter,
    timeout: Duration,
}

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
impl std::fmt::Debug for OtlpMetricExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpMetricExporter").finish_non_exhaustive()
    }
}

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
impl OtlpMetricExporter {
    fn new(config: &Config, endpoint: String) -> Option<Self> {
        let runtime = crate::export::otlp::io_runtime("at-metrics-io")?;
        let inner = {
            let _g = runtime.enter();
            crate::export::otlp::signal_exporter!(
                opentelemetry_otlp::MetricExporter,
                config,
                endpoint,
                with_temporality(Temporality::Cumulative)
            )
        };
        Some(OtlpMetricExporter {
            runtime: Some(runtime),
            inner,
            timeout: config.export_timeout,
        })
    }
}

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
impl Drop for OtlpMetricExporter {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
impl PushMetricExporter for OtlpMetricExporter {
    fn export(
        &self,
        metrics: &ResourceMetrics,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        // The SDK calls this from its own reader thread: no tracing of our own HTTP/gRPC there.
        crate::state::mark_export_thread();
        let result = match &self.runtime {
            None => Err(OTelSdkError::AlreadyShutdown),
            Some(runtime) => runtime
                .block_on(async {
                    tokio::time::timeout(self.timeout, self.inner.export(metrics)).await
                })
                .unwrap_or_else(|_| {
                    Err(OTelSdkError::InternalFailure(
                        "metrics export timed out".to_string(),
                    ))
                }),
        };
        if let Err(e) = &result {
            tracing::warn!(target: "agent_trace::export", "could not export metrics: {e}");
        }
        std::future::ready(result)
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}
