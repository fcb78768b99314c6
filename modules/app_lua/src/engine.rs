//! `LuaEngine`: one Lua state with `KSR` and the loaded scripts, owned by
//! one worker thread (an mlua `Lua` is not `Send`, so each worker builds its
//! own on its own thread).

use std::ffi::c_int;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use kemi_core::engine::{log_reload, CallbackNames, CallbackOutcome, ScriptEngine, ScriptError};
use kemi_core::{Context, Registry, Runtime};
use mlua::{ffi, Function, Lua, Table, Value};

use crate::call::{self, Current, Slot, EXIT_SENTINEL};

/// Why the engine could not be built or its scripts (re)loaded.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("Lua state: {0}")]
    Lua(#[from] mlua::Error),
    #[error("cannot read Lua script {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("error loading Lua script {path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error(
        "no function `{name}` (the request route callback) defined in the Lua scripts: {scripts}"
    )]
    MissingCallback { name: String, scripts: String },
}

/// One Lua state with `KSR` and the scripts loaded. Not `Send`: build one
/// per worker thread, on that thread.
pub struct LuaEngine {
    // Field order is drop order: the Lua state goes before `scratch`, which
    // the slot points to while scripts load. The slot itself is also kept
    // in the state's app data, so it lives as long as the state does (the
    // C functions point to it; a clone of `Lua` may outlive the engine and
    // a `__gc` metamethod may call KSR functions while the state closes).
    runner: Function,
    lua: Lua,
    slot: Rc<Slot>,
    /// The context KSR calls act on while scripts load (no message is
    /// routed then). Like Python's faked message in Kamailio: calls work,
    /// their effects on message state are discarded.
    scratch: Box<Context>,
    scripts: Vec<PathBuf>,
    callbacks: CallbackNames,
    version: u64,
}

impl LuaEngine {
    /// Builds a fresh Lua state, `KSR` from `registry`, loads `scripts` in
    /// order and checks that the request route callback exists. KSR calls
    /// made while loading use a scratch context with a default [`Runtime`].
    pub fn new(
        registry: &Registry,
        scripts: &[PathBuf],
        callbacks: CallbackNames,
    ) -> Result<Self, EngineError> {
        Self::with_runtime(registry, scripts, callbacks, Arc::new(Runtime::default()))
    }

    /// As [`LuaEngine::new`], with the proxy's runtime for load-time calls.
    pub fn with_runtime(
        registry: &Registry,
        scripts: &[PathBuf],
        callbacks: CallbackNames,
        runtime: Arc<Runtime>,
    ) -> Result<Self, EngineError> {
        // All standard libraries, `debug` and C modules included, as
        // Kamailio's `luaL_openlibs`: routing scripts are trusted config and
        // real ones `require` LuaRocks C modules.
        // SAFETY: scripts are operator configuration, not untrusted input.
        let lua = unsafe { Lua::unsafe_new() };
        let slot = Rc::new(Slot::new(registry.clone()));
        let slot_ptr = call::light(Rc::as_ptr(&slot));
        lua.set_app_data(Rc::clone(&slot));

        let ksr = build_ksr(&lua, registry, slot_ptr)?;
        // `log_mode` bit 1, as in Kamailio: list every export KSR got.
        let log_mode = runtime
            .config()
            .module("app_lua")
            .and_then(|m| m.param("log_mode"))
            .and_then(|v| v.as_int())
            .unwrap_or(0);
        if log_mode & 1 != 0 {
            for export in registry.exports() {
                tracing::debug!(target: "app_lua", "exporting {}", export.signature());
            }
        }
        let globals = lua.globals();
        globals.set("KSR", ksr)?;
        globals.set("KSRVERSION", "2.0")?;
        if let Ok(Value::Table(os)) = globals.get::<Value>("os") {
            os.set("exit", c_closure(&lua, call::os_exit, &[])?)?;
        }

        // `xpcall` and the handler are captured now, so a script that
        // redefines either cannot change how callbacks are run.
        let handler = c_closure(&lua, call::traceback_handler, &[])?;
        let runner: Function = lua
            .load(
                "local xpcall, handler = xpcall, ...\n\
                 return function(f, ...) return xpcall(f, handler, ...) end",
            )
            .set_name("=app_lua runner")
            .call(handler)?;

        let mut engine = LuaEngine {
            runner,
            lua,
            slot,
            scratch: Box::new(Context::new(runtime)),
            scripts: scripts.to_vec(),
            callbacks,
            version: 0,
        };
        engine.load_scripts()?;
        engine.check_request_callback()?;
        Ok(engine)
    }

    /// The scripts, in load order.
    pub fn scripts(&self) -> &[PathBuf] {
        &self.scripts
    }

    /// Re-runs the scripts in the existing state when the shared reload
    /// counter moved to `version` (the `app_lua.reload` RPC bumps it; each
    /// worker calls this before routing a message). Returns whether a
    /// reload was attempted. All scripts are compiled before any runs, so
    /// a syntax error leaves the running code untouched; a script that
    /// fails while running is reported and the functions already defined
    /// (old or new) stay, as in Kamailio, where globals persist across
    /// reloads. The version is recorded either way, so a broken script is
    /// reported once, not on every message.
    pub fn try_reload(&mut self, version: u64) -> Result<bool, EngineError> {
        if version == self.version {
            return Ok(false);
        }
        self.version = version;
        let result = self
            .load_scripts()
            .and_then(|()| self.check_request_callback());
        log_reload("Lua", version, result).map(|()| true)
    }

    /// Compiles every script, then runs them in order.
    fn load_scripts(&mut self) -> Result<(), EngineError> {
        let mut chunks = Vec::with_capacity(self.scripts.len());
        for path in &self.scripts {
            chunks.push((path.clone(), compile(&self.lua, path)?));
        }
        for (path, chunk) in chunks {
            // A fresh scratch context per script: an exit or flags left by
            // one script must not leak into the next.
            *self.scratch = Context::new(Arc::clone(self.scratch.runtime()));
            let scratch: *mut Context = &mut *self.scratch;
            let _current = Current::set(&self.slot, scratch);
            match self.runner.call::<(bool, Value)>(chunk)? {
                (true, _) => {}
                (false, err) => {
                    let message = error_text(&err);
                    // `KSR.x.exit()` at the top level ends that script only.
                    if message != EXIT_SENTINEL {
                        return Err(EngineError::Load { path, message });
                    }
                }
            }
        }
        Ok(())
    }

    fn check_request_callback(&self) -> Result<(), EngineError> {
        let name = &self.callbacks.request;
        match self.lua.globals().get::<Value>(&**name)? {
            Value::Function(_) => Ok(()),
            _ => Err(EngineError::MissingCallback {
                name: name.to_string(),
                scripts: if self.scripts.is_empty() {
                    "(no script loaded: set modparam(\"app_lua\", \"load\", ...))".to_string()
                } else {
                    self.scripts
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            }),
        }
    }

    /// The Lua state, for the module's own functions and for tests.
    pub fn lua(&self) -> &Lua {
        &self.lua
    }
}

impl ScriptEngine for LuaEngine {
    fn language(&self) -> &'static str {
        "Lua"
    }

    fn callbacks(&self) -> &CallbackNames {
        &self.callbacks
    }

    fn run_callback(
        &mut self,
        ctx: &mut Context,
        name: &str,
        arg: Option<&str>,
    ) -> Result<CallbackOutcome, ScriptError> {
        let func = match self.lua.globals().get::<Value>(name) {
            Ok(Value::Function(f)) => f,
            Ok(_) if *name == *self.callbacks.request => {
                return Err(ScriptError::Missing {
                    engine: "Lua",
                    callback: name.to_string(),
                })
            }
            Ok(_) => return Ok(CallbackOutcome::Skipped),
            Err(e) => {
                return Err(ScriptError::Engine {
                    engine: "Lua",
                    callback: name.to_string(),
                    message: e.to_string(),
                })
            }
        };
        ctx.exit = false;
        let result = {
            let _current = Current::set(&self.slot, ctx as *mut Context);
            match arg {
                None => self.runner.call::<(bool, Value)>(func),
                Some(a) => self.runner.call::<(bool, Value)>((func, a)),
            }
        };
        match result {
            Ok((true, _)) if ctx.exit => Ok(CallbackOutcome::Exit),
            Ok((true, _)) => Ok(CallbackOutcome::Returned),
            Ok((false, err)) => {
                let message = error_text(&err);
                if message == EXIT_SENTINEL || (ctx.exit && is_relayed_exit(&message)) {
                    ctx.exit = true;
                    Ok(CallbackOutcome::Exit)
                } else {
                    Err(ScriptError::Runtime {
                        engine: "Lua",
                        callback: name.to_string(),
                        message,
                    })
                }
            }
            Err(e) => Err(ScriptError::Engine {
                engine: "Lua",
                callback: name.to_string(),
                message: e.to_string(),
            }),
        }
    }

    fn defines(&self, name: &str) -> bool {
        matches!(
            self.lua.globals().get::<Value>(name),
            Ok(Value::Function(_))
        )
    }

    fn version(&self) -> u64 {
        self.version
    }

    fn reload_if_changed(&mut self, version: u64) -> bool {
        // try_reload logs the outcome.
        self.try_reload(version).unwrap_or(true)
    }
}

/// Reads and compiles one script, named `@<path>` so errors and tracebacks
/// show the file. A first line starting with `#` (a shebang) is blanked,
/// as `luaL_loadfile` skips it, keeping line numbers right.
fn compile(lua: &Lua, path: &Path) -> Result<Function, EngineError> {
    let mut source = std::fs::read(path).map_err(|source| EngineError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if source.first() == Some(&b'#') {
        let end = source
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(source.len());
        source.drain(..end);
    }
    lua.load(&source[..])
        .set_name(format!("@{}", path.display()))
        .into_function()
        .map_err(|e| EngineError::Load {
            path: path.to_path_buf(),
            message: match e {
                mlua::Error::SyntaxError { message, .. } => message,
                other => other.to_string(),
            },
        })
}

/// `KSR.x.exit()` raised inside a coroutine: `coroutine.wrap` re-raises it
/// with its position prepended (`file:3: ~~ksr~exit~~`, once per level),
/// and the handler then adds a traceback. Only trusted while `ctx.exit`
/// says an exit really happened.
fn is_relayed_exit(message: &str) -> bool {
    message
        .lines()
        .next()
        .and_then(|first| first.strip_suffix(EXIT_SENTINEL))
        .is_some_and(|prefix| prefix.ends_with(": "))
}

/// The text of an error value the runner's handler returned.
fn error_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string_lossy(),
        other => format!("{other:?}"),
    }
}

/// Builds a Lua C closure with light-userdata upvalues.
fn c_closure(
    lua: &Lua,
    f: ffi::lua_CFunction,
    upvalues: &[*mut std::ffi::c_void],
) -> mlua::Result<Function> {
    let n = c_int::try_from(upvalues.len()).unwrap_or(0);
    // SAFETY: pushes `n` light userdata and a closure over them; mlua runs
    // this protected and takes the closure off the stack.
    unsafe {
        lua.exec_raw::<Function>((), |state| {
            for p in upvalues {
                ffi::lua_pushlightuserdata(state, *p);
            }
            ffi::lua_pushcclosure(state, f, n);
        })
    }
}

/// The `KSR` table: core functions directly on it, each other registry
/// submodule as `KSR.<name>`, and `KSR.x`. Only what the registry holds
/// exists, so scripts can feature-test modules (`if KSR.auth then`).
fn build_ksr(lua: &Lua, registry: &Registry, slot: *mut std::ffi::c_void) -> mlua::Result<Table> {
    let ksr = lua.create_table()?;
    for sub in registry.submodules() {
        let target = if sub.name.is_empty() {
            ksr.clone()
        } else {
            match ksr.raw_get::<Value>(sub.name)? {
                Value::Table(t) => t,
                _ => {
                    let t = lua.create_table()?;
                    ksr.raw_set(sub.name, &t)?;
                    t
                }
            }
        };
        for export in sub.exports {
            let f = c_closure(
                lua,
                call::ksr_call,
                &[call::light(export as *const kemi_core::Export), slot],
            )?;
            target.raw_set(export.name, f)?;
        }
    }
    // Set last so a module can never shadow the engine's own functions.
    // The documented list drives what is defined, so docs and engine agree.
    let x = lua.create_table()?;
    for f in kemi_core::ksr::x::LUA {
        let body = match f.name {
            "exit" => c_closure(lua, call::x_exit, &[slot])?,
            "drop" => c_closure(lua, call::x_drop, &[slot])?,
            "modf" => c_closure(lua, call::x_modf, &[slot])?,
            "probe" => c_closure(lua, call::x_probe, &[])?,
            other => {
                return Err(mlua::Error::runtime(format!(
                    "KSR.x.{other} is listed for Lua but the engine has no body for it"
                )))
            }
        };
        x.raw_set(f.name, body)?;
    }
    ksr.raw_set("x", x)?;
    Ok(ksr)
}
