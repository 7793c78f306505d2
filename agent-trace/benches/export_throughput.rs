//! Export throughput, ours beside stock opentelemetry-otlp, in **interleaved rounds**: spans
//! per second from a burst of spans until the receiver has them, over OTLP/gRPC to a
//! count-only receiver on 127.0.0.1.
//!
//! - `ours`: `#[traced_tool]` spans through agent-trace's pipeline, which exports through
//!   opentelemetry-otlp's `SpanExporter` (with its export-thread steps: unique keys,
//!   truncation, redaction; OpenInference stays off, as by default);
//! - `stock`: the same span (same name, kind and five attributes) written by hand against the
//!   SDK, through the SDK's `BatchSpanProcessor` and opentelemetry-otlp's `SpanExporter`.
//!
//! Same settings for both: a queue that holds the whole burst (so nothing may be dropped),
//! the same batch size, a 5 ms schedule delay, a receiver each. Each round times one burst of
//! each (rotated order; the first round is a warm-up): the burst is made, then flushed, and
//! the clock stops when the flush returns. After every burst the receiver's count is checked
//! against the spans sent: **the run fails if either side lost a span**. Each ratio is taken
//! within a round; the table gives medians and the spread (min–max).
//!
//! Run: `cargo bench -p agent-trace-otel --features receiver,otlp-grpc --bench export_throughput`
//! (`ROUNDS`, `BURST`, `BATCH` change the defaults: 9 rounds, 50,000 spans, 512 per batch;
//! `REDACT=off` runs ours with `AGENT_TRACE_REDACT_DEFAULTS=false`, to see what redaction
//! costs).

use std::hint::black_box;
use std::time::{Duration, Instant};

mod common;

use agent_trace::receiver::OtlpReceiver;
use agent_trace::traced_tool;
use opentelemetry::trace::{Span as _, SpanKind, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};

use common::{env_number, rounds, summary};

const DELAY: Duration = Duration::from_millis(5);

#[traced_tool(name = "bench")]
#[inline(never)]
fn traced(x: u64) -> Result<u64, std::io::Error> {
    Ok(x.wrapping_mul(31))
}

/// The stock pipeline: the SDK's `BatchSpanProcessor` around opentelemetry-otlp's gRPC
/// exporter, built inside `rt` (tonic needs a runtime for its connection task).
fn stock_provider(
    rt: &tokio::runtime::Runtime,
    endpoint: String,
    burst: usize,
    batch: usize,
) -> SdkTracerProvider {
    let exporter = {
        let _g = rt.enter();
        opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .with_timeout(Duration::from_secs(10))
            .build()
            .expect("exporter")
    };
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(burst)
                .with_max_export_batch_size(batch)
                .with_scheduled_delay(DELAY)
                .build(),
        )
        .build();
    SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name("throughput")
                .build(),
        )
        .build()
}

fn main() {
    let rounds_wanted = env_number("ROUNDS", 9).max(3);
    let burst = env_number("BURST", 50_000);
    let batch = env_number("BATCH", 512) as usize;
    let redact = std::env::var("REDACT").map_or(true, |v| v != "off");
    println!(
        "export throughput, interleaved: {rounds_wanted} rounds (+1 warm-up) of {burst} spans each, \
         batch {batch}, OTLP/gRPC to 127.0.0.1, redaction {}\n",
        if redact { "on (default)" } else { "off" }
    );

    let rx_ours = OtlpReceiver::start().expect("receiver");
    rx_ours.count_only();
    let _guard = agent_trace::builder()
        .service_name("throughput")
        .endpoint(rx_ours.grpc_endpoint())
        .protocol(agent_trace::Protocol::Grpc)
        .max_queue_size(burst as usize)
        .max_export_batch_size(batch)
        .schedule_delay(DELAY)
        .metrics(false)
        .install_subscriber(false)
        .env(move |k| (!redact && k == "AGENT_TRACE_REDACT_DEFAULTS").then(|| "false".into()))
        .install()
        .expect("install");

    let rx_stock = OtlpReceiver::start().expect("receiver");
    rx_stock.count_only();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let provider = stock_provider(&rt, rx_stock.grpc_endpoint(), burst as usize, batch);
    let tracer = provider.tracer("bench");

    let (mut ours_sent, mut stock_sent) = (0u64, 0u64);
    let mut ours_case = || {
        let start = Instant::now();
        for i in 0..burst {
            let _ = black_box(traced(black_box(i)));
        }
        agent_trace::force_flush(Duration::from_secs(60)).expect("flushed");
        let secs = start.elapsed().as_secs_f64();
        ours_sent += burst;
        let got = rx_ours.wait_for_count(ours_sent, Duration::from_secs(30));
        assert_eq!(got, ours_sent, "ours lost {} spans", ours_sent - got);
        burst as f64 / secs
    };
    let mut stock_case = || {
        let start = Instant::now();
        for i in 0..burst {
            let mut span = tracer
                .span_builder("execute_tool bench")
                .with_kind(SpanKind::Internal)
                .with_attributes([
                    KeyValue::new("gen_ai.operation.name", "execute_tool"),
                    KeyValue::new("gen_ai.tool.name", "bench"),
                    KeyValue::new("gen_ai.tool.type", "function"),
                    KeyValue::new("tool.name", "bench"),
                ])
                .start(&tracer);
            let r: Result<u64, std::io::Error> = Ok(black_box(i).wrapping_mul(31));
            span.set_attribute(KeyValue::new("tool.success", r.is_ok()));
            span.end();
            black_box(r.ok());
        }
        provider.force_flush().expect("flushed");
        let secs = start.elapsed().as_secs_f64();
        stock_sent += burst;
        // The stock processor does not count drops: the receiver's count is the check.
        let got = rx_stock.wait_for_count(stock_sent, Duration::from_secs(30));
        assert_eq!(got, stock_sent, "stock lost {} spans", stock_sent - got);
        burst as f64 / secs
    };

    let rows = rounds(rounds_wanted, [&mut ours_case, &mut stock_case]);
    let stats = agent_trace::export_stats();
    assert_eq!(stats.dropped(), 0, "{stats:?}");

    println!("| pipeline | median spans/s | spread (min–max) |\n|---|---:|---:|");
    for (i, name) in ["ours (agent-trace pipeline)", "stock (BatchSpanProcessor)"]
        .iter()
        .enumerate()
    {
        let (med, lo, hi) = summary(&rows.iter().map(|r| r[i]).collect::<Vec<_>>());
        println!("| {name} | {med:.0} | {lo:.0}–{hi:.0} |");
    }
    let (med, lo, hi) = summary(&rows.iter().map(|r| r[0] / r[1]).collect::<Vec<_>>());
    println!("\n| ratio per round | median | spread |\n|---|---:|---:|");
    println!("| ours / stock | **{med:.2}x** | {lo:.2}–{hi:.2}x |");
    println!("\nlost: ours 0 of {ours_sent}, stock 0 of {stock_sent} (receiver counts, checked after every burst)");
    let _ = provider.shutdown();
    drop(rt);
}
