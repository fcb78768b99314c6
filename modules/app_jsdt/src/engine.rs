//! `JsEngine`: one QuickJS runtime and context with `KSR` and the loaded
//! scripts, owned by one worker thread (QuickJS is single-threaded, so each
//! worker builds its own on its own thread).

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use kemi_core::engine::{log_reload, CallbackNames, CallbackOutcome, ScriptEngine, ScriptError};
use kemi_core::{Context, Registry, Runtime};
use rquickjs::{qjs, Ctx, Function, Value};

use crate::call::{self, Current, Slot, EXIT_SENTINEL};
use crate::require;

/// Why the engine could not be built or its scripts (re)loaded.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("JavaScript engine: {0}")]
    Js(#[from] rquickjs::Error),
    #[error("cannot read JavaScript {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("error loading JavaScript {path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error(
        "no function `{name}` (the request route callback) defined in the JavaScript scripts: {scripts}"
    )]
    MissingCallback { name: String, scripts: String },
}

/// Where the scripts come from: the `load` modparam (one file) or
/// `loaddir` (every `*.js` file of a directory, in name order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptSource {
    File(PathBuf),
    Dir(PathBuf),
}

impl ScriptSource {
    /// The files to run, in order. A directory is listed again at every
    /// load, so a reload picks up added files.
    pub fn files(&self) -> Result<Vec<PathBuf>, EngineError> {
        match self {
            ScriptSource::File(path) => Ok(vec![path.clone()]),
            ScriptSource::Dir(dir) => {
                let read_error = |source| EngineError::Read {
                    path: dir.clone(),
                    source,
                };
                let mut files = Vec::new();
                for entry in std::fs::read_dir(dir).map_err(read_error)? {
                    let path = entry.map_err(read_error)?.path();
                    if path.extension().is_some_and(|e| e == "js") && path.is_file() {
                        files.push(path);
                    }
                }
                files.sort();
                Ok(files)
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            ScriptSource::File(path) => path.display().to_string(),
            ScriptSource::Dir(dir) => format!("{}/*.js", dir.display()),
        }
    }
}

/// One QuickJS runtime with `KSR` and the scripts loaded. Not `Send`:
/// build one per worker thread, on that thread.
pub struct JsEngine {
    // Field order is drop order: the context (and with it every KSR
    // function, which holds the slot) goes before the runtime and before
    // `scratch`, which the slot points to while scripts load.
    context: rquickjs::Context,
    _runtime: rquickjs::Runtime,
    slot: Rc<Slot>,
    /// The context KSR calls act on while scripts load (no message is
    /// routed then). Like Python's faked message in Kamailio: calls work,
    /// their effects on message state are discarded.
    scratch: Box<Context>,
    source: ScriptSource,
    /// `mode` 1: scripts get a CommonJS `require`.
    require: bool,
    callbacks: CallbackNames,
    version: u64,
}

impl JsEngine {
    /// Builds a fresh QuickJS runtime, `KSR` from `registry`, loads the
    /// scripts and checks that the request route callback exists. KSR calls
    /// made while loading use a scratch context with a default [`Runtime`].
    pub fn new(
        registry: &Registry,
        source: ScriptSource,
        require: bool,
        callbacks: CallbackNames,
    ) -> Result<Self, EngineError> {
        Self::with_runtime(
            registry,
            source,
            require,
            callbacks,
            Arc::new(Runtime::default()),
        )
    }

    /// As [`JsEngine::new`], with the proxy's runtime for load-time calls.
    pub fn with_runtime(
        registry: &Registry,
        source: ScriptSource,
        require: bool,
        callbacks: CallbackNames,
        runtime: Arc<Runtime>,
    ) -> Result<Self, EngineError> {
        let js_runtime = rquickjs::Runtime::new()?;
        let context = rquickjs::Context::full(&js_runtime)?;
        let slot = Rc::new(Slot::new(registry.clone()));
        context.with(|cx| -> rquickjs::Result<()> {
            let ksr = call::build_ksr(&cx, registry, &slot)?;
            cx.globals().set("KSR", ksr)
        })?;
        let mut engine = JsEngine {
            context,
            _runtime: js_runtime,
            slot,
            scratch: Box::new(Context::new(runtime)),
            source,
            require,
            callbacks,
            version: 0,
        };
        engine.load_scripts()?;
        engine.check_request_callback()?;
        Ok(engine)
    }

    /// Where the scripts come from.
    pub fn source(&self) -> &ScriptSource {
        &self.source
    }

    /// Re-runs the scripts in the existing context when the shared reload
    /// counter moved to `version` (the `app_jsdt.reload` RPC bumps it; each
    /// worker calls this before routing a message). Returns whether a
    /// reload was attempted. Every script is compiled before any runs, so
    /// a syntax error leaves the running code untouched; a script that
    /// throws while running is reported and the functions already defined
    /// (old or new) stay, as in Kamailio, where the script is evaluated
    /// again in the same heap. The version is recorded either way, so a
    /// broken script is reported once, not on every message.
    pub fn try_reload(&mut self, version: u64) -> Result<bool, EngineError> {
        if version == self.version {
            return Ok(false);
        }
        self.version = version;
        let result = self
            .load_scripts()
            .and_then(|()| self.check_request_callback());
        log_reload("JavaScript", version, result).map(|()| true)
    }

    /// Reads and compiles every script, then runs them in order.
    fn load_scripts(&mut self) -> Result<(), EngineError> {
        let mut sources = Vec::new();
        for path in self.source.files()? {
            let text = std::fs::read(&path).map_err(|source| EngineError::Read {
                path: path.clone(),
                source,
            })?;
            sources.push((path, text));
        }
        let Self {
            context,
            slot,
            scratch,
            require,
            ..
        } = self;
        context.with(|cx| {
            let mut compiled = Vec::with_capacity(sources.len());
            for (path, text) in &sources {
                let code = compile(&cx, text, &path.display().to_string()).map_err(|e| {
                    EngineError::Load {
                        path: path.clone(),
                        message: exception_text(&cx, e),
                    }
                })?;
                compiled.push((path, code));
            }
            for (path, code) in compiled {
                // A fresh scratch context per script: an exit or flags left
                // by one script must not leak into the next.
                **scratch = Context::new(Arc::clone(scratch.runtime()));
                let scratch_ptr: *mut Context = &mut **scratch;
                let _current = Current::set(slot, scratch_ptr);
                if *require {
                    let dir = path.parent().unwrap_or(Path::new("."));
                    cx.globals()
                        .set("require", require::new_require(&cx, dir)?)?;
                }
                if let Err(e) = run(&cx, code) {
                    let message = exception_text(&cx, e);
                    // `KSR.x.exit()` at the top level ends that script only.
                    if message != EXIT_SENTINEL {
                        return Err(EngineError::Load {
                            path: path.clone(),
                            message,
                        });
                    }
                }
            }
            Ok(())
        })
    }

    fn check_request_callback(&self) -> Result<(), EngineError> {
        let name = &self.callbacks.request;
        if self.defines(name) {
            return Ok(());
        }
        Err(EngineError::MissingCallback {
            name: name.to_string(),
            scripts: self.source.describe(),
        })
    }

    /// Runs `f` with the QuickJS context, for tests and the module's own
    /// functions.
    pub fn with<R>(&self, f: impl FnOnce(Ctx<'_>) -> R) -> R {
        self.context.with(f)
    }

    /// A global variable converted to a string (`None` when undefined or
    /// null), for tests.
    pub fn global_string(&self, name: &str) -> Option<String> {
        self.context.with(|cx| {
            let value: Value = cx.globals().get(name).ok()?;
            if value.is_undefined() || value.is_null() {
                return None;
            }
            Some(
                rquickjs::convert::Coerced::<String>::from_js(&cx, value)
                    .map(|c| c.0)
                    .unwrap_or_default(),
            )
        })
    }
}

use rquickjs::FromJs;

impl ScriptEngine for JsEngine {
    fn language(&self) -> &'static str {
        "JavaScript"
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
        let is_request = *name == *self.callbacks.request;
        let Self { context, slot, .. } = self;
        context.with(|cx| {
            let func = match cx.globals().get::<_, Value>(name) {
                Ok(v) if v.is_function() => v.into_function(),
                Ok(_) => None,
                Err(e) => {
                    return Err(ScriptError::Engine {
                        engine: "JavaScript",
                        callback: name.to_string(),
                        message: e.to_string(),
                    })
                }
            };
            let Some(func) = func else {
                return if is_request {
                    Err(ScriptError::Missing {
                        engine: "JavaScript",
                        callback: name.to_string(),
                    })
                } else {
                    Ok(CallbackOutcome::Skipped)
                };
            };
            ctx.exit = false;
            let result = {
                let _current = Current::set(slot, ctx as *mut Context);
                call_function(&func, arg)
            };
            match result {
                Ok(()) if ctx.exit => Ok(CallbackOutcome::Exit),
                Ok(()) => Ok(CallbackOutcome::Returned),
                Err(rquickjs::Error::Exception) => {
                    let message = exception_text(&cx, cx.catch());
                    if message == EXIT_SENTINEL {
                        ctx.exit = true;
                        Ok(CallbackOutcome::Exit)
                    } else {
                        Err(ScriptError::Runtime {
                            engine: "JavaScript",
                            callback: name.to_string(),
                            message,
                        })
                    }
                }
                Err(e) => Err(ScriptError::Engine {
                    engine: "JavaScript",
                    callback: name.to_string(),
                    message: e.to_string(),
                }),
            }
        })
    }

    fn defines(&self, name: &str) -> bool {
        self.context.with(|cx| {
            cx.globals()
                .get::<_, Value>(name)
                .is_ok_and(|v| v.is_function())
        })
    }

    fn version(&self) -> u64 {
        self.version
    }

    fn reload_if_changed(&mut self, version: u64) -> bool {
        matches!(self.try_reload(version), Ok(true) | Err(_))
    }
}

fn call_function(func: &Function<'_>, arg: Option<&str>) -> rquickjs::Result<()> {
    match arg {
        None => func.call::<_, ()>(()),
        Some(a) => func.call::<_, ()>((a,)),
    }
}

/// Compiles a script as global (sloppy-mode) code, as Duktape evaluates
/// Kamailio's scripts; nothing runs yet. The error is the exception.
pub(crate) fn compile<'js>(
    cx: &Ctx<'js>,
    text: &[u8],
    name: &str,
) -> Result<Value<'js>, Value<'js>> {
    eval_raw(
        cx,
        text,
        name,
        qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY,
    )
}

/// Evaluates source text as global sloppy-mode code and returns its value.
pub(crate) fn eval_sloppy<'js>(
    cx: &Ctx<'js>,
    text: &[u8],
    name: &str,
) -> Result<Value<'js>, Value<'js>> {
    eval_raw(cx, text, name, qjs::JS_EVAL_TYPE_GLOBAL)
}

fn eval_raw<'js>(
    cx: &Ctx<'js>,
    text: &[u8],
    name: &str,
    flags: u32,
) -> Result<Value<'js>, Value<'js>> {
    // QuickJS wants a NUL after the source; the length excludes it.
    let mut source = Vec::with_capacity(text.len() + 1);
    source.extend_from_slice(text);
    source.push(0);
    let name = CString::new(name.replace('\0', "")).unwrap_or_default();
    let ctx = cx.as_raw().as_ptr();
    // SAFETY: `source` is NUL-terminated and outlives the call; `name` too.
    // The returned value is owned and handed to `Value`, which frees it.
    unsafe {
        let value = qjs::JS_Eval(
            ctx,
            source.as_ptr().cast(),
            text.len() as _,
            name.as_ptr(),
            flags as i32,
        );
        if qjs::JS_IsException(value) {
            Err(cx.catch())
        } else {
            Ok(Value::from_raw(cx.clone(), value))
        }
    }
}

/// Runs code from [`compile`]; the error is the exception.
fn run<'js>(cx: &Ctx<'js>, code: Value<'js>) -> Result<(), Value<'js>> {
    // SAFETY: `code` is a compiled script of this context; JS_EvalFunction
    // consumes the reference we add here, `code` frees its own on drop.
    unsafe {
        let ctx = cx.as_raw().as_ptr();
        let value = qjs::JS_EvalFunction(ctx, qjs::JS_DupValue(ctx, code.as_raw()));
        if qjs::JS_IsException(value) {
            Err(cx.catch())
        } else {
            qjs::JS_FreeValue(cx.as_raw().as_ptr(), value);
            Ok(())
        }
    }
}

/// The text of a thrown value: a string as is (so the exit sentinel is
/// recognised), an `Error` as `Name: message` followed by its JavaScript
/// stack, anything else as `String(value)` would print it.
pub(crate) fn exception_text<'js>(cx: &Ctx<'js>, value: Value<'js>) -> String {
    if let Some(s) = value.as_string() {
        return s
            .to_string()
            .unwrap_or_else(|_| "(a string that is not valid UTF-8)".to_string());
    }
    let text = rquickjs::convert::Coerced::<String>::from_js(cx, value.clone())
        .map(|c| c.0)
        .unwrap_or_else(|_| format!("(a thrown {} that cannot be printed)", value.type_name()));
    let stack = value
        .as_object()
        .filter(|_| value.is_error())
        .and_then(|o| o.get::<_, Option<String>>("stack").ok().flatten())
        .filter(|s| !s.trim().is_empty());
    match stack {
        Some(stack) => format!("{text}\n{}", stack.trim_end()),
        None => text,
    }
}
