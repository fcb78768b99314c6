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
//! - `KSR.x.modf(fname, ...)` runs the loaded function with that
//!   kamailio.cfg name (`kemi_core::ksr::x::modf`); -1 for an unknown name.
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use kemi_core::config::{Config, LoadedModule, Value};
    use kemi_core::Runtime;

    fn script_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts")
    }

    fn runtime(params: Vec<(&str, Value)>, edit: impl FnOnce(&mut Config)) -> Arc<Runtime> {
        let mut config = Config::default();
        config.modules.push(LoadedModule {
            def: &MODULE,
            params: params
                .into_iter()
                .map(|(n, v)| (n.to_string(), v))
                .collect(),
        });
        edit(&mut config);
        Arc::new(Runtime::with_config(
            config,
            Arc::new(kemi_core::net::Capture::default()),
        ))
    }

    fn path(name: &str) -> Value {
        Value::Str(script_dir().join(name).display().to_string())
    }

    fn error(runtime: &Arc<Runtime>) -> String {
        builder(runtime).err().expect("the builder must refuse")
    }

    #[test]
    fn a_script_is_required_and_load_and_loaddir_exclude_each_other() {
        let none = runtime(vec![("mode", Value::Int(1))], |_| {});
        assert!(error(&none).contains("modparam(\"app_jsdt\", \"load\""));
        let both = runtime(
            vec![
                ("load", path("basic.js")),
                ("loaddir", Value::Str(script_dir().display().to_string())),
            ],
            |_| {},
        );
        assert!(error(&both).contains("either \"load\" or \"loaddir\""));
        let missing = runtime(vec![("load", path("absent.js"))], |_| {});
        assert!(error(&missing).contains("absent.js"));
    }

    #[test]
    fn the_module_must_be_loaded() {
        let rt = Arc::new(Runtime::default());
        assert!(error(&rt).contains("loadmodule \"app_jsdt.so\""));
    }

    #[test]
    fn builds_per_worker_engines_with_mode_and_the_fixed_request_route() {
        // require_main.js needs `require`: mode 1 (the default) has it.
        let rt = runtime(vec![("load", path("require_main.js"))], |c| {
            c.kemi.request_route = "my_route".to_string();
        });
        let engine = builder(&rt).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(engine.threading, kemi_core::engine::Threading::PerWorker);
        assert!(engine.reload);
        let mut js = (engine.build)().unwrap();
        // kemi.request_route_callback does not apply: ksr_request_route runs.
        assert_eq!(&*js.callbacks().request, REQUEST_ROUTE);
        let mut ctx = kemi_core::Context::new(Arc::clone(&rt));
        js.request_route(&mut ctx).unwrap();
        assert_eq!(ctx.flags, 1 << 4);
        let mode0 = runtime(
            vec![("load", path("require_main.js")), ("mode", Value::Int(0))],
            |_| {},
        );
        assert!(error(&mode0).contains("require"));
    }
}
