//! A streamed chat through async-openai's real client, under `#[llm_call]`: a local model
//! server on 127.0.0.1 answers `POST /v1/chat/completions` with server-sent events (OpenAI's
//! chunk shape, usage in the last chunk when `stream_options.include_usage` is set, then
//! `[DONE]`), and the span and metrics go over real OTLP to a receiver in this process. The
//! span lasts as long as the stream, and carries usage, model, id, finish reasons and the
//! request parameters; the two stream metrics are recorded.

use std::time::{Duration, SystemTime};

use agent_trace::receiver::OtlpReceiver;
use agent_trace::Protocol;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessageArgs, ChatCompletionResponseStream,
    ChatCompletionStreamOptions, CreateChatCompletionRequest, CreateChatCompletionRequestArgs,
};
use axum::body::Body;
use axum::response::Response;
use axum::routing::post;
use futures_util::StreamExt as _;
use serde_json::{json, Value};

const GAP: Duration = Duration::from_millis(15);
const WORDS: [&str; 4] = ["The", " answer", " is", " 42"];

/// The model stand-in: one SSE event per word, `GAP` apart, then the finish chunk, the usage
/// chunk when asked for, and `[DONE]`.
async fn completions(body: axum::body::Bytes) -> Response {
    let req: Value = serde_json::from_slice(&body).expect("a JSON request");
    assert_eq!(req["stream"], json!(true), "a streaming request");
    let usage = req["stream_options"]["include_usage"] == json!(true);
    let chunk = |delta: Value, finish: Value, usage: Value| {
        json!({"id": "chatcmpl-stream-1", "object": "chat.completion.chunk", "created": 1,
               "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_1",
               "choices": if delta.is_null() { json!([]) } else {
                   json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}])
               },
               "usage": usage})
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
        Value::Null,
    )];
    events.extend(
        WORDS
            .iter()
            .map(|w| chunk(json!({"content": w}), Value::Null, Value::Null)),
    );
    events.push(chunk(json!({}), json!("stop"), Value::Null));
    if usage {
        events.push(chunk(
            Value::Null,
            Value::Null,
            json!({"prompt_tokens": 17, "completion_tokens": 4, "total_tokens": 21,
                   "prompt_tokens_details": {"cached_tokens": 8},
                   "completion_tokens_details": {"reasoning_tokens": 0}}),
        ));
    }
    let lines = events
        .into_iter()
        .map(|e| format!("data: {e}\n\n"))
        .chain(std::iter::once("data: [DONE]\n\n".to_string()));
    let body = futures_util::stream::iter(lines).then(|line| async move {
        tokio::time::sleep(GAP).await;
        Ok::<_, std::convert::Infallible>(line)
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(body))
        .expect("response")
}

#[agent_trace::llm_call(model = "gpt-4o-mini", provider = "openai", url = base,
    temperature = request.temperature, max_tokens = request.max_completion_tokens,
    choice_count = request.n, stop_sequences = request.stop)]
async fn chat(
    client: &async_openai::Client<OpenAIConfig>,
    base: &str,
    request: CreateChatCompletionRequest,
) -> Result<ChatCompletionResponseStream, OpenAIError> {
    client.chat().create_stream(request).await
}

#[test]
fn a_streamed_chat_through_async_openai_is_traced_whole() {
    agent_trace::isolate!();
    let rx = OtlpReceiver::start().expect("receiver");
    let guard = agent_trace_tests::init_to(&rx, "openai-stream", Protocol::HttpProtobuf);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (text, last) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}/v1", listener.local_addr().expect("addr"));
        let app = axum::Router::new().route("/v1/chat/completions", post(completions));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = async_openai::Client::with_config(
            OpenAIConfig::new()
                .with_api_base(&base)
                .with_api_key("test-key"),
        );
        let request = CreateChatCompletionRequestArgs::default()
            .model("gpt-4o-mini")
            .messages([ChatCompletionRequestUserMessageArgs::default()
                .content("What is the answer?")
                .build()
                .expect("message")
                .into()])
            .stream(true)
            .stream_options(ChatCompletionStreamOptions {
                include_usage: Some(true),
                include_obfuscation: None,
            })
            .temperature(0.3)
            .max_completion_tokens(64u32)
            .n(1u8)
            .stop(vec!["\n\n".to_string()])
            .build()
            .expect("request");
        let mut stream = chat(&client, &base, request).await.expect("stream");
        let mut text = String::new();
        let mut last = SystemTime::UNIX_EPOCH;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.expect("chunk");
            if let Some(c) = chunk.choices.first().and_then(|c| c.delta.content.clone()) {
                text.push_str(&c);
            }
            last = SystemTime::now();
        }
        (text, last)
    });
    assert_eq!(text, WORDS.concat());
    guard.shutdown().expect("delivered");

    let spans = rx.spans();
    let span = spans
        .iter()
        .find(|s| s.name == "chat gpt-4o-mini")
        .expect("the chat span");
    for (key, want) in [
        ("gen_ai.request.stream", "true"),
        ("gen_ai.usage.input_tokens", "17"),
        ("gen_ai.usage.output_tokens", "4"),
        ("gen_ai.usage.cache_read.input_tokens", "8"),
        ("gen_ai.usage.reasoning.output_tokens", "0"),
        ("gen_ai.response.id", "chatcmpl-stream-1"),
        ("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
        ("gen_ai.response.finish_reasons", "[stop]"),
        ("gen_ai.request.temperature", "0.30000001192092896"),
        ("gen_ai.request.max_tokens", "64"),
        ("gen_ai.request.choice.count", "1"),
        ("gen_ai.request.stop_sequences", "[\n\n]"),
        ("server.address", "127.0.0.1"),
        ("agent_trace.stream.completed", "true"),
    ] {
        assert_eq!(span.attr(key), Some(want), "{key}: {span:#?}");
    }
    assert!(span.attr("gen_ai.response.time_to_first_chunk").is_some());
    // The span covers the stream: it ends after the last chunk arrived, and lasts at least
    // the server's gaps (eight events after the first, `GAP` apart).
    let end = std::time::UNIX_EPOCH + Duration::from_nanos(span.end_ns);
    let start = std::time::UNIX_EPOCH + Duration::from_nanos(span.start_ns);
    assert!(end >= last, "the span ended before the stream did");
    assert!(end.duration_since(start).unwrap_or_default() >= GAP * 8);

    let m = rx.metrics();
    let first: Vec<_> = m
        .iter()
        .filter(|p| p.name == "gen_ai.client.inference.time_to_first_chunk")
        .collect();
    assert_eq!(first.len(), 1, "{m:#?}");
    assert_eq!(first[0].count, 1);
    let per: Vec<_> = m
        .iter()
        .filter(|p| p.name == "gen_ai.client.inference.time_per_output_chunk")
        .collect();
    // Seven chunks (role, four words, finish, usage): six gaps after the first.
    assert_eq!(per.len(), 1, "{m:#?}");
    assert_eq!(per[0].count, 6);
    let input: Vec<_> = m
        .iter()
        .filter(|p| p.name == "gen_ai.client.inference.usage.input_tokens")
        .collect();
    assert_eq!(input[0].sum, 17.0);
}
