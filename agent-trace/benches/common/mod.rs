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
