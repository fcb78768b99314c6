//! app_jsdt's RPC methods (spec §4.2): `app_jsdt.reload` and
//! `app_jsdt.api_list`, served by the handlers all engines share
//! ([`kemi_core::engine::rpc`]). Reload is lazy: every worker reloads
//! before its next message
//! ([`JsEngine::try_reload`](crate::JsEngine::try_reload)).

use kemi_core::engine::rpc::{api_list, reload};
use kemi_core::rpc::RpcMethod;

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
