//! `#[a2a_call]`, `a2a_span!` and `#[agent_phase]` spans, and how they nest.

use agent_trace::testing::Capture;
use agent_trace::{a2a_call, a2a_span, agent_phase, traced_tool};
use opentelemetry::trace::TraceContextExt as _;

#[traced_tool]
fn local_check() -> bool {
    true
}

#[a2a_call(target = "coder", url = format!("http://127.0.0.1:{port}/a2a/tasks"), method = "POST",
           capture(task), fields(task.priority = 2))]
async fn ask_coder(port: u16, task: &str) -> Result<String, String> {
    local_check();
    if task.is_empty() {
        return Err("coder refused an empty task".into());
    }
    Ok(format!("done {task}"))
}

#[a2a_call(
    target = "reviewer",
    source = "planner",
    url = "https://review.internal/v1"
)]
fn ask_reviewer() -> u8 {
    3
}

#[tokio::test]
async fn a2a_call_attributes_and_nesting() {
    let cap = Capture::start();
    cap.future(async {
        ask_coder(8081, "refactor").await.unwrap();
        ask_coder(8081, "").await.unwrap_err();
        ask_reviewer();
    })
    .await;
    assert_eq!(
        cap.tree().to_string(),
        "\
invoke_agent coder [CLIENT]
  · agent.source=test
  · agent.target=coder
  · agent.target_url=http://127.0.0.1:8081/a2a/tasks
  · agent_trace.arg.task=\"refactor\"
  · gen_ai.agent.name=coder
  · gen_ai.operation.name=invoke_agent
  · gen_ai.provider.name=a2a
  · http.request.method=POST
  · server.address=127.0.0.1
  · server.port=8081
  · task.priority=2
  execute_tool local_check [INTERNAL]
    · gen_ai.operation.name=execute_tool
    · gen_ai.tool.name=local_check
    · gen_ai.tool.type=function
    · tool.name=local_check
    · tool.success=true
invoke_agent coder [CLIENT] ERROR: coder refused an empty task
  · agent.source=test
  · agent.target=coder
  · agent.target_url=http://127.0.0.1:8081/a2a/tasks
  · agent_trace.arg.task=\"\"
  · error.type=alloc::string::String
  · gen_ai.agent.name=coder
  · gen_ai.operation.name=invoke_agent
  · gen_ai.provider.name=a2a
  · http.request.method=POST
  · server.address=127.0.0.1
  · server.port=8081
  · task.priority=2
  ! exception exception.message=coder refused an empty task exception.type=alloc::string::String
  execute_tool local_check [INTERNAL]
    · gen_ai.operation.name=execute_tool
    · gen_ai.tool.name=local_check
    · gen_ai.tool.type=function
    · tool.name=local_check
    · tool.success=true
invoke_agent reviewer [CLIENT]
  · agent.source=planner
  · agent.target=reviewer
  · agent.target_url=https://review.internal/v1
  · gen_ai.agent.name=reviewer
  · gen_ai.operation.name=invoke_agent
  · gen_ai.provider.name=a2a
  · server.address=review.internal
  · server.port=443
"
    );
}

#[test]
fn a2a_span_sync_block_is_current_and_records_err() {
    let cap = Capture::start();
    let (inner_span, result): (Option<String>, Result<u8, std::io::Error>) = cap.in_scope(|| {
        let mut seen = None;
        let r = a2a_span!(target = "search-agent", url = "http://127.0.0.1:9000", {
            seen = Some(agent_trace::current_span_id().unwrap());
            local_check();
            Err(std::io::Error::other("search agent down"))
        });
        (seen, r)
    });
    assert!(result.is_err());
    let tree = cap.tree();
    let span = tree.find("invoke_agent search-agent").unwrap();
    assert_eq!(inner_span.as_deref(), Some(span.span_id.as_str()));
    assert_eq!(span.error().as_deref(), Some("search agent down"));
    assert_eq!(span.attr("server.port").as_deref(), Some("9000"));
    let child = tree.find("execute_tool local_check").unwrap();
    assert_eq!(child.parent_span_id.as_deref(), Some(span.span_id.as_str()));
}

#[tokio::test]
async fn a2a_span_async_block_is_an_instrumented_future() {
    let cap = Capture::start();
    let fut = cap.in_scope(|| {
        a2a_span!(target = "writer", fields(attempt = 1u8), async move {
            tokio::task::yield_now().await;
            let cx = opentelemetry::Context::current();
            cx.span().span_context().span_id().to_string()
        })
    });
    let seen = cap.future(fut).await;
    let tree = cap.tree();
    let span = tree.find("invoke_agent writer").unwrap();
    assert_eq!(span.span_id, seen);
    assert_eq!(span.kind, opentelemetry::trace::SpanKind::Client);
    assert_eq!(span.attr("attempt").as_deref(), Some("1"));
}

#[agent_phase("coding")]
fn coding() -> usize {
    testing_phase() + 1
}

#[agent_phase(name = "testing", fields(tests.count = 3))]
fn testing_phase() -> usize {
    local_check() as usize
}

#[test]
fn phases_nest() {
    let cap = Capture::start();
    assert_eq!(cap.in_scope(coding), 2);
    assert_eq!(
        cap.tree().to_string(),
        "\
agent_phase coding [INTERNAL]
  · agent.phase=coding
  agent_phase testing [INTERNAL]
    · agent.phase=testing
    · tests.count=3
    execute_tool local_check [INTERNAL]
      · gen_ai.operation.name=execute_tool
      · gen_ai.tool.name=local_check
      · gen_ai.tool.type=function
      · tool.name=local_check
      · tool.success=true
"
    );
}

#[test]
fn a2a_span_error_type_inferred_after_the_block() {
    let cap = Capture::start();
    let r: Result<u32, std::io::Error> = cap.in_scope(|| {
        // Nothing inside the block fixes the error type; the `let` above does.
        a2a_span!(target = "late", {
            if cap.trace_id().is_empty() {
                Ok(1)
            } else {
                Err(std::io::Error::other("late failure"))
            }
        })
    });
    assert!(r.is_err());
    let span = cap.tree().find("invoke_agent late").unwrap().clone();
    assert_eq!(span.error().as_deref(), Some("late failure"));
    assert_eq!(
        span.attr("error.type").as_deref(),
        Some("std::io::error::Error")
    );
}

/// A JSON-RPC A2A exchange that fails: the server span and the client span both say so,
/// with the JSON-RPC code as `error.type`; the response reaches the caller unchanged.
#[tokio::test]
async fn a2a_json_rpc_errors_mark_both_sides() {
    use serde_json::json;

    async fn server(request: serde_json::Value) -> serde_json::Value {
        agent_trace::a2a::serve(&request, async {
            json!({"jsonrpc": "2.0", "id": 4, "error": {"code": -32001, "message": "Task not found"}})
        })
        .await
    }

    #[a2a_call(target = "tracker")]
    async fn get_task() -> Result<serde_json::Value, String> {
        let request = json!({"jsonrpc": "2.0", "id": 4, "method": "tasks/get",
                             "params": {"id": "task-77"}});
        agent_trace::a2a::record_request(&request);
        let response = server(request).await;
        agent_trace::a2a::record_response(&response);
        Ok(response)
    }

    let cap = Capture::start();
    let response = cap.future(get_task()).await.unwrap();
    assert_eq!(
        response["error"]["code"], -32001,
        "the response is returned as it was"
    );
    let spans = cap.spans();
    let client = spans
        .iter()
        .find(|s| s.name == "invoke_agent tracker")
        .unwrap();
    let server = spans.iter().find(|s| s.name == "GetTask").unwrap();
    assert_eq!(server.parent_span_id, Some(client.span_id.clone()));
    assert_eq!(server.kind, opentelemetry::trace::SpanKind::Server);
    for s in [client, server] {
        assert_eq!(s.attr("a2a.method.name").as_deref(), Some("GetTask"));
        assert_eq!(s.attr("a2a.task.id").as_deref(), Some("task-77"));
        assert_eq!(s.attr("jsonrpc.request.id").as_deref(), Some("4"));
        assert_eq!(s.attr("error.type").as_deref(), Some("-32001"));
        assert_eq!(s.error().as_deref(), Some("Task not found"), "{}", s.name);
    }
}

#[tokio::test]
async fn a2a_call_makes_the_a2a_client_span_under_invoke_agent() {
    use serde_json::json;

    async fn server(request: serde_json::Value) -> serde_json::Value {
        agent_trace::a2a::serve(&request, async {
            json!({"jsonrpc": "2.0", "id": 5, "result": {"task": {"id": "task-9",
                "contextId": "ctx-1", "status": {"state": "TASK_STATE_WORKING"}}}})
        })
        .await
    }

    #[a2a_call(target = "coder")]
    async fn delegate(fail: bool) -> Result<serde_json::Value, std::io::Error> {
        let request = json!({"jsonrpc": "2.0", "id": 5, "method": "SendMessage",
            "params": {"message": {"messageId": "m-5", "role": "ROLE_USER", "parts": []}}});
        agent_trace::a2a::call(&request, async {
            match fail {
                true => Err(std::io::Error::other("connection refused")),
                false => Ok(server(request.clone()).await),
            }
        })
        .await
    }

    let cap = Capture::start();
    let answer = cap.future(delegate(false)).await.unwrap();
    assert_eq!(
        answer["result"]["task"]["id"], "task-9",
        "the answer unchanged"
    );
    cap.future(delegate(true)).await.unwrap_err();
    let spans = cap.spans();
    let agents: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "invoke_agent coder")
        .collect();
    let clients: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "SendMessage" && s.kind == opentelemetry::trace::SpanKind::Client)
        .collect();
    let server = spans
        .iter()
        .find(|s| s.kind == opentelemetry::trace::SpanKind::Server)
        .unwrap();
    assert_eq!((agents.len(), clients.len()), (2, 2));
    for (agent, client) in agents.iter().zip(&clients) {
        assert_eq!(client.parent_span_id.as_ref(), Some(&agent.span_id));
        assert_eq!(
            agent.attr("a2a.method.name"),
            None,
            "A2A keys only on the A2A span"
        );
        assert_eq!(agent.attr("gen_ai.provider.name").as_deref(), Some("a2a"));
        assert_eq!(client.attr("a2a.message.id").as_deref(), Some("m-5"));
    }
    let ok = clients.iter().find(|c| c.error().is_none()).unwrap();
    assert_eq!(
        server.parent_span_id.as_ref(),
        Some(&ok.span_id),
        "the server runs inside"
    );
    assert_eq!(ok.attr("a2a.task.id").as_deref(), Some("task-9"));
    assert_eq!(
        ok.attr("a2a.task.state").as_deref(),
        Some("TASK_STATE_WORKING")
    );
    assert_eq!(ok.attr("gen_ai.conversation.id").as_deref(), Some("ctx-1"));
    let failed = clients.iter().find(|c| c.error().is_some()).unwrap();
    assert_eq!(
        failed.attr("error.type").as_deref(),
        Some("std::io::error::Error")
    );
    assert_eq!(failed.error().as_deref(), Some("connection refused"));
}

#[tokio::test]
async fn streamed_a2a_calls_record_updates_until_the_end_or_the_drop() {
    use futures_util::StreamExt as _;
    use serde_json::json;

    fn events() -> Vec<serde_json::Value> {
        vec![
            json!({"result": {"task": {"id": "t-3", "contextId": "c-3",
                "status": {"state": "TASK_STATE_SUBMITTED"}}}}),
            json!({"result": {"statusUpdate": {"taskId": "t-3",
                "status": {"state": "TASK_STATE_WORKING"}}}}),
            json!({"result": {"artifactUpdate": {"taskId": "t-3",
                "artifact": {"artifactId": "a-1", "parts": [{"text": "HELLO"}]}}}}),
            // 0.3 shape of the last update.
            json!({"result": {"kind": "status-update", "taskId": "t-3",
                "status": {"state": "completed"}}}),
        ]
    }
    let request = json!({"jsonrpc": "2.0", "id": 3, "method": "SendStreamingMessage",
        "params": {"message": {"messageId": "m-3", "parts": [{"text": "hello"}]}}});

    #[a2a_call(target = "streamer")]
    async fn whole(request: &serde_json::Value) -> usize {
        let served = agent_trace::a2a::serve_stream(request, futures_util::stream::iter(events()));
        let answers = served.map(Ok::<_, std::io::Error>);
        agent_trace::a2a::call_stream(request, answers)
            .collect::<Vec<_>>()
            .await
            .len()
    }

    #[a2a_call(target = "streamer")]
    async fn first_only(request: &serde_json::Value) {
        let served = agent_trace::a2a::serve_stream(request, futures_util::stream::iter(events()));
        let mut answers = Box::pin(agent_trace::a2a::call_stream(
            request,
            served.map(Ok::<_, std::io::Error>),
        ));
        let _ = answers.next().await;
    }

    let cap = Capture::start();
    assert_eq!(
        cap.future(whole(&request)).await,
        4,
        "every event passes through"
    );
    let spans = cap.spans();
    let named: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "SendStreamingMessage")
        .collect();
    assert_eq!(named.len(), 2, "a CLIENT and a SERVER span");
    for s in &named {
        assert_eq!(
            s.attr("a2a.task.state").as_deref(),
            Some("TASK_STATE_COMPLETED")
        );
        assert_eq!(s.attr("a2a.task.id").as_deref(), Some("t-3"));
        assert_eq!(s.attr("gen_ai.conversation.id").as_deref(), Some("c-3"));
        let states: Vec<String> = s
            .events
            .iter()
            .filter(|(n, _)| n == "a2a.status_update")
            .map(|(_, a)| a[0].1.to_string())
            .collect();
        assert_eq!(states, ["TASK_STATE_WORKING", "TASK_STATE_COMPLETED"]);
        let artifact = s.event("a2a.artifact_update").expect("artifact event");
        assert_eq!(artifact[0].1, "a-1");
        assert_eq!(s.error(), None);
    }
    let client = named
        .iter()
        .find(|s| s.kind == opentelemetry::trace::SpanKind::Client)
        .unwrap();
    let server = named
        .iter()
        .find(|s| s.kind == opentelemetry::trace::SpanKind::Server)
        .unwrap();
    assert_eq!(server.trace_id, client.trace_id);
    let agent = spans
        .iter()
        .find(|s| s.name == "invoke_agent streamer")
        .unwrap();
    assert_eq!(client.parent_span_id.as_ref(), Some(&agent.span_id));

    let cap = Capture::start();
    cap.future(first_only(&request)).await;
    let spans = cap.spans();
    let dropped: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "SendStreamingMessage")
        .collect();
    assert_eq!(dropped.len(), 2);
    for s in dropped {
        assert_eq!(
            s.attr("error.type").as_deref(),
            Some("cancelled"),
            "{:?}",
            s.kind
        );
        assert_eq!(
            s.attr("a2a.task.state").as_deref(),
            Some("TASK_STATE_SUBMITTED")
        );
    }
}
