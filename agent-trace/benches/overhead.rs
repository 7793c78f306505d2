//! Cost per call of a traced function, beside its baselines, in one run.
//!
//! Run `./scripts/bench.sh` (it prints the table with ratios). Cases:
//! - `plain`: the function without tracing (the floor);
//! - `traced_off`: `#[traced_tool]` with tracing off;
//! - `traced_sampled`: on and sampled, through our pipeline into a discarding exporter;
//! - `traced_unsampled`: on, sampler always_off;
//! - `sdk_sampled`: a hand-written SDK span with the same attributes, made current, through
//!   the SDK's BatchSpanProcessor into a discarding exporter;
//! - `sdk_always_off`: the same with the SDK's AlwaysOff sampler;
//! - `tracing_bridge`: `#[tracing::instrument]` with tracing-opentelemetry into the same
//!   SDK pipeline as `sdk_sampled`;
//! - `async_*`: the async variants;
//! - `fastrace_sampled`: a reference from another library built for low overhead: fastrace,
//!   one root span per call with the same four properties, into a discarding reporter;
//! - `inject_extract`: W3C inject into a `HeaderMap` and extract back.
//!
//! Same settings for ours and the SDK's baseline: a 65,536-span queue and 512-span batches,
//! the same five attributes, an exporter that discards. After each sampled case the spans
//! that reached the exporter are compared with the spans made, and a case that dropped spans
//! (and so looked cheaper) fails the run.

#[path = "common/anchors.rs"]
mod anchors;
#[path = "common/hand_written.rs"]
mod hand_written;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use agent_trace::traced_tool;
use anchors::{instrumented, FastraceDiscard};
use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::{FutureExt as _, TraceContextExt as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing_subscriber::layer::SubscriberExt as _;

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

/// Spans every `Discard` exporter received, to report drops.
static EXPORTED: AtomicU64 = AtomicU64::new(0);
/// Spans made by hand-written cases, to compare with `EXPORTED`.
static MADE: AtomicU64 = AtomicU64::new(0);

const QUEUE: usize = 1 << 16;

#[derive(Debug)]
struct Discard;
impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        EXPORTED.fetch_add(batch.len() as u64, Ordering::Relaxed);
        drop(black_box(batch));
        Ok(())
    }
}

#[inline(never)]
fn fastrace_call(x: u64) -> Result<u64, std::io::Error> {
    use fastrace::prelude::*;
    MADE.fetch_add(1, Ordering::Relaxed);
    let root = Span::root("execute_tool bench", SpanContext::random()).with_properties(|| {
        [
            ("gen_ai.operation.name", "execute_tool"),
            ("gen_ai.tool.name", "bench"),
            ("gen_ai.tool.type", "function"),
            ("tool.name", "bench"),
        ]
    });
    let _g = root.set_local_parent();
    let r = plain(x);
    LocalSpan::add_property(|| ("tool.success", if r.is_ok() { "true" } else { "false" }));
    r
}

/// Prints how many of the spans a case made reached its exporter, and fails the run if any
/// did not: a case that drops spans does less work and would look cheaper than it is.
fn report_drops(case: &str, made: u64, flush: impl FnOnce()) {
    flush();
    let exported = EXPORTED.swap(0, Ordering::Relaxed);
    let dropped = made.saturating_sub(exported);
    eprintln!("{case}: made {made} spans, exported {exported}, dropped {dropped}");
    assert_eq!(
        dropped, 0,
        "{case} dropped spans: its timing is not comparable"
    );
}

fn sdk_provider(sampler: opentelemetry_sdk::trace::Sampler) -> SdkTracerProvider {
    anchors::sdk_provider(Discard, sampler, QUEUE)
}

fn hand_written(
    tracer: &opentelemetry_sdk::trace::SdkTracer,
    x: u64,
) -> Result<u64, std::io::Error> {
    MADE.fetch_add(1, Ordering::Relaxed);
    let cx = hand_written::start(tracer);
    let _g = cx.clone().attach();
    let r = plain(x);
    cx.span()
        .set_attribute(KeyValue::new("tool.success", r.is_ok()));
    cx.span().end();
    r
}

fn install(sampler: agent_trace::Sampler) -> agent_trace::TraceGuard {
    anchors::ours_builder(sampler, QUEUE)
        .span_exporter(Discard)
        .install()
        .expect("install")
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

fn overhead(c: &mut Criterion) {
    let mut g = c.benchmark_group("span");
    g.bench_function("plain", |b| b.iter(|| plain(black_box(7))));
    g.bench_function("async_plain", |b| {
        b.iter(|| block_on(plain_async(black_box(7))))
    });
    let off = agent_trace::builder()
        .service_name("bench")
        .install_subscriber(false)
        .env(|_| None)
        .install()
        .expect("install");
    assert!(!agent_trace::is_enabled());
    g.bench_function("traced_off", |b| b.iter(|| traced(black_box(7))));
    g.bench_function("async_traced_off", |b| {
        b.iter(|| block_on(traced_async(black_box(7))))
    });
    drop(off);

    let on = install(agent_trace::Sampler::AlwaysOn);
    g.bench_function("traced_sampled", |b| b.iter(|| traced(black_box(7))));
    g.bench_function("async_traced_sampled", |b| {
        b.iter(|| block_on(traced_async(black_box(7))))
    });
    let _ = agent_trace::force_flush(Duration::from_secs(60));
    let stats = agent_trace::export_stats();
    drop(on);
    EXPORTED.store(0, Ordering::Relaxed);
    eprintln!(
        "traced_sampled + async: made {} spans, exported {}, dropped {} (pipeline counts)",
        stats.ended,
        stats.exported,
        stats.dropped()
    );
    assert_eq!(stats.dropped(), 0, "traced_sampled dropped spans");

    let unsampled = install(agent_trace::Sampler::AlwaysOff);
    g.bench_function("traced_unsampled", |b| b.iter(|| traced(black_box(7))));
    drop(unsampled);

    let sdk = sdk_provider(opentelemetry_sdk::trace::Sampler::AlwaysOn);
    let tracer = sdk.tracer("bench");
    MADE.store(0, Ordering::Relaxed);
    g.bench_function("sdk_sampled", |b| {
        b.iter(|| hand_written(&tracer, black_box(7)))
    });
    g.bench_function("async_sdk_sampled", |b| {
        b.iter(|| {
            MADE.fetch_add(1, Ordering::Relaxed);
            let cx = hand_written::start(&tracer);
            let r = block_on(async { plain(black_box(7)) }.with_context(cx.clone()));
            cx.span()
                .set_attribute(KeyValue::new("tool.success", r.is_ok()));
            cx.span().end();
            r
        })
    });
    report_drops(
        "sdk_sampled + async",
        MADE.swap(0, Ordering::Relaxed),
        || {
            let _ = sdk.force_flush();
        },
    );

    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(sdk.tracer("bridge")));
    tracing::subscriber::with_default(subscriber, || {
        g.bench_function("tracing_bridge", |b| b.iter(|| instrumented(black_box(7))));
    });
    let _ = sdk.shutdown();

    let off_sdk = sdk_provider(opentelemetry_sdk::trace::Sampler::AlwaysOff);
    let off_tracer = off_sdk.tracer("bench");
    g.bench_function("sdk_always_off", |b| {
        b.iter(|| hand_written(&off_tracer, black_box(7)))
    });
    let _ = off_sdk.shutdown();

    fastrace::set_reporter(
        FastraceDiscard(&EXPORTED),
        fastrace::collector::Config::default(),
    );
    MADE.store(0, Ordering::Relaxed);
    EXPORTED.store(0, Ordering::Relaxed);
    g.bench_function("fastrace_sampled", |b| {
        b.iter(|| fastrace_call(black_box(7)))
    });
    report_drops(
        "fastrace_sampled",
        MADE.swap(0, Ordering::Relaxed),
        fastrace::flush,
    );
    g.finish();

    let mut g = c.benchmark_group("propagation");
    let _guard = agent_trace::builder()
        .service_name("bench")
        .install_subscriber(false)
        .env(|_| None)
        .install()
        .expect("install");
    let mut incoming = http::HeaderMap::new();
    incoming.insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .expect("header"),
    );
    g.bench_function("inject_extract", |b| {
        b.iter(|| {
            let cx = agent_trace::carriers::http::extract(black_box(&incoming));
            let mut out = http::HeaderMap::new();
            agent_trace::carriers::http::inject_context(&cx, &mut out);
            out
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = overhead
}
criterion_main!(benches);
