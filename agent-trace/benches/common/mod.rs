//! What the interleaved benchmarks share: their settings from the environment, the rotating
//! rounds, and the summary of a column.

/// `name` from the environment as a number, or `default`.
pub(crate) fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Median and (min, max) of `xs`.
pub(crate) fn summary(xs: &[f64]) -> (f64, f64, f64) {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// Runs `cases` for `rounds` rounds (the first is a warm-up and not kept), rotating the order.
pub(crate) fn rounds<const N: usize>(
    rounds: u64,
    cases: [&mut dyn FnMut() -> f64; N],
) -> Vec<[f64; N]> {
    let mut out = Vec::new();
    for r in 0..=rounds {
        let mut row = [0.0; N];
        for k in 0..N {
            let i = (k + r as usize) % N;
            row[i] = cases[i]();
        }
        if r > 0 {
            out.push(row);
        }
    }
    out
}

/// The time a cache line takes to go from this thread's core to another thread's and back
/// (two threads passing a counter, median of five runs of 20,000 round trips). On a shared
/// virtual machine it changes with where the host places the two virtual CPUs (45–280 ns
/// seen on the same 2-core machine), and every case that hands spans to a background thread
/// moves with it: the benches print it so that two runs can be told apart.
#[allow(dead_code)]
pub(crate) fn core_round_trip_ns() -> f64 {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    let n = 20_000u64;
    // Bounded: a run that takes over a second (the other thread not scheduled) gives up.
    let limit = Duration::from_secs(1);
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let flag = Arc::new(AtomicU64::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            let (other, stopped) = (flag.clone(), stop.clone());
            let echo = std::thread::spawn(move || {
                for i in 0..n {
                    while other.load(Ordering::Acquire) != 2 * i + 1 {
                        if stopped.load(Ordering::Relaxed) {
                            return;
                        }
                        std::hint::spin_loop();
                    }
                    other.store(2 * i + 2, Ordering::Release);
                }
            });
            let start = Instant::now();
            let mut done = 0;
            'trips: for i in 0..n {
                flag.store(2 * i + 1, Ordering::Release);
                while flag.load(Ordering::Acquire) != 2 * i + 2 {
                    if start.elapsed() > limit {
                        break 'trips;
                    }
                    std::hint::spin_loop();
                }
                done += 1;
            }
            let ns = start.elapsed().as_nanos() as f64 / done.max(1) as f64;
            stop.store(true, Ordering::Relaxed);
            let _ = echo.join();
            ns
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}
