//! With tracing off, a traced call allocates nothing, sync or async.
#![allow(unsafe_code)] // a counting global allocator

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use agent_trace::{a2a_call, a2a_span, agent_phase, traced_tool};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[traced_tool(capture(q), capture_result, fields(len = q.len()))]
fn tool(q: &str) -> Result<usize, std::io::Error> {
    Ok(q.len())
}

#[agent_phase("p")]
fn phase(n: u64) -> u64 {
    n + 1
}

#[a2a_call(target = "t", url = "http://127.0.0.1:1/x")]
async fn call(n: u64) -> u64 {
    n * 2
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

#[test]
fn disabled_calls_allocate_nothing() {
    // `Capture` in the other test leaves its in-memory pipeline on for the whole process.
    agent_trace::isolate!();
    let _guard = agent_trace::builder()
        .service_name("off")
        .install_subscriber(false)
        .env(|_| None)
        .install()
        .expect("install");
    assert!(!agent_trace::is_enabled());
    // Warm up lazily initialised statics (thread-locals, the global swap slot).
    tool("warm").unwrap();
    let n = allocations_during(|| {
        for i in 0..1000 {
            let _ = std::hint::black_box(tool(std::hint::black_box("query")));
            std::hint::black_box(phase(i));
            std::hint::black_box(block_on(call(i)));
            let r: u64 = a2a_span!(target = "inline", { i + 1 });
            std::hint::black_box(r);
        }
    });
    assert_eq!(n, 0, "allocations while tracing is off");
}

#[test]
fn enabled_calls_do_allocate_so_the_counter_works() {
    let cap = agent_trace::testing::Capture::start();
    let n = allocations_during(|| {
        cap.in_scope(|| tool("query").unwrap());
    });
    assert!(n > 0, "the counting allocator sees span allocations");
}
