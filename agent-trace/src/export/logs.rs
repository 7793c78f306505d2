//! The logs signal (feature `logs`, off unless `OTEL_LOGS_EXPORTER` asks): the application's
//! `tracing` events as OpenTelemetry log records, through the official
//! opentelemetry-appender-tracing bridge and opentelemetry-otlp's log exporter (or one line
//! per record on stdout), with the trace and span ids of the span each event ran in. The
//! SDK's `BatchLogProcessor` holds them in a bounded queue off the application's threads; the
//! counts here say what became of each record, and shutdown waits at most its budget.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::logs::{BatchConfigBuilder, BatchLogProcessor, LogBatch, LogExporter};
use opentelemetry_sdk::Resource;

use crate::config::{Config, LogsTarget};
use crate::state::LogCounts;

/// The logger provider for `config`, with the counts its exporter keeps; `None` when the
/// logs signal is off (or, over OTLP, when this build has no OTLP transport).
pub(crate) fn build(
    config: &Config,
    resource: Resource,
) -> Option<(SdkLoggerProvider, Arc<LogCounts>)> {
    let counts = Arc::new(LogCounts::default());
    let sink = match config.logs.as_ref()? {
        LogsTarget::Console => Sink::Console,
        #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
        LogsTarget::Otlp(endpoint) => {
            Sink::Otlp(Box::new(otlp::OtlpLogExporter::new(config, endpoint)?))
        }
        #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
        LogsTarget::Otlp(_) => return None,
    };
    let exporter = Counting {
        sink,
        counts: counts.clone(),
    };
    let batch = BatchConfigBuilder::default()
        .with_max_queue_size(config.batch.max_queue_size)
        .with_max_export_batch_size(config.batch.max_export_batch_size)
        .with_scheduled_delay(config.batch.schedule_delay)
        .build();
    let processor = BatchLogProcessor::builder(exporter)
        .with_batch_config(batch)
        .build();
    let provider = SdkLoggerProvider::builder()
        .with_log_processor(processor)
        .with_resource(resource)
        .build();
    Some((provider, counts))
}

/// Shuts the provider down within `budget` on a helper thread (whatever the SDK does with its
/// own timeout, the caller waits no longer), then counts what never left: records emitted
/// and neither exported nor failed were dropped (queue full) or lost at shutdown.
pub(crate) fn shutdown(provider: SdkLoggerProvider, counts: &LogCounts, budget: Duration) {
    super::timing::run_within("agent-trace-logs-shutdown", budget, move || {
        let _ = provider.shutdown_with_timeout(budget);
    });
    counts.settle();
}

/// Where the records go.
#[derive(Debug)]
enum Sink {
    Console,
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    Otlp(Box<otlp::OtlpLogExporter>),
}

/// The exporter the batch processor calls: counts each batch as exported or failed.
#[derive(Debug)]
struct Counting {
    sink: Sink,
    counts: Arc<LogCounts>,
}

impl LogExporter for Counting {
    fn export(
        &self,
        batch: LogBatch<'_>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        // The SDK calls this from its own thread: nothing there is ours to log or trace.
        crate::state::mark_export_thread();
        let n = batch.iter().count() as u64;
        let result = match &self.sink {
            Sink::Console => console(&batch),
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            Sink::Otlp(e) => e.export(batch),
        };
        let counter = match result {
            Ok(()) => &self.counts.exported,
            Err(_) => &self.counts.failed,
        };
        counter.fetch_add(n, Ordering::Relaxed);
        std::future::ready(result)
    }

    fn set_resource(&mut self, resource: &Resource) {
        #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
        if let Sink::Otlp(e) = &mut self.sink {
            e.set_resource(resource);
        }
        #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
        let _ = resource;
    }

    #[cfg_attr(
        not(any(feature = "otlp-grpc", feature = "otlp-http")),
        allow(unused_variables)
    )]
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        match &self.sink {
            Sink::Console => Ok(()),
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            Sink::Otlp(e) => e.shutdown(timeout),
        }
    }
}

/// One line per record: `LOG {severity} {trace id}/{span id} {target}: {body}`.
fn console(batch: &LogBatch<'_>) -> OTelSdkResult {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    for (record, _) in batch.iter() {
        let ids = record
            .trace_context()
            .map(|t| format!("{}/{}", t.trace_id, t.span_id))
            .unwrap_or_else(|| "-".to_string());
        let body = record.body().map(|b| format!("{b:?}")).unwrap_or_default();
        let line = format!(
            "LOG {} {ids} {}: {}\n",
            record.severity_text().unwrap_or("-"),
            record.target().map(|t| t.as_ref()).unwrap_or("-"),
            crate::span::text::cut(&body, crate::span::text::MESSAGE_LIMIT)
        );
        out.write_all(line.as_bytes())
            .map_err(|e| OTelSdkError::InternalFailure(e.to_string()))?;
    }
    Ok(())
}

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
mod otlp {
    use super::*;

    /// opentelemetry-otlp's log exporter on a private runtime: the SDK's batch thread calls
    /// `export` where tonic and reqwest would find no runtime.
    pub(super) struct OtlpLogExporter {
        runtime: Option<tokio::runtime::Runtime>,
        inner: opentelemetry_otlp::LogExporter,
        timeout: Duration,
    }

    impl std::fmt::Debug for OtlpLogExporter {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("OtlpLogExporter").finish_non_exhaustive()
        }
    }

    impl OtlpLogExporter {
        pub(super) fn new(config: &Config, endpoint: &str) -> Option<Self> {
            let runtime = crate::export::otlp::io_runtime("at-logs-io")?;
            let inner = {
                let _g = runtime.enter();
                crate::export::otlp::signal_exporter!(
                    opentelemetry_otlp::LogExporter,
                    config,
                    endpoint
                )
            };
            Some(OtlpLogExporter {
                runtime: Some(runtime),
                inner,
                timeout: config.export_timeout,
            })
        }

        pub(super) fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
            match &self.runtime {
                None => Err(OTelSdkError::AlreadyShutdown),
                Some(runtime) => runtime
                    .block_on(async {
                        tokio::time::timeout(self.timeout, self.inner.export(batch)).await
                    })
                    .unwrap_or_else(|_| {
                        Err(OTelSdkError::InternalFailure(
                            "logs export timed out".into(),
                        ))
                    }),
            }
        }

        pub(super) fn set_resource(&mut self, resource: &Resource) {
            self.inner.set_resource(resource);
        }

        pub(super) fn shutdown(&self, timeout: Duration) -> OTelSdkResult {
            self.inner.shutdown_with_timeout(timeout)
        }
    }

    impl Drop for OtlpLogExporter {
        fn drop(&mut self) {
            if let Some(rt) = self.runtime.take() {
                rt.shutdown_background();
            }
        }
    }
}
