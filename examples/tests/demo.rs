//! The demo, run as a user runs it: its processes export over real OTLP to a receiver here,
//! and the collected trace is checked.

use std::collections::BTreeSet;
use std::process::Command;

use agent_trace::receiver::{OtlpReceiver, ReceivedSpan};
use agent_trace_tests::RedisServer;

mod common;
use common::DEMO;

fn find<'a>(spans: &'a [ReceivedSpan], name: &str) -> Vec<&'a ReceivedSpan> {
    spans.iter().filter(|s| s.name == name).collect()
}

#[test]
fn demo_exports_one_connected_trace_across_services() {
    let rx = OtlpReceiver::start().expect("receiver");
    let redis = RedisServer::start_or_skip("demo redis hop");
    let out = common::run_demo(&rx, redis.as_ref(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("answer: "), "{stdout}");

    let spans = rx.spans();
    let root = find(&spans, "agent_phase handle_request");
    assert_eq!(root.len(), 1, "one request");
    let trace = &root[0].trace_id;
    let in_trace: Vec<&ReceivedSpan> = spans.iter().filter(|s| &s.trace_id == trace).collect();
    assert_eq!(
        in_trace.len(),
        spans.len(),
        "every span is in the one trace"
    );

    let services: BTreeSet<&str> = in_trace.iter().map(|s| s.service.as_str()).collect();
    for s in [
        "orchestrator",
        "research-agent",
        "coder-agent",
        "test-runner",
        "docs-mcp",
        "lint-mcp",
    ] {
        assert!(services.contains(s), "{s} missing from {services:?}");
    }

    // One conversation: every span of every service carries its id, from the baggage.
    let conversations: BTreeSet<Option<&str>> = in_trace
        .iter()
        .map(|s| s.attr("gen_ai.conversation.id"))
        .collect();
    assert_eq!(conversations.len(), 1, "{conversations:?}");
    let id = conversations.into_iter().next().flatten();
    assert!(id.is_some_and(|c| c.starts_with("demo-")), "{id:?}");

    // The research agent's own usage and cost, rolled up from its model call.
    let research_run = in_trace
        .iter()
        .find(|s| s.name == "invoke_agent research-agent" && s.kind == "INTERNAL")
        .expect("the research agent's run");
    let research_chat = in_trace
        .iter()
        .find(|s| s.service == "research-agent" && s.name.starts_with("chat "))
        .expect("its model call");
    for key in [
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "agent_trace.usage.cost",
    ] {
        assert!(research_chat.attr(key).is_some(), "{key} on the call");
        assert_eq!(
            research_run.attr(key),
            research_chat.attr(key),
            "{key} rolled up"
        );
    }

    // Every parent is in the trace: no orphans across the process boundaries.
    let ids: BTreeSet<&str> = in_trace.iter().map(|s| s.span_id.as_str()).collect();
    for s in &in_trace {
        if let Some(p) = &s.parent_span_id {
            assert!(ids.contains(p.as_str()), "{} has a missing parent", s.name);
        }
    }

    let kinds = |name: &str| -> Vec<&str> {
        let mut kinds: Vec<&str> = find(&spans, name).iter().map(|s| s.kind).collect();
        kinds.sort();
        kinds
    };
    assert_eq!(kinds("invoke_agent research-agent"), ["CLIENT", "INTERNAL"]);
    assert_eq!(kinds("invoke_agent coder-agent"), ["CLIENT"]);
    assert_eq!(kinds("POST /a2a"), ["SERVER", "SERVER"]);

    // A2A: the agent-level `invoke_agent` CLIENT span, beneath it the A2A request's own
    // `SendMessage` CLIENT span (the conventions' shape), then the HTTP hop, and on the
    // other side `POST /a2a` SERVER > `SendMessage` SERVER.
    let mut sends = find(&spans, "SendMessage");
    sends.sort_by_key(|s| s.kind);
    assert_eq!(
        sends.iter().map(|s| s.kind).collect::<Vec<_>>(),
        ["CLIENT", "CLIENT", "SERVER", "SERVER"]
    );
    for s in &sends {
        assert_eq!(s.attr("a2a.method.name"), Some("SendMessage"));
        assert_eq!(s.attr("a2a.task.state"), Some("TASK_STATE_COMPLETED"));
        assert!(s
            .attr("a2a.task.id")
            .is_some_and(|t| t.starts_with("task-")));
        assert!(s
            .attr("a2a.message.id")
            .is_some_and(|t| t.starts_with("msg-")));
        // The A2A context is the conversation.
        assert_eq!(s.attr("gen_ai.conversation.id"), id);
    }
    let parent_of = |s: &ReceivedSpan| {
        in_trace
            .iter()
            .find(|p| Some(p.span_id.as_str()) == s.parent_span_id.as_deref())
            .copied()
            .expect("parent")
    };
    for client in sends.iter().filter(|s| s.kind == "CLIENT") {
        let agent = parent_of(client);
        assert!(agent.name.starts_with("invoke_agent "), "{}", agent.name);
        assert_eq!(agent.kind, "CLIENT");
        assert_eq!(agent.attr("gen_ai.provider.name"), Some("a2a"));
        assert_eq!(
            agent.attr("a2a.method.name"),
            None,
            "A2A keys on the A2A span only"
        );
        assert_eq!(client.attr("server.address"), Some("127.0.0.1"));
    }
    for server in sends.iter().filter(|s| s.kind == "SERVER") {
        assert_eq!(
            parent_of(server).name,
            "POST /a2a",
            "the A2A span is a child of the HTTP span"
        );
        let http = parent_of(parent_of(server));
        assert_eq!((http.name.as_str(), http.kind), ("POST", "CLIENT"));
        assert_eq!(parent_of(http).name, "SendMessage");
    }

    // MCP: the research agent calls a tool on the docs server process over stdio.
    let mcp_client = find(&spans, "tools/call lookup_docs")
        .into_iter()
        .find(|s| s.kind == "CLIENT")
        .expect("MCP client span");
    let mcp_server = find(&spans, "tools/call lookup_docs")
        .into_iter()
        .find(|s| s.kind == "SERVER")
        .expect("MCP server span");
    let research = find(&spans, "invoke_agent research-agent")
        .into_iter()
        .find(|s| s.kind == "INTERNAL")
        .expect("the research agent's own invoke_agent span");
    assert_eq!(mcp_client.service, "research-agent");
    assert_eq!(
        mcp_client.parent_span_id.as_deref(),
        Some(research.span_id.as_str())
    );
    assert_eq!(mcp_server.service, "docs-mcp");
    assert_eq!(
        mcp_server.parent_span_id.as_deref(),
        Some(mcp_client.span_id.as_str())
    );
    assert_eq!(mcp_server.attr("network.transport"), Some("pipe"));
    let lookup = find(&spans, "execute_tool search_index")[0];
    assert_eq!(
        lookup.parent_span_id.as_deref(),
        Some(mcp_server.span_id.as_str())
    );
    assert_eq!(research.service, "research-agent");
    mcp_over_http(&spans, &in_trace);
    assert_eq!(kinds("chat stand-in-1"), ["CLIENT", "CLIENT", "CLIENT"]);
    for chat in find(&spans, "chat stand-in-1") {
        assert_eq!(chat.attr("gen_ai.request.model"), Some("stand-in-1"));
        assert_eq!(chat.attr("gen_ai.provider.name"), Some("stand-in"));
        let input: u64 = chat
            .attr("gen_ai.usage.input_tokens")
            .expect("usage")
            .parse()
            .expect("number");
        assert!(input > 0);
        assert!(
            chat.attr("gen_ai.input.messages").is_none(),
            "content capture off by default"
        );
    }

    // The flaky tool: first attempt an error, the retry a success, in that order.
    let mut searches = find(&spans, "execute_tool web_search");
    searches.sort_by_key(|s| s.start_ns);
    assert_eq!(searches.len(), 2);
    assert_eq!(searches[0].status_code, 2);
    assert_eq!(
        searches[0].status_message,
        "search backend timed out after 30 ms"
    );
    assert_eq!(searches[0].attr("error.type"), Some("timeout"));
    assert_eq!(searches[0].attr("tool.success"), Some("false"));
    assert_eq!(searches[1].status_code, 0);
    assert_eq!(searches[1].attr("tool.success"), Some("true"));

    // The helper process is a child of the coder's testing phase.
    let testing = find(&spans, "agent_phase testing")[0];
    let helper = find(&spans, "execute_tool compile_and_test")[0];
    assert_eq!(
        helper.parent_span_id.as_deref(),
        Some(testing.span_id.as_str())
    );
    assert_eq!(helper.service, "test-runner");

    if redis.is_some() {
        let send = find(&spans, "send agent-events");
        let process = find(&spans, "process agent-events");
        assert_eq!((send.len(), process.len()), (1, 1));
        assert_eq!(send[0].service, "coder-agent");
        assert_eq!(process[0].service, "orchestrator");
        assert_eq!(
            process[0].parent_span_id.as_deref(),
            Some(send[0].span_id.as_str())
        );
    }
}

/// MCP over streamable HTTP: the coder calls the lint server, its own service. The
/// conventions' shape: MCP CLIENT → HTTP POST CLIENT → HTTP POST /mcp SERVER, and MCP SERVER
/// under the MCP CLIENT, linked to the HTTP SERVER span. Everything the lint server exported
/// is in the request's trace (checked above for every span).
fn mcp_over_http(spans: &[ReceivedSpan], in_trace: &[&ReceivedSpan]) {
    let one = |name: &str, kind: &str| {
        let found: Vec<_> = spans
            .iter()
            .filter(|s| s.name == name && s.kind == kind)
            .collect();
        assert_eq!(found.len(), 1, "one {kind} {name}");
        found[0]
    };
    let client = one("tools/call lint", "CLIENT");
    let server = one("tools/call lint", "SERVER");
    assert_eq!(
        (client.service.as_str(), server.service.as_str()),
        ("coder-agent", "lint-mcp")
    );
    assert_eq!(
        server.parent_span_id.as_deref(),
        Some(client.span_id.as_str())
    );
    let post = in_trace
        .iter()
        .find(|s| s.name == "POST" && s.parent_span_id.as_deref() == Some(client.span_id.as_str()))
        .expect("the HTTP POST under the MCP CLIENT span");
    let http = in_trace
        .iter()
        .find(|s| s.parent_span_id.as_deref() == Some(post.span_id.as_str()))
        .expect("the lint server's HTTP span");
    assert_eq!((http.name.as_str(), http.kind), ("POST /mcp", "SERVER"));
    assert!(server.links.iter().any(|(_, span)| span == &http.span_id));
    let check = spans
        .iter()
        .find(|s| s.name == "execute_tool check_style")
        .expect("the tool");
    assert_eq!(
        check.parent_span_id.as_deref(),
        Some(server.span_id.as_str())
    );
    assert_eq!(server.attr("network.transport"), Some("tcp"));
}

#[test]
fn demo_draws_the_trace_itself_without_a_collector() {
    let out = Command::new(DEMO)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env("REDIS_URL", "redis://127.0.0.1:9/")
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("skipping the queue hop"),
        "one-line notice: {stderr}"
    );
    let header = stdout
        .lines()
        .find(|l| l.starts_with("trace ") && l.contains("6 services"))
        .unwrap_or_else(|| panic!("no 6-service trace drawn:\n{stdout}"));
    assert!(header.contains("1 error"), "{header}");
    assert!(stdout.contains("✗ ERROR: search backend timed out after 30 ms"));
    assert!(stdout.contains("test-runner"));
    assert!(
        stdout.contains("tools/call lookup_docs [SERVER]"),
        "{stdout}"
    );
    assert!(stdout.contains("tools/call lint [SERVER]"), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("trace ")).count(),
        1,
        "only the request's trace is drawn:\n{stdout}"
    );
}

/// `DEMO_PYTHON_CODER=1`: the coder is an agent on the official Python A2A SDK; the trace
/// stays one, the Python server span the child of the Rust HTTP CLIENT span.
#[test]
fn demo_with_the_python_coder_is_still_one_trace() {
    if !agent_trace_tests::python_ready() {
        return;
    }
    let rx = OtlpReceiver::start().expect("receiver");
    let http = rx.http_endpoint();
    let out = common::run_demo(
        &rx,
        None,
        &[
            ("DEMO_PYTHON_CODER", "1"),
            ("DEMO_PYTHON_OTLP_ENDPOINT", http.as_str()),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("def answer()"), "{stdout}");
    // The Python side sends each span as it ends; its HTTP SERVER span (`POST …`) ends last.
    // The a2a-sdk's request handler span is a SERVER span too, and may arrive first: wait
    // for the HTTP one.
    let http_server = |s: &ReceivedSpan| {
        s.service == "coder-agent-python" && s.kind == "SERVER" && s.name.starts_with("POST")
    };
    let started = std::time::Instant::now();
    let spans = loop {
        let spans = rx.spans();
        if spans.iter().any(http_server) || started.elapsed().as_secs() > 20 {
            break spans;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let root = find(&spans, "agent_phase handle_request");
    assert_eq!(root.len(), 1);
    let trace = &root[0].trace_id;
    assert!(spans.iter().all(|s| &s.trace_id == trace), "one trace");
    let server = spans
        .iter()
        .find(|s| http_server(s))
        .expect("the Python agent's HTTP SERVER span");
    let post = spans
        .iter()
        .find(|s| Some(s.span_id.as_str()) == server.parent_span_id.as_deref())
        .expect("its parent");
    assert_eq!(
        (post.service.as_str(), post.kind, post.name.as_str()),
        ("orchestrator", "CLIENT", "POST")
    );
    let send = spans
        .iter()
        .find(|s| Some(s.span_id.as_str()) == post.parent_span_id.as_deref())
        .expect("the A2A CLIENT span");
    assert_eq!(send.name, "SendMessage");
    assert_eq!(send.attr("a2a.task.state"), Some("TASK_STATE_COMPLETED"));
    assert!(spans
        .iter()
        .any(|s| s.service == "coder-agent-python" && s.name == "invoke_agent coder-agent-python"));
}

/// With the logs signal on, every service's `tracing` events arrive as log records in the
/// request's trace, and the routing answer's evaluation as a `gen_ai.evaluation.result`
/// event on the model call it judges.
#[test]
fn demo_exports_its_logs_and_an_evaluation_with_the_trace() {
    let rx = OtlpReceiver::start().expect("receiver");
    let out = common::run_demo(
        &rx,
        None,
        &[("OTEL_LOGS_EXPORTER", "otlp"), ("RUST_LOG", "info")],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("answer: "));
    let spans = rx.spans();
    let root = find(&spans, "agent_phase handle_request");
    assert_eq!(root.len(), 1);
    let trace = root[0].trace_id.as_str();
    let logs = rx.wait_for_logs(3, std::time::Duration::from_secs(10));
    let in_trace: Vec<_> = logs
        .iter()
        .filter(|l| l.trace_id.as_deref() == Some(trace))
        .collect();
    let services: BTreeSet<&str> = in_trace.iter().map(|l| l.service.as_str()).collect();
    for s in ["orchestrator", "research-agent"] {
        assert!(
            services.contains(s),
            "{s}'s log records in the trace: {services:?}"
        );
    }
    assert!(
        in_trace.iter().any(|l| l.body == "handling a request"),
        "{in_trace:#?}"
    );
    let evaluation = logs
        .iter()
        .find(|l| l.event_name == "gen_ai.evaluation.result")
        .expect("the routing evaluation");
    assert_eq!(evaluation.attr("gen_ai.evaluation.name"), Some("routing"));
    assert_eq!(
        evaluation.attr("gen_ai.evaluation.score.label"),
        Some("routed")
    );
    let judged = spans
        .iter()
        .find(|s| Some(s.span_id.as_str()) == evaluation.span_id.as_deref())
        .expect("the judged span");
    assert!(judged.name.starts_with("chat "), "{}", judged.name);
    assert_eq!(judged.service, "orchestrator");
}
