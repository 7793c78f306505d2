//! Console exporter: prints each finished local trace as a waterfall on stderr.
//!
//! Spans are held until the local root of their trace ends (a span without a parent, or whose
//! parent is in another process), then the whole local trace is drawn at once. Memory is
//! bounded: at most `MAX_HELD_SPANS` spans wait for their root; past that the oldest trace is
//! drawn as it is, marked incomplete.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
#[cfg(test)]
use std::sync::Arc;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use opentelemetry::trace::TraceId;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::render::{from_span_data, render_trace, RenderOptions};

const MAX_HELD_SPANS: usize = 10_000;

/// Where the drawing goes: stderr, or a shared buffer in tests.
#[derive(Clone)]
pub(crate) enum Sink {
    Stderr,
    #[cfg(test)]
    Buffer(Arc<Mutex<String>>),
}

/// A `SpanExporter` that draws each finished local trace as an indented waterfall (service,
/// span, duration, status) on stderr: what `OTEL_TRACES_EXPORTER=console` installs, and usable
/// in any SDK pipeline.
///
/// Spans wait until the local root of their trace ends, then the trace is drawn whole; at
/// most 10,000 spans wait (past that the oldest trace is drawn, marked incomplete), and what
/// still waits at shutdown is drawn then.
///
/// ```
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// let provider = SdkTracerProvider::builder()
///     .with_simple_exporter(agent_trace::export::ConsoleExporter::new("my-service"))
///     .build();
/// # drop(provider);
/// ```
#[derive(Debug)]
pub struct ConsoleExporter {
    state: Mutex<Console>,
}

impl ConsoleExporter {
    /// Draws traces of `service` on stderr.
    pub fn new(service: &str) -> Self {
        Self::with_sink(service, Sink::Stderr)
    }

    pub(crate) fn with_sink(service: &str, sink: Sink) -> Self {
        ConsoleExporter {
            state: Mutex::new(Console::new(service, sink)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Console> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SpanExporter for ConsoleExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.lock().accept(batch);
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.lock().finish();
        Ok(())
    }
}

struct Console {
    service: String,
    held: HashMap<TraceId, Vec<SpanData>>,
    order: VecDeque<TraceId>,
    held_count: usize,
    sink: Sink,
    options: RenderOptions,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("service", &self.service)
            .field("held_count", &self.held_count)
            .finish_non_exhaustive()
    }
}

impl Console {
    fn new(service: &str, sink: Sink) -> Self {
        Console {
            service: service.to_string(),
            held: HashMap::new(),
            order: VecDeque::new(),
            held_count: 0,
            sink,
            options: RenderOptions::default(),
        }
    }

    fn is_local_root(s: &SpanData) -> bool {
        s.parent_span_id == opentelemetry::trace::SpanId::INVALID || s.parent_span_is_remote
    }

    fn draw(&mut self, trace: TraceId, note: &str) {
        let Some(spans) = self.held.remove(&trace) else {
            return;
        };
        self.order.retain(|t| *t != trace);
        self.held_count -= spans.len();
        let views: Vec<_> = spans
            .iter()
            .map(|s| from_span_data(s, &self.service))
            .collect();
        let mut text = render_trace(&views, self.options);
        text.push_str(note);
        match &self.sink {
            Sink::Stderr => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{text}");
            }
            #[cfg(test)]
            Sink::Buffer(b) => {
                let mut b = b.lock().unwrap_or_else(|p| p.into_inner());
                b.push_str(&text);
                b.push('\n');
            }
        }
    }

    fn accept(&mut self, batch: Vec<SpanData>) {
        let mut finished = Vec::new();
        for span in batch {
            let trace = span.span_context.trace_id();
            if Self::is_local_root(&span) {
                finished.push(trace);
            }
            let entry = self.held.entry(trace).or_insert_with(|| {
                self.order.push_back(trace);
                Vec::new()
            });
            entry.push(span);
            self.held_count += 1;
        }
        for trace in finished {
            self.draw(trace, "");
        }
        while self.held_count > MAX_HELD_SPANS {
            match self.order.front().copied() {
                Some(oldest) => self.draw(oldest, "(incomplete: its root span had not ended)\n"),
                None => break,
            }
        }
    }
}

impl Console {
    fn finish(&mut self) {
        let rest: Vec<_> = self.order.iter().copied().collect();
        for t in rest {
            self.draw(t, "(incomplete: its root span had not ended at shutdown)\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::Status;

    fn span(trace: u128, id: u64, parent: u64, remote_parent: bool, name: &str) -> SpanData {
        let base = crate::export::pipeline::test_span(trace, id, parent);
        SpanData {
            parent_span_is_remote: remote_parent,
            name: name.to_string().into(),
            start_time: base.start_time + Duration::from_millis(id),
            end_time: base.start_time + Duration::from_millis(10 + id),
            status: if name == "bad" {
                Status::error("it broke")
            } else {
                Status::Unset
            },
            ..base
        }
    }

    #[test]
    fn draws_a_trace_when_its_local_root_ends() {
        let out = Arc::new(Mutex::new(String::new()));
        let mut c = Console::new("svc", Sink::Buffer(out.clone()));
        c.accept(vec![span(1, 2, 1, false, "bad")]);
        assert!(out.lock().unwrap().is_empty(), "held until the root ends");
        // A root whose parent is in another process (remote) counts as the local root.
        c.accept(vec![span(1, 1, 99, true, "root")]);
        let text = out.lock().unwrap().clone();
        assert!(text.contains("2 spans"), "{text}");
        assert!(text.contains("root [INTERNAL]"));
        assert!(
            text.contains("└─ bad [INTERNAL]  ✗ ERROR: it broke"),
            "{text}"
        );
        assert!(c.held.is_empty() && c.held_count == 0);
    }

    #[test]
    fn unfinished_traces_are_drawn_at_shutdown() {
        let out = Arc::new(Mutex::new(String::new()));
        let c = ConsoleExporter::with_sink("svc", Sink::Buffer(out.clone()));
        c.lock().accept(vec![span(7, 2, 1, false, "orphan")]);
        c.shutdown_with_timeout(Duration::from_secs(1)).unwrap();
        let text = out.lock().unwrap().clone();
        assert!(text.contains("orphan"));
        assert!(text.contains("incomplete"));
    }
}
