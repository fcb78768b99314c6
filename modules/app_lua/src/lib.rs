//! app_lua: the Lua 5.4 KEMI engine, `cfgengine "lua"`.
//!
//! A [`LuaEngine`] owns one Lua state (one per worker thread: Lua states
//! are not `Send`) holding the `KSR` table built from the proxy's
//! [`Registry`](kemi_core::Registry) and the routing scripts. The worker
//! calls [`LuaEngine::run_callback`] (or `request_route` and friends) with
//! the routing [`Context`](kemi_core::Context) of the message at hand.
//!
//! How the context reaches KSR calls: every export is one generic Lua C
//! closure whose upvalues are the `&'static Export` and a pointer to the
//! engine's context slot. The engine points the slot at the message's
//! context for the duration of a callback; a KSR call takes the pointer,
//! reads its arguments off the Lua stack into a stack buffer (strings
//! borrowed, not copied), calls [`Export::invoke`](kemi_core::Export::invoke)
//! and pushes the result. No allocation per call, none per callback in the
//! engine beyond mlua's call of the function. See `call.rs`.
//!
//! Behaviour, following Kamailio's app_lua (spec §4.3) unless noted:
//! - `KSR.x.exit()` raises the error `"~~ksr~exit~~"`, which ends the
//!   callback without an error; it also sets `ctx.exit`, and any KSR call
//!   made after a script's own `pcall` swallowed the exit raises it again.
//! - `KSR.x.drop()` is `KSR.set_drop()` plus exit.
//! - `KSR.x.modf(fname, ...)` runs the loaded function with that
//!   kamailio.cfg name (`kemi_core::ksr::x::modf`); -1 for an unknown name.
//! - `os.exit()` raises a script error instead of stopping the proxy.
//! - KSR calls while scripts load act on a scratch context (Kamailio's Lua
//!   engine would log an error and return false; Python's uses a faked
//!   message, which is what this is).
//! - Script errors carry Lua's traceback.

mod call;
mod engine;
pub mod rpc;
pub mod testing;

use kemi_core::{ModParam, ModParamKind, ModuleDef};

pub use call::EXIT_SENTINEL;
pub use engine::{EngineError, LuaEngine};
pub use kemi_core::engine::{CallbackNames, CallbackOutcome, ScriptEngine, ScriptError};

/// The `loadmodule "app_lua.so"` entry.
pub static MODULE: ModuleDef = ModuleDef {
    name: "app_lua",
    summary: "Lua 5.4 KEMI engine: routing scripts in Lua calling KSR.*",
    kemi: None,
    params: &[
        ModParam {
            name: "load",
            kind: ModParamKind::Str,
            repeatable: true,
            doc: "A Lua script to load; may be given several times. Unlike Kamailio, which runs them in reverse order, scripts load in the order given.",
        },
        ModParam {
            name: "reload",
            kind: ModParamKind::Int,
            repeatable: false,
            doc: "Non-zero (default 1) lets `app_lua.reload` re-load the scripts in every worker.",
        },
        ModParam {
            name: "log_mode",
            kind: ModParamKind::Int,
            repeatable: false,
            doc: "Bit 1: log every KSR export (its signature) at debug level when a worker builds KSR.",
        },
    ],
    rpc: rpc::METHODS,
};

/// The engine for `cfgengine "lua"`: checks the config (`app_lua` loaded,
/// at least one script), loads the scripts once on the calling thread so a
/// broken script stops the proxy (and `-c`) before any socket is bound,
/// and returns how each worker builds its own Lua state.
pub fn builder(
    runtime: &std::sync::Arc<kemi_core::Runtime>,
) -> Result<kemi_core::engine::EngineBuilder, String> {
    use kemi_core::engine::{script_path, BuildEngine, EngineBuilder, Threading};
    use std::sync::Arc;

    let config = runtime.config();
    let Some(app_lua) = config.module("app_lua") else {
        return Err(format!(
            "{}: cfgengine \"lua\" needs loadmodule \"app_lua.so\"",
            config.file
        ));
    };
    let scripts: Vec<std::path::PathBuf> = app_lua
        .param_all("load")
        .filter_map(|v| v.as_str())
        .map(|p| script_path(p, config))
        .collect();
    if scripts.is_empty() {
        return Err(format!(
            "{}: cfgengine \"lua\" needs a script: modparam(\"app_lua\", \"load\", \"/path/to/script.lua\")",
            config.file
        ));
    }
    let registry = kemi_core::Registry::new(&config.module_defs());
    let callbacks = CallbackNames::from_config(config);
    let runtime = Arc::clone(runtime);
    let build: Arc<BuildEngine> = Arc::new(move || {
        LuaEngine::with_runtime(&registry, &scripts, callbacks.clone(), Arc::clone(&runtime))
            .map(|e| Box::new(e) as Box<dyn ScriptEngine>)
            .map_err(|e| format!("{}: app_lua: {e}", runtime.config().file))
    });
    drop(build()?);
    let reload = app_lua
        .param("reload")
        .and_then(|v| v.as_int())
        .unwrap_or(1)
        != 0;
    Ok(EngineBuilder {
        threading: Threading::PerWorker,
        reload,
        build,
    })
}
