//! app_ruby: the Ruby KEMI engine, `cfgengine "ruby"`, embedding the
//! system's Ruby (3.1 on Debian 12) through magnus.
//!
//! The process has one Ruby VM, started on the thread that first builds an
//! engine and usable only from that thread; the engine therefore asks the
//! proxy for [`Threading::CallerThread`](kemi_core::engine::Threading):
//! every message is routed on the thread that started the proxy. Ruby's own
//! handlers for SIGINT/SIGTERM are replaced by the ones in place before it
//! started, so the proxy still stops cleanly on those signals.
//!
//! Behaviour, following Kamailio's app_ruby (spec §4.7) unless noted:
//! - Callbacks are top-level methods (`def ksr_request_route`), called on
//!   `Kernel`; event callbacks get the event name as their argument.
//! - Core functions are methods of `KSR` (`KSR.info`), every other
//!   submodule an upper-cased module (`KSR::SL.send_reply`, `KSR::PV.get`);
//!   only loaded modules exist (`defined?(KSR::AUTH)` is nil without auth).
//! - Ruby's `exit` ends the callback without an error, as in Kamailio.
//!   `KSR::X.exit` and `KSR::X.drop` (which Kamailio's Ruby engine lacks)
//!   work as in the other engines; `KSR.set_drop()` then `exit` is
//!   Kamailio's idiom and works too. `exit!` raises an error instead of
//!   stopping the proxy.
//! - `KSR::X.modf(fname, ...)` runs the loaded function with that
//!   kamailio.cfg name (`kemi_core::ksr::x::modf`); -1 for an unknown name.
//! - Wrong argument count raises `ArgumentError`, a wrong argument kind
//!   `TypeError`, naming the function and its signature.
//! - Results: int to Integer, bool to true/false, xval to nil, Integer,
//!   String, Hash or Array (Kamailio gives nil for dict/array).
//!   `xval_mode` 0 is Kamailio's legacy mode: `KSR::PV` keeps only get,
//!   getw, gete, seti, sets, unset and is_null, and string results of
//!   other functions are nil (logged).
//! - Script errors carry Ruby's message, class and backtrace.
//! - KSR calls while scripts load act on a scratch context (Kamailio's
//!   Ruby engine logs an error and returns false instead).

mod call;
mod engine;
pub mod rpc;
pub mod testing;
mod vm;

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use kemi_core::engine::{script_path, BuildEngine, EngineBuilder, Threading};
use kemi_core::{ModParam, ModParamKind, ModuleDef};

pub use call::EXIT_MESSAGE;
pub use engine::{EngineError, RubyEngine};
pub use kemi_core::engine::{CallbackNames, CallbackOutcome, ScriptEngine, ScriptError};

/// The `loadmodule "app_ruby.so"` entry.
pub static MODULE: ModuleDef = ModuleDef {
    name: "app_ruby",
    summary: "Ruby KEMI engine: routing scripts in Ruby calling KSR.* and KSR::<MODULE>.*",
    kemi: None,
    params: &[
        ModParam {
            name: "load",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "The Ruby script to load (required).",
        },
        ModParam {
            name: "xval_mode",
            kind: ModParamKind::Int,
            repeatable: false,
            doc: "1 (default): string results are Ruby Strings. 0: Kamailio's legacy mode, KSR::PV has only get, getw, gete, seti, sets, unset, is_null and other string results are nil.",
        },
        ModParam {
            name: "modproc",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "Accepted for Kamailio compatibility (the path of app_ruby_proc.so) and ignored: the engine is built in.",
        },
    ],
    rpc: rpc::METHODS,
};

thread_local! {
    /// The engine [`builder`] loaded to check the scripts, handed to the
    /// first build on the same thread, so the scripts run once at start
    /// (the VM is shared anyway). Tagged with the builder it came from.
    static PREPARED: RefCell<Option<(u64, RubyEngine)>> = const { RefCell::new(None) };
}

/// The engine for `cfgengine "ruby"`: checks the config (`app_ruby` loaded,
/// a script), starts the VM on the calling thread and loads the script, so
/// a broken script stops the proxy (and `-c`) before any socket is bound.
/// Routing happens on this same thread ([`Threading::CallerThread`]).
pub fn builder(runtime: &Arc<kemi_core::Runtime>) -> Result<EngineBuilder, String> {
    static NEXT_ID: AtomicU64 = AtomicU64::new(0);

    let config = runtime.config();
    let Some(app_ruby) = config.module("app_ruby") else {
        return Err(format!(
            "{}: cfgengine \"ruby\" needs loadmodule \"app_ruby.so\"",
            config.file
        ));
    };
    let Some(load) = app_ruby.param("load").and_then(|v| v.as_str()) else {
        return Err(format!(
            "{}: cfgengine \"ruby\" needs a script: modparam(\"app_ruby\", \"load\", \"/path/to/script.rb\")",
            config.file
        ));
    };
    if let Some(modproc) = app_ruby.param("modproc").and_then(|v| v.as_str()) {
        tracing::debug!(target: "app_ruby", "modparam modproc \"{modproc}\" ignored: the Ruby engine is built in");
    }
    let scripts: Vec<PathBuf> = vec![script_path(load, config)];
    let registry = kemi_core::Registry::new(&config.module_defs());
    let callbacks = CallbackNames::from_config(config);
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let file = config.file.clone();
    let make = {
        let runtime = Arc::clone(runtime);
        move || {
            RubyEngine::with_runtime(&registry, &scripts, callbacks.clone(), Arc::clone(&runtime))
                .map_err(|e| format!("{file}: app_ruby: {e}"))
        }
    };
    let first = make()?;
    PREPARED.with(|p| *p.borrow_mut() = Some((id, first)));
    let build: Arc<BuildEngine> = Arc::new(move || {
        let prepared = PREPARED.with(|p| {
            let mut p = p.borrow_mut();
            match p.take() {
                Some((tag, engine)) if tag == id => Some(engine),
                other => {
                    *p = other;
                    None
                }
            }
        });
        match prepared {
            Some(engine) => Ok(Box::new(engine) as Box<dyn ScriptEngine>),
            None => make().map(|e| Box::new(e) as Box<dyn ScriptEngine>),
        }
    });
    Ok(EngineBuilder {
        threading: Threading::CallerThread,
        reload: true,
        build,
    })
}
