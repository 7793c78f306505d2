// A Rust A2A agent for the cross-language streaming tests (included by `cross_language_js.rs`
// and `cross_language_http.rs`).

use std::time::Duration;

use serde_json::{json, Value};

/// A Rust A2A agent answering `SendStreamingMessage` with `a2a::serve_stream`: the task,
/// `working`, an artifact with the upper-cased text, `completed`, 10 ms apart.
pub(crate) async fn rust_streaming_agent(body: String) -> axum::response::Response {
    use futures_util::StreamExt as _;
    let request: Value = serde_json::from_str(&body).unwrap_or_default();
    let id = request["id"].clone();
    let text = request["params"]["message"]["parts"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_uppercase();
    let (task, cx) = ("t-rust", "c-rust");
    let status = |state: &str| json!({"statusUpdate": {"taskId": task, "contextId": cx,
        "status": {"state": state}}});
    let results = vec![
        json!({"task": {"id": task, "contextId": cx, "status": {"state": "TASK_STATE_SUBMITTED"}}}),
        status("TASK_STATE_WORKING"),
        json!({"artifactUpdate": {"taskId": task, "contextId": cx,
            "artifact": {"artifactId": "a-1", "parts": [{"text": text}]}}}),
        status("TASK_STATE_COMPLETED"),
    ];
    let answers = futures_util::stream::iter(results).then(move |result| {
        let id = id.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            json!({"jsonrpc": "2.0", "id": id, "result": result})
        }
    });
    let served = agent_trace::a2a::serve_stream(&request, answers);
    axum::response::Response::builder()
        .header("content-type", "text/event-stream")
        .body(axum::body::Body::from_stream(agent_trace::a2a::sse_frames(served)))
        .expect("response")
}
