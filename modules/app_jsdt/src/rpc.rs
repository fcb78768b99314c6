//! app_jsdt's RPC methods (spec §4.2): `app_jsdt.reload` and
//! `app_jsdt.api_list`.
//!
//! Reload is lazy, as in Kamailio: the RPC only bumps the shared
//! [`ReloadVersion`]; every worker compares it with the version its
//! scripts were loaded at before routing a message and, when it moved,
//! calls [`JsEngine::try_reload`](crate::JsEngine::try_reload).

use kemi_core::engine::ReloadVersion;
use kemi_core::rpc::{RpcContext, RpcError, RpcMethod};
use serde_json::{json, Value};

/// The methods, for `MODULE.rpc`.
pub static METHODS: &[RpcMethod] = &[
    RpcMethod {
        name: "app_jsdt.reload",
        doc: "Reload the JavaScript scripts in every worker (lazily, before each worker's next message).",
        handler: reload,
    },
    RpcMethod {
        name: "app_jsdt.api_list",
        doc: "List every KSR function the scripts can call (Kamailio's api_list JSON).",
        handler: api_list,
    },
];

fn reload(ctx: &RpcContext, _params: &[Value]) -> Result<Value, RpcError> {
    let (old, new) = ctx.runtime.state::<ReloadVersion>().bump();
    Ok(json!({"old": old, "new": new}))
}

fn api_list(ctx: &RpcContext, _params: &[Value]) -> Result<Value, RpcError> {
    Ok(ctx.registry.api_list())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use kemi_core::{Registry, Runtime};

    fn ctx() -> RpcContext {
        RpcContext {
            runtime: Arc::new(Runtime::default()),
            registry: Registry::new(&[]),
        }
    }

    #[test]
    fn reload_bumps_the_shared_version() {
        let c = ctx();
        assert_eq!(reload(&c, &[]), Ok(json!({"old": 0, "new": 1})));
        assert_eq!(reload(&c, &[]), Ok(json!({"old": 1, "new": 2})));
        assert_eq!(c.runtime.state::<ReloadVersion>().current(), 2);
    }

    #[test]
    fn api_list_lists_the_registry() {
        let list = api_list(&ctx(), &[]).unwrap();
        let methods = list["methods"].as_array().unwrap();
        assert_eq!(list["msize"], json!(methods.len()));
        assert!(methods
            .iter()
            .any(|m| m["func"]["name"] == "info" && m["func"]["module"] == ""));
    }
}
