//! app_lua's RPC methods (spec §4.3): `app_lua.reload [id]`,
//! `app_lua.list` and `app_lua.api_list`.
//!
//! `reload` checks Lua's own `reload` modparam and script index, then bumps
//! the shared reload version like every engine's reload
//! ([`kemi_core::engine::rpc`]). Reload is lazy, as in Kamailio: every
//! worker compares that version with the one its Lua state was loaded at
//! before routing a message and, when it moved, calls
//! [`LuaEngine::try_reload`](crate::LuaEngine::try_reload).

use kemi_core::engine::rpc::api_list;
use kemi_core::rpc::{RpcContext, RpcError, RpcMethod};
use serde_json::{json, Value};

/// The methods, for `MODULE.rpc`.
pub static METHODS: &[RpcMethod] = &[
    RpcMethod {
        name: "app_lua.reload",
        doc: "Reload the Lua scripts in every worker (lazily, before each worker's next message). Optional script index; -1 or none means all.",
        handler: reload,
    },
    RpcMethod {
        name: "app_lua.list",
        doc: "List the loaded Lua scripts as \"<index>: [<path>]\".",
        handler: list,
    },
    RpcMethod {
        name: "app_lua.api_list",
        doc: "List every KSR function the scripts can call (Kamailio's api_list JSON).",
        handler: api_list,
    },
];

/// The `load` modparams, in the order given (which is the load order here).
fn scripts(ctx: &RpcContext) -> Vec<String> {
    ctx.runtime
        .config()
        .module("app_lua")
        .map(|m| {
            m.param_all("load")
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn reload_failed() -> RpcError {
    RpcError::failed("Reload Failed")
}

/// Kamailio keeps one version per script; this engine reloads all of its
/// scripts at once, so a valid index reloads everything too. An index out
/// of range fails as in Kamailio.
fn reload(ctx: &RpcContext, params: &[Value]) -> Result<Value, RpcError> {
    let enabled = ctx
        .runtime
        .config()
        .module("app_lua")
        .and_then(|m| m.param("reload"))
        .and_then(|v| v.as_int())
        .unwrap_or(1);
    if enabled == 0 {
        return Err(reload_failed());
    }
    match params.first() {
        None | Some(Value::Null) => {}
        Some(v) => {
            // Numbers may arrive as strings from command-line clients.
            let id = match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            let Some(id) = id else {
                return Err(RpcError::invalid_params("script id must be an integer"));
            };
            let count = i64::try_from(scripts(ctx).len()).unwrap_or(i64::MAX);
            if id != -1 && !(0..count).contains(&id) {
                return Err(reload_failed());
            }
        }
    }
    kemi_core::engine::rpc::reload(ctx, params)
}

/// Kamailio prints one line per script with `rpl_printf`, which jsonrpcs
/// turns into an array of strings.
fn list(ctx: &RpcContext, _params: &[Value]) -> Result<Value, RpcError> {
    let scripts = scripts(ctx);
    if scripts.is_empty() {
        return Ok(json!(["No scripts loaded"]));
    }
    Ok(Value::Array(
        scripts
            .iter()
            .enumerate()
            .map(|(i, s)| Value::String(format!("{i}: [{s}]")))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use kemi_core::config::{LoadedModule, Value as CfgValue};
    use kemi_core::engine::ReloadVersion;
    use kemi_core::{Registry, Runtime};

    fn ctx(params: Vec<(&str, CfgValue)>) -> RpcContext {
        let mut config = kemi_core::config::Config::default();
        config.modules.push(LoadedModule {
            def: &crate::MODULE,
            params: params
                .into_iter()
                .map(|(n, v)| (n.to_string(), v))
                .collect(),
        });
        let runtime = Runtime::with_config(config, Arc::new(kemi_core::net::Capture::default()));
        RpcContext {
            runtime: Arc::new(runtime),
            registry: Registry::new(&[]),
        }
    }

    #[test]
    fn reload_bumps_the_shared_version() {
        let c = ctx(vec![("load", CfgValue::Str("a.lua".into()))]);
        assert_eq!(reload(&c, &[]), Ok(json!({"old": 0, "new": 1})));
        assert_eq!(reload(&c, &[json!(0)]), Ok(json!({"old": 1, "new": 2})));
        assert_eq!(reload(&c, &[json!(-1)]), Ok(json!({"old": 2, "new": 3})));
        assert_eq!(c.runtime.state::<ReloadVersion>().current(), 3);
        assert_eq!(reload(&c, &[json!(1)]), Err(reload_failed()));
        assert_eq!(reload(&c, &[json!("x")]).map_err(|e| e.code), Err(-32602));
    }

    #[test]
    fn reload_disabled_fails() {
        let c = ctx(vec![("reload", CfgValue::Int(0))]);
        assert_eq!(reload(&c, &[]), Err(reload_failed()));
        assert_eq!(c.runtime.state::<ReloadVersion>().current(), 0);
    }

    #[test]
    fn list_prints_index_and_path() {
        let c = ctx(vec![
            ("load", CfgValue::Str("/a.lua".into())),
            ("load", CfgValue::Str("/b.lua".into())),
        ]);
        assert_eq!(list(&c, &[]), Ok(json!(["0: [/a.lua]", "1: [/b.lua]"])));
        assert_eq!(list(&ctx(vec![]), &[]), Ok(json!(["No scripts loaded"])));
    }
}
