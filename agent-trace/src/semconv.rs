//! Attribute keys and span names used by agent-trace.
//!
//! The GenAI semantic conventions are still "Development" status upstream and the constants in
//! `opentelemetry-semantic-conventions` are deprecated, so the keys live here, in one place.
//! The `tool.*` and `agent.*` keys are the ones earlier Python systems emitted; they are kept so
//! existing dashboards and queries keep working.

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
/// `gen_ai.response.finish_reasons`.
pub const GEN_AI_RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// `gen_ai.input.messages`: prompt content (only when content capture is on).
pub const GEN_AI_INPUT_MESSAGES: &str = "gen_ai.input.messages";
/// `gen_ai.output.messages`: response content (only when content capture is on).
pub const GEN_AI_OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
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

/// `server.address`: host of the called agent.
pub const SERVER_ADDRESS: &str = "server.address";
/// `server.port`: port of the called agent.
pub const SERVER_PORT: &str = "server.port";

/// `error.type`: the error's type name, `panic` or `cancelled`.
pub const ERROR_TYPE: &str = "error.type";
/// Name of the span event recording an error.
pub const EXCEPTION_EVENT: &str = "exception";
/// `exception.type` on the `exception` event.
pub const EXCEPTION_TYPE: &str = "exception.type";
/// `exception.message` on the `exception` event.
pub const EXCEPTION_MESSAGE: &str = "exception.message";

/// `error.type` value of a span whose function panicked.
pub const ERROR_TYPE_PANIC: &str = "panic";
/// `error.type` value of a span whose future was dropped before it completed.
pub const ERROR_TYPE_CANCELLED: &str = "cancelled";

/// `code.function.name`: the instrumented Rust function.
pub const CODE_FUNCTION_NAME: &str = "code.function.name";

/// `service.name` resource attribute.
pub const SERVICE_NAME: &str = "service.name";
