//! `tracing` spans nest under ours and ours under theirs, through the subscriber `init`
//! installs (tracing-opentelemetry with context activation).

use agent_trace::testing::Capture;
use agent_trace::{agent_phase, traced_tool};

#[tracing::instrument]
fn library_function(x: u32) -> u32 {
    ours_inside_theirs(x)
}

#[traced_tool]
fn ours_inside_theirs(x: u32) -> u32 {
    let span = tracing::info_span!("library_inner");
    let _e = span.enter();
    x + 1
}

#[agent_phase("outer")]
fn outer() -> u32 {
    library_function(1)
}

#[test]
fn nesting_works_both_ways() {
    let _guard = agent_trace::builder()
        .service_name("interop")
        .env(|_| None)
        .install()
        .expect("init installs the subscriber");
    let cap = Capture::start();
    assert_eq!(cap.in_scope(outer), 2);
    let tree = cap.tree();
    let names: Vec<String> = tree
        .to_string()
        .lines()
        .filter(|l| !l.trim_start().starts_with('·'))
        .map(str::to_string)
        .collect();
    assert_eq!(
        names,
        [
            "agent_phase outer [INTERNAL]",
            "  library_function [INTERNAL]",
            "    execute_tool ours_inside_theirs [INTERNAL]",
            "      library_inner [INTERNAL]",
        ],
        "{tree}"
    );
}

fn init() -> agent_trace::TraceGuard {
    agent_trace::builder()
        .service_name("interop")
        .env(|_| None)
        .install()
        .expect("init installs the subscriber")
}

#[traced_tool]
fn noisy(x: u32) -> Result<u32, String> {
    tracing::info!(attempt = 2, "looking things up");
    agent_trace::record("lookup.hits", 7i64);
    tracing::error!("the cache looked stale"); // an event, not the outcome
    Ok(x)
}

#[tracing::instrument]
fn library_around(x: u32) -> u32 {
    noisy(x).unwrap_or_default()
}

#[traced_tool]
fn ours_around_theirs() -> u32 {
    let span = tracing::info_span!("library_step");
    let _e = span.enter();
    tracing::info!("inside the library step");
    1
}

#[test]
fn tracing_events_become_events_of_the_span_they_happen_in() {
    let _guard = init();
    let cap = Capture::start();
    cap.in_scope(|| {
        library_around(1);
        ours_around_theirs();
    });
    let tree = cap.tree();

    // Directly inside our span (a `tracing` span outside it): on ours, only.
    let noisy = tree.find("execute_tool noisy").expect("span");
    let event = noisy
        .event("looking things up")
        .unwrap_or_else(|| panic!("{tree}"));
    assert!(event.contains(&("attempt".into(), "2".into())), "{event:?}");
    assert!(
        event.contains(&(
            agent_trace::semconv::AGENT_TRACE_LOG_LEVEL.into(),
            "INFO".into()
        )),
        "{event:?}"
    );
    assert!(noisy.event("the cache looked stale").is_some(), "{tree}");
    assert_eq!(
        noisy.error(),
        None,
        "an error! event does not fail an Ok span"
    );
    assert_eq!(noisy.attr("lookup.hits").as_deref(), Some("7"));
    let outer = tree.find("library_around").expect("tracing span");
    assert!(
        outer.event("looking things up").is_none(),
        "not twice: {tree}"
    );

    // A `tracing` span entered inside ours: the event is that span's.
    let ours = tree.find("execute_tool ours_around_theirs").expect("span");
    assert!(ours.event("inside the library step").is_none(), "{tree}");
    let inner = tree.find("library_step").expect("tracing span");
    assert!(inner.event("inside the library step").is_some(), "{tree}");
}

/// What rmcp does: a session span for as long as a server runs, with events and spans inside.
fn library_session() {
    let session = tracing::info_span!(target: "rmcp::service", "serve_inner");
    let _s = session.enter();
    tracing::info!(target: "rmcp::service", "Service initialized");
    let inner = tracing::info_span!("handler_of_the_session");
    let _i = inner.enter();
}

#[agent_phase("calls a library")]
fn inside_a_trace() {
    library_session();
}

/// Collects what the pipeline exports.
#[derive(Debug, Clone, Default)]
struct Collect(
    std::sync::Arc<std::sync::Mutex<Vec<agent_trace::opentelemetry_sdk::trace::SpanData>>>,
);

impl agent_trace::opentelemetry_sdk::trace::SpanExporter for Collect {
    async fn export(
        &self,
        batch: Vec<agent_trace::opentelemetry_sdk::trace::SpanData>,
    ) -> agent_trace::opentelemetry_sdk::error::OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

/// A library's `tracing` span that would start a trace of its own (rmcp's `serve_inner`) is
/// left out, with what it contains; inside a trace it is bridged as usual; a root span of the
/// application's own still starts a trace.
#[test]
fn library_spans_are_bridged_only_inside_a_trace() {
    agent_trace::isolate!();
    let collect = Collect::default();
    let guard = agent_trace::builder()
        .service_name("interop")
        .env(|_| None)
        .span_exporter(collect.clone())
        .install()
        .expect("install");
    library_session();
    inside_a_trace();
    {
        let app = tracing::info_span!("application_root");
        let _a = app.enter();
    }
    guard.shutdown().expect("delivered");
    let spans = collect.0.lock().unwrap();
    let mut names: Vec<(String, bool)> = spans
        .iter()
        .map(|s| {
            (
                s.name.to_string(),
                s.parent_span_id == agent_trace::opentelemetry::trace::SpanId::INVALID,
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ("agent_phase calls a library".to_string(), true),
            ("application_root".to_string(), true),
            ("handler_of_the_session".to_string(), false),
            ("serve_inner".to_string(), false),
        ],
        "(name, is a root)"
    );
}
