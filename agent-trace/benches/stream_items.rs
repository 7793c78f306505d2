//! Cost per item of a traced stream beside the same stream untraced, in **interleaved
//! rounds** (each round runs every case once, in a rotated order; medians and spread over the
//! rounds, ratios taken within a round).
//!
//! Cases, each draining a stream of `ITEMS` small items (`u64`s, or for the model call a
//! chunk struct that carries token counts):
//! - the plain stream;
//! - the same stream returned by a `#[traced_tool]` function, tracing off;
//! - the same, sampled (one span per stream, current at every poll);
//! - a `#[llm_call]` stream of chunks, sampled: each chunk is read through `LlmChunk`
//!   (metrics off, as in `interleaved`: the per-chunk histograms are measured apart).
//!
//! Each sampled stream's span is checked to arrive (a discarding exporter counts them): the
//! run fails on a dropped span.
//!
//! Run: `cargo bench -p agent-trace-otel --bench stream_items` (`ROUNDS`, `ITEMS` to change
//! the defaults: 11 rounds, 1,000,000 items per case).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod common;

use agent_trace::{llm_call, traced_tool, LlmChunk};
use common::{env_number, rounds, summary};
use futures_core::Stream;
use futures_util::StreamExt as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

static EXPORTED: AtomicU64 = AtomicU64::new(0);

#[derive(Debug)]
struct Discard;
impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        EXPORTED.fetch_add(batch.len() as u64, Ordering::Relaxed);
        drop(black_box(batch));
        Ok(())
    }
}

fn plain(n: u64) -> impl Stream<Item = u64> {
    futures_util::stream::iter(0..n)
}

#[traced_tool(name = "bench")]
fn traced(n: u64) -> impl Stream<Item = u64> {
    futures_util::stream::iter(0..n)
}

/// A small chunk of a model's answer, with running token counts as providers send them.
struct Chunk {
    output: u64,
}

impl LlmChunk for Chunk {
    fn input_tokens(&self) -> Option<u64> {
        Some(12)
    }
    fn output_tokens(&self) -> Option<u64> {
        Some(self.output)
    }
    fn response_id(&self) -> Option<&str> {
        Some("chatcmpl-bench")
    }
}

#[llm_call(model = "bench")]
fn chunks(n: u64) -> impl Stream<Item = Chunk> {
    futures_util::stream::iter((0..n).map(|output| Chunk { output }))
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

/// Nanoseconds per item of draining `stream`.
fn per_item<S: Stream>(items: u64, stream: S) -> f64 {
    let start = Instant::now();
    let n = block_on(stream.fold(0u64, |n, item| {
        black_box(item);
        async move { n + 1 }
    }));
    assert_eq!(n, items);
    start.elapsed().as_nanos() as f64 / items as f64
}

fn print_row(name: &str, values: &[f64]) {
    let (med, lo, hi) = summary(values);
    let per_second = 1e9 / med / 1e6;
    println!("| {name} | {med:.2} ns | {lo:.2}–{hi:.2} ns | {per_second:.0} M items/s |");
}

fn main() {
    let n_rounds = env_number("ROUNDS", 11).max(3);
    let items = env_number("ITEMS", 1_000_000);
    println!("interleaved rounds: {n_rounds} (+1 warm-up), {items} items per case\n");

    let off = agent_trace::builder()
        .service_name("bench")
        .install_subscriber(false)
        .env(|_| None)
        .install()
        .expect("install");
    let off_rows = rounds(
        n_rounds,
        [&mut || per_item(items, plain(items)), &mut || {
            per_item(items, traced(items))
        }],
    );
    drop(off);

    let _on = agent_trace::builder()
        .service_name("bench")
        .install_subscriber(false)
        .metrics(false)
        .env(|_| None)
        .span_exporter(Discard)
        .install()
        .expect("install");
    let made = std::cell::Cell::new(0u64);
    let check = || {
        made.set(made.get() + 1);
        let _ = agent_trace::force_flush(Duration::from_secs(60));
        assert_eq!(
            EXPORTED.load(Ordering::Relaxed),
            made.get(),
            "a span was dropped"
        );
    };
    let on_rows = rounds(
        n_rounds,
        [
            &mut || per_item(items, plain(items)),
            &mut || {
                let t = per_item(items, traced(items));
                check();
                t
            },
            &mut || {
                let t = per_item(items, chunks(items));
                check();
                t
            },
        ],
    );
    assert_eq!(agent_trace::export_stats().dropped(), 0);

    println!("| case | per item, median | spread (min–max) | throughput |\n|---|---:|---:|---:|");
    let col = |rows: &[[f64; 2]], i: usize| rows.iter().map(|r| r[i]).collect::<Vec<_>>();
    let col3 = |rows: &[[f64; 3]], i: usize| rows.iter().map(|r| r[i]).collect::<Vec<_>>();
    print_row("plain stream (tracing off rounds)", &col(&off_rows, 0));
    print_row("`#[traced_tool]` stream, tracing off", &col(&off_rows, 1));
    print_row("plain stream (tracing on rounds)", &col3(&on_rows, 0));
    print_row("`#[traced_tool]` stream, sampled", &col3(&on_rows, 1));
    print_row(
        "`#[llm_call]` stream of chunks, sampled",
        &col3(&on_rows, 2),
    );

    println!("\n| comparison (per round) | median | spread |\n|---|---:|---:|");
    let diff = |name: &str, d: Vec<f64>| {
        let (med, lo, hi) = summary(&d);
        println!("| {name} | **{med:+.2} ns** | {lo:+.2}–{hi:+.2} ns |");
    };
    diff(
        "tracing off: traced − plain, per item",
        off_rows.iter().map(|r| r[1] - r[0]).collect(),
    );
    diff(
        "sampled: traced − plain, per item",
        on_rows.iter().map(|r| r[1] - r[0]).collect(),
    );
    diff(
        "sampled model chunks: traced − plain, per item",
        on_rows.iter().map(|r| r[2] - r[0]).collect(),
    );
    let made = made.get();
    println!("\ndrops: 0 of {made} stream spans (checked after every sampled case)");
}
