//! A content-heavy LLM gateway: each call is an `#[llm_call]` with a prompt of 8 KB (the
//! flattened input messages) and a 2 KB answer, with content capture on (the prompt becomes
//! `gen_ai.input.messages`, the answer `gen_ai.output.messages`, each text cut to 1024
//! characters) and the default redaction rules applied on the export thread, exported over
//! OTLP/gRPC to a count-only receiver on 127.0.0.1. The same call with content capture off is
//! the baseline. In **interleaved rounds** (rotated order, the first a warm-up), each case is
//! installed afresh and measured three ways:
//!
//! - the application thread's cost per call (a burst of calls, the export thread running
//!   beside it, as in a gateway);
//! - sustained export: spans per second from the start of the burst until the receiver has
//!   every span (the run fails if one is lost);
//! - peak memory: the process's resident high-water mark during the burst, reset before it
//!   (`/proc/self/clear_refs`), above the resident size at its start.
//!
//! Run: `cargo bench -p agent-trace-otel --features receiver,otlp-grpc --bench llm_gateway`
//! (`ROUNDS`, `BURST` change the defaults: 7 rounds, 20,000 calls). `ONLY=content` runs just
//! the content case once, for a profiler.

use std::hint::black_box;
use std::time::{Duration, Instant};

mod common;

use agent_trace::receiver::OtlpReceiver;
use common::{env_number, rounds, summary};

const PROMPT_BYTES: usize = 8 * 1024;
const ANSWER_BYTES: usize = 2 * 1024;

/// The gateway's model call: the answer is the upstream response (built once, cloned per
/// call in both cases).
#[agent_trace::llm_call(model = "gw-model-1", provider = "gateway", prompt = prompt)]
#[inline(never)]
fn gateway_call(
    prompt: &str,
    upstream: &serde_json::Value,
) -> Result<serde_json::Value, std::io::Error> {
    black_box(prompt.len());
    Ok(upstream.clone())
}

/// The same call without tracing: what the gateway costs by itself.
#[inline(never)]
fn plain_call(
    prompt: &str,
    upstream: &serde_json::Value,
) -> Result<serde_json::Value, std::io::Error> {
    black_box(prompt.len());
    Ok(upstream.clone())
}

/// Nanoseconds per call of the untraced gateway call, over `n` calls.
fn plain_ns(n: u64) -> f64 {
    let prompt = chat_text(PROMPT_BYTES, 1);
    let upstream = upstream_answer();
    let start = Instant::now();
    for _ in 0..n {
        let _ = black_box(plain_call(black_box(&prompt), &upstream));
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

/// Text of `n` bytes that looks like chat: words, punctuation, an email address and a key
/// the default redaction rules match.
fn chat_text(n: usize, seed: u64) -> String {
    let words = [
        "please",
        "summarize",
        "the",
        "ticket",
        "customer",
        "reports",
        "that",
        "export",
        "fails",
        "after",
        "upgrade",
        "contact",
        "alice@example.com",
        "with",
        "details,",
        "sk-live-4f3c9a2b7d1e8f60",
        "and",
        "thanks.",
    ];
    let mut s = String::with_capacity(n + 32);
    let mut i = seed as usize;
    while s.len() < n {
        s.push_str(words[i % words.len()]);
        s.push(' ');
        i = i.wrapping_mul(31).wrapping_add(7);
    }
    s.truncate(n);
    s
}

fn upstream_answer() -> serde_json::Value {
    serde_json::json!({
        "id": "chatcmpl-gw-1",
        "model": "gw-model-1",
        "choices": [{
            "index": 0,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": chat_text(ANSWER_BYTES, 3)},
        }],
        "usage": {"prompt_tokens": 2048, "completion_tokens": 512},
    })
}

/// The resident set's high-water mark and current size, in KiB (Linux; 0 elsewhere).
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Resets the high-water mark to the current resident size (Linux 4.0+).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

struct Run {
    app_ns: f64,
    spans_per_s: f64,
    peak_kib: f64,
}

/// One burst of `burst` calls with content capture `content`: a fresh install exporting to
/// `rx`, which must receive `sent_before + burst` spans.
fn burst_run(rx: &OtlpReceiver, content: bool, burst: u64, sent_before: u64) -> Run {
    let guard = agent_trace::builder()
        .service_name("llm-gateway")
        .endpoint(rx.grpc_endpoint())
        .protocol(agent_trace::Protocol::Grpc)
        .max_queue_size(burst as usize)
        .max_export_batch_size(512)
        .schedule_delay(Duration::from_millis(5))
        .capture_message_content(content)
        .metrics(false)
        .install_subscriber(false)
        .env(|_| None)
        .install()
        .expect("install");
    let prompt = chat_text(PROMPT_BYTES, 1);
    let upstream = upstream_answer();
    reset_peak();
    let (_, rss_start) = rss_kib();
    let start = Instant::now();
    for _ in 0..burst {
        let _ = black_box(gateway_call(black_box(&prompt), &upstream));
    }
    let app_ns = start.elapsed().as_nanos() as f64 / burst as f64;
    agent_trace::force_flush(Duration::from_secs(120)).expect("flushed");
    let got = rx.wait_for_count(sent_before + burst, Duration::from_secs(60));
    let secs = start.elapsed().as_secs_f64();
    let (peak, _) = rss_kib();
    assert_eq!(
        got,
        sent_before + burst,
        "lost {} spans",
        sent_before + burst - got
    );
    let stats = guard.shutdown().expect("delivered");
    assert_eq!(stats.dropped(), 0, "{stats:?}");
    Run {
        app_ns,
        spans_per_s: burst as f64 / secs,
        peak_kib: peak.saturating_sub(rss_start) as f64,
    }
}

fn main() {
    let n_rounds = env_number("ROUNDS", 7).max(3);
    let burst = env_number("BURST", 20_000);
    let rx = OtlpReceiver::start().expect("receiver");
    rx.count_only();
    if std::env::var("ONLY").is_ok_and(|v| v == "content") {
        let r = burst_run(&rx, true, burst, 0);
        println!(
            "content: {:.0} ns per call, {:.0} spans/s, peak +{:.0} KiB",
            r.app_ns, r.spans_per_s, r.peak_kib
        );
        return;
    }
    println!(
        "LLM gateway, interleaved: {n_rounds} rounds (+1 warm-up) of {burst} calls per case, \
         prompt {PROMPT_BYTES} B, answer {ANSWER_BYTES} B, OTLP/gRPC to 127.0.0.1, default \
         redaction\n"
    );
    let sent = std::cell::Cell::new(0u64);
    let (content, plain) = (
        std::cell::RefCell::new(Vec::new()),
        std::cell::RefCell::new(Vec::new()),
    );
    let run = |capture: bool, into: &std::cell::RefCell<Vec<Run>>| {
        let r = burst_run(&rx, capture, burst, sent.get());
        sent.set(sent.get() + burst);
        let ns = r.app_ns;
        into.borrow_mut().push(r);
        ns
    };
    let rows = rounds(
        n_rounds,
        [
            &mut || run(true, &content),
            &mut || run(false, &plain),
            &mut || plain_ns(burst),
        ],
    );
    // Round 0 is a warm-up.
    let (content, plain) = (
        content.into_inner().split_off(1),
        plain.into_inner().split_off(1),
    );
    let col = |f: fn(&Run) -> f64, runs: &[Run]| runs.iter().map(f).collect::<Vec<_>>();
    let line = |name: &str, f: fn(&Run) -> f64, unit: &str| {
        let (a, alo, ahi) = summary(&col(f, &content));
        let (b, blo, bhi) = summary(&col(f, &plain));
        println!(
            "| {name} | {a:.0} {unit} ({alo:.0}–{ahi:.0}) | {b:.0} {unit} ({blo:.0}–{bhi:.0}) |"
        );
    };
    println!("| per call | content capture on | off |\n|---|---:|---:|");
    line("application thread", |r| r.app_ns, "ns");
    line("sustained export", |r| r.spans_per_s, "spans/s");
    line("peak memory above the start", |r| r.peak_kib, "KiB");
    let (u, ulo, uhi) = summary(&rows.iter().map(|r| r[2]).collect::<Vec<_>>());
    println!("| the same call, untraced | {u:.0} ns ({ulo:.0}–{uhi:.0}) | |");
    let ratios: Vec<f64> = rows.iter().map(|r| r[0] / r[1]).collect();
    let (m, lo, hi) = summary(&ratios);
    let added = |i: usize| summary(&rows.iter().map(|r| r[i] - r[2]).collect::<Vec<_>>()).0;
    println!(
        "\napplication thread, content on / off: **{m:.2}x** ({lo:.2}–{hi:.2}x); tracing adds \
         {:.0} ns per call with content, {:.0} ns without; 0 spans lost",
        added(0),
        added(1)
    );
}
