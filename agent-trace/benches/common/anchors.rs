//! The baselines the overhead benchmarks compare with: the SDK's own pipeline with the same
//! queue and batch sizes as ours, `#[tracing::instrument]` (for tracing-opentelemetry) with the
//! same name and five attributes, and a fastrace reporter that discards and counts.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

#[tracing::instrument(name = "execute_tool bench", fields(gen_ai.operation.name = "execute_tool", gen_ai.tool.name = "bench", gen_ai.tool.type = "function", tool.name = "bench", tool.success = true))]
#[inline(never)]
pub(crate) fn instrumented(x: u64) -> Result<u64, std::io::Error> {
    Ok(x.wrapping_mul(31))
}

/// fastrace's reporter that discards, counting into its counter.
pub(crate) struct FastraceDiscard(pub(crate) &'static AtomicU64);

impl fastrace::collector::Reporter for FastraceDiscard {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        self.0.fetch_add(spans.len() as u64, Ordering::Relaxed);
        drop(black_box(spans));
    }
}

/// The SDK's `BatchSpanProcessor` around `exporter`, with a `queue`-span queue and 512-span
/// batches, as ours is set up (the SDK's default 2,048-span queue drops under a hot producer,
/// and so looks cheaper).
pub(crate) fn sdk_provider(
    exporter: impl opentelemetry_sdk::trace::SpanExporter + 'static,
    sampler: opentelemetry_sdk::trace::Sampler,
    queue: usize,
) -> opentelemetry_sdk::trace::SdkTracerProvider {
    use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(queue)
                .with_max_export_batch_size(512)
                .build(),
        )
        .build();
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(processor)
        .build()
}

/// Ours as the benchmarks install it: `sampler`, a `queue`-span queue and 512-span batches,
/// no subscriber, no environment; the caller adds its exporter.
pub(crate) fn ours_builder(sampler: agent_trace::Sampler, queue: usize) -> agent_trace::Builder {
    agent_trace::builder()
        .service_name("bench")
        .sampler(sampler)
        .max_queue_size(queue)
        .max_export_batch_size(512)
        .install_subscriber(false)
        .env(|_| None)
}
