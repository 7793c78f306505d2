//! What the server layer costs per request while tracing is off, in one run beside its
//! baselines: the same trivial service called directly, through `TraceLayer` with an
//! incoming `traceparent` (pass-through), and through `TraceLayer` with no incoming context
//! (the layer then makes fresh, unsampled ids so log lines still carry a trace id).
//!
//! Run: `cargo bench -p agent-trace-otel --features tower --bench server_off`

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use agent_trace::server::TraceLayer;
use criterion::{criterion_group, criterion_main, Criterion};
use tower_layer::Layer as _;
use tower_service::Service;

/// A service that answers at once, to measure only the layer.
#[derive(Clone)]
struct Answer;

impl Service<http::Request<()>> for Answer {
    type Response = http::Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<http::Response<()>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<()>) -> Self::Future {
        black_box(&req);
        ready(Ok(http::Response::new(())))
    }
}

fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn request(traceparent: bool) -> http::Request<()> {
    let mut b = http::Request::builder().method("POST").uri("/a2a");
    if traceparent {
        b = b.header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
    }
    b.body(()).expect("request")
}

fn server_off(c: &mut Criterion) {
    let _guard = agent_trace::builder()
        .service_name("off")
        .install_subscriber(false)
        .env(|_| None)
        .install()
        .expect("install");
    assert!(
        !agent_trace::is_enabled(),
        "this benchmark measures tracing off"
    );
    let mut g = c.benchmark_group("server_off");
    let mut plain = Answer;
    g.bench_function("service_without_layer", |b| {
        b.iter(|| block_on(plain.call(black_box(request(false)))))
    });
    let mut layered = TraceLayer::new().layer(Answer);
    g.bench_function("layer_with_incoming_traceparent", |b| {
        b.iter(|| block_on(layered.call(black_box(request(true)))))
    });
    g.bench_function("layer_minting_ids", |b| {
        b.iter(|| block_on(layered.call(black_box(request(false)))))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = server_off
}
criterion_main!(benches);
