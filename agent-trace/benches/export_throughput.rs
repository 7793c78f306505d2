//! Export throughput, ours beside stock, in one run: spans per second from a burst of spans
//! to a receiver on 127.0.0.1 (count-only), over OTLP/gRPC.
//!
//! - `ours`: `#[traced_tool]` spans through agent-trace's pipeline, which exports through
//!   opentelemetry-otlp's `SpanExporter`;
//! - `stock`: the same span (same name, kind and four attributes) written by hand against the
//!   SDK, through the SDK's `BatchSpanProcessor` and opentelemetry-otlp's `SpanExporter`.
//!
//! Same settings for both: queue = the whole burst (so nothing may be dropped), the same
//! batch size, a 5 ms schedule delay, the same receiver. Each iteration makes `BURST` spans
//! and flushes; criterion reports elements per second. After each case the receiver's count
//! is checked against what was sent, so a case that dropped spans cannot look fast.
//!
//! Run: `cargo bench -p agent-trace-otel --features receiver --bench export_throughput`

use std::hint::black_box;
use std::time::{Duration, Instant};

use agent_trace::testing::receiver::OtlpReceiver;
use agent_trace::traced_tool;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use opentelemetry::trace::{Span as _, SpanKind, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};

const BURST: u64 = 50_000;
const DELAY: Duration = Duration::from_millis(5);

#[traced_tool(name = "bench")]
#[inline(never)]
fn traced(x: u64) -> Result<u64, std::io::Error> {
    Ok(x.wrapping_mul(31))
}

fn ours(c: &mut Criterion, batch: usize) {
    let rx = OtlpReceiver::start().expect("receiver");
    rx.count_only();
    let guard = agent_trace::builder()
        .service_name("throughput")
        .endpoint(rx.grpc_endpoint())
        .protocol(agent_trace::Protocol::Grpc)
        .max_queue_size(BURST as usize)
        .max_export_batch_size(batch)
        .schedule_delay(DELAY)
        .metrics(false)
        .install_subscriber(false)
        .env(|_| None)
        .install()
        .expect("install");
    let mut g = c.benchmark_group("export_grpc");
    g.throughput(Throughput::Elements(BURST));
    g.bench_function(format!("ours_batch_{batch}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                for i in 0..BURST {
                    let _ = black_box(traced(black_box(i)));
                }
                agent_trace::force_flush(Duration::from_secs(60)).expect("no drops, all delivered");
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();
    let stats = guard.shutdown().expect("all delivered");
    eprintln!(
        "ours, batch {batch}: exported {} spans, dropped {}; receiver counted {}",
        stats.exported,
        stats.dropped(),
        rx.received_spans()
    );
    assert_eq!(stats.dropped(), 0);
    assert_eq!(stats.exported, rx.received_spans());
}

fn stock(c: &mut Criterion, batch: usize) {
    let rx = OtlpReceiver::start().expect("receiver");
    rx.count_only();
    // tonic needs a runtime for its connection task; the stock pipeline runs on it.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let exporter = {
        let _g = rt.enter();
        opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(rx.grpc_endpoint())
            .with_timeout(Duration::from_secs(10))
            .build()
            .expect("exporter")
    };
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(BURST as usize)
                .with_max_export_batch_size(batch)
                .with_scheduled_delay(DELAY)
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name("throughput")
                .build(),
        )
        .build();
    let tracer = provider.tracer("bench");
    let mut sent = 0u64;
    let mut g = c.benchmark_group("export_grpc");
    g.throughput(Throughput::Elements(BURST));
    g.bench_function(format!("stock_batch_{batch}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                for i in 0..BURST {
                    let mut span = tracer
                        .span_builder("execute_tool bench")
                        .with_kind(SpanKind::Internal)
                        .with_attributes([
                            KeyValue::new("gen_ai.operation.name", "execute_tool"),
                            KeyValue::new("gen_ai.tool.name", "bench"),
                            KeyValue::new("tool.name", "bench"),
                        ])
                        .start(&tracer);
                    let r: Result<u64, std::io::Error> = Ok(black_box(i).wrapping_mul(31));
                    span.set_attribute(KeyValue::new("tool.success", r.is_ok()));
                    span.end();
                    black_box(r.ok());
                }
                provider.force_flush().expect("flushed");
                total += start.elapsed();
                sent += BURST;
            }
            total
        })
    });
    g.finish();
    let _ = provider.shutdown();
    // The stock processor does not count drops: the receiver's count is the check.
    let received = rx.wait_for_count(sent, Duration::from_secs(30));
    eprintln!("stock, batch {batch}: sent {sent} spans; receiver counted {received}");
    assert_eq!(received, sent, "the stock pipeline dropped spans");
    drop(rt);
}

fn throughput(c: &mut Criterion) {
    for batch in [512, 2048] {
        ours(c, batch);
        stock(c, batch);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sample_size(10);
    targets = throughput
}
criterion_main!(benches);
