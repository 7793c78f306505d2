//! The other libraries' spans the overhead benchmarks compare with: `#[tracing::instrument]`
//! (for tracing-opentelemetry) with the same name and five attributes, and a fastrace
//! reporter that discards and counts.

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
