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
//! Run: `cargo bench -p agent-trace-otel --bench interleaved` (`ROUNDS`, `CALLS` to change
//! the defaults: 11 rounds, 20,000 calls per sampled case; `ONLY=ours` or `ONLY=sdk` runs
//! just that sampled case, for a profiler, and `ONLY=ours-unsampled` or `ONLY=sdk-unsampled`
//! the not-sampled one).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod common;
#[path = "common/hand_written.rs"]
mod hand_written;

use agent_trace::traced_tool;
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
    println!("interleaved rounds: {n_rounds} (+1 warm-up), {calls} calls per sampled case, {fast_calls} per fast case\n");

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
    let _ours = agent_trace::builder()
        .service_name("bench")
        .sampler(agent_trace::Sampler::ParentBasedAlwaysOn)
        .max_queue_size(QUEUE)
        .max_export_batch_size(512)
        .install_subscriber(false)
        .metrics(false)
        .env(|_| None)
        .span_exporter(Discard(&OURS_EXPORTED))
        .install()
        .expect("install");
    let sdk = {
        use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, Sampler};
        let processor = BatchSpanProcessor::builder(Discard(&SDK_EXPORTED))
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_max_queue_size(QUEUE)
                    .with_max_export_batch_size(512)
                    .build(),
            )
            .build();
        SdkTracerProvider::builder()
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
            .with_span_processor(processor)
            .build()
    };
    let tracer = sdk.tracer("bench");
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
    let (mut ours_made, mut sdk_made) = (0u64, 0u64);
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
                let _ = sdk.force_flush();
                let exported = SDK_EXPORTED.load(Ordering::Relaxed);
                assert_eq!(
                    exported,
                    sdk_made,
                    "the SDK dropped {} spans",
                    sdk_made - exported
                );
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
        ],
    );
    let stats = agent_trace::export_stats();
    assert_eq!(stats.dropped(), 0, "{stats:?}");

    println!("| case | median | spread (min–max) |\n|---|---:|---:|");
    let col = |rows: &[[f64; 4]], i: usize| rows.iter().map(|r| r[i]).collect::<Vec<_>>();
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

    println!("\n| comparison (per round) | median | spread | target |\n|---|---:|---:|---|");
    let per_round = |rows: &[[f64; 4]], a: usize, b: usize, f: fn(f64, f64) -> f64| {
        rows.iter().map(|r| f(r[a], r[b])).collect::<Vec<_>>()
    };
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
    let (off, lo, hi) = summary(&per_round(&off_rows, 1, 0, |a, b| a - b));
    println!(
        "| tracing off: ours − plain | **{off:+.1} ns** | {lo:+.1}–{hi:+.1} ns | within 2 ns |"
    );
    let (off, lo, hi) = summary(&per_round(&off_rows, 3, 2, |a, b| a - b));
    println!("| async, tracing off: ours − async fn | **{off:+.1} ns** | {lo:+.1}–{hi:+.1} ns | within 5 ns |");
    println!(
        "\ndrops: ours 0 of {ours_made}, SDK 0 of {sdk_made} (checked after every sampled case)"
    );
    let _ = sdk.shutdown();
}
