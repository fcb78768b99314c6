//! Modules that nearly every kamailio.cfg loads but whose job is done
//! elsewhere here, or not at all. They exist so such a config loads
//! unchanged: `loadmodule` and their `modparam`s are accepted and checked,
//! and a module that does nothing here says so once at start-up.

use kemi_core::config::Config;
use kemi_core::{ModParam, ModParamKind, ModuleDef};

/// Kamailio's kex: its script functions are KSR core functions here and its
/// `stats.*` RPC methods are always served, so loading it changes nothing.
pub static KEX: ModuleDef = ModuleDef {
    name: "kex",
    summary: "Kamailio's kex: its functions are in the KSR core and its stats RPC is always on",
    kemi: None,
    params: &[],
    rpc: &[],
};

/// Kamailio's ctl: the binrpc control socket `kamcmd` talks to.
pub static CTL: ModuleDef = ModuleDef {
    name: "ctl",
    summary:
        "Kamailio's binrpc control socket (kamcmd): not served; use jsonrpcs and `kemi-proxy rpc`",
    kemi: None,
    params: &[
        accepted("binrpc", ModParamKind::Str, true),
        accepted("binrpc_buffer_size", ModParamKind::Int, false),
        accepted("binrpc_max_body_size", ModParamKind::Int, false),
        accepted("binrpc_struct_max_body_size", ModParamKind::Int, false),
        accepted("mode", ModParamKind::Int, false),
        accepted("user", ModParamKind::Str, false),
        accepted("group", ModParamKind::Str, false),
        accepted("fifo", ModParamKind::Str, false),
        accepted("autoconversion", ModParamKind::Int, false),
    ],
    rpc: &[],
};

/// Kamailio's debugger: tracing and breakpoints of native route blocks.
pub static DEBUGGER: ModuleDef = ModuleDef {
    name: "debugger",
    summary:
        "Kamailio's native-route debugger: not provided (KEMI scripts have no native route blocks)",
    kemi: None,
    params: &[
        accepted("cfgtrace", ModParamKind::Int, false),
        accepted("breakpoint", ModParamKind::Int, false),
        accepted("log_level", ModParamKind::Int, false),
        accepted("log_facility", ModParamKind::Str, false),
        accepted("log_prefix", ModParamKind::Str, false),
        accepted("log_level_name", ModParamKind::Str, false),
        accepted("log_assign", ModParamKind::Int, false),
        accepted("step_usleep", ModParamKind::Int, false),
        accepted("step_loops", ModParamKind::Int, false),
        accepted("mod_hash_size", ModParamKind::Int, false),
        accepted("mod_level_mode", ModParamKind::Int, false),
        accepted("mod_level", ModParamKind::Str, true),
        accepted("mod_facility_mode", ModParamKind::Int, false),
        accepted("mod_facility", ModParamKind::Str, true),
        accepted("reset_msgid", ModParamKind::Int, false),
        accepted("cfgpkgcheck", ModParamKind::Int, false),
        accepted("cfgtest", ModParamKind::Int, false),
    ],
    rpc: &[],
};

const fn accepted(name: &'static str, kind: ModParamKind, repeatable: bool) -> ModParam {
    ModParam {
        name,
        kind,
        repeatable,
        doc: "Accepted for compatibility; has no effect here.",
    }
}

/// One line per loaded module that does nothing here, for the start-up log
/// and `-c`.
pub fn notes(config: &Config) -> Vec<String> {
    [&CTL, &DEBUGGER]
        .into_iter()
        .filter(|m| config.is_loaded(m.name))
        .map(|m| format!("module {}: {}", m.name, m.summary))
        .collect()
}
