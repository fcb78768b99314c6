//! app_python3 and app_python3s: the Python 3 KEMI engines, both
//! `cfgengine "python"`, embedding the system's CPython through pyo3.
//!
//! - **app_python3** ([`MODULE`]): the script's `mod_init()` returns an
//!   object whose methods are the callbacks, called with a `msg` object:
//!   `ksr_request_route(self, msg)`, event callbacks
//!   `(self, msg, evname)`; its `child_init(self, rank)` runs once in every
//!   worker. RPC `app_python.reload`, `app_python.api_list`.
//! - **app_python3s** ([`MODULE_S`]): callbacks are plain module-level
//!   functions, `def ksr_request_route():` (event callbacks get the event
//!   name); optional `script_init` and `script_child_init(rank)` functions.
//!   RPC `app_python3s.reload`, `app_python3s.api_list`.
//!
//! `import KSR` gives the `KSR` module: core functions on it (`KSR.info`),
//! `KSR.<module>` for each loaded module (and only those, so scripts can
//! feature-test with `hasattr(KSR, "tm")`), `KSR.x`. `import KSR.pv` and
//! `from KSR import pv` work too. Every export is one generic fastcall C
//! function (see `ksr.rs`).
//!
//! ## Threads and the GIL
//!
//! There is one interpreter per process, and its GIL lets one thread run
//! Python at a time. Workers are ordinary proxy workers
//! ([`Threading::PerWorker`]): each takes the GIL only while it runs a
//! callback and releases it when the callback returns, so workers waiting
//! for messages (or parsing and sending them) never hold it. Routing in
//! Python is serialised on the GIL, as in any single CPython process; SIP
//! I/O and parsing run in parallel. This is the simplest correct design:
//! a worker blocks on its socket outside Python, and KSR calls need no
//! hand-over between threads. A KSR call that sends (a reply, a forward)
//! does so with the GIL held; those are non-blocking datagram or buffered
//! stream writes.
//!
//! Each worker keeps one Python thread state for its whole life (taken
//! when its engine is built, released when it is dropped), so a worker is
//! one Python thread, as a Kamailio process is: `threading.local()` data
//! and `threading.current_thread()` persist from one message to the next,
//! and taking the GIL for a callback is cheap. Measured with `cargo bench
//! -p kemi-mod-app-python3` (short runs on a busy 2-core machine, so
//! indicative): attaching with the kept thread state about 125 ns, with a
//! thread state built and torn down each time about 1.2 µs; a whole empty
//! callback about 500 ns; a KSR call from Python about 100 ns (a plain
//! Python function call: 70 ns).
//!
//! ## Differences from Kamailio
//!
//! - The script is loaded once per process and its module-level state is
//!   shared by all workers (Kamailio forks, so each process has its own
//!   copy). `child_init(rank)` still runs once per worker, with ranks 1, 2...
//! - Reload loads the script into a fresh module (Kamailio re-imports into
//!   the existing one, so globals the new code does not set survive); the
//!   new code replaces the old only if it loads, `mod_init()` (or
//!   `script_init`) succeeds and the request callback exists, otherwise the
//!   error is logged and the old code keeps running.
//! - `KSR.x.exit()` and `KSR.x.drop()` exist (Kamailio's Python engines have
//!   only `KSR.x.modf`); like `exit()` and `sys.exit()`, they raise
//!   `SystemExit`, which ends the callback for this message without an
//!   error. A script that catches it and goes on gets `SystemExit` again
//!   from the next KSR call.
//! - `KSR.x.modf(fname, ...)` and `msg.call_function(fname, ...)` run the
//!   loaded function with that kamailio.cfg name
//!   (`kemi_core::ksr::x::modf`); -1 for an unknown name.
//! - Wrong arguments to a KSR function raise `TypeError` (or `ValueError`
//!   for a string that is not a number) naming the function and its
//!   signature, where Kamailio logs and returns `False`. Numbers are
//!   accepted for `str` parameters, as in the other engines.
//! - dict and array results come back as `dict` and `list` (Kamailio: None).
//! - A missing `child_init` method is skipped; a negative result from it
//!   fails the worker's start, as in Kamailio.
//! - `threads_mode` is accepted and has no effect: the GIL is always
//!   released between callbacks.

mod engine;
mod ksr;
mod msg;
pub mod rpc;
pub mod testing;

use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use kemi_core::config::LoadedModule;
use kemi_core::engine::{script_path, BuildEngine, EngineBuilder, Threading};
use kemi_core::{ModParam, ModParamKind, ModuleDef, Runtime};

pub use engine::{EngineError, PyEngine, PyScript, Style};
pub use kemi_core::engine::{CallbackNames, CallbackOutcome, ScriptEngine, ScriptError};

const THREADS_MODE_DOC: &str =
    "Accepted for compatibility; no effect (the GIL is released between callbacks anyway).";

/// The `loadmodule "app_python3.so"` entry.
pub static MODULE: ModuleDef = ModuleDef {
    name: "app_python3",
    summary: "Python 3 KEMI engine: callbacks are methods of the object mod_init() returns",
    kemi: None,
    params: &[
        ModParam {
            name: "load",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "The Python script (default /usr/local/etc/kamailio/handler.py).",
        },
        ModParam {
            name: "script_name",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "Another name for `load`.",
        },
        ModParam {
            name: "mod_init_function",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "The script function returning the handler object (default `mod_init`).",
        },
        ModParam {
            name: "child_init_method",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "The handler method run with the rank in every worker (default `child_init`).",
        },
        ModParam {
            name: "threads_mode",
            kind: ModParamKind::Int,
            repeatable: false,
            doc: THREADS_MODE_DOC,
        },
    ],
    rpc: rpc::METHODS,
};

/// The `loadmodule "app_python3s.so"` entry.
pub static MODULE_S: ModuleDef = ModuleDef {
    name: "app_python3s",
    summary: "Python 3 KEMI engine: callbacks are module-level functions",
    kemi: None,
    params: &[
        ModParam {
            name: "load",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "The Python script (default /usr/local/etc/kamailio/kamailio.py).",
        },
        ModParam {
            name: "script_init",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "A script function run after the script is (re)loaded; none by default.",
        },
        ModParam {
            name: "script_child_init",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "A script function run with the rank in every worker; none by default.",
        },
        ModParam {
            name: "threads_mode",
            kind: ModParamKind::Int,
            repeatable: false,
            doc: THREADS_MODE_DOC,
        },
    ],
    rpc: rpc::METHODS_S,
};

/// The engine for `cfgengine "python"` with `loadmodule "app_python3.so"`.
pub fn builder(runtime: &Arc<Runtime>) -> Result<EngineBuilder, String> {
    engine_builder(runtime, &MODULE)
}

/// The engine for `cfgengine "python"` with `loadmodule "app_python3s.so"`.
pub fn builder_s(runtime: &Arc<Runtime>) -> Result<EngineBuilder, String> {
    engine_builder(runtime, &MODULE_S)
}

/// Loads the script once, on the calling thread, so a broken script stops
/// the proxy (and `-c`) before any socket is bound; each worker then gets
/// a [`PyEngine`] on it, with the next rank.
fn engine_builder(
    runtime: &Arc<Runtime>,
    def: &'static ModuleDef,
) -> Result<EngineBuilder, String> {
    let config = runtime.config();
    let Some(module) = config.module(def.name) else {
        return Err(format!(
            "{}: cfgengine \"python\" needs loadmodule \"{}.so\"",
            config.file, def.name
        ));
    };
    let (style, default_script) = style_of(module);
    let script = match script_param(module) {
        Some(p) => script_path(p, config),
        None => PathBuf::from(default_script),
    };
    let registry = kemi_core::Registry::new(&config.module_defs());
    let callbacks = CallbackNames::from_config(config);
    let shared = PyScript::load(
        &registry,
        &script,
        style,
        Arc::clone(&callbacks.request),
        Arc::clone(runtime),
    )
    .map_err(|e| format!("{}: {}: {e}", config.file, def.name))?;
    let file = config.file.clone();
    let next_rank = AtomicI32::new(1);
    let build: Arc<BuildEngine> = Arc::new(move || {
        let rank = next_rank.fetch_add(1, Ordering::Relaxed);
        PyEngine::new(Arc::clone(&shared), callbacks.clone(), rank)
            .map(|e| Box::new(e) as Box<dyn ScriptEngine>)
            .map_err(|e| format!("{file}: {}: {e}", def.name))
    });
    Ok(EngineBuilder {
        threading: Threading::PerWorker,
        reload: true,
        build,
    })
}

/// The script modparam: `load` or its alias `script_name`, the last given.
fn script_param(module: &LoadedModule) -> Option<&str> {
    module
        .params
        .iter()
        .rev()
        .find(|(n, _)| n == "load" || n == "script_name")
        .and_then(|(_, v)| v.as_str())
}

/// The style a loaded module asks for, with its function-name modparams,
/// and Kamailio's default script for it.
fn style_of(module: &LoadedModule) -> (Style, &'static str) {
    let text = |name: &str| {
        module
            .param(name)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    if module.def.name == MODULE_S.name {
        (
            Style::Module {
                script_init: text("script_init"),
                script_child_init: text("script_child_init"),
            },
            "/usr/local/etc/kamailio/kamailio.py",
        )
    } else {
        (
            Style::Handler {
                mod_init: text("mod_init_function").unwrap_or_else(|| "mod_init".into()),
                child_init: text("child_init_method").unwrap_or_else(|| "child_init".into()),
            },
            "/usr/local/etc/kamailio/handler.py",
        )
    }
}
