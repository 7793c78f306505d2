//! What the export thread sends through: any SDK `SpanExporter` made object-safe, where it
//! reports OTLP partial success, and the exporter that stands in for one that could not be
//! built.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

/// A boxed future, as [`DynExporter`] returns.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Any SDK `SpanExporter`, object-safe (the SDK's trait returns `impl Future`), as the export
/// thread holds it. Runs on the export thread only, inside its private runtime.
pub(crate) trait DynExporter: Send + 'static {
    fn export(&self, batch: Vec<SpanData>) -> BoxFuture<'_, OTelSdkResult>;
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult;
    fn set_resource(&mut self, resource: &Resource);
}

impl<E: SpanExporter + 'static> DynExporter for E {
    fn export(&self, batch: Vec<SpanData>) -> BoxFuture<'_, OTelSdkResult> {
        Box::pin(SpanExporter::export(self, batch))
    }

    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        self.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(self, resource)
    }
}

/// The exporter the export thread uses, and where it reports OTLP partial success.
pub(crate) struct ExportTarget {
    pub(crate) exporter: Box<dyn DynExporter>,
    /// Spans the collector rejected in answers it otherwise accepted (`rejected_spans`),
    /// added up by the exporter; taken after each batch and counted as failed.
    pub(crate) rejected: Option<Arc<AtomicU64>>,
}

/// Builds the [`ExportTarget`] on the export thread, inside its runtime.
pub(crate) type MakeExporter = Box<dyn FnOnce() -> ExportTarget + Send>;

/// An exporter that fails every batch with the reason it could not be built.
#[derive(Debug)]
pub(crate) struct Failing(pub(crate) String);

impl SpanExporter for Failing {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Err(OTelSdkError::InternalFailure(self.0.clone()))
    }
}
