//! RPC methods modules provide (Kamailio's `jsonrpcs` shape): a method name
//! such as `app_lua.api_list`, and a handler from JSON parameters to a JSON
//! result. The proxy serves them; modules declare them in their `ModuleDef`.

use std::sync::Arc;

use serde_json::Value;

use crate::registry::Registry;
use crate::runtime::Runtime;

/// What a handler can see: the running proxy's shared state and its KSR
/// registry.
pub struct RpcContext {
    pub runtime: Arc<Runtime>,
    pub registry: Registry,
}

/// A JSON-RPC error: `code` and `message` as JSON-RPC 2.0 puts them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({code})")]
pub struct RpcError {
    pub code: i32,
    pub message: String,
}

impl RpcError {
    /// Invalid parameters (JSON-RPC -32602).
    pub fn invalid_params(message: impl Into<String>) -> Self {
        RpcError {
            code: -32602,
            message: message.into(),
        }
    }

    /// The method ran and failed (Kamailio answers 500).
    pub fn failed(message: impl Into<String>) -> Self {
        RpcError {
            code: 500,
            message: message.into(),
        }
    }
}

pub type RpcHandler = fn(&RpcContext, &[Value]) -> Result<Value, RpcError>;

/// One RPC method.
#[derive(Clone, Copy, Debug)]
pub struct RpcMethod {
    /// Full name, `module.method`.
    pub name: &'static str,
    /// One line saying what it does (for `system.methodHelp`).
    pub doc: &'static str,
    pub handler: RpcHandler,
}
