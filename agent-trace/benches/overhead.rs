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
//! - `inject_extract`: W3C inject into a `HeaderMap` and extract back.

use std::hint::black_box;
use std::time::Duration;

use agent_trace::traced_tool;
use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::{
    FutureExt as _, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
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

#[tracing::instrument(name = "execute_tool bench", fields(gen_ai.operation.name = "execute_tool", gen_ai.tool.name = "bench", tool.name = "bench", tool.success = true))]
#[inline(never)]
fn instrumented(x: u64) -> Result<u64, std::io::Error> {
    Ok(x.wrapping_mul(31))
}

#[derive(Debug)]
struct Discard;
impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        drop(black_box(batch));
        Ok(())
    }
}

fn sdk_provider(sampler: opentelemetry_sdk::trace::Sampler) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_batch_exporter(Discard)
        .build()
}

fn hand_written(
    tracer: &opentelemetry_sdk::trace::SdkTracer,
    x: u64,
) -> Result<u64, std::io::Error> {
    let span = tracer
        .span_builder("execute_tool bench")
        .with_attributes([
            KeyValue::new("gen_ai.operation.name", "execute_tool"),
            KeyValue::new("gen_ai.tool.name", "bench"),
            KeyValue::new("tool.name", "bench"),
        ])
        .start(tracer);
    let cx = Context::current_with_span(span);
    let _g = cx.clone().attach();
    let r = plain(x);
    cx.span()
        .set_attribute(KeyValue::new("tool.success", r.is_ok()));
    cx.span().end();
    r
}

fn install(sampler: agent_trace::Sampler) -> agent_trace::TraceGuard {
    agent_trace::builder()
        .service_name("bench")
        .sampler(sampler)
        .max_queue_size(1 << 16)
        .install_subscriber(false)
        .env(|_| None)
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
    let stats = agent_trace::export_stats();
    drop(on);
    eprintln!("pipeline during traced_sampled: {stats:?}");

    let unsampled = install(agent_trace::Sampler::AlwaysOff);
    g.bench_function("traced_unsampled", |b| b.iter(|| traced(black_box(7))));
    drop(unsampled);

    let sdk = sdk_provider(opentelemetry_sdk::trace::Sampler::AlwaysOn);
    let tracer = sdk.tracer("bench");
    g.bench_function("sdk_sampled", |b| {
        b.iter(|| hand_written(&tracer, black_box(7)))
    });
    g.bench_function("async_sdk_sampled", |b| {
        b.iter(|| {
            let span = tracer.start("execute_tool bench");
            let cx = Context::current_with_span(span);
            let r = block_on(async { plain(black_box(7)) }.with_context(cx.clone()));
            cx.span().end();
            r
        })
    });

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
