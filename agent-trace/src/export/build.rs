//! Building the export side from a resolved `Config`: the exporter (OTLP or console), the
//! export thread with its queue and before-export steps, and the wrapper that lets a boxed
//! user processor join the SDK provider.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::Resource;

use super::pipeline::{self, ExportTarget, Shared};
use crate::config::env::AGENT_TRACE_REDACT_PATTERN;
#[cfg(feature = "otlp-grpc")]
use crate::config::Protocol;
use crate::config::{self, Config, Exporter, InitError};

/// Starts the export thread with the configured queue, limits and before-export steps.
pub(crate) fn start_pipeline(
    config: &Config,
    make: pipeline::MakeExporter,
) -> Result<Arc<Shared>, InitError> {
    let mut batch = config.batch;
    if config.exporter == Exporter::Console
        && batch.schedule_delay == config::BatchConfig::default().schedule_delay
    {
        // A person is watching: draw traces promptly.
        batch.schedule_delay = Duration::from_millis(200);
    }
    pipeline::start(
        batch,
        config.export_timeout.min(batch.export_timeout),
        config.attribute_value_limit,
        super::pipeline::BeforeExport {
            openinference: config.openinference,
            relative_paths: !config.bridge_details,
            redactor: match &config.redaction {
                Some(r) => Some(
                    super::redact::Redactor::new(r.keys.clone(), &r.patterns).map_err(|e| {
                        InitError::invalid(AGENT_TRACE_REDACT_PATTERN, r.patterns.join(" | "), e)
                    })?,
                ),
                None => None,
            },
        },
        config.pending_spans,
        make,
    )
    .map_err(|e| InitError::Pipeline(e.to_string()))
}

/// A boxed processor is not itself a `SpanProcessor` in the SDK; this forwards every call.
#[derive(Debug)]
pub(crate) struct BoxedProcessor(pub(crate) Box<dyn opentelemetry_sdk::trace::SpanProcessor>);

impl opentelemetry_sdk::trace::SpanProcessor for BoxedProcessor {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &opentelemetry::Context) {
        self.0.on_start(span, cx)
    }
    fn on_end(&self, span: opentelemetry_sdk::trace::SpanData) {
        self.0.on_end(span)
    }
    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource)
    }
}

#[cfg_attr(
    not(any(feature = "otlp-grpc", feature = "otlp-http")),
    allow(unused_variables)
)]
pub(crate) fn make_exporter(
    config: &Config,
    resource: &Resource,
) -> Result<pipeline::MakeExporter, InitError> {
    let service = config.service_name.clone();
    match config.exporter {
        Exporter::Console | Exporter::None => Ok(Box::new(move || ExportTarget {
            exporter: Box::new(super::ConsoleExporter::new(&service)),
            rejected: None,
        })),
        Exporter::Otlp if !config::protocol_built(config.protocol) => {
            Err(InitError::MissingFeature {
                protocol: config.protocol.name(),
                fix: config::missing_feature(config.protocol),
            })
        }
        #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
        Exporter::Otlp => {
            #[cfg(feature = "otlp-grpc")]
            if config.protocol == Protocol::Grpc {
                // Validate now so a bad endpoint is an InitError, not a silent export failure.
                tonic::transport::Endpoint::from_shared(config.endpoint.clone()).map_err(|e| {
                    InitError::invalid(
                        crate::config::env::OTEL_EXPORTER_OTLP_ENDPOINT,
                        config.endpoint.clone(),
                        e.to_string(),
                    )
                })?;
            }
            let (config, resource) = (config.clone(), resource.clone());
            Ok(Box::new(move || super::otlp::exporter(&config, &resource)))
        }
        #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
        Exporter::Otlp => unreachable!("protocol_built is false without an exporter feature"),
    }
}
