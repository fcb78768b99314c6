//! What every script engine (Lua, Python, JavaScript, Ruby) provides to the
//! proxy, and what they share: the callback names from the `kemi.*` core
//! parameters, how a callback ended, why it failed, and the reload counter.
//!
//! The proxy routes through [`ScriptEngine`] only, so the routing logic
//! around a script (which callback runs when, onsend, tm's branch, reply
//! and failure routes) is written once for all engines.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::config::Config;
use crate::Context;

/// The names of the script functions the proxy calls, from the `kemi.*`
/// core parameters. `None` disables an optional callback. Shared strings,
/// so running a callback does not copy its name for every message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackNames {
    /// `kemi.request_route_callback`; must exist in the scripts.
    pub request: Arc<str>,
    /// `kemi.reply_route_callback`.
    pub reply: Option<Arc<str>>,
    /// `kemi.onsend_route_callback`.
    pub onsend: Option<Arc<str>>,
    /// `kemi.event_route_callback` (core events; unset by default).
    pub event: Option<Arc<str>>,
}

impl Default for CallbackNames {
    /// Kamailio's defaults.
    fn default() -> Self {
        CallbackNames {
            request: "ksr_request_route".into(),
            reply: Some("ksr_reply_route".into()),
            onsend: Some("ksr_onsend_route".into()),
            event: None,
        }
    }
}

impl CallbackNames {
    /// An optional callback name as the `kemi.*` parameters give it: `""`
    /// and `"none"` (any case) disable it, as in Kamailio.
    pub fn optional(name: &str) -> Option<Arc<str>> {
        if name.is_empty() || name.eq_ignore_ascii_case("none") {
            None
        } else {
            Some(name.into())
        }
    }

    /// The names a loaded config sets.
    pub fn from_config(config: &Config) -> Self {
        let kemi = &config.kemi;
        CallbackNames {
            request: kemi.request_route.as_str().into(),
            reply: kemi.reply_route.as_deref().map(Into::into),
            onsend: kemi.onsend_route.as_deref().map(Into::into),
            event: kemi.event_route.as_deref().map(Into::into),
        }
    }
}

/// How a callback ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// The function returned (its return value is ignored, as in Kamailio).
    Returned,
    /// `KSR.x.exit()` or `KSR.x.drop()` ended it; `ctx.exit` is set and,
    /// for drop outside the request route, `ctx.drop` too.
    Exit,
    /// An optional callback the scripts do not define: nothing ran.
    Skipped,
}

/// Why a callback failed. The caller logs it once, with the message's
/// method and Call-ID.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScriptError {
    /// The script raised an error; `message` ends with the engine's
    /// traceback.
    #[error("error in {engine} function {callback}: {message}")]
    Runtime {
        engine: &'static str,
        callback: String,
        message: String,
    },
    /// The request route callback is not defined (any other missing
    /// callback is skipped).
    #[error("no function `{callback}` in the {engine} scripts")]
    Missing {
        engine: &'static str,
        callback: String,
    },
    /// The interpreter itself failed (for example out of memory).
    #[error("{engine} engine failure in {callback}: {message}")]
    Engine {
        engine: &'static str,
        callback: String,
        message: String,
    },
}

/// One interpreter with `KSR` and the routing scripts loaded, owned by one
/// thread. Engines implement the required methods; the named callbacks are
/// provided on top of [`ScriptEngine::run_callback`].
pub trait ScriptEngine {
    /// The language, for logs ("Lua", "Python"...).
    fn language(&self) -> &'static str;

    /// The callback names this engine was built with.
    fn callbacks(&self) -> &CallbackNames;

    /// Calls the script function `name` (with `arg`, the event name, for
    /// event callbacks) while KSR calls act on `ctx`. A missing function is
    /// [`CallbackOutcome::Skipped`], except the request route callback.
    /// Clears `ctx.exit` first: exit ends one callback, not the next one run
    /// for the same message.
    fn run_callback(
        &mut self,
        ctx: &mut Context,
        name: &str,
        arg: Option<&str>,
    ) -> Result<CallbackOutcome, ScriptError>;

    /// True when the scripts define a function `name` the engine can call.
    fn defines(&self, name: &str) -> bool;

    /// The reload version the loaded scripts correspond to (0 at start).
    fn version(&self) -> u64;

    /// Re-loads the scripts when the shared [`ReloadVersion`] moved to
    /// `version`. Logs the outcome; on failure the previous code keeps
    /// running. Returns whether a reload was attempted.
    fn reload_if_changed(&mut self, version: u64) -> bool;

    /// Runs the request route callback.
    fn request_route(&mut self, ctx: &mut Context) -> Result<CallbackOutcome, ScriptError> {
        let name = Arc::clone(&self.callbacks().request);
        self.run_callback(ctx, &name, None)
    }

    /// Runs the reply route callback, if configured and defined.
    fn reply_route(&mut self, ctx: &mut Context) -> Result<CallbackOutcome, ScriptError> {
        match self.callbacks().reply.clone() {
            Some(name) => self.run_callback(ctx, &name, None),
            None => Ok(CallbackOutcome::Skipped),
        }
    }

    /// True when the onsend route callback is configured and defined (the
    /// proxy then defers sends until it has run).
    fn has_onsend_route(&self) -> bool {
        self.callbacks()
            .onsend
            .as_deref()
            .is_some_and(|name| self.defines(name))
    }

    /// Runs the onsend route callback, if configured and defined.
    fn onsend_route(&mut self, ctx: &mut Context) -> Result<CallbackOutcome, ScriptError> {
        match self.callbacks().onsend.clone() {
            Some(name) => self.run_callback(ctx, &name, None),
            None => Ok(CallbackOutcome::Skipped),
        }
    }

    /// Runs the core event callback with the event's name
    /// (`core:worker-one-init`), if configured.
    fn event_route(
        &mut self,
        ctx: &mut Context,
        event: &str,
    ) -> Result<CallbackOutcome, ScriptError> {
        match self.callbacks().event.clone() {
            Some(name) => self.run_callback(ctx, &name, Some(event)),
            None => Ok(CallbackOutcome::Skipped),
        }
    }
}

/// Where an engine's interpreter may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threading {
    /// One interpreter per worker thread, built on that thread; workers
    /// run in parallel (Lua, JavaScript, Python).
    PerWorker,
    /// Exactly one interpreter, on the thread that starts the proxy (Ruby:
    /// the VM works only on the thread that initialised it).
    CallerThread,
}

/// An engine module's entry point for `cfgengine`: checks the config and
/// loads the scripts once, returning how routing threads build theirs.
pub type EngineEntry = fn(&Arc<crate::Runtime>) -> Result<EngineBuilder, String>;

/// Builds an engine on the thread that will use it.
pub type BuildEngine = dyn Fn() -> Result<Box<dyn ScriptEngine>, String> + Send + Sync;

/// What an engine module gives the proxy for `cfgengine "<name>"`: how to
/// build its interpreter, and where it may run.
#[derive(Clone)]
pub struct EngineBuilder {
    pub threading: Threading,
    /// False when the engine's `reload` modparam turned reloads off: the
    /// routing threads then ignore [`ReloadVersion`].
    pub reload: bool,
    pub build: Arc<BuildEngine>,
}

/// The reload version shared by an engine's `reload` RPC and the routing
/// threads: the RPC bumps it; each thread compares it with the version its
/// interpreter was loaded at before routing a message, and reloads when it
/// moved (lazily, as in Kamailio). Get it with
/// `runtime.state::<ReloadVersion>()` once per thread; reading it per
/// message is one relaxed atomic load.
#[derive(Debug, Default)]
pub struct ReloadVersion {
    version: AtomicU64,
}

impl ReloadVersion {
    /// The version scripts should be loaded at; 0 until the first reload.
    pub fn current(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    /// Asks every thread to reload; returns `(old, new)`.
    pub fn bump(&self) -> (u64, u64) {
        let old = self.version.fetch_add(1, Ordering::Relaxed);
        (old, old.wrapping_add(1))
    }
}

/// Logs how an engine's reload ended, the same way for every engine:
/// `<language> scripts reloaded`, or that the reload failed and the
/// previous code keeps running. Gives `result` back.
pub fn log_reload<E: std::fmt::Display>(
    language: &str,
    version: u64,
    result: Result<(), E>,
) -> Result<(), E> {
    match &result {
        Ok(()) => tracing::info!(version, "{language} scripts reloaded"),
        Err(e) => tracing::error!(
            version,
            "{language} reload failed, the previous code keeps running: {e}"
        ),
    }
    result
}

/// A script path from a `load` modparam: as given, or, when it is relative
/// and not found from the current directory, relative to the config file's
/// directory (so a config and its script can be moved together).
pub fn script_path(path: &str, config: &Config) -> PathBuf {
    let p = PathBuf::from(path);
    if p.is_absolute() || p.exists() {
        return p;
    }
    match Path::new(&config.file).parent() {
        Some(dir) if dir.join(&p).exists() => dir.join(p),
        _ => p,
    }
}

/// The RPC handlers every engine module shares; each engine lists them in
/// its own method table under its Kamailio names (`app_jsdt.reload`,
/// `app_python.api_list`...).
pub mod rpc {
    use serde_json::{json, Value};

    use super::ReloadVersion;
    use crate::rpc::{RpcContext, RpcError};

    /// `<engine>.reload`: bumps the shared [`ReloadVersion`]; the routing
    /// threads reload lazily, before their next message, as in Kamailio.
    /// Answers Kamailio's `{"old": v, "new": v+1}`.
    pub fn reload(ctx: &RpcContext, _params: &[Value]) -> Result<Value, RpcError> {
        let (old, new) = ctx.runtime.state::<ReloadVersion>().bump();
        Ok(json!({"old": old, "new": new}))
    }

    /// `<engine>.api_list`: every KSR function the scripts can call, in
    /// Kamailio's JSON shape.
    pub fn api_list(ctx: &RpcContext, _params: &[Value]) -> Result<Value, RpcError> {
        Ok(ctx.registry.api_list())
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use std::sync::Arc;

        use crate::{Registry, Runtime};

        fn ctx() -> RpcContext {
            RpcContext {
                runtime: Arc::new(Runtime::default()),
                registry: Registry::new(&[]),
            }
        }

        #[test]
        fn reload_bumps_the_shared_version() {
            let c = ctx();
            assert_eq!(reload(&c, &[]), Ok(json!({"old": 0, "new": 1})));
            assert_eq!(reload(&c, &[]), Ok(json!({"old": 1, "new": 2})));
            assert_eq!(c.runtime.state::<ReloadVersion>().current(), 2);
        }

        #[test]
        fn api_list_lists_the_registry() {
            let list = api_list(&ctx(), &[]).unwrap();
            let methods = list["methods"].as_array().unwrap();
            assert!(methods.len() > 100, "{list}");
            assert_eq!(list["msize"], json!(methods.len()));
            assert!(methods
                .iter()
                .any(|m| m["func"]["name"] == "info" && m["func"]["module"] == ""));
            assert!(methods
                .iter()
                .any(|m| m["func"]["module"] == "pv" && m["func"]["name"] == "get"));
        }
    }
}
