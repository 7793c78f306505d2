//! Export throughput: spans per second from `#[traced_tool]` calls, through our pipeline and
//! OTLP/gRPC, into a receiver on 127.0.0.1 (count-only), with the queue sized for the burst so
//! nothing is dropped. Each iteration makes `BURST` spans and flushes; criterion reports
//! elements per second.
//!
//! Run: `cargo bench -p agent-trace --features receiver --bench export_throughput`

use std::hint::black_box;
use std::time::{Duration, Instant};

use agent_trace::testing::receiver::OtlpReceiver;
use agent_trace::traced_tool;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const BURST: u64 = 50_000;

#[traced_tool(name = "bench")]
#[inline(never)]
fn traced(x: u64) -> Result<u64, std::io::Error> {
    Ok(x.wrapping_mul(31))
}

fn run(c: &mut Criterion, name: &str, protocol: agent_trace::Protocol, batch: usize) {
    let rx = OtlpReceiver::start().expect("receiver");
    rx.count_only();
    let endpoint = match protocol {
        agent_trace::Protocol::Grpc => rx.grpc_endpoint(),
        _ => rx.http_endpoint(),
    };
    let guard = agent_trace::builder()
        .service_name("throughput")
        .endpoint(endpoint)
        .protocol(protocol)
        .max_queue_size(BURST as usize)
        .max_export_batch_size(batch)
        .schedule_delay(Duration::from_millis(5))
        .install_subscriber(false)
        .env(|_| None)
        .install()
        .expect("install");
    let mut g = c.benchmark_group("export");
    g.throughput(Throughput::Elements(BURST));
    g.bench_function(name, |b| {
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
        "{name}: exported {} spans, dropped {}; receiver counted {}",
        stats.exported,
        stats.dropped(),
        rx.received_spans()
    );
    assert_eq!(stats.exported, rx.received_spans());
}

fn throughput(c: &mut Criterion) {
    use agent_trace::Protocol::{Grpc, HttpProtobuf};
    run(c, "otlp_grpc_batch_512", Grpc, 512);
    run(c, "otlp_grpc_batch_2048", Grpc, 2048);
    run(c, "otlp_http_batch_512", HttpProtobuf, 512);
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
