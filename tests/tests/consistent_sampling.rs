//! Consistent probability sampling agrees with another SDK's, and keeps whole traces across
//! languages, over real HTTP on 127.0.0.1:
//! - the same 10,000 trace ids at thresholds 1, 1/2, 1/8, 1/10 and 1/1000: agent-trace's
//!   `CompositeSampler` and OpenTelemetry JS's (`@opentelemetry/sampler-composite` on
//!   `@opentelemetry/sdk-trace-node`, in `tests/js/sampling_peer.mjs`) make the same decision
//!   and write the same `tracestate`, for roots and for children of those roots;
//! - a Rust root at 10% with a Node child and a Rust grandchild at 50%, and a Node root at 25%
//!   with Rust descendants at 50% and 10%: every trace is exported whole or not at all;
//! - keep-errors on top of a 10% probability sampler, and always-on behind a 25% Node root,
//!   never export a `th` they did not honour.
//!
//! The Node peer is pinned in `tests/js` (`package.json` and lock file, `npm ci` in `.ci/run`);
//! without Node.js each test says SKIPPED and passes, except in CI (`CI=true`).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use agent_trace::opentelemetry::trace::{Span as _, TraceContextExt as _};
use agent_trace::opentelemetry::trace::{SpanId, TraceId, Tracer as _, TracerProvider as _};
use agent_trace::opentelemetry_sdk::trace::{IdGenerator, SdkTracerProvider};
use agent_trace::receiver::{OtlpReceiver, ReceivedSpan};
use agent_trace::sampling::{threshold_of, Composable, CompositeSampler, Threshold};
use agent_trace_tests::peers::runtime;
use agent_trace_tests::{js_dir, node_ready, Peer};
use serde_json::{json, Value};

const IDS: usize = 10_000;
const RATIOS: [f64; 5] = [1.0, 0.5, 0.125, 0.1, 0.001];

/// 10,000 trace ids from a fixed seed (splitmix64), all valid.
fn trace_ids() -> Vec<TraceId> {
    let mut state = 0x5eed_u64;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..IDS)
        .map(|_| TraceId::from(u128::from(next()) << 64 | u128::from(next()) | 1))
        .collect()
}

/// Hands out the given trace ids in order (span ids are fixed: they do not matter here).
#[derive(Debug)]
struct GivenIds(Arc<Vec<TraceId>>, AtomicUsize);

impl IdGenerator for GivenIds {
    fn new_trace_id(&self) -> TraceId {
        self.0[self.1.fetch_add(1, Ordering::Relaxed) % self.0.len()]
    }
    fn new_span_id(&self) -> SpanId {
        SpanId::from(0x00f0_67aa_0ba9_02b7_u64)
    }
}

/// Agent-trace's decisions: (sampled, tracestate) per id, roots or children of `parents`.
fn rust_decisions(
    ids: &Arc<Vec<TraceId>>,
    ratio: f64,
    parents: Option<&[(bool, String)]>,
) -> Vec<(bool, String)> {
    let probability = Composable::probability(ratio).expect("a ratio");
    let sampler = match parents {
        None => CompositeSampler::new(probability),
        Some(_) => CompositeSampler::new(Composable::parent_threshold(probability)),
    };
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_id_generator(GivenIds(ids.clone(), AtomicUsize::new(0)))
        .build();
    let tracer = provider.tracer("decide");
    let out = (0..ids.len())
        .map(|i| {
            let cx = match parents {
                None => agent_trace::opentelemetry::Context::new(),
                Some(p) => {
                    let flags = agent_trace::opentelemetry::trace::TraceFlags::default()
                        .with_sampled(p[i].0);
                    let sc = agent_trace::opentelemetry::trace::SpanContext::new(
                        ids[i],
                        SpanId::from(0xb7ad_6b71_6920_3331_u64),
                        flags,
                        true,
                        p[i].1.parse().expect("a trace state"),
                    );
                    agent_trace::opentelemetry::Context::new().with_remote_span_context(sc)
                }
            };
            let mut span = tracer.start_with_context("decide", &cx);
            let sc = span.span_context().clone();
            span.end();
            (sc.is_sampled(), sc.trace_state().header())
        })
        .collect();
    let _ = provider.shutdown();
    out
}

fn post(port: u16, path: &str, body: &Value) -> Value {
    let url = format!("http://127.0.0.1:{port}{path}");
    let text = runtime().block_on(async {
        reqwest::Client::new()
            .post(url)
            .timeout(Duration::from_secs(60))
            .body(body.to_string())
            .send()
            .await
            .expect("the Node peer answers")
            .text()
            .await
            .expect("a body")
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn get(port: u16, path_and_query: &str) -> Value {
    let url = format!("http://127.0.0.1:{port}{path_and_query}");
    let text = runtime().block_on(async {
        reqwest::Client::new()
            .get(url)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("the service answers")
            .text()
            .await
            .expect("a body")
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn decisions(v: &Value) -> Vec<(bool, String)> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|d| {
            (
                d["sampled"].as_bool().expect("sampled"),
                d["tracestate"].as_str().expect("tracestate").to_string(),
            )
        })
        .collect()
}

fn node_peer(envs: &[(&str, &str)]) -> Peer {
    let mut c = Command::new("node");
    c.arg(js_dir().join("sampling_peer.mjs"))
        .current_dir(js_dir())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (k, v) in envs {
        c.env(k, v);
    }
    Peer::start(c)
}

fn rust_service(rx: &OtlpReceiver, name: &str, envs: &[(&str, &str)]) -> Peer {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sampling_hop"));
    c.arg(name)
        .env_clear()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", rx.http_endpoint())
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .env("OTEL_METRICS_EXPORTER", "none")
        .env("RUST_LOG", "warn");
    for (k, v) in envs {
        c.env(k, v);
    }
    Peer::start(c)
}

fn node_service(rx: &OtlpReceiver, name: &str, ratio: &str) -> Peer {
    node_peer(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &rx.http_endpoint()),
        ("SERVICE_NAME", name),
        ("SAMPLING_RATIO", ratio),
    ])
}

/// The 56 random bits of a trace id (hex).
fn randomness(trace_id: &str) -> u64 {
    u64::from_str_radix(&trace_id[18..], 16).expect("hex")
}

#[test]
fn rust_and_node_decide_alike_on_10000_trace_ids_at_every_threshold() {
    if !node_ready() {
        return;
    }
    let node = node_peer(&[]);
    let ids = Arc::new(trace_ids());
    let hex: Vec<String> = ids.iter().map(|t| t.to_string()).collect();
    for ratio in RATIOS {
        let rust = rust_decisions(&ids, ratio, None);
        let js = decisions(&post(
            node.port,
            "/decide",
            &json!({"ratio": ratio, "trace_ids": hex}),
        ));
        assert_eq!(js.len(), IDS);
        let disagreements: Vec<usize> = (0..IDS).filter(|&i| rust[i] != js[i]).collect();
        let kept = rust.iter().filter(|d| d.0).count();
        eprintln!(
            "ratio {ratio}: {kept} of {IDS} sampled, {} disagreements",
            disagreements.len()
        );
        assert!(
            disagreements.is_empty(),
            "ratio {ratio}: {} disagreements, first: {} rust {:?} node {:?}",
            disagreements.len(),
            hex[disagreements[0]],
            rust[disagreements[0]],
            js[disagreements[0]]
        );
        // The decisions are the specification's, not merely the same: R >= T, `th` written.
        let th = Threshold::from_probability(ratio).expect("a threshold");
        for (i, (sampled, state)) in rust.iter().enumerate() {
            assert_eq!(*sampled, randomness(&hex[i]) >= th.value(), "{}", hex[i]);
            let expected = if *sampled {
                format!("ot=th:{th}")
            } else {
                String::new()
            };
            assert_eq!(state, &expected);
        }
        // And a plausible sample: within 6 standard deviations of the binomial mean.
        let mean = IDS as f64 * ratio;
        let sd = (IDS as f64 * ratio * (1.0 - ratio)).sqrt();
        assert!(
            (kept as f64 - mean).abs() <= 6.0 * sd + 1.0,
            "{kept} kept at {ratio}"
        );
        // Children of those roots, with the parent-threshold sampler on both sides.
        let parents: Vec<Value> = rust
            .iter()
            .map(|(s, ts)| json!({"sampled": s, "tracestate": ts}))
            .collect();
        let rust_children = rust_decisions(&ids, 0.5, Some(&rust));
        let js_children = decisions(&post(
            node.port,
            "/decide",
            &json!({"ratio": 0.5, "trace_ids": hex, "parents": parents}),
        ));
        let differ = (0..IDS)
            .filter(|&i| rust_children[i] != js_children[i])
            .count();
        assert_eq!(differ, 0, "children at ratio {ratio}");
        assert_eq!(rust_children, rust, "a child follows its root");
    }
    node.stop();
}

/// Spans by trace id.
fn by_trace(spans: &[ReceivedSpan]) -> BTreeMap<String, Vec<&ReceivedSpan>> {
    let mut out: BTreeMap<String, Vec<&ReceivedSpan>> = BTreeMap::new();
    for s in spans {
        out.entry(s.trace_id.clone()).or_default().push(s);
    }
    out
}

/// `n` requests to `port`'s `/hop` along `chain`: the root's (trace id, sampled, tracestate).
fn drive(
    port: u16,
    chain: &str,
    n: usize,
    fail_every: Option<usize>,
) -> Vec<(String, bool, String)> {
    (0..n)
        .map(|i| {
            let fail = fail_every.is_some_and(|k| i % k == 0);
            let q = format!("/hop?chain={chain}{}", if fail { "&fail=1" } else { "" });
            let v = get(port, &q);
            (
                v["trace_id"].as_str().expect("trace id").to_string(),
                v["sampled"].as_bool().expect("sampled"),
                v["tracestate"].as_str().expect("tracestate").to_string(),
            )
        })
        .collect()
}

#[test]
fn mixed_rates_across_rust_and_node_export_only_whole_traces() {
    if !node_ready() {
        return;
    }
    let rx = OtlpReceiver::start().expect("receiver");
    let rate = |r: &'static str| {
        [
            ("OTEL_TRACES_SAMPLER", "parentbased_probability"),
            ("OTEL_TRACES_SAMPLER_ARG", r),
        ]
    };
    let a = rust_service(&rx, "rust-a", &rate("0.1"));
    let b = node_service(&rx, "node-b", "0.25");
    let c = rust_service(&rx, "rust-c", &rate("0.5"));
    // A Rust root at 10% -> Node -> Rust; a Node root at 25% -> Rust (50%) -> Rust (10%).
    let from_rust = drive(a.port, &format!("{},{}", b.port, c.port), 300, None);
    let from_node = drive(b.port, &format!("{},{}", c.port, a.port), 300, None);
    for p in [a, b, c] {
        p.stop();
    }
    let kept: BTreeSet<String> = from_rust
        .iter()
        .chain(&from_node)
        .filter(|r| r.1)
        .map(|r| r.0.clone())
        .collect();
    let kept_rust = from_rust.iter().filter(|r| r.1).count();
    let kept_node = from_node.iter().filter(|r| r.1).count();
    eprintln!("kept: {kept_rust} of 300 Rust roots at 10%, {kept_node} of 300 Node roots at 25%");
    assert!((5..=70).contains(&kept_rust), "{kept_rust}");
    assert!((40..=120).contains(&kept_node), "{kept_node}");
    // Each kept trace: the root service's server span, a Rust client span per Rust hop that
    // calls on, the other two services' server spans: 4 spans, one tree.
    let expected = 4 * kept.len();
    rx.wait_for_spans(expected, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(500));
    let spans = rx.spans();
    let traces = by_trace(&spans);
    assert_eq!(
        traces.keys().cloned().collect::<BTreeSet<_>>(),
        kept,
        "exactly the traces their roots sampled"
    );
    for (trace, spans) in &traces {
        assert_eq!(spans.len(), 4, "trace {trace} whole: {spans:#?}");
        let services: BTreeSet<&str> = spans.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(services.len(), 3, "{trace}: {services:?}");
        let roots = spans
            .iter()
            .filter(|s| match &s.parent_span_id {
                None => true,
                Some(p) => !spans.iter().any(|q| &q.span_id == p),
            })
            .count();
        assert_eq!(roots, 1, "{trace}: one tree");
        // Every span says the probability its root kept it at.
        let root_th = from_rust
            .iter()
            .chain(&from_node)
            .find(|r| &r.0 == trace)
            .map(|r| r.2.clone())
            .expect("driven");
        for s in spans {
            assert_eq!(s.trace_state, root_th, "{trace} {}", s.service);
        }
    }
    let th = |r: f64| format!("ot=th:{}", Threshold::from_probability(r).expect("th"));
    assert!(from_rust.iter().filter(|r| r.1).all(|r| r.2 == th(0.1)));
    assert!(from_node.iter().filter(|r| r.1).all(|r| r.2 == th(0.25)));
}

#[test]
fn keep_errors_and_always_on_never_export_a_threshold_they_did_not_honour() {
    if !node_ready() {
        return;
    }
    let rx = OtlpReceiver::start().expect("receiver");
    // Probability 10% at the root, failed traces kept too; a Node child at 25% behind it.
    let a = rust_service(
        &rx,
        "rust-errors",
        &[
            ("OTEL_TRACES_SAMPLER", "parentbased_probability"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.1"),
            ("AGENT_TRACE_KEEP_ERRORS", "true"),
        ],
    );
    let b = node_service(&rx, "node-child", "0.25");
    // Always-on behind a 25% Node root.
    let d = rust_service(
        &rx,
        "rust-always-on",
        &[("OTEL_TRACES_SAMPLER", "always_on")],
    );
    let e = node_service(&rx, "node-root", "0.25");
    let with_errors = drive(a.port, &b.port.to_string(), 200, Some(2));
    let behind_node = drive(e.port, &d.port.to_string(), 200, None);
    for p in [a, b, d, e] {
        p.stop();
    }
    std::thread::sleep(Duration::from_secs(1));
    let spans = rx.spans();
    let th10 = Threshold::from_probability(0.1).expect("th");
    let failed: BTreeSet<&str> = with_errors
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, r)| r.0.as_str())
        .collect();
    let mut kept_by_error = 0;
    for r in &with_errors {
        let in_ratio = randomness(&r.0) >= th10.value();
        assert_eq!(
            r.1, in_ratio,
            "the propagated decision is the probability one"
        );
        let mine: Vec<&ReceivedSpan> = spans
            .iter()
            .filter(|s| s.trace_id == r.0 && s.service == "rust-errors")
            .collect();
        let child: Vec<&ReceivedSpan> = spans
            .iter()
            .filter(|s| s.trace_id == r.0 && s.service == "node-child")
            .collect();
        let failed_here = failed.contains(r.0.as_str());
        assert_eq!(!mine.is_empty(), in_ratio || failed_here, "{}", r.0);
        // Downstream saw the probability decision: the child only where the ratio kept it.
        assert_eq!(!child.is_empty(), in_ratio, "{}", r.0);
        for s in &mine {
            assert_eq!(s.flags & 1, 1, "exported spans say sampled");
            let th = threshold_of(&s.trace_state.parse().expect("trace state"));
            if in_ratio {
                assert_eq!(th, Some(th10), "{}", r.0);
            } else {
                assert_eq!(
                    th, None,
                    "kept for its error, not at 10%: {}",
                    s.trace_state
                );
                kept_by_error += 1;
            }
        }
    }
    assert!(kept_by_error > 0, "some failed traces were outside the 10%");
    // Always-on behind a 25% root: every Rust span exported, none with a threshold.
    let always_on: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.service == "rust-always-on")
        .collect();
    assert_eq!(always_on.len(), 200, "always on keeps every request's span");
    assert!(
        always_on.iter().all(|s| !s.trace_state.contains("th:")),
        "{:?}",
        always_on
            .iter()
            .map(|s| &s.trace_state)
            .collect::<BTreeSet<_>>()
    );
    assert!(behind_node.iter().any(|r| r.1) && behind_node.iter().any(|r| !r.1));
}
