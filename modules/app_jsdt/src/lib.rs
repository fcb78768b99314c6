//! app_jsdt: the JavaScript KEMI engine, `cfgengine "jsdt"`.
//!
//! Kamailio's app_jsdt embeds Duktape; this one embeds QuickJS (through
//! rquickjs; docs/dependencies.md says why). A [`JsEngine`] owns one
//! QuickJS runtime and context (one per worker thread, built on it) with
//! the `KSR` object built from the proxy's
//! [`Registry`](kemi_core::Registry) and the routing scripts. Every KSR
//! function is one generic Rust closure holding its `&'static Export`:
//! it converts the JavaScript arguments, calls
//! [`Export::invoke`](kemi_core::Export::invoke) and converts the result
//! (see `call.rs`).
//!
//! Behaviour, following Kamailio's app_jsdt (spec §4.6) unless noted:
//! - Script functions are globals (`function ksr_request_route() {...}`).
//!   The request route callback is always `ksr_request_route`: app_jsdt
//!   hard-codes it, so `kemi.request_route_callback` is ignored (with a
//!   warning at start-up); the reply, onsend and event callback names
//!   come from the `kemi.*` parameters as for every engine.
//! - `KSR.x.exit()` throws the string `"~~ksr~exit~~"`, which ends the
//!   callback without an error; it also sets `ctx.exit`, and any KSR call
//!   made after a script's own `try/catch` swallowed the exit throws it
//!   again. `KSR.x.drop()` is `KSR.set_drop()` plus exit.
//! - `KSR.x.modf()` logs an error and returns -1: this proxy has no native
//!   cfg functions.
//! - Wrong arguments throw a `TypeError` naming the function and its
//!   signature (Kamailio's Duktape coerces anything to a string or number
//!   instead).
//! - dict and array results become objects and arrays (app_jsdt returns
//!   null for them).
//! - Scripts are evaluated as sloppy-mode global code, as Duktape does.
//! - Script errors are reported with the JavaScript stack.
//! - `mode` 1 (the default) gives the scripts a CommonJS `require`
//!   (`require.rs`).
//! - KSR calls while scripts load act on a scratch context (Kamailio's
//!   app_jsdt would log an error and return false; Python's uses a faked
//!   message, which is what this is).

mod call;
mod engine;
mod require;
pub mod rpc;
pub mod testing;

use kemi_core::{ModParam, ModParamKind, ModuleDef};

pub use call::EXIT_SENTINEL;
pub use engine::{EngineError, JsEngine, ScriptSource};
pub use kemi_core::engine::{CallbackNames, CallbackOutcome, ScriptEngine, ScriptError};

/// The request route callback app_jsdt always calls.
pub const REQUEST_ROUTE: &str = "ksr_request_route";

/// The `loadmodule "app_jsdt.so"` entry.
pub static MODULE: ModuleDef = ModuleDef {
    name: "app_jsdt",
    summary: "JavaScript KEMI engine (QuickJS): routing scripts in JavaScript calling KSR.*",
    kemi: None,
    params: &[
        ModParam {
            name: "load",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "The JavaScript file to load.",
        },
        ModParam {
            name: "loaddir",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "A directory whose `*.js` files are all loaded, in name order (instead of `load`).",
        },
        ModParam {
            name: "mode",
            kind: ModParamKind::Int,
            repeatable: false,
            doc: "1 (default) gives the scripts a CommonJS `require` resolving modules relative to the script; 0 does not.",
        },
    ],
    rpc: rpc::METHODS,
};

/// The engine for `cfgengine "jsdt"`: checks the config (`app_jsdt`
/// loaded, `load` or `loaddir` set), loads the scripts once on the calling
/// thread so a broken script stops the proxy (and `-c`) before any socket
/// is bound, and returns how each worker builds its own QuickJS runtime.
pub fn builder(
    runtime: &std::sync::Arc<kemi_core::Runtime>,
) -> Result<kemi_core::engine::EngineBuilder, String> {
    use kemi_core::engine::{script_path, BuildEngine, EngineBuilder, Threading};
    use std::sync::Arc;

    let config = runtime.config();
    let Some(app_jsdt) = config.module("app_jsdt") else {
        return Err(format!(
            "{}: cfgengine \"jsdt\" needs loadmodule \"app_jsdt.so\"",
            config.file
        ));
    };
    let param = |name| app_jsdt.param(name).and_then(|v| v.as_str());
    let source = match (param("load"), param("loaddir")) {
        (Some(file), None) => ScriptSource::File(script_path(file, config)),
        (None, Some(dir)) => ScriptSource::Dir(script_path(dir, config)),
        (Some(_), Some(_)) => {
            return Err(format!(
                "{}: app_jsdt: set either \"load\" or \"loaddir\", not both",
                config.file
            ))
        }
        (None, None) => {
            return Err(format!(
                "{}: cfgengine \"jsdt\" needs a script: modparam(\"app_jsdt\", \"load\", \"/path/to/script.js\")",
                config.file
            ))
        }
    };
    let require = app_jsdt.param("mode").and_then(|v| v.as_int()).unwrap_or(1) == 1;
    let mut callbacks = CallbackNames::from_config(config);
    if *callbacks.request != *REQUEST_ROUTE {
        tracing::warn!(
            target: "app_jsdt",
            "kemi.request_route_callback \"{}\" is ignored: the JavaScript engine always calls {REQUEST_ROUTE}, as Kamailio's app_jsdt does",
            callbacks.request
        );
        callbacks.request = REQUEST_ROUTE.into();
    }
    let registry = kemi_core::Registry::new(&config.module_defs());
    let runtime = Arc::clone(runtime);
    let build: Arc<BuildEngine> = Arc::new(move || {
        JsEngine::with_runtime(
            &registry,
            source.clone(),
            require,
            callbacks.clone(),
            Arc::clone(&runtime),
        )
        .map(|e| Box::new(e) as Box<dyn ScriptEngine>)
        .map_err(|e| format!("{}: app_jsdt: {e}", runtime.config().file))
    });
    drop(build()?);
    Ok(EngineBuilder {
        threading: Threading::PerWorker,
        reload: true,
        build,
    })
}
