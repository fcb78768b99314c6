//! app_ruby's RPC methods (spec §4.2): `app_ruby.reload` and
//! `app_ruby.api_list`, served by the handlers all engines share
//! ([`kemi_core::engine::rpc`]; Kamailio's app_ruby has no reload switch
//! and its reload takes no parameters). Reload is lazy: the routing thread
//! re-runs the scripts before its next message
//! ([`RubyEngine::try_reload`](crate::RubyEngine::try_reload)).

use kemi_core::engine::rpc::{api_list, reload};
use kemi_core::rpc::RpcMethod;

/// The methods, for `MODULE.rpc`.
pub static METHODS: &[RpcMethod] = &[
    RpcMethod {
        name: "app_ruby.reload",
        doc: "Reload the Ruby scripts (lazily, before the next message is routed).",
        handler: reload,
    },
    RpcMethod {
        name: "app_ruby.api_list",
        doc: "List every KSR function the scripts can call (Kamailio's api_list JSON).",
        handler: api_list,
    },
];
