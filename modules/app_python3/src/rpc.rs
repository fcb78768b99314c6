//! The RPC methods of the Python engines, under Kamailio's names:
//! `app_python.reload` and `app_python.api_list` for app_python3 (the
//! names of the older app_python, kept by Kamailio), `app_python3s.reload`
//! and `app_python3s.api_list` for app_python3s.
//!
//! The handlers are the ones all engines share ([`kemi_core::engine::rpc`]).
//! Reload is lazy, as in Kamailio: the RPC bumps the shared reload
//! version; before its next message each worker notices, the
//! first one re-loads the script for the process (see
//! [`PyScript::reload_to`](crate::PyScript::reload_to)) and every worker
//! runs its child init on the new code.

use kemi_core::engine::rpc::{api_list, reload};
use kemi_core::rpc::RpcMethod;

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

#[cfg(test)]
mod tests {
    use super::*;

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
