//! The logs signal over the real OTLP wire: with `OTEL_LOGS_EXPORTER=otlp`, the application's
//! `tracing` events become log records carrying the trace and span ids of the span they ran
//! in, counted exactly; a library's events outside a trace stay out; off unless asked; and
//! shutdown waits at most its budget for a collector that never answers.

use std::time::{Duration, Instant};

use agent_trace::receiver::{Behavior, OtlpReceiver};
use agent_trace::Protocol;

#[agent_trace::traced_tool]
fn compute() -> u32 {
    tracing::info!(answer = 42, "computed the answer");
    42
}

fn install(rx: &OtlpReceiver, protocol: Protocol, logs: &'static str) -> agent_trace::TraceGuard {
    let endpoint = match protocol {
        Protocol::Grpc => rx.grpc_endpoint(),
        _ => rx.http_endpoint(),
    };
    agent_trace_tests::builder_for("logs-test", &endpoint, protocol)
        .env(move |name| match name {
            "OTEL_LOGS_EXPORTER" => Some(logs.to_string()),
            "RUST_LOG" => Some("info".to_string()),
            _ => None,
        })
        .install()
        .expect("install")
}

fn records_carry_their_span(protocol: Protocol) {
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = install(&rx, protocol, "otlp");
    compute();
    tracing::warn!("outside any span");
    // A library's event outside a trace is noise: left out.
    tracing::warn!(target: "hyper::proto", "connection reset");
    let guard_stats = guard.shutdown().expect("spans delivered");
    assert_eq!(guard_stats.exported, 1);
    let logs = rx.wait_for_logs(2, Duration::from_secs(10));
    let tool = rx.wait_for_spans(1, Duration::from_secs(10));
    let inside = logs
        .iter()
        .find(|l| l.body == "computed the answer")
        .unwrap_or_else(|| panic!("the event in the tool: {logs:#?}"));
    assert_eq!(inside.trace_id.as_deref(), Some(tool[0].trace_id.as_str()));
    assert_eq!(inside.span_id.as_deref(), Some(tool[0].span_id.as_str()));
    assert_eq!(inside.severity, "INFO");
    assert_eq!(inside.attr("answer"), Some("42"));
    assert_eq!(inside.service, "logs-test");
    let outside = logs
        .iter()
        .find(|l| l.body == "outside any span")
        .expect("the event outside");
    assert_eq!(outside.trace_id, None);
    assert!(
        !logs.iter().any(|l| l.body == "connection reset"),
        "{logs:#?}"
    );
    // Exact counts: every record handed over was exported.
    let stats = agent_trace::log_stats();
    assert_eq!(stats.exported, logs.len() as u64, "{stats:?}");
    assert_eq!(
        stats.emitted,
        stats.exported + stats.failed + stats.lost,
        "{stats:?}"
    );
    assert_eq!((stats.failed, stats.lost), (0, 0), "{stats:?}");
}

#[test]
fn events_become_log_records_of_their_span_over_http() {
    agent_trace::isolate!();
    records_carry_their_span(Protocol::HttpProtobuf);
}

#[test]
fn events_become_log_records_of_their_span_over_grpc() {
    agent_trace::isolate!();
    records_carry_their_span(Protocol::Grpc);
}

#[test]
fn no_logs_signal_unless_asked() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = install(&rx, Protocol::HttpProtobuf, "none");
    compute();
    guard.shutdown().expect("spans delivered");
    assert_eq!(rx.wait_for_spans(1, Duration::from_secs(10)).len(), 1);
    assert!(rx.logs().is_empty());
    assert_eq!(agent_trace::log_stats().emitted, 0);
}

#[test]
fn shutdown_is_bounded_when_the_collector_never_answers() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    rx.set_behavior(Behavior::Hang);
    let guard = install(&rx, Protocol::HttpProtobuf, "otlp");
    for _ in 0..10 {
        compute();
    }
    let started = Instant::now();
    let result = guard.shutdown_with_timeout(Duration::from_secs(1));
    let took = started.elapsed();
    assert!(result.is_err(), "nothing could be delivered");
    // The budget plus the helper threads' start: far below the 5 s export timeout.
    assert!(took < Duration::from_secs(4), "shutdown took {took:?}");
    let stats = agent_trace::log_stats();
    // The ten events and `init`'s own summary line.
    assert_eq!(stats.emitted, 11, "{stats:?}");
    assert_eq!(stats.exported, 0, "{stats:?}");
    assert_eq!(
        stats.emitted,
        stats.exported + stats.failed + stats.lost,
        "{stats:?}"
    );
}

use agent_trace::evaluation::{self, Evaluation};
use agent_trace::opentelemetry::trace::{SpanContext, TraceContextExt as _};

#[agent_trace::llm_call(model = "m-eval", provider = "openai")]
fn answer() -> String {
    // Judged while it runs: the current span.
    let judged = Evaluation::new("fluency").score(4.0);
    assert!(evaluation::record(judged), "recorded on the current span");
    "ok".into()
}

#[agent_trace::traced_tool]
fn step() -> SpanContext {
    agent_trace::opentelemetry::Context::current()
        .span()
        .span_context()
        .clone()
}

#[test]
fn evaluation_results_are_genai_events_on_the_span_they_judge() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = install(&rx, Protocol::HttpProtobuf, "otlp");
    answer();
    // Judged after it ended, by its span context.
    let ended = step();
    let verdict = Evaluation::new("relevance")
        .label("relevant")
        .explanation("answers the question")
        .response_id("resp-1");
    assert!(evaluation::record_for(&ended, verdict));
    // Nothing to attach to: not recorded.
    assert!(!evaluation::record(Evaluation::new("orphan")));
    guard.shutdown().expect("delivered");
    let spans = rx.wait_for_spans(2, Duration::from_secs(10));
    let logs = rx.wait_for_logs(3, Duration::from_secs(10));
    let events: Vec<_> = logs
        .iter()
        .filter(|l| l.event_name == "gen_ai.evaluation.result")
        .collect();
    assert_eq!(events.len(), 2, "{logs:#?}");
    let chat = spans
        .iter()
        .find(|s| s.name == "chat m-eval")
        .expect("chat");
    let tool = spans
        .iter()
        .find(|s| s.name == "execute_tool step")
        .expect("tool");
    let fluency = events
        .iter()
        .find(|e| e.attr("gen_ai.evaluation.name") == Some("fluency"))
        .expect("fluency");
    assert_eq!(fluency.span_id.as_deref(), Some(chat.span_id.as_str()));
    assert_eq!(fluency.attr("gen_ai.evaluation.score.value"), Some("4"));
    let relevance = events
        .iter()
        .find(|e| e.attr("gen_ai.evaluation.name") == Some("relevance"))
        .expect("relevance");
    assert_eq!(relevance.span_id.as_deref(), Some(tool.span_id.as_str()));
    assert_eq!(relevance.trace_id.as_deref(), Some(tool.trace_id.as_str()));
    assert_eq!(
        relevance.attr("gen_ai.evaluation.score.label"),
        Some("relevant")
    );
    assert_eq!(
        relevance.attr("gen_ai.evaluation.explanation"),
        Some("answers the question")
    );
    assert_eq!(relevance.attr("gen_ai.response.id"), Some("resp-1"));
    // Every key is one the conventions' registry defines.
    let reg = agent_trace_tests::semconv::load(&[]);
    for e in &events {
        for (key, _) in &e.attributes {
            assert!(reg.attribute(key).is_some(), "{key} is in the registry");
        }
    }
}

#[test]
fn without_the_logs_signal_an_evaluation_is_not_recorded() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = install(&rx, Protocol::HttpProtobuf, "none");
    let ended = step();
    assert!(!evaluation::record_for(
        &ended,
        Evaluation::new("relevance").score(1.0)
    ));
    guard.shutdown().expect("delivered");
}

#[agent_trace::llm_call(model = "m-down", provider = "openai")]
fn overloaded() -> Result<serde_json::Value, std::io::Error> {
    Err(std::io::Error::other("model overloaded"))
}

#[test]
fn a_failed_model_call_is_a_genai_exception_event() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = install(&rx, Protocol::HttpProtobuf, "otlp");
    let _ = overloaded();
    let _ = answer(); // succeeds: no exception event
    guard.shutdown().expect("delivered");
    let spans = rx.wait_for_spans(2, Duration::from_secs(10));
    let failed = spans
        .iter()
        .find(|s| s.name == "chat m-down")
        .expect("span");
    let logs = rx.wait_for_logs(2, Duration::from_secs(10));
    let events: Vec<_> = logs
        .iter()
        .filter(|l| l.event_name == "gen_ai.client.operation.exception")
        .collect();
    assert_eq!(events.len(), 1, "{logs:#?}");
    let e = events[0];
    assert_eq!(e.span_id.as_deref(), Some(failed.span_id.as_str()));
    assert_eq!(e.severity, "ERROR");
    assert_eq!(e.attr("exception.message"), Some("model overloaded"));
    assert_eq!(e.attr("exception.type"), failed.attr("error.type"));
    assert_eq!(e.attr("gen_ai.request.model"), Some("m-down"));
    assert_eq!(e.attr("gen_ai.provider.name"), Some("openai"));
    let reg = agent_trace_tests::semconv::load(&[]);
    for (key, _) in &e.attributes {
        assert!(reg.attribute(key).is_some(), "{key} is in the registry");
    }
}

#[agent_trace::llm_call(model = "m-detail", provider = "openai", prompt = q, temperature = 0.5)]
fn detailed(q: &str) -> Result<serde_json::Value, std::io::Error> {
    let _ = q;
    Ok(serde_json::json!({
        "id": "resp-9", "model": "m-detail-2026",
        "choices": [{"message": {"content": "four"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1}
    }))
}

/// With content capture on, each model call's details are the GenAI event
/// `gen_ai.client.inference.operation.details`; without it, there is none.
#[test]
fn a_model_calls_details_are_an_event_only_with_content_capture() {
    agent_trace::isolate!();
    for capture in [true, false] {
        let rx = OtlpReceiver::start().expect("receiver");
        let endpoint = rx.http_endpoint();
        let guard = agent_trace_tests::builder_for("details", &endpoint, Protocol::HttpProtobuf)
            .env(|name| (name == "OTEL_LOGS_EXPORTER").then(|| "otlp".to_string()))
            .capture_message_content(capture)
            .install()
            .expect("install");
        let _ = detailed("2 + 2?");
        guard.shutdown().expect("delivered");
        let spans = rx.wait_for_spans(1, Duration::from_secs(10));
        let logs = rx.wait_for_logs(1, Duration::from_secs(10));
        let details: Vec<_> = logs
            .iter()
            .filter(|l| l.event_name == "gen_ai.client.inference.operation.details")
            .collect();
        if !capture {
            assert!(details.is_empty(), "{details:#?}");
            continue;
        }
        assert_eq!(details.len(), 1, "{logs:#?}");
        let d = details[0];
        assert_eq!(d.span_id.as_deref(), Some(spans[0].span_id.as_str()));
        for key in [
            "gen_ai.operation.name",
            "gen_ai.request.model",
            "gen_ai.request.temperature",
            "gen_ai.input.messages",
            "gen_ai.output.messages",
            "gen_ai.response.model",
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.output_tokens",
        ] {
            assert_eq!(d.attr(key), spans[0].attr(key), "{key}");
            assert!(d.attr(key).is_some(), "{key} in {d:#?}");
        }
        let reg = agent_trace_tests::semconv::load(&[]);
        for (key, _) in &d.attributes {
            assert!(reg.attribute(key).is_some(), "{key} is in the registry");
        }
    }
}
