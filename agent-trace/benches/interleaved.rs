//! Cost per call of a traced function beside its baselines, in **interleaved rounds**: each
//! round runs every case once (in a rotated order), so a slow phase of a shared machine lands
//! on all cases alike; the table gives the median over the rounds and the spread (min–max),
//! and each ratio is taken within a round, then summarised the same way.
//!
//! Like with like: both pipelines are installed side by side with the same five attributes,
//! the same 1,048,576-span queue and 512-span batches, and an exporter that discards and
//! counts. After each sampled case both are flushed (outside the timing) and the spans that
//! reached the exporter are compared with the spans made: **the run fails if either side
//! dropped a span**.
//!
//! Anchors in the same rounds: fastrace (100 spans per root: 99 local spans with the same five
//! properties under one root, into a discarding reporter; the per-span cost the fastest Rust
//! tracer reaches) and `#[tracing::instrument]` with tracing-opentelemetry into its own SDK
//! pipeline (same queue), and a floor: a span of no work made current in OpenTelemetry's
//! context with two clock reads, what any tracer that makes its spans current pays. A third
//! phase compares an unsampled root: ours under
//! `parentbased_probability` at a ratio that drops every root, against the SDK's `AlwaysOff`.
//!
//! Run: `cargo bench -p agent-trace-otel --bench interleaved` (`ROUNDS`, `CALLS` to change
//! the defaults: 11 rounds, 20,000 calls per sampled case; `ONLY=ours` or `ONLY=sdk` runs
//! just that sampled case, for a profiler, `ONLY=ours-unsampled` or `ONLY=sdk-unsampled`
//! the not-sampled one, `ONLY=ours-root` the unsampled root).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[path = "common/anchors.rs"]
mod anchors;
mod common;
#[path = "common/hand_written.rs"]
mod hand_written;

use agent_trace::traced_tool;
use anchors::{instrumented, FastraceDiscard};
use common::{env_number, rounds, summary};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanData, SpanExporter};

const QUEUE: usize = 1 << 20;

#[inline(never)]
fn plain(x: u64) -> Result<u64, std::io::Error> {
    Ok(x.wrapping_mul(31))
}

#[traced_tool(name = "bench")]
#[inline(never)]
fn traced(x: u64) -> Result<u64, std::io::Error> {
    Ok(x.wrapping_mul(31))
}

async fn plain_async(x: u64) -> Result<u64, std::io::Error> {
    Ok(x.wrapping_mul(31))
}

#[traced_tool(name = "bench")]
async fn traced_async(x: u64) -> Result<u64, std::io::Error> {
    Ok(x.wrapping_mul(31))
}

/// Spans each side's exporter received.
static OURS_EXPORTED: AtomicU64 = AtomicU64::new(0);
static SDK_EXPORTED: AtomicU64 = AtomicU64::new(0);
static BRIDGE_EXPORTED: AtomicU64 = AtomicU64::new(0);
static FASTRACE_EXPORTED: AtomicU64 = AtomicU64::new(0);

/// A fastrace local span with the same five properties, under the current local parent.
#[inline(never)]
fn fastrace_span(x: u64) -> Result<u64, std::io::Error> {
    use fastrace::local::LocalSpan;
    let _span = LocalSpan::enter_with_local_parent("execute_tool bench").with_properties(|| {
        [
            ("gen_ai.operation.name", "execute_tool"),
            ("gen_ai.tool.name", "bench"),
            ("gen_ai.tool.type", "function"),
            ("tool.name", "bench"),
        ]
    });
    let r = plain(x);
    LocalSpan::add_property(|| ("tool.success", if r.is_ok() { "true" } else { "false" }));
    r
}

/// The least a span made current in OpenTelemetry's context costs, whatever records it: the
/// current context, a span of no work put in a new context (the API boxes it and shares the
/// context), attaching and detaching it, and the two wall-clock reads of a start and an end.
/// Nothing is recorded or exported: a floor, not a tracer.
#[derive(Debug)]
struct FloorSpan(SpanContext);

impl opentelemetry::trace::Span for FloorSpan {
    fn add_event_with_timestamp<T>(&mut self, _: T, _: std::time::SystemTime, _: Vec<KeyValue>)
    where
        T: Into<std::borrow::Cow<'static, str>>,
    {
    }
    fn span_context(&self) -> &SpanContext {
        &self.0
    }
    fn is_recording(&self) -> bool {
        true
    }
    fn set_attribute(&mut self, _: KeyValue) {}
    fn set_status(&mut self, _: opentelemetry::trace::Status) {}
    fn update_name<T>(&mut self, _: T)
    where
        T: Into<std::borrow::Cow<'static, str>>,
    {
    }
    fn add_link(&mut self, _: SpanContext, _: Vec<KeyValue>) {}
    fn end_with_timestamp(&mut self, t: std::time::SystemTime) {
        black_box(t);
    }
}

#[inline(never)]
fn context_floor(x: u64) -> Result<u64, std::io::Error> {
    let start = black_box(std::time::SystemTime::now());
    let sc = SpanContext::new(
        TraceId::from(u128::from(x) | 1 << 64),
        SpanId::from(x | 1),
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    );
    let cx = Context::current().with_span(FloorSpan(sc));
    let g = cx.clone().attach();
    let r = plain(x);
    drop(g);
    cx.span().end();
    black_box(start);
    r
}

/// Nanoseconds per span of fastrace at 100 spans per root (the root counted), over about
/// `n` spans; returns (ns, spans made).
fn time_fastrace(n: u64) -> (f64, u64) {
    let roots = n.div_ceil(100);
    let start = Instant::now();
    for r in 0..roots {
        let root = fastrace::Span::root("root", fastrace::prelude::SpanContext::random());
        let _g = root.set_local_parent();
        for i in 0..99 {
            let _ = black_box(fastrace_span(black_box(r * 100 + i)));
        }
    }
    let made = roots * 100;
    (start.elapsed().as_nanos() as f64 / made as f64, made)
}

/// A probability sampler that drops every root (2^-56, the smallest probability).
const DROPS_EVERY_ROOT: agent_trace::Sampler =
    agent_trace::Sampler::ParentBasedProbability(1.0 / (1u64 << 56) as f64);

/// Ours, with `sampler`, the bench's queue and batch sizes and the discarding exporter.
fn install_ours(sampler: agent_trace::Sampler) -> agent_trace::TraceGuard {
    anchors::ours_builder(sampler, QUEUE)
        .metrics(false)
        .span_exporter(Discard(&OURS_EXPORTED))
        .install()
        .expect("install")
}

fn discarding_provider(
    counter: &'static AtomicU64,
    sampler: opentelemetry_sdk::trace::Sampler,
) -> SdkTracerProvider {
    anchors::sdk_provider(Discard(counter), sampler, QUEUE)
}

/// Flushes `provider` and fails the run if it did not export the `made` spans.
fn check_sdk(name: &str, provider: &SdkTracerProvider, counter: &AtomicU64, made: u64) {
    let _ = provider.force_flush();
    let exported = counter.load(Ordering::Relaxed);
    assert_eq!(exported, made, "{name} dropped {} spans", made - exported);
}

#[derive(Debug)]
struct Discard(&'static AtomicU64);
impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        drop(black_box(batch));
        Ok(())
    }
}

/// The same span as `#[traced_tool(name = "bench")]` writes, by hand against the SDK.
#[inline(never)]
fn hand_written(tracer: &SdkTracer, x: u64) -> Result<u64, std::io::Error> {
    let cx = hand_written::start(tracer);
    let _g = cx.clone().attach();
    let r = plain(x);
    cx.span()
        .set_attribute(KeyValue::new("tool.success", r.is_ok()));
    cx.span().end();
    r
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// Nanoseconds per call of `f`, over `n` calls.
fn time(n: u64, mut f: impl FnMut(u64) -> Result<u64, std::io::Error>) -> f64 {
    let start = Instant::now();
    for i in 0..n {
        let _ = black_box(f(black_box(i)));
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

fn print_row(name: &str, values: &[f64]) {
    let (med, lo, hi) = summary(values);
    println!("| {name} | {med:.1} ns | {lo:.1}–{hi:.1} ns |");
}

fn print_ratio(name: &str, target: &str, ratios: &[f64]) {
    let (med, lo, hi) = summary(ratios);
    println!("| {name} | **{med:.2}x** | {lo:.2}–{hi:.2}x | {target} |");
}

fn main() {
    let n_rounds = env_number("ROUNDS", 11).max(3);
    let calls = env_number("CALLS", 20_000);
    let fast_calls = calls * 100;
    println!("interleaved rounds: {n_rounds} (+1 warm-up), {calls} calls per sampled case, {fast_calls} per fast case");
    let round_trip_before = common::core_round_trip_ns();
    println!("core-to-core round trip before the rounds: {round_trip_before:.0} ns (cases with a background thread move with it)\n");

    // Tracing off: the macro against a plain call.
    let off = agent_trace::builder()
        .service_name("bench")
        .install_subscriber(false)
        .env(|_| None)
        .install()
        .expect("install");
    assert!(!agent_trace::is_enabled());
    let profiling = std::env::var("ONLY").is_ok();
    // (Not run when profiling one case: its profile holds that case only.)
    let off_rows = if profiling {
        Vec::new()
    } else {
        rounds(
            n_rounds,
            [
                &mut || time(fast_calls, plain),
                &mut || time(fast_calls, traced),
                &mut || time(fast_calls, |x| block_on(plain_async(x))),
                &mut || time(fast_calls, |x| block_on(traced_async(x))),
            ],
        )
    };
    drop(off);

    // Tracing on: ours and the SDK's, installed side by side, parent-based samplers.
    let _ours = install_ours(agent_trace::Sampler::ParentBasedAlwaysOn);
    use opentelemetry_sdk::trace::Sampler;
    let parent_based = || Sampler::ParentBased(Box::new(Sampler::AlwaysOn));
    let sdk = discarding_provider(&SDK_EXPORTED, parent_based());
    let tracer = sdk.tracer("bench");
    let bridge = discarding_provider(&BRIDGE_EXPORTED, parent_based());
    let bridge_subscriber = {
        use tracing_subscriber::layer::SubscriberExt as _;
        std::sync::Arc::new(
            tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(bridge.tracer("bridge"))),
        )
    };
    fastrace::set_reporter(
        FastraceDiscard(&FASTRACE_EXPORTED),
        fastrace::collector::Config::default(),
    );
    // An incoming parent that was not sampled: both sides drop its children.
    let unsampled = Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(0x4bf92f3577b34da6a3ce929d0e0e4736u128),
        SpanId::from(0x00f067aa0ba902b7u64),
        TraceFlags::default(),
        true,
        TraceState::default(),
    ));
    // `ONLY=ours` / `ONLY=sdk`: just that sampled case, for a profiler (`perf record`,
    // `valgrind --tool=callgrind`), with no other on-case in the process's profile;
    // `ONLY=ours-unsampled` / `ONLY=sdk-unsampled`: the not-sampled case.
    if let Ok(only) = std::env::var("ONLY") {
        let n = calls * n_rounds;
        if only == "ours-root" {
            drop(_ours);
            let _ours = install_ours(DROPS_EVERY_ROOT);
            let ns = time(n, traced);
            println!("{only}: {n} calls, {ns:.1} ns each");
            return;
        }
        let _g = only
            .ends_with("-unsampled")
            .then(|| unsampled.clone().attach());
        let ns = match only.trim_end_matches("-unsampled") {
            "ours" => time(n, traced),
            _ => time(n, |x| hand_written(&tracer, x)),
        };
        let _ = agent_trace::force_flush(Duration::from_secs(60));
        let _ = sdk.force_flush();
        println!("{only}: {n} calls, {ns:.1} ns each");
        return;
    }
    let (mut ours_made, mut sdk_made, mut bridge_made, mut fastrace_made) =
        (0u64, 0u64, 0u64, 0u64);
    let check_ours = |made: &mut u64| {
        *made += calls;
        let _ = agent_trace::force_flush(Duration::from_secs(60));
        let exported = OURS_EXPORTED.load(Ordering::Relaxed);
        assert_eq!(exported, *made, "ours dropped {} spans", *made - exported);
    };
    let on_rows = rounds(
        n_rounds,
        [
            &mut || {
                let t = time(calls, traced);
                check_ours(&mut ours_made);
                t
            },
            &mut || {
                let t = time(calls, |x| hand_written(&tracer, x));
                sdk_made += calls;
                check_sdk("the SDK", &sdk, &SDK_EXPORTED, sdk_made);
                t
            },
            &mut || {
                let _g = unsampled.clone().attach();
                time(calls, traced)
            },
            &mut || {
                let _g = unsampled.clone().attach();
                time(calls, |x| hand_written(&tracer, x))
            },
            &mut || {
                let (t, made) = time_fastrace(calls);
                fastrace_made += made;
                fastrace::flush();
                let exported = FASTRACE_EXPORTED.load(Ordering::Relaxed);
                assert_eq!(
                    exported,
                    fastrace_made,
                    "fastrace dropped {} spans",
                    fastrace_made - exported
                );
                t
            },
            &mut || time(calls, context_floor),
            &mut || {
                let d = tracing::Dispatch::from(bridge_subscriber.clone());
                let t = tracing::dispatcher::with_default(&d, || time(calls, instrumented));
                bridge_made += calls;
                check_sdk("the tracing bridge", &bridge, &BRIDGE_EXPORTED, bridge_made);
                t
            },
        ],
    );
    let stats = agent_trace::export_stats();
    assert_eq!(stats.dropped(), 0, "{stats:?}");
    drop(_ours);

    // Unsampled roots: ours under a probability sampler that drops every root (2^-56, the
    // smallest probability: one root in 2^56), against the SDK's `AlwaysOff` span.
    let _ours = install_ours(DROPS_EVERY_ROOT);
    let off_sdk = discarding_provider(&SDK_EXPORTED, Sampler::AlwaysOff);
    let off_tracer = off_sdk.tracer("bench");
    let root_rows = rounds(
        n_rounds,
        [&mut || time(calls, traced), &mut || {
            time(calls, |x| hand_written(&off_tracer, x))
        }],
    );
    assert_eq!(agent_trace::export_stats().ended, 0, "no root was sampled");

    println!("| case | median | spread (min–max) |\n|---|---:|---:|");
    fn col<const N: usize>(rows: &[[f64; N]], i: usize) -> Vec<f64> {
        rows.iter().map(|r| r[i]).collect()
    }
    print_row("plain function", &col(&off_rows, 0));
    print_row("`#[traced_tool]`, tracing off", &col(&off_rows, 1));
    print_row("async fn, no tracing", &col(&off_rows, 2));
    print_row("async `#[traced_tool]`, tracing off", &col(&off_rows, 3));
    print_row("`#[traced_tool]`, sampled", &col(&on_rows, 0));
    print_row("hand-written SDK span, sampled", &col(&on_rows, 1));
    print_row(
        "`#[traced_tool]`, not sampled (parent not sampled)",
        &col(&on_rows, 2),
    );
    print_row("hand-written SDK span, not sampled", &col(&on_rows, 3));
    print_row("fastrace, 100 spans per root (per span)", &col(&on_rows, 4));
    print_row(
        "floor: a span of no work made current in OpenTelemetry's context, two clock reads",
        &col(&on_rows, 5),
    );
    print_row(
        "`#[tracing::instrument]` + tracing-opentelemetry",
        &col(&on_rows, 6),
    );
    print_row(
        "`#[traced_tool]`, unsampled root (probability sampler)",
        &col(&root_rows, 0),
    );
    print_row("hand-written SDK span, `AlwaysOff`", &col(&root_rows, 1));

    println!("\n| comparison (per round) | median | spread | target |\n|---|---:|---:|---|");
    fn per_round<const N: usize>(
        rows: &[[f64; N]],
        a: usize,
        b: usize,
        f: fn(f64, f64) -> f64,
    ) -> Vec<f64> {
        rows.iter().map(|r| f(r[a], r[b])).collect()
    }
    print_ratio(
        "sampled: ours / SDK",
        "<= 1.0x",
        &per_round(&on_rows, 0, 1, |a, b| a / b),
    );
    print_ratio(
        "not sampled: ours / SDK",
        "<= 1.0x",
        &per_round(&on_rows, 2, 3, |a, b| a / b),
    );
    print_ratio(
        "sampled: ours / fastrace (per span)",
        "<= 2.0x",
        &per_round(&on_rows, 0, 4, |a, b| a / b),
    );
    print_ratio(
        "sampled: ours / tracing bridge",
        "",
        &per_round(&on_rows, 0, 6, |a, b| a / b),
    );
    print_ratio(
        "the floor / fastrace (per span)",
        "",
        &per_round(&on_rows, 5, 4, |a, b| a / b),
    );
    print_ratio(
        "unsampled root: ours / SDK `AlwaysOff`",
        "<= 0.5x",
        &per_round(&root_rows, 0, 1, |a, b| a / b),
    );
    let (off, lo, hi) = summary(&per_round(&off_rows, 1, 0, |a, b| a - b));
    println!(
        "| tracing off: ours − plain | **{off:+.1} ns** | {lo:+.1}–{hi:+.1} ns | within 2 ns |"
    );
    let (off, lo, hi) = summary(&per_round(&off_rows, 3, 2, |a, b| a - b));
    println!("| async, tracing off: ours − async fn | **{off:+.1} ns** | {lo:+.1}–{hi:+.1} ns | within 5 ns |");
    println!(
        "\ndrops: ours 0 of {ours_made}, SDK 0 of {sdk_made}, fastrace 0 of {fastrace_made}, tracing bridge 0 of {bridge_made} (checked after every sampled case)"
    );
    println!(
        "core-to-core round trip before and after the rounds: {round_trip_before:.0} ns, {:.0} ns",
        common::core_round_trip_ns()
    );
    let _ = sdk.shutdown();
    let _ = bridge.shutdown();
}
