//! Helpers for testing code instrumented with agent-trace.
//!
//! [`Capture`] records the spans made inside it, in memory, synchronously. Each capture runs
//! under a trace of its own, so tests running in parallel threads never see each other's
//! spans, and it works with or without [`init`](crate::init).
//!
//! ```
//! use agent_trace::testing::Capture;
//!
//! #[agent_trace::traced_tool]
//! fn search(q: &str) -> Result<usize, std::io::Error> {
//!     Ok(q.len())
//! }
//!
//! let cap = Capture::start();
//! cap.in_scope(|| search("rust")).unwrap();
//! let tree = cap.tree();
//! assert_eq!(tree.to_string(), "\
//! execute_tool search [INTERNAL]
//!   · gen_ai.operation.name=execute_tool
//!   · gen_ai.tool.name=search
//!   · gen_ai.tool.type=function
//!   · tool.name=search
//!   · tool.success=true
//! ");
//! let span = tree.find("execute_tool search").unwrap();
//! assert_eq!(span.attr("tool.success"), Some("true".to_string()));
//! ```
//!
//! With the `receiver` feature, [`OtlpReceiver`](crate::receiver::OtlpReceiver) receives
//! real OTLP (gRPC and HTTP/protobuf) on 127.0.0.1, for tests that check what goes over the
//! wire.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use opentelemetry::trace::{
    FutureExt as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt as _, TraceFlags,
    TraceId, TraceState, WithContext,
};
use opentelemetry::{Context, ContextGuard, Value};
use opentelemetry_sdk::trace::{SpanData, SpanProcessor};

static TAP_COUNT: AtomicUsize = AtomicUsize::new(0);
static TAPS: Mutex<Option<HashMap<TraceId, Vec<SpanData>>>> = Mutex::new(None);

fn taps() -> MutexGuard<'static, Option<HashMap<TraceId, Vec<SpanData>>>> {
    TAPS.lock().unwrap_or_else(|p| p.into_inner())
}

/// The `SpanProcessor` that hands ended spans to active [`Capture`]s (cloning only theirs).
///
/// Without [`init`](crate::init), [`Capture::start`] installs it on an in-memory provider by
/// itself. With a real pipeline, add it there to capture too:
/// `builder().span_processor(Capture::processor())`. Production pipelines do not have it.
#[derive(Debug, Default)]
pub struct CaptureProcessor {
    _private: (),
}

impl SpanProcessor for CaptureProcessor {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &Context) {}

    fn on_end(&self, mut span: SpanData) {
        if TAP_COUNT.load(Ordering::Relaxed) > 0 {
            // As the export path does: one value per key, the later write winning.
            crate::export::pipeline::unique_keys(&mut span);
            if let Some(list) = taps()
                .as_mut()
                .and_then(|m| m.get_mut(&span.span_context.trace_id()))
            {
                list.push(span);
            }
        }
    }

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(
        &self,
        _timeout: std::time::Duration,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
}

/// Records the spans made inside it. See the [module docs](self).
#[derive(Debug)]
pub struct Capture {
    trace_id: TraceId,
    root: SpanId,
    cx: Context,
}

impl Capture {
    /// Starts capturing. Installs an in-memory pipeline if tracing is not otherwise on.
    pub fn start() -> Capture {
        ensure_test_provider();
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        // Unique per capture in this process; distinct across processes by the clock and pid.
        let trace = (nanos << 32) ^ (u128::from(std::process::id()) << 96) ^ u128::from(n) | 1;
        let trace_id = TraceId::from(trace);
        let root = SpanId::from(0x7e57_0000_0000_0000 | n);
        taps()
            .get_or_insert_with(HashMap::new)
            .insert(trace_id, Vec::new());
        TAP_COUNT.fetch_add(1, Ordering::SeqCst);
        let cx = Context::new().with_remote_span_context(SpanContext::new(
            trace_id,
            root,
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        ));
        Capture { trace_id, root, cx }
    }

    /// The processor that feeds captures, to add to a real pipeline with
    /// [`Builder::span_processor`](crate::Builder::span_processor) when a test calls `init`.
    pub fn processor() -> CaptureProcessor {
        CaptureProcessor::default()
    }

    /// Runs `f` inside the capture.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let _g = self.cx.clone().attach();
        f()
    }

    /// Makes the capture current until the guard is dropped.
    pub fn enter(&self) -> ContextGuard {
        self.cx.clone().attach()
    }

    /// Runs a future inside the capture (on every poll).
    pub fn future<F: Future>(&self, f: F) -> WithContext<F> {
        f.with_context(self.cx.clone())
    }

    /// The capture's context, to hand to another thread.
    pub fn context(&self) -> Context {
        self.cx.clone()
    }

    /// The capture's trace id (32 hex digits).
    pub fn trace_id(&self) -> String {
        self.trace_id.to_string()
    }

    /// The spans that have ended so far, in the order they ended.
    pub fn spans(&self) -> Vec<CapturedSpan> {
        let guard = taps();
        let list = guard
            .as_ref()
            .and_then(|m| m.get(&self.trace_id))
            .cloned()
            .unwrap_or_default();
        drop(guard);
        list.iter()
            .map(|s| CapturedSpan::from_data(s, self.root))
            .collect()
    }

    /// The ended spans as a tree.
    pub fn tree(&self) -> SpanTree {
        SpanTree::new(self.spans())
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(m) = taps().as_mut() {
            m.remove(&self.trace_id);
        }
        TAP_COUNT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A finished span, as captured.
#[derive(Debug, Clone)]
pub struct CapturedSpan {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: SpanKind,
    /// Trace id, 32 hex digits.
    pub trace_id: String,
    /// Span id, 16 hex digits.
    pub span_id: String,
    /// Parent span id; `None` for the capture's top-level spans.
    pub parent_span_id: Option<String>,
    /// Attributes, in the order they were first set, one value per key (the later write
    /// wins, as on the export path).
    pub attributes: Vec<(String, Value)>,
    /// Events: name and attributes.
    pub events: Vec<(String, Vec<(String, Value)>)>,
    /// Links: (trace id, span id) of each linked span, 32 and 16 hex digits.
    pub links: Vec<(String, String)>,
    /// Status.
    pub status: Status,
    /// Start time.
    pub start: SystemTime,
    /// End time.
    pub end: SystemTime,
}

impl CapturedSpan {
    fn from_data(s: &SpanData, root: SpanId) -> Self {
        let kv = |k: &opentelemetry::KeyValue| (k.key.to_string(), k.value.clone());
        CapturedSpan {
            name: s.name.to_string(),
            kind: s.span_kind.clone(),
            trace_id: s.span_context.trace_id().to_string(),
            span_id: s.span_context.span_id().to_string(),
            parent_span_id: (s.parent_span_id != SpanId::INVALID && s.parent_span_id != root)
                .then(|| s.parent_span_id.to_string()),
            attributes: s.attributes.iter().map(kv).collect(),
            events: s
                .events
                .iter()
                .map(|e| (e.name.to_string(), e.attributes.iter().map(kv).collect()))
                .collect(),
            links: s
                .links
                .iter()
                .map(|l| {
                    (
                        l.span_context.trace_id().to_string(),
                        l.span_context.span_id().to_string(),
                    )
                })
                .collect(),
            status: s.status.clone(),
            start: s.start_time,
            end: s.end_time,
        }
    }

    /// An attribute's value as a string.
    pub fn attr(&self, key: &str) -> Option<String> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.to_string())
    }

    /// The first event with this name, as (key, value-string) pairs.
    pub fn event(&self, name: &str) -> Option<Vec<(String, String)>> {
        self.events
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a.iter().map(|(k, v)| (k.clone(), v.to_string())).collect())
    }

    /// The status description if the status is Error.
    pub fn error(&self) -> Option<String> {
        match &self.status {
            Status::Error { description } => Some(description.to_string()),
            _ => None,
        }
    }
}

/// Captured spans arranged as a tree; `Display` prints it for exact comparisons.
///
/// Each span prints as `name [KIND]` plus `ERROR: description` when its status is Error,
/// then its attributes sorted by key, then its events; children follow, indented, ordered by
/// start time. Times and ids are left out so the text is the same on every run.
#[derive(Debug, Clone)]
pub struct SpanTree {
    spans: Vec<CapturedSpan>,
}

impl SpanTree {
    /// Builds the tree.
    pub fn new(mut spans: Vec<CapturedSpan>) -> Self {
        spans.sort_by(|a, b| a.start.cmp(&b.start).then(a.name.cmp(&b.name)));
        SpanTree { spans }
    }

    /// All spans, ordered by start time.
    pub fn spans(&self) -> &[CapturedSpan] {
        &self.spans
    }

    /// The first span with this name.
    pub fn find(&self, name: &str) -> Option<&CapturedSpan> {
        self.spans.iter().find(|s| s.name == name)
    }

    /// The top-level spans.
    pub fn roots(&self) -> Vec<&CapturedSpan> {
        let ids: Vec<&str> = self.spans.iter().map(|s| s.span_id.as_str()).collect();
        self.spans
            .iter()
            .filter(|s| {
                s.parent_span_id
                    .as_deref()
                    .is_none_or(|p| !ids.contains(&p))
            })
            .collect()
    }

    /// The direct children of `span`.
    pub fn children(&self, span: &CapturedSpan) -> Vec<&CapturedSpan> {
        self.spans
            .iter()
            .filter(|s| s.parent_span_id.as_deref() == Some(&span.span_id))
            .collect()
    }

    /// The parent of `span`, if it was captured.
    pub fn parent(&self, span: &CapturedSpan) -> Option<&CapturedSpan> {
        let p = span.parent_span_id.as_deref()?;
        self.spans.iter().find(|s| s.span_id == p)
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, s: &CapturedSpan, depth: usize) -> fmt::Result {
        let pad = "  ".repeat(depth);
        let kind = match s.kind {
            SpanKind::Client => "CLIENT",
            SpanKind::Server => "SERVER",
            SpanKind::Producer => "PRODUCER",
            SpanKind::Consumer => "CONSUMER",
            SpanKind::Internal => "INTERNAL",
        };
        write!(f, "{pad}{} [{kind}]", s.name)?;
        if let Some(e) = s.error() {
            write!(f, " ERROR: {e}")?;
        }
        writeln!(f)?;
        let mut attrs: Vec<_> = s.attributes.iter().collect();
        attrs.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, v) in attrs {
            writeln!(f, "{pad}  · {k}={v}")?;
        }
        for (name, attrs) in &s.events {
            write!(f, "{pad}  ! {name}")?;
            let mut attrs: Vec<_> = attrs.iter().collect();
            attrs.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, v) in attrs {
                write!(f, " {k}={v}")?;
            }
            writeln!(f)?;
        }
        for c in self.children(s) {
            self.write(f, c, depth + 1)?;
        }
        Ok(())
    }
}

impl fmt::Display for SpanTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in self.roots() {
            self.write(f, r, 0)?;
        }
        Ok(())
    }
}

/// Set in a child process started by [`isolate!`](crate::isolate): the name of the one test it runs.
const ISOLATED_TEST: &str = crate::config::env::AGENT_TRACE_ISOLATED_TEST;

/// Runs the calling test in a process of its own, as cargo-nextest does. Put it first in a
/// test that calls [`init`](crate::init) or the builder, or that needs tracing off while
/// other tests of the same binary use [`Capture`]: the pipeline, the subscriber and the
/// environment are process-wide, and `cargo test` runs a binary's tests as threads of one
/// process. The test's assertions stay as they are.
///
/// Under nextest, and in the child process it starts, the test body runs where it is;
/// otherwise the body is skipped here and the child's result is the test's result. Works in
/// `#[test]` and `#[tokio::test]` functions returning `()`.
///
/// Why not rusty-fork: its `rusty_fork_test!` wraps whole `#[test]` functions and cannot
/// wrap `#[tokio::test]` ones, and it is told the test's name; `isolate!` finds the name from
/// `std::any::type_name_of_val` of an item declared inside the test. That format is not
/// guaranteed, so the parent requires the child to report exactly `1 passed`: a format
/// change makes the test fail loudly, never pass without running.
///
/// ```no_run
/// #[test]
/// fn exports_to_my_collector() {
///     agent_trace::isolate!();
///     let _guard = agent_trace::init("svc").unwrap();
///     // ...
/// }
/// ```
#[macro_export]
macro_rules! isolate {
    () => {{
        fn __agent_trace_isolate_here() {}
        if !$crate::__private::run_in_own_process(::std::any::type_name_of_val(
            &__agent_trace_isolate_here,
        )) {
            return;
        }
    }};
}

/// What [`isolate!`](crate::isolate) calls: `here` is the type name of a function item
/// declared inside the test (`binary::path::to::test::item`). Returns whether the test body
/// should run in this process; when it starts a child, panics if the child's test failed.
/// Public only through `__private`, for the expansion.
pub(crate) mod own_process {
    use super::*;

    /// See the module docs.
    pub fn run_in_own_process(here: &str) -> bool {
        let name = test_name_of(here);
        let under_nextest = std::env::var("NEXTEST_EXECUTION_MODE").as_deref()
            == Ok("process-per-test")
            || std::env::var_os("NEXTEST_RUN_ID").is_some();
        if under_nextest || std::env::var(ISOLATED_TEST).as_deref() == Ok(name.as_str()) {
            return true;
        }
        let exe = std::env::current_exe().expect("the test binary's path");
        let out = std::process::Command::new(exe)
            .args([name.as_str(), "--exact", "--test-threads=1", "--nocapture"])
            .env(ISOLATED_TEST, &name)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run the test in its own process");
        let stdout = String::from_utf8_lossy(&out.stdout);
        print!("{stdout}");
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        // "1 passed": a name that matched no test must not pass quietly.
        assert!(
            out.status.success() && stdout.contains(" 1 passed"),
            "`{name}` failed in its own process ({})",
            out.status
        );
        false
    }
}

/// The test harness's name for a test, from the type name of an item inside it: the crate
/// (binary) name, `{{closure}}` segments of async bodies and the item itself are left out.
fn test_name_of(here: &str) -> String {
    let mut parts: Vec<&str> = here.split("::").skip(1).collect();
    parts.pop(); // the item
    parts.retain(|s| *s != "{{closure}}");
    parts.join("::")
}

/// Installs a provider for `testing` when nothing else is installed.
fn ensure_test_provider() {
    let _lock = crate::state::INSTALL
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if crate::state::ACTIVE.load().is_some() {
        return;
    }
    if !crate::state::PROPAGATOR_SET.load(std::sync::atomic::Ordering::SeqCst) {
        opentelemetry::global::set_text_map_propagator(
            crate::context::propagation::propagator_for(&[
                crate::Propagator::TraceContext,
                crate::Propagator::Baggage,
            ]),
        );
    }
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_span_processor(CaptureProcessor::default())
        .with_sampler(opentelemetry_sdk::trace::Sampler::AlwaysOn)
        .with_resource(crate::config::resource("test", &[]))
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    crate::state::set_active(Some(std::sync::Arc::new(crate::state::Installed {
        tracer: opentelemetry::trace::TracerProvider::tracer(&provider, "agent-trace"),
        provider,
        service_name: "test".into(),
        #[cfg(feature = "metrics")]
        metrics: None,
        test_only: true,
        head: crate::state::Head::Unknown,
        recorder: None,
        settings: Vec::new(),
        owned: None,
        prices: None,
    })));
}

#[cfg(test)]
mod isolate_tests {
    #[test]
    fn test_names_from_item_paths() {
        assert_eq!(super::test_name_of("bin::my_test::item"), "my_test");
        assert_eq!(
            super::test_name_of("bin::module::my_test::{{closure}}::item"),
            "module::my_test"
        );
    }
}
