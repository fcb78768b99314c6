//! The RPC methods of the Python engines, under Kamailio's names:
//! `app_python.reload` and `app_python.api_list` for app_python3 (the
//! names of the older app_python, kept by Kamailio), `app_python3s.reload`
//! and `app_python3s.api_list` for app_python3s.
//!
//! Reload is lazy, as in Kamailio: the RPC bumps the shared
//! [`ReloadVersion`]; before its next message each worker notices, the
//! first one re-loads the script for the process (see
//! [`PyScript::reload_to`](crate::PyScript::reload_to)) and every worker
//! runs its child init on the new code.

use kemi_core::engine::ReloadVersion;
use kemi_core::rpc::{RpcContext, RpcError, RpcMethod};
use serde_json::{json, Value};

/// app_python3's methods.
pub static METHODS: &[RpcMethod] = &[
    RpcMethod {
        name: "app_python.reload",
        doc: "Reload the Python script (lazily, before the workers' next message).",
        handler: reload,
    },
    RpcMethod {
        name: "app_python.api_list",
        doc: "List every KSR function the script can call (Kamailio's api_list JSON).",
        handler: api_list,
    },
];

/// app_python3s's methods.
pub static METHODS_S: &[RpcMethod] = &[
    RpcMethod {
        name: "app_python3s.reload",
        doc: "Reload the Python script (lazily, before the workers' next message).",
        handler: reload,
    },
    RpcMethod {
        name: "app_python3s.api_list",
        doc: "List every KSR function the script can call (Kamailio's api_list JSON).",
        handler: api_list,
    },
];

/// Kamailio's reply: the version before and after.
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
    fn api_list_has_kamailio_shape() {
        let list = api_list(&ctx(), &[]).unwrap();
        let n = list["methods"].as_array().map(Vec::len).unwrap_or(0);
        assert!(n > 100, "{list}");
        assert_eq!(list["msize"], json!(n));
    }

    #[test]
    fn method_names_are_kamailios() {
        let names: Vec<&str> = METHODS.iter().chain(METHODS_S).map(|m| m.name).collect();
        assert_eq!(
            names,
            [
                "app_python.reload",
                "app_python.api_list",
                "app_python3s.reload",
                "app_python3s.api_list"
            ]
        );
    }
}
