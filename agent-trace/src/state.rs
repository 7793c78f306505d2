//! Process-wide state, in one place: whether tracing is on, what is installed (tracer, metric
//! instruments, what the head sampler will decide), the context this process was started in,
//! whether content capture is on, the live guards and the last counts, how many messages
//! arrived without a trace context, which threads are the exporter's, and which span the
//! macros made current last. Every other module reads it from here; it imports nothing else
//! of the crate (`tests/layout.rs` checks), so the rest can be read top-down without cycles.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwapOption;
use opentelemetry::trace::SpanId;
use opentelemetry::Context;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

/// What the macros, carriers and integrations use while tracing is on.
pub(crate) struct Installed {
    pub(crate) tracer: SdkTracer,
    pub(crate) provider: SdkTracerProvider,
    pub(crate) service_name: Arc<str>,
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<Arc<Instruments>>,
    /// Installed by `testing` without `init`: a real `init` replaces it.
    pub(crate) test_only: bool,
    /// What a later `init` must agree with: (setting, value) pairs.
    pub(crate) settings: Vec<(&'static str, String)>,
    /// What the head sampler will surely decide, so a span it drops is started without
    /// building its attributes.
    pub(crate) head: Head,
    /// What `install` keeps for flush, stats and shutdown (the export pipeline, the tail
    /// sampler). Opaque here, so this module depends on neither.
    pub(crate) owned: Option<Arc<dyn Any + Send + Sync>>,
    /// Prices per model, for the cost on model-call and agent spans; `None`: no cost.
    pub(crate) prices: Option<Arc<Prices>>,
    /// agent-trace's own span recording (`span/record.rs`), when the spans go nowhere but
    /// its export pipeline; `None`: the SDK's tracer records them.
    pub(crate) recorder: Option<Recorder>,
}

/// What agent-trace's own span recording needs: the installed sampler, the span limits, and
/// where an ended span goes (the export pipeline's queue).
pub(crate) struct Recorder {
    pub(crate) sampler: Box<dyn opentelemetry_sdk::trace::ShouldSample>,
    /// The sampler is `parentbased_always_on` (the default): its decision is taken here, without
    /// the call, when the parent's trace state has no `ot` entry (which it may rewrite).
    pub(crate) parent_based_always_on: bool,
    pub(crate) limits: opentelemetry_sdk::trace::SpanLimits,
    /// Kept for the life of the process (`install.rs`): a span holds it without a count.
    pub(crate) sink: &'static dyn RecordSink,
}

/// Where ended [`SpanRecord`]s go (the export queue), and emptied ones come back from.
pub(crate) trait RecordSink: Send + Sync {
    /// Queues an ended span; returns an emptied record to fill next, if one is kept.
    fn push(&self, record: Box<SpanRecord>) -> Option<Box<SpanRecord>>;
}

std::thread_local! {
    /// The record this thread fills next (handed back when it queued its last one).
    static NEXT_RECORD: Cell<Option<Box<SpanRecord>>> = const { Cell::new(None) };
}

/// The record this thread fills next: the one kept for it, or a new one.
pub(crate) fn next_record() -> Box<SpanRecord> {
    let kept = NEXT_RECORD.try_with(Cell::take).ok().flatten();
    kept.unwrap_or_else(|| Box::new(SpanRecord::empty()))
}

/// Keeps `record` for this thread's next span.
pub(crate) fn keep_record(record: Box<SpanRecord>) {
    let _ = NEXT_RECORD.try_with(|c| c.set(Some(record)));
}

/// A point in time as a [`SpanRecord`] holds it (`span/clock.rs` reads and converts it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// Wall-clock time: given by the application, or read before the counter was calibrated.
    Wall(std::time::SystemTime),
    /// A reading of [`COUNTER`], made wall-clock time on the export thread.
    Ticks(u64),
}

/// The time-stamp counter and the point its ticks count from (set once, by an export thread).
pub(crate) struct Counter {
    pub(crate) clock: quanta::Clock,
    pub(crate) base_ticks: u64,
    pub(crate) base: std::time::Instant,
}

/// The counter, once calibrated.
pub(crate) static COUNTER: std::sync::OnceLock<Counter> = std::sync::OnceLock::new();

/// How many attributes a [`SpanRecord`] holds without allocating.
pub(crate) const INLINE_ATTRIBUTES: usize = 8;

/// A span's attributes as a [`SpanRecord`] holds them (the first [`INLINE_ATTRIBUTES`] inline).
pub(crate) type Attributes = smallvec::SmallVec<[opentelemetry::KeyValue; INLINE_ATTRIBUTES]>;

/// A sampled span as agent-trace records it on the application thread: what the SDK's span
/// holds, the first [`INLINE_ATTRIBUTES`] attributes inline; the export thread makes the SDK's
/// `SpanData` of it.
#[derive(Debug)]
pub(crate) struct SpanRecord {
    pub(crate) span_context: opentelemetry::trace::SpanContext,
    pub(crate) parent_span_id: SpanId,
    pub(crate) parent_span_is_remote: bool,
    pub(crate) kind: opentelemetry::trace::SpanKind,
    pub(crate) name: std::borrow::Cow<'static, str>,
    pub(crate) start: Stamp,
    pub(crate) end: Stamp,
    /// An `execute_tool` span's tool: its four attributes go first, made on the export thread.
    pub(crate) tool: Option<&'static str>,
    /// `tool.success=true`, set as the span ended: made last on the export thread.
    pub(crate) tool_success: bool,
    pub(crate) attributes: Attributes,
    pub(crate) dropped_attributes: u32,
    pub(crate) events: Vec<opentelemetry::trace::Event>,
    pub(crate) dropped_events: u32,
    pub(crate) links: Vec<opentelemetry::trace::Link>,
    pub(crate) dropped_links: u32,
    pub(crate) status: opentelemetry::trace::Status,
}

impl SpanRecord {
    /// A record to fill.
    pub(crate) fn empty() -> SpanRecord {
        SpanRecord {
            span_context: opentelemetry::trace::SpanContext::empty_context(),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            kind: opentelemetry::trace::SpanKind::Internal,
            name: std::borrow::Cow::Borrowed(""),
            start: Stamp::Wall(std::time::SystemTime::UNIX_EPOCH),
            end: Stamp::Wall(std::time::SystemTime::UNIX_EPOCH),
            tool: None,
            tool_success: false,
            attributes: Attributes::new(),
            dropped_attributes: 0,
            events: Vec::new(),
            dropped_events: 0,
            links: Vec::new(),
            dropped_links: 0,
            status: opentelemetry::trace::Status::Unset,
        }
    }
}

/// Prices per token of the models an application calls: with them, each model-call span
/// records its cost (`agent_trace.usage.cost`) and each `invoke_agent` span the cost of the
/// model calls that agent made itself. Read from a file in LiteLLM's format
/// (`AGENT_TRACE_PRICES`, or [`Prices::from_litellm_json`]) or built in code; agent-trace
/// has no prices of its own, which would go stale. A model without a price gets no cost
/// (and one WARN), never a wrong number.
///
/// ```
/// use agent_trace::{ModelPrice, Prices};
///
/// let prices = Prices::new()
///     .with_model("local-7b", ModelPrice::per_token(0.000_000_1, 0.000_000_2));
/// let _guard = agent_trace::builder().prices(prices).install();
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prices {
    pub(crate) models: std::collections::HashMap<String, ModelPrice>,
}

/// What one model costs per token, in the currency of its source (USD for LiteLLM's file).
/// Cached input tokens are priced at `cache_read` and `cache_write` when given, else as
/// other input tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ModelPrice {
    /// Per input token (not read from or written to a cache).
    pub input: f64,
    /// Per output token (reasoning tokens included, as the providers count them).
    pub output: f64,
    /// Per input token read from the provider's prompt cache.
    pub cache_read: Option<f64>,
    /// Per input token written to the provider's prompt cache.
    pub cache_write: Option<f64>,
}

/// Models that had no price, each warned about once (at most 256 remembered, so a stream of
/// odd model names cannot grow it without bound).
pub(crate) static UNPRICED: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[cfg(feature = "metrics")]
/// The instruments, made once per pipeline.
#[derive(Debug)]
pub(crate) struct Instruments {
    pub(crate) provider: opentelemetry_sdk::metrics::SdkMeterProvider,
    pub(crate) inference_calls: opentelemetry::metrics::Histogram<u64>,
    pub(crate) tool_calls: opentelemetry::metrics::Histogram<u64>,
    pub(crate) inference_duration: opentelemetry::metrics::Histogram<f64>,
    pub(crate) input_tokens: opentelemetry::metrics::Counter<u64>,
    pub(crate) output_tokens: opentelemetry::metrics::Counter<u64>,
    pub(crate) time_to_first_chunk: opentelemetry::metrics::Histogram<f64>,
    pub(crate) time_per_output_chunk: opentelemetry::metrics::Histogram<f64>,
    pub(crate) operation_duration: opentelemetry::metrics::Histogram<f64>,
    pub(crate) tool_duration: opentelemetry::metrics::Histogram<f64>,
    pub(crate) invocation_duration: opentelemetry::metrics::Histogram<f64>,
    #[cfg_attr(not(feature = "rmcp"), allow(dead_code))]
    pub(crate) mcp_client_duration: opentelemetry::metrics::Histogram<f64>,
    #[cfg_attr(not(feature = "rmcp"), allow(dead_code))]
    pub(crate) mcp_server_duration: opentelemetry::metrics::Histogram<f64>,
}

/// The installed head sampler, as far as a span's fate can be known before the SDK's
/// sampler runs (`span/head.rs` holds the fast paths that read it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Head {
    /// Every span is sampled (or the decision needs more than is known here).
    Unknown,
    /// `always_off`: nothing is sampled.
    Off,
    /// `parentbased_*`: a child follows its parent; `root_off` for `parentbased_always_off`.
    ParentBased { root_off: bool },
    /// A ratio of the trace id decides roots (`traceidratio`, `probability`), here, from a
    /// trace id drawn here; with `parent_based` a child follows its parent.
    Ratio { rule: RootRule, parent_based: bool },
}

/// How a ratio sampler decides a root from its trace id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RootRule {
    /// OpenTelemetry's `TraceIdRatioBased`: kept when the low 63 bits of the trace id's low
    /// half are under `bound` (`ratio * 2^63`), or always with a ratio of 1 or more.
    TraceIdRatio { bound: u64, all: bool },
    /// Consistent probability: kept when the trace id's 56 low bits reach the threshold
    /// (`2^56`: never).
    Threshold(u64),
}

std::thread_local! {
    /// The trace id the next root span started on this thread gets from the SDK (the id
    /// generator `init` installs reads it): set by the root fast path after it drew the id and
    /// decided the root is kept, so the SDK's sampler decides on the same id.
    static PRESET_TRACE_ID: Cell<Option<opentelemetry::trace::TraceId>> = const { Cell::new(None) };
}

std::thread_local! {
    /// The state of this thread's id generator for the spans the fast paths make (splitmix64,
    /// seeded from the SDK's random generator on first use).
    static ID_STATE: Cell<u64> = const { Cell::new(0) };
}

/// A random 64-bit number from this thread's generator (splitmix64: every value once per
/// period, uniform bits; seeded from the operating system's randomness through the SDK's
/// `RandomIdGenerator`). Never 0, so an id made of it is valid.
pub(crate) fn random_u64() -> u64 {
    ID_STATE
        .try_with(|s| {
            let mut x = s.get();
            if x == 0 {
                use opentelemetry_sdk::trace::{IdGenerator as _, RandomIdGenerator};
                x = u64::from_be_bytes(RandomIdGenerator::default().new_span_id().to_bytes());
            }
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            s.set(x);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        })
        .ok()
        .filter(|v| *v != 0)
        .unwrap_or(0x5851_f42d_4c95_7f2d)
}

/// Takes the trace id preset for the next root started on this thread.
pub(crate) fn take_preset_trace_id() -> Option<opentelemetry::trace::TraceId> {
    PRESET_TRACE_ID.try_with(Cell::take).ok().flatten()
}

/// Sets (or, with `None`, clears) the trace id of the next root started on this thread.
pub(crate) fn preset_trace_id(id: Option<opentelemetry::trace::TraceId>) {
    let _ = PRESET_TRACE_ID.try_with(|c| c.set(id));
}

/// The SDK id generator `init` installs: the preset trace id when there is one, random ids
/// otherwise (the SDK's `RandomIdGenerator`).
#[derive(Debug, Default)]
pub(crate) struct PresetIds;

impl opentelemetry_sdk::trace::IdGenerator for PresetIds {
    fn new_trace_id(&self) -> opentelemetry::trace::TraceId {
        use opentelemetry_sdk::trace::RandomIdGenerator;
        take_preset_trace_id().unwrap_or_else(|| RandomIdGenerator::default().new_trace_id())
    }

    fn new_span_id(&self) -> SpanId {
        opentelemetry_sdk::trace::RandomIdGenerator::default().new_span_id()
    }
}

/// `None` while tracing is off.
pub(crate) static ACTIVE: ArcSwapOption<Installed> = ArcSwapOption::const_empty();

/// Whether tracing is on (`ACTIVE.is_some()`), off, or was never set up (no `init` yet): the
/// macros' fast path is this one relaxed load (an `ArcSwap` load costs tens of nanoseconds;
/// measured in `benches/interleaved.rs`).
pub(crate) static TRACING: AtomicU8 = AtomicU8::new(NEVER_SET_UP);
/// [`TRACING`]: no `init` ran yet (and no note about it was given).
pub(crate) const NEVER_SET_UP: u8 = 0;
/// [`TRACING`]: off.
pub(crate) const OFF: u8 = 1;
/// [`TRACING`]: on.
pub(crate) const ON: u8 = 2;

/// Whether tracing is on.
#[inline(always)]
pub(crate) fn enabled() -> bool {
    TRACING.load(Ordering::Relaxed) == ON
}

/// Records that an `init` ran (tracing on or off): no note about a missing one.
pub(crate) fn init_seen() {
    let _ = TRACING.compare_exchange(NEVER_SET_UP, OFF, Ordering::SeqCst, Ordering::Relaxed);
}

/// Says, once per process, that a traced function ran before any `init`: through `tracing`
/// when the application has a subscriber, else on stderr (nothing else would show it).
#[cold]
#[inline(never)]
pub(crate) fn note_no_init() {
    if TRACING
        .compare_exchange(NEVER_SET_UP, OFF, Ordering::SeqCst, Ordering::Relaxed)
        .is_err()
    {
        return;
    }
    warn(
        "agent-trace: a traced function ran before agent_trace::init (or \
         builder().install()) was called, so its span is not recorded; call init at start-up \
         (docs/troubleshooting.md: \"No traces, or my trace is split in two\")",
    );
}

/// A warning the user must see: through `tracing` when the application has a subscriber,
/// else on stderr (nothing else would show it).
#[cold]
pub(crate) fn warn(message: &str) {
    if tracing::dispatcher::has_been_set() {
        tracing::warn!(target: "agent_trace", "{message}");
    } else {
        eprintln!("{message}");
    }
}

/// Held while a pipeline is installed or removed.
pub(crate) static INSTALL: Mutex<()> = Mutex::new(());

/// Whether `init` set the global propagator (a test provider then leaves it alone).
pub(crate) static PROPAGATOR_SET: AtomicBool = AtomicBool::new(false);

/// The trace context this process was started in (`TRACEPARENT` from its parent process),
/// used as the parent of spans that have no other parent.
pub(crate) static PROCESS_PARENT: ArcSwapOption<Context> = ArcSwapOption::const_empty();

/// Mirrors `PROCESS_PARENT.is_some()`, so a root span in a process without one pays a relaxed
/// load instead of an `ArcSwap` load.
pub(crate) static HAS_PROCESS_PARENT: AtomicBool = AtomicBool::new(false);

/// Sets the process parent.
pub(crate) fn set_process_parent(cx: Context) {
    PROCESS_PARENT.store(Some(Arc::new(cx)));
    HAS_PROCESS_PARENT.store(true, Ordering::SeqCst);
}

/// Sets (or clears) the active pipeline; callers hold [`INSTALL`].
pub(crate) fn set_active(installed: Option<Arc<Installed>>) -> Option<Arc<Installed>> {
    let enabled = installed.is_some();
    let old = ACTIVE.swap(installed);
    TRACING.store(if enabled { ON } else { OFF }, Ordering::SeqCst);
    old
}

/// The process parent, or an empty context.
#[cfg_attr(not(feature = "rmcp"), allow(dead_code))]
pub(crate) fn process_parent() -> Context {
    match PROCESS_PARENT.load().as_ref() {
        Some(p) => Context::clone(p),
        None => Context::new(),
    }
}

std::thread_local! {
    static EXPORT_THREAD: Cell<bool> = const { Cell::new(false) };

    /// The agent-trace spans current on this thread, outermost first: id and (when it is a
    /// static name) name. `tracing` events are recorded on the last one when it is also the
    /// innermost OpenTelemetry span (no `tracing` span entered inside it), and JSON log lines
    /// list them under `spans`.
    static OURS: RefCell<Vec<(SpanId, Option<&'static str>)>> = const { RefCell::new(Vec::new()) };

    /// Set while agent-trace formats a user's value (`Debug`/`Display`) inside
    /// `catch_unwind`: a panic there is contained, so the panic hook stays silent for it.
    static FORMATTING: Cell<bool> = const { Cell::new(false) };
}

/// The spans that are open (started, recording, not yet ended) anywhere in the process, with
/// whether each is a tool's: what the panic hook ends before a `panic = "abort"` process
/// aborts. A slab: a span keeps its slot index, so registering and ending one are O(1).
/// Only compiled with `panic = "abort"`; with unwinding the spans end as the panic unwinds.
#[cfg(panic = "abort")]
static OPEN: Mutex<OpenSpans> = Mutex::new(OpenSpans {
    slots: Vec::new(),
    free: Vec::new(),
});

#[cfg(panic = "abort")]
struct OpenSpans {
    slots: Vec<Option<(Context, bool)>>,
    free: Vec<usize>,
}

/// Notes an open span; returns its slot for [`close_open`].
#[cfg(panic = "abort")]
pub(crate) fn register_open(cx: Context, tool: bool) -> usize {
    let mut open = OPEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match open.free.pop() {
        Some(slot) => {
            open.slots[slot] = Some((cx, tool));
            slot
        }
        None => {
            open.slots.push(Some((cx, tool)));
            open.slots.len() - 1
        }
    }
}

/// Forgets the span of `slot` (it ended).
#[cfg(panic = "abort")]
pub(crate) fn close_open(slot: usize) {
    let mut open = OPEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(s) = open.slots.get_mut(slot) {
        if s.take().is_some() {
            open.free.push(slot);
        }
    }
}

/// Takes every open span (the panic hook ends them). A lock held elsewhere is waited for a
/// bounded number of tries, so a panic inside the registry itself cannot hang the hook.
#[cfg(panic = "abort")]
pub(crate) fn take_open() -> Vec<(Context, bool)> {
    for _ in 0..1000 {
        let guard = match OPEN.try_lock() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        };
        if let Some(mut open) = guard {
            open.free.clear();
            return std::mem::take(&mut open.slots)
                .into_iter()
                .flatten()
                .collect();
        }
        std::thread::sleep(std::time::Duration::from_micros(100));
    }
    Vec::new()
}

std::thread_local! {
    /// The message of the panic this thread is unwinding from, set by the panic hook: a span
    /// dropped while it unwinds records it (`error.type=panic`), not a cancellation.
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Keeps the message of the panic this thread is about to unwind from (with `panic = "abort"`
/// nothing unwinds, so nothing reads it).
#[cfg_attr(panic = "abort", allow(dead_code))]
pub(crate) fn set_panic_message(message: String) {
    let _ = PANIC_MESSAGE.try_with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            *m = Some(message);
        }
    });
}

/// The message of the panic this thread is unwinding from, when the hook saw it.
pub(crate) fn panic_message_of_thread() -> Option<String> {
    PANIC_MESSAGE
        .try_with(|m| m.try_borrow().ok().and_then(|m| m.clone()))
        .ok()
        .flatten()
}

/// Runs `f` with this thread marked as formatting a user's value (see `FORMATTING`).
pub(crate) fn while_formatting<R>(f: impl FnOnce() -> R) -> R {
    let was = FORMATTING.with(|c| c.replace(true));
    let r = f();
    FORMATTING.with(|c| c.set(was));
    r
}

/// Whether this thread is formatting a user's value right now.
pub(crate) fn formatting() -> bool {
    FORMATTING.try_with(Cell::get).unwrap_or(false)
}

/// Marks the calling thread as one of the export pipeline's: nothing it does is traced.
pub(crate) fn mark_export_thread() {
    EXPORT_THREAD.with(|c| c.set(true));
}

/// Whether the calling thread is one of the export pipeline's.
#[inline]
pub(crate) fn in_export_thread() -> bool {
    EXPORT_THREAD.with(Cell::get)
}

/// Marks `id` as the innermost agent-trace span of this thread, until [`pop_ours`].
#[inline]
pub(crate) fn push_ours(id: SpanId, name: Option<&'static str>) {
    OURS.with(|v| {
        if let Ok(mut v) = v.try_borrow_mut() {
            v.push((id, name));
        }
    });
}

/// Undoes the last [`push_ours`].
#[inline]
pub(crate) fn pop_ours() {
    OURS.with(|v| {
        if let Ok(mut v) = v.try_borrow_mut() {
            v.pop();
        }
    });
}

/// The innermost agent-trace span of this thread, if any.
#[inline]
pub(crate) fn innermost() -> Option<SpanId> {
    OURS.with(|v| {
        v.try_borrow()
            .ok()
            .and_then(|v| v.last().map(|(id, _)| *id))
    })
}

/// Calls `f` with this thread's current agent-trace spans, outermost first.
pub(crate) fn with_ours<R>(f: impl FnOnce(&[(SpanId, Option<&'static str>)]) -> R) -> R {
    OURS.with(|v| match v.try_borrow() {
        Ok(v) => f(v.as_slice()),
        Err(_) => f(&[]),
    })
}

/// Whether prompt, completion, tool arguments and results may be recorded
/// (`OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`, `Builder::capture_message_content`).
static CAPTURE_MESSAGE_CONTENT: AtomicBool = AtomicBool::new(false);

/// Whether message content may be recorded.
#[inline]
pub(crate) fn capture_message_content() -> bool {
    CAPTURE_MESSAGE_CONTENT.load(Ordering::Relaxed)
}

/// Set by `install` from the resolved configuration.
pub(crate) fn set_capture_message_content(on: bool) {
    CAPTURE_MESSAGE_CONTENT.store(on, Ordering::Relaxed);
}

/// Whether libraries' `tracing` spans may start traces of their own
/// (`AGENT_TRACE_LIBRARY_ROOT_SPANS`); off by default.
pub(crate) static LIBRARY_ROOT_SPANS: AtomicBool = AtomicBool::new(false);

/// Whether bridged `tracing` spans keep thread ids, busy/idle times and absolute source
/// paths (`AGENT_TRACE_BRIDGE_DETAILS`); off by default. Read when the bridge layer is made.
pub(crate) static BRIDGE_DETAILS: AtomicBool = AtomicBool::new(false);

/// How many `TraceGuard`s are alive: the last one to drop shuts the pipeline down.
pub(crate) static GUARDS: AtomicUsize = AtomicUsize::new(0);

/// The most recent counts, kept after shutdown so they can be reported.
pub(crate) static LAST_STATS: Mutex<Option<ExportStats>> = Mutex::new(None);

/// The `tracing` to OpenTelemetry logs bridge of the installed logger provider, which the
/// subscriber's log-records layer hands each event to (feature `logs`).
#[cfg(feature = "logs")]
pub(crate) struct LogBridge {
    pub(crate) bridge: opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge<
        opentelemetry_sdk::logs::SdkLoggerProvider,
        opentelemetry_sdk::logs::SdkLogger,
    >,
    pub(crate) counts: Arc<LogCounts>,
    /// A logger of the same provider, for the GenAI events agent-trace emits itself.
    pub(crate) logger: opentelemetry_sdk::logs::SdkLogger,
}

/// The installed logs bridge; `None` while the logs signal is off.
#[cfg(feature = "logs")]
pub(crate) static LOG_BRIDGE: ArcSwapOption<LogBridge> = ArcSwapOption::const_empty();

/// The log counts of the last logger provider, kept after its shutdown.
pub(crate) static LAST_LOG_STATS: Mutex<Option<LogStats>> = Mutex::new(None);

/// What became of the log records of one logger provider, as they happen.
#[derive(Debug, Default)]
#[cfg(feature = "logs")]
pub(crate) struct LogCounts {
    pub(crate) emitted: AtomicU64,
    pub(crate) exported: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) lost: AtomicU64,
}

#[cfg(feature = "logs")]
impl LogCounts {
    /// After shutdown: every record neither exported nor failed was lost (dropped from a full
    /// queue, or still queued when the budget ran out).
    pub(crate) fn settle(&self) {
        let s = self.stats();
        let lost = s.emitted.saturating_sub(s.exported + s.failed);
        self.lost.store(lost, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> LogStats {
        LogStats {
            emitted: self.emitted.load(Ordering::Relaxed),
            exported: self.exported.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
        }
    }
}

/// Counts of the log records (the logs signal, `OTEL_LOGS_EXPORTER`) since the logger
/// provider started: `emitted` handed to it, `exported` acknowledged by the collector (or
/// printed), `failed` in batches whose export failed. `lost` is known at shutdown: records
/// dropped from a full queue or still queued when the shutdown budget ran out; after it,
/// `emitted == exported + failed + lost`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogStats {
    /// Records handed to the logger provider.
    pub emitted: u64,
    /// Records the collector acknowledged (or the console printed).
    pub exported: u64,
    /// Records in batches whose export failed.
    pub failed: u64,
    /// Records that never left (known at shutdown).
    pub lost: u64,
}

/// Messages consumed that carried no usable trace context (`carriers::envelope::untraced_count`).
pub(crate) static UNTRACED: AtomicU64 = AtomicU64::new(0);

/// Counts of what happened to the spans this process ended, since the pipeline started.
///
/// `ended == exported + dropped() + pending + sampled_out` holds in every snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportStats {
    /// Sampled spans that ended and reached the pipeline.
    pub ended: u64,
    /// Spans the collector acknowledged (or the console printed).
    pub exported: u64,
    /// Spans dropped because the queue was full.
    pub dropped_queue_full: u64,
    /// Spans in batches whose export failed for good (after retries, on timeout, or on panic).
    pub failed: u64,
    /// Spans still queued when shutdown gave up waiting.
    pub lost_at_shutdown: u64,
    /// Spans queued or being exported right now.
    pub pending: u64,
    /// Spans left out on purpose by tail sampling (not a loss).
    pub sampled_out: u64,
    /// Exported spans that carried a sampling threshold (`ot=th:...` in their trace state):
    /// kept by a consistent probability sampler, here or upstream. Spans kept otherwise
    /// (always on, failed or slow ones a tail sampler kept) carry none.
    pub exported_with_threshold: u64,
    /// The sum of the adjusted counts of those spans (each `2^56 / (2^56 - T)` for its
    /// threshold `T`), rounded: an unbiased estimate of how many spans they stand for before
    /// probability sampling, for span-to-metrics counts. For a batch the collector rejected in
    /// part, both are counted in proportion to the spans it accepted.
    pub adjusted_count: u64,
}

impl ExportStats {
    /// All spans that will never reach the collector.
    pub fn dropped(&self) -> u64 {
        self.dropped_queue_full + self.failed + self.lost_at_shutdown
    }

    /// True when every span that ended was exported (or left out on purpose by tail sampling).
    pub fn all_delivered(&self) -> bool {
        self.exported + self.sampled_out == self.ended
    }
}
