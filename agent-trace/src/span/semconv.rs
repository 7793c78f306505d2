//! Every attribute key, metric name and span event name agent-trace writes, in one place:
//! no other module of the runtime spells a key (`tests/layout.rs` checks).
//!
//! Keys the OpenTelemetry semantic conventions define and `opentelemetry-semantic-conventions`
//! (feature `semconv_experimental`) carries undeprecated are re-exported from that crate. The
//! GenAI, MCP and A2A keys moved to open-telemetry/semantic-conventions-genai, and that crate
//! marks its copies deprecated, so they are written here, as are agent-trace's own keys
//! (`agent_trace.*`, `agent.phase`) and the compatibility keys that earlier Python systems
//! emitted (`tool.*`, `agent.*`), kept so existing dashboards and queries keep working.

pub use opentelemetry_semantic_conventions::attribute::{
    CLIENT_ADDRESS, CODE_FILE_PATH, CODE_FUNCTION_NAME, ERROR_TYPE, EXCEPTION_MESSAGE,
    EXCEPTION_TYPE, HTTP_REQUEST_METHOD, HTTP_REQUEST_METHOD_ORIGINAL, HTTP_RESPONSE_STATUS_CODE,
    HTTP_ROUTE, JSONRPC_REQUEST_ID, MESSAGING_BATCH_MESSAGE_COUNT, MESSAGING_DESTINATION_NAME,
    MESSAGING_MESSAGE_BODY_SIZE, MESSAGING_OPERATION_NAME, MESSAGING_OPERATION_TYPE,
    MESSAGING_SYSTEM, NETWORK_PEER_ADDRESS, NETWORK_PEER_PORT, NETWORK_PROTOCOL_NAME,
    NETWORK_PROTOCOL_VERSION, NETWORK_TRANSPORT, RPC_RESPONSE_STATUS_CODE, SERVER_ADDRESS,
    SERVER_PORT, SERVICE_NAME, SESSION_ID, URL_FULL, URL_PATH, URL_SCHEME, USER_AGENT_ORIGINAL,
};

/// `gen_ai.operation.name`: `execute_tool`, `invoke_agent`, `chat`.
pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
/// `gen_ai.tool.name`: the tool being executed.
pub const GEN_AI_TOOL_NAME: &str = "gen_ai.tool.name";
/// `gen_ai.tool.call.id`: the id the model gave this tool call.
pub const GEN_AI_TOOL_CALL_ID: &str = "gen_ai.tool.call.id";
/// `gen_ai.agent.name`: the agent being invoked.
pub const GEN_AI_AGENT_NAME: &str = "gen_ai.agent.name";

/// `gen_ai.request.model`: the model asked for.
pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
/// `gen_ai.response.model`: the model that answered.
pub const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";
/// `gen_ai.provider.name`: `openai`, `anthropic`, ...
pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
/// `gen_ai.usage.input_tokens`.
pub const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// `gen_ai.usage.output_tokens`.
pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// `gen_ai.request.stream`: `true` on a model call that returns a stream.
pub const GEN_AI_REQUEST_STREAM: &str = "gen_ai.request.stream";
/// `gen_ai.response.time_to_first_chunk`: seconds to a streamed model call's first chunk.
pub const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
/// `gen_ai.response.id`: the provider's id of the response.
pub const GEN_AI_RESPONSE_ID: &str = "gen_ai.response.id";
/// `gen_ai.usage.cache_read.input_tokens`.
pub const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
/// `gen_ai.usage.cache_write.input_tokens`.
pub const GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: &str = "gen_ai.usage.cache_write.input_tokens";
/// `gen_ai.usage.reasoning.output_tokens`.
pub const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";
/// `gen_ai.response.finish_reasons`.
pub const GEN_AI_RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// `gen_ai.input.messages`: prompt content (only when content capture is on).
pub const GEN_AI_INPUT_MESSAGES: &str = "gen_ai.input.messages";
/// `gen_ai.output.messages`: response content (only when content capture is on).
pub const GEN_AI_OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
/// `gen_ai.request.temperature` (double).
pub const GEN_AI_REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
/// `gen_ai.request.max_tokens` (int).
pub const GEN_AI_REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
/// `gen_ai.request.top_p` (double).
pub const GEN_AI_REQUEST_TOP_P: &str = "gen_ai.request.top_p";
/// `gen_ai.request.top_k` (int).
pub const GEN_AI_REQUEST_TOP_K: &str = "gen_ai.request.top_k";
/// `gen_ai.request.frequency_penalty` (double).
pub const GEN_AI_REQUEST_FREQUENCY_PENALTY: &str = "gen_ai.request.frequency_penalty";
/// `gen_ai.request.presence_penalty` (double).
pub const GEN_AI_REQUEST_PRESENCE_PENALTY: &str = "gen_ai.request.presence_penalty";
/// `gen_ai.request.stop_sequences` (string[]).
pub const GEN_AI_REQUEST_STOP_SEQUENCES: &str = "gen_ai.request.stop_sequences";
/// `gen_ai.request.seed` (int).
pub const GEN_AI_REQUEST_SEED: &str = "gen_ai.request.seed";
/// `gen_ai.request.choice.count` (int).
pub const GEN_AI_REQUEST_CHOICE_COUNT: &str = "gen_ai.request.choice.count";
/// `gen_ai.tool.type`: `function` for a `#[traced_tool]` (a function the application runs).
pub const GEN_AI_TOOL_TYPE: &str = "gen_ai.tool.type";
/// The `gen_ai.tool.type` of a tool that is a function of the application.
pub const TOOL_TYPE_FUNCTION: &str = "function";
/// `gen_ai.tool.description`: a tool's description (`description = ".."`, or its doc comment).
pub const GEN_AI_TOOL_DESCRIPTION: &str = "gen_ai.tool.description";
/// `gen_ai.tool.definitions`: the tools offered to a model, as JSON (`#[llm_call(tools = ..)]`,
/// opt-in: content capture).
pub const GEN_AI_TOOL_DEFINITIONS: &str = "gen_ai.tool.definitions";
/// `gen_ai.tool.call.arguments`: a tool call's arguments as JSON (opt-in: content capture).
pub const GEN_AI_TOOL_CALL_ARGUMENTS: &str = "gen_ai.tool.call.arguments";
/// `gen_ai.tool.call.result`: a tool call's result as JSON (opt-in: content capture).
pub const GEN_AI_TOOL_CALL_RESULT: &str = "gen_ai.tool.call.result";
/// `gen_ai.system_instructions`: system instructions (only when content capture is on).
pub const GEN_AI_SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
/// `gen_ai.conversation.id`.
pub const GEN_AI_CONVERSATION_ID: &str = "gen_ai.conversation.id";
/// Operation name of model-call spans.
pub const OP_CHAT: &str = "chat";

/// Operation name of tool spans.
pub const OP_EXECUTE_TOOL: &str = "execute_tool";
/// Operation name of agent-invocation spans.
pub const OP_INVOKE_AGENT: &str = "invoke_agent";

/// `gen_ai.provider.name` of an `#[a2a_call]` span: the remote agent's model provider is not
/// known to its caller, so the protocol stands in.
pub const PROVIDER_A2A: &str = "a2a";

/// `tool.name` (compatibility key).
pub const TOOL_NAME: &str = "tool.name";
/// `tool.success` (compatibility key): `true` unless the tool returned `Err`, panicked or was cancelled.
pub const TOOL_SUCCESS: &str = "tool.success";
/// `agent.source` (compatibility key): the calling agent; defaults to the service name.
pub const AGENT_SOURCE: &str = "agent.source";
/// `agent.target` (compatibility key): the called agent.
pub const AGENT_TARGET: &str = "agent.target";
/// `agent.target_url` (compatibility key): the URL the call goes to.
pub const AGENT_TARGET_URL: &str = "agent.target_url";
/// `agent.phase`: the phase name of an `#[agent_phase]` span.
pub const AGENT_PHASE: &str = "agent.phase";

/// Name of the span event recording an error.
pub const EXCEPTION_EVENT: &str = "exception";

/// `error.type` value of a span whose function panicked.
pub const ERROR_TYPE_PANIC: &str = "panic";
/// `error.type` of an MCP `tools/call` whose result has `isError: true`.
pub const ERROR_TYPE_TOOL_ERROR: &str = "tool_error";
/// `error.type` value of a span whose future was dropped before it completed.
pub const ERROR_TYPE_CANCELLED: &str = "cancelled";

/// `gen_ai.prompt.name`: the MCP prompt asked for.
pub const GEN_AI_PROMPT_NAME: &str = "gen_ai.prompt.name";

/// `mcp.method.name`: the MCP request's method.
pub const MCP_METHOD_NAME: &str = "mcp.method.name";
/// `mcp.session.id`: the `Mcp-Session-Id` of the session.
pub const MCP_SESSION_ID: &str = "mcp.session.id";
/// `mcp.protocol.version`: the MCP protocol version in use.
pub const MCP_PROTOCOL_VERSION: &str = "mcp.protocol.version";
/// `mcp.resource.uri`: the resource read.
pub const MCP_RESOURCE_URI: &str = "mcp.resource.uri";

/// `a2a.method.name`: the A2A request's method (1.0 names).
pub const A2A_METHOD_NAME: &str = "a2a.method.name";
/// `a2a.message.id`.
pub const A2A_MESSAGE_ID: &str = "a2a.message.id";
/// `a2a.task.id`.
pub const A2A_TASK_ID: &str = "a2a.task.id";
/// `a2a.task.state`.
pub const A2A_TASK_STATE: &str = "a2a.task.state";
/// `a2a.protocol.version`: the A2A version a request was sent with.
pub const A2A_PROTOCOL_VERSION: &str = "a2a.protocol.version";
/// Span event of a streamed A2A task status update (with `a2a.task.state`).
pub const A2A_STATUS_UPDATE_EVENT: &str = "a2a.status_update";
/// Span event of a streamed A2A artifact update (with `agent_trace.a2a.artifact.id`).
pub const A2A_ARTIFACT_UPDATE_EVENT: &str = "a2a.artifact_update";
/// `agent_trace.a2a.artifact.id`: the artifact of an `a2a.artifact_update` event.
pub const AGENT_TRACE_A2A_ARTIFACT_ID: &str = "agent_trace.a2a.artifact.id";
/// `a2a.tenant`.
pub const A2A_TENANT: &str = "a2a.tenant";

/// `agent_trace.request.id`: the request id `TraceLayer` takes from `X-Request-ID` or makes
/// (the HTTP conventions define no such key; agent-trace's registry does).
pub const AGENT_TRACE_REQUEST_ID: &str = "agent_trace.request.id";

/// `agent_trace.result`: a `capture_result` value (Debug, cut to [`crate::CAPTURE_LIMIT`]).
pub const AGENT_TRACE_RESULT: &str = "agent_trace.result";
/// `agent_trace.usage.cost`: what a model call cost (its usage at the installed prices), or
/// on an `invoke_agent` span what the agent's own model calls cost, in the prices' currency.
pub const AGENT_TRACE_USAGE_COST: &str = "agent_trace.usage.cost";
/// Prefix of `capture(arg)` keys: `agent_trace.arg.{name}` (the macros spell the full key).
pub const AGENT_TRACE_ARG_PREFIX: &str = "agent_trace.arg.";
/// `agent_trace.stream.items`: items a traced stream yielded.
pub const AGENT_TRACE_STREAM_ITEMS: &str = "agent_trace.stream.items";
/// `agent_trace.stream.completed`: whether the stream ran to its end.
pub const AGENT_TRACE_STREAM_COMPLETED: &str = "agent_trace.stream.completed";
/// `agent_trace.stream.time_to_first_item_ms`.
pub const AGENT_TRACE_STREAM_TIME_TO_FIRST_ITEM_MS: &str =
    "agent_trace.stream.time_to_first_item_ms";
/// `agent_trace.span.pending`: `true` on a pending-span marker, the copy of a span as it
/// started that `AGENT_TRACE_PENDING_SPANS` sends for `agent-trace view`.
pub const AGENT_TRACE_SPAN_PENDING: &str = "agent_trace.span.pending";
/// `agent_trace.log.level` on a span event made from a `tracing` event: its level
/// (`ERROR`, `WARN`, `INFO`, `DEBUG`, `TRACE`).
pub const AGENT_TRACE_LOG_LEVEL: &str = "agent_trace.log.level";
/// `agent_trace.log.target` on a span event made from a `tracing` event: its target (by
/// default the module path).
pub const AGENT_TRACE_LOG_TARGET: &str = "agent_trace.log.target";
/// Name of the span event a stream's first item adds.
pub const FIRST_ITEM_EVENT: &str = "first_item";
/// The GenAI event of an evaluation result (a log record with this event name).
pub const GEN_AI_EVALUATION_RESULT_EVENT: &str = "gen_ai.evaluation.result";
/// The GenAI event with a model call's details (a log record with this event name), with
/// content capture on.
pub const GEN_AI_CLIENT_INFERENCE_OPERATION_DETAILS_EVENT: &str =
    "gen_ai.client.inference.operation.details";
/// The keys of a model call (`#[llm_call]`) the details event copies from it.
pub const MODEL_CALL_KEYS: &[&str] = &[
    GEN_AI_OPERATION_NAME,
    GEN_AI_PROVIDER_NAME,
    GEN_AI_REQUEST_MODEL,
    GEN_AI_REQUEST_STREAM,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_TOP_P,
    GEN_AI_REQUEST_TOP_K,
    GEN_AI_REQUEST_FREQUENCY_PENALTY,
    GEN_AI_REQUEST_PRESENCE_PENALTY,
    GEN_AI_REQUEST_STOP_SEQUENCES,
    GEN_AI_REQUEST_SEED,
    GEN_AI_REQUEST_CHOICE_COUNT,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_TOOL_DEFINITIONS,
    GEN_AI_RESPONSE_MODEL,
    GEN_AI_RESPONSE_ID,
    GEN_AI_RESPONSE_FINISH_REASONS,
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
    GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    SERVER_ADDRESS,
    SERVER_PORT,
];
/// The GenAI event of a failed model call (a log record with this event name).
pub const GEN_AI_CLIENT_OPERATION_EXCEPTION_EVENT: &str = "gen_ai.client.operation.exception";
/// `gen_ai.evaluation.name` (the GenAI registry; the crate's constant is deprecated there).
pub const GEN_AI_EVALUATION_NAME: &str = "gen_ai.evaluation.name";
/// `gen_ai.evaluation.score.value`.
pub const GEN_AI_EVALUATION_SCORE_VALUE: &str = "gen_ai.evaluation.score.value";
/// `gen_ai.evaluation.score.label`.
pub const GEN_AI_EVALUATION_SCORE_LABEL: &str = "gen_ai.evaluation.score.label";
/// `gen_ai.evaluation.explanation`.
pub const GEN_AI_EVALUATION_EXPLANATION: &str = "gen_ai.evaluation.explanation";

/// `gen_ai.token.modality` on the token metrics: agent-trace counts totals, so `unknown`.
pub const GEN_AI_TOKEN_MODALITY: &str = "gen_ai.token.modality";
/// The `gen_ai.token.modality` of a total over every modality.
pub const TOKEN_MODALITY_UNKNOWN: &str = "unknown";
/// `gen_ai.invocation.is_nested` on `gen_ai.invocation.duration`.
pub const GEN_AI_INVOCATION_IS_NESTED: &str = "gen_ai.invocation.is_nested";
/// Metric: duration of model calls (`#[llm_call]`).
pub const METRIC_GEN_AI_CLIENT_INFERENCE_DURATION: &str = "gen_ai.client.inference.duration";
/// Metric: input tokens of model calls.
pub const METRIC_GEN_AI_CLIENT_INFERENCE_INPUT_TOKENS: &str =
    "gen_ai.client.inference.usage.input_tokens";
/// Metric: output tokens of model calls.
pub const METRIC_GEN_AI_CLIENT_INFERENCE_OUTPUT_TOKENS: &str =
    "gen_ai.client.inference.usage.output_tokens";
/// Metric: time from a streamed model request to its first chunk.
pub const METRIC_GEN_AI_CLIENT_INFERENCE_TIME_TO_FIRST_CHUNK: &str =
    "gen_ai.client.inference.time_to_first_chunk";
/// Metric: time between the chunks of a streamed model answer, after the first.
pub const METRIC_GEN_AI_CLIENT_INFERENCE_TIME_PER_OUTPUT_CHUNK: &str =
    "gen_ai.client.inference.time_per_output_chunk";
/// Metric: duration of GenAI operations other than inference: calls to remote agents.
pub const METRIC_GEN_AI_CLIENT_OPERATION_DURATION: &str = "gen_ai.client.operation.duration";
/// Metric: duration of tool executions.
pub const METRIC_GEN_AI_EXECUTE_TOOL_DURATION: &str = "gen_ai.execute_tool.duration";
/// Metric: duration of in-process agent invocations (`#[agent_run]`).
pub const METRIC_GEN_AI_INVOCATION_DURATION: &str = "gen_ai.invocation.duration";
/// Metric: model calls an agent invocation made itself.
pub const METRIC_GEN_AI_INVOKE_AGENT_INFERENCE_CALLS: &str = "gen_ai.invoke_agent.inference_calls";
/// Metric: tool calls an agent invocation made itself.
pub const METRIC_GEN_AI_INVOKE_AGENT_TOOL_CALLS: &str = "gen_ai.invoke_agent.tool_calls";
/// Metric: duration of MCP requests, client side.
pub const METRIC_MCP_CLIENT_OPERATION_DURATION: &str = "mcp.client.operation.duration";
/// Metric: duration of MCP requests, server side.
pub const METRIC_MCP_SERVER_OPERATION_DURATION: &str = "mcp.server.operation.duration";

/// OpenInference: `openinference.span.kind` (`LLM`, `TOOL`, `AGENT`, `CHAIN`).
pub const OPENINFERENCE_SPAN_KIND: &str = "openinference.span.kind";
/// OpenInference: `input.value`.
pub const INPUT_VALUE: &str = "input.value";
/// OpenInference: `input.mime_type`.
pub const INPUT_MIME_TYPE: &str = "input.mime_type";
/// OpenInference: `output.value`.
pub const OUTPUT_VALUE: &str = "output.value";
/// OpenInference: `output.mime_type`.
pub const OUTPUT_MIME_TYPE: &str = "output.mime_type";
/// OpenInference: `llm.model_name`.
pub const LLM_MODEL_NAME: &str = "llm.model_name";
/// OpenInference: `llm.provider`.
pub const LLM_PROVIDER: &str = "llm.provider";
/// OpenInference: `llm.token_count.prompt`.
pub const LLM_TOKEN_COUNT_PROMPT: &str = "llm.token_count.prompt";
/// OpenInference: `llm.token_count.completion`.
pub const LLM_TOKEN_COUNT_COMPLETION: &str = "llm.token_count.completion";
/// OpenInference: `llm.token_count.total`.
pub const LLM_TOKEN_COUNT_TOTAL: &str = "llm.token_count.total";
/// OpenInference: `llm.cost.total`, what the call cost (a copy of `agent_trace.usage.cost`).
pub const LLM_COST_TOTAL: &str = "llm.cost.total";
/// OpenInference: prefix of `llm.input_messages.{i}.*`.
pub const LLM_INPUT_MESSAGES: &str = "llm.input_messages";
/// OpenInference: prefix of `llm.output_messages.{i}.*`.
pub const LLM_OUTPUT_MESSAGES: &str = "llm.output_messages";
/// OpenInference: `agent.name`.
pub const OPENINFERENCE_AGENT_NAME: &str = "agent.name";

/// The `network.protocol.version` of an HTTP version: `1.0`, `1.1`, `2`, `3` (`0.9`).
#[cfg(any(feature = "tower", feature = "reqwest"))]
pub(crate) fn http_version(v: http::Version) -> &'static str {
    match v {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => "1.1",
    }
}
