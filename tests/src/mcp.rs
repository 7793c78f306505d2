//! The MCP server the MCP tests talk to, over stdio (as the `mcp_server` child binary) and
//! over streamable HTTP (in the test process). Its tools: `add` (runs a `#[traced_tool]`),
//! `fail` (answers `isError: true`) and `reject` (answers a JSON-RPC error).

use agent_trace::traced_tool;
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolResult, ContentBlock, ServerCapabilities, ServerConfig};
use rmcp::{schemars, tool, tool_handler, tool_router, ErrorData, ServerHandler};

/// Arguments of `add`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct AddRequest {
    /// Left.
    pub a: i64,
    /// Right.
    pub b: i64,
}

/// The test server's tools.
#[derive(Debug, Clone)]
pub struct Tools {
    #[allow(dead_code)] // read by the code `tool_handler` generates
    tool_router: ToolRouter<Self>,
}

impl Default for Tools {
    fn default() -> Self {
        Tools {
            tool_router: Self::tool_router(),
        }
    }
}

/// The tool's own work, traced as `execute_tool add_numbers`: it must nest under the MCP
/// server span.
#[traced_tool]
pub fn add_numbers(a: i64, b: i64) -> Result<i64, std::num::TryFromIntError> {
    tracing::info!(a, b, "adding");
    i64::try_from(i128::from(a) + i128::from(b))
}

#[tool_router]
impl Tools {
    /// Adds two numbers.
    #[tool(description = "Add two numbers")]
    fn add(
        &self,
        Parameters(AddRequest { a, b }): Parameters<AddRequest>,
    ) -> Result<String, ErrorData> {
        add_numbers(a, b)
            .map(|n| n.to_string())
            .map_err(|e| ErrorData::invalid_params(e.to_string(), None))
    }

    /// A tool that runs and reports failure in its result.
    #[tool(description = "Always fails, in the result")]
    fn fail(&self) -> Result<CallToolResult, ErrorData> {
        Ok(CallToolResult::error(vec![ContentBlock::text(
            "no weather station for Atlantis",
        )]))
    }

    /// A tool that refuses with a JSON-RPC error.
    #[tool(description = "Always fails, with a JSON-RPC error")]
    fn reject(&self) -> Result<String, ErrorData> {
        Err(ErrorData::invalid_params(
            "the city must not be empty",
            None,
        ))
    }
}

#[tool_handler]
impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}
