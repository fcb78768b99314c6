//! The Python engine: [`PyScript`], the script loaded once per process and
//! shared by every worker, and [`PyEngine`], one worker's handle on it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use kemi_core::engine::{log_reload, CallbackNames, CallbackOutcome, ScriptEngine, ScriptError};
use kemi_core::{Context, Registry, Runtime};
use pyo3::exceptions::PySystemExit;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyModule, PyTuple};

use crate::ksr::{self, Current};
use crate::msg::Msg;

/// Which of the two Python modules runs the script: how callbacks are
/// found and called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Style {
    /// app_python3: the script's `mod_init()` returns an object; callbacks
    /// are its methods, called with a `msg` object (and the event name for
    /// event callbacks); its `child_init(rank)` runs in every worker.
    Handler {
        /// `mod_init_function` (default `mod_init`).
        mod_init: String,
        /// `child_init_method` (default `child_init`).
        child_init: String,
    },
    /// app_python3s: callbacks are the script's module-level functions,
    /// called without arguments (the event name for event callbacks).
    Module {
        /// `script_init`: a function run after each (re)load; none by default.
        script_init: Option<String>,
        /// `script_child_init`: a function run with the rank in every worker.
        script_child_init: Option<String>,
    },
}

impl Style {
    /// app_python3 with Kamailio's default function names.
    pub fn handler() -> Self {
        Style::Handler {
            mod_init: "mod_init".into(),
            child_init: "child_init".into(),
        }
    }

    /// app_python3s without init functions.
    pub fn module() -> Self {
        Style::Module {
            script_init: None,
            script_child_init: None,
        }
    }

    /// The module name, for logs and targets.
    pub fn module_name(&self) -> &'static str {
        match self {
            Style::Handler { .. } => "app_python3",
            Style::Module { .. } => "app_python3s",
        }
    }

    /// `KSR.__version__`, as Kamailio's modules set it.
    fn ksr_version(&self) -> i64 {
        match self {
            Style::Handler { .. } => 1003,
            Style::Module { .. } => 1008,
        }
    }
}

/// Why the script could not be loaded or initialised.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("Python: {0}")]
    Python(String),
    #[error("cannot read Python script {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("error loading Python script {path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error("{function}() in Python script {path} failed: {message}")]
    Init {
        path: PathBuf,
        function: String,
        message: String,
    },
    #[error("no function `{name}` (the request route callback) {place} in Python script {path}")]
    MissingCallback {
        name: String,
        place: &'static str,
        path: PathBuf,
    },
}

impl From<PyErr> for EngineError {
    fn from(e: PyErr) -> Self {
        EngineError::Python(Python::attach(|py| describe(py, &e)))
    }
}

/// Serialises script loads in the process: a load points `sys.modules`
/// at its `KSR` while the script's imports run, and several scripts load
/// at once only in tests (one process, many engines). Always taken before
/// attaching to Python, never while attached, so it cannot deadlock with
/// the GIL.
static LOAD: Mutex<()> = Mutex::new(());

/// One loaded version of the script.
struct Loaded {
    /// The script's module.
    module: Py<PyModule>,
    /// Where callbacks are looked up: `mod_init()`'s object (app_python3)
    /// or the module (app_python3s).
    target: Py<PyAny>,
    /// Counts successful loads; workers re-run their child init when it
    /// moves.
    generation: u64,
    /// The reload version last attempted.
    version: u64,
}

/// The script, loaded once per process: module-level state is shared by
/// every worker (each Kamailio process has its own interpreter instead).
pub struct PyScript {
    def: ScriptDef,
    loaded: Mutex<Loaded>,
}

/// What a load needs: the script, how it is run, and the `KSR` module.
struct ScriptDef {
    /// What `KSR` was built from; `msg.call_function()` looks names up here.
    registry: Arc<Registry>,
    style: Style,
    path: PathBuf,
    request: Arc<str>,
    runtime: Arc<Runtime>,
    ksr: Py<PyModule>,
}

impl PyScript {
    /// Starts Python if needed, builds `KSR` from `registry`, loads the
    /// script at `path` and runs its init function (`mod_init()` or
    /// `script_init`). `request` is the request route callback, which must
    /// exist. KSR calls made while loading act on a stand-in message.
    pub fn load(
        registry: &Registry,
        path: &Path,
        style: Style,
        request: Arc<str>,
        runtime: Arc<Runtime>,
    ) -> Result<Arc<Self>, EngineError> {
        Python::initialize();
        let _load = LOAD.lock().unwrap_or_else(PoisonError::into_inner);
        let registry = Arc::new(registry.clone());
        let ksr = Python::attach(|py| -> PyResult<Py<PyModule>> {
            Ok(ksr::build(py, &registry, style.ksr_version())?.unbind())
        })?;
        let def = ScriptDef {
            registry,
            style,
            path: path.to_path_buf(),
            request,
            runtime,
            ksr,
        };
        let (module, target) = def.load_once()?;
        Ok(Arc::new(PyScript {
            def,
            loaded: Mutex::new(Loaded {
                module,
                target,
                generation: 0,
                version: 0,
            }),
        }))
    }

    /// The script's path.
    pub fn path(&self) -> &Path {
        &self.def.path
    }

    /// The style (module) the script runs under.
    pub fn style(&self) -> &Style {
        &self.def.style
    }

    /// The runtime KSR calls made while loading act on.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.def.runtime
    }

    /// The script's module as last loaded (for tests and tools).
    pub fn module(&self) -> Py<PyModule> {
        let loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        Python::attach(|py| loaded.module.clone_ref(py))
    }

    /// Reloads the script when `version` differs from the one last
    /// attempted (the first worker to notice does it; the others find it
    /// done). The new code replaces the old only if it loads, initialises
    /// and defines the request callback; otherwise the failure is logged
    /// and the old code keeps running. Returns whether this call attempted
    /// a reload.
    pub fn reload_to(&self, version: u64) -> bool {
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if loaded.version == version {
            return false;
        }
        loaded.version = version;
        let result = {
            let _load = LOAD.lock().unwrap_or_else(PoisonError::into_inner);
            self.def.load_once()
        };
        let result = result.map(|(module, target)| {
            loaded.module = module;
            loaded.target = target;
            loaded.generation += 1;
        });
        let _ = log_reload("Python", version, result);
        true
    }

    /// The current target and its generation.
    fn current(&self) -> (Py<PyAny>, u64) {
        let loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        let target = Python::attach(|py| loaded.target.clone_ref(py));
        (target, loaded.generation)
    }
}

impl ScriptDef {
    /// Loads the script into a fresh module and initialises it. Runs with
    /// [`LOAD`] held.
    fn load_once(&self) -> Result<(Py<PyModule>, Py<PyAny>), EngineError> {
        let source = std::fs::read_to_string(&self.path).map_err(|source| EngineError::Read {
            path: self.path.clone(),
            source,
        })?;
        let mut scratch = Context::new(Arc::clone(&self.runtime));
        let _current = Current::set(&mut scratch);
        Python::attach(|py| {
            let ksr = self.ksr.bind(py);
            ksr::install(py, ksr)?;
            let module = self.exec_script(py, &source)?;
            let target = match &self.style {
                Style::Handler { mod_init, .. } => {
                    let init = self.function(&module.clone().into_any(), mod_init)?;
                    let handler = init
                        .call0()
                        .map_err(|e| self.init_error(py, mod_init, &e))?;
                    if handler.is_none() {
                        return Err(EngineError::Init {
                            path: self.path.clone(),
                            function: mod_init.clone(),
                            message: "it returned None; it must return the object whose methods are the callbacks".into(),
                        });
                    }
                    handler
                }
                Style::Module { script_init, .. } => {
                    if let Some(name) = script_init {
                        let init = self.function(&module.clone().into_any(), name)?;
                        init.call0().map_err(|e| self.init_error(py, name, &e))?;
                    }
                    module.clone().into_any()
                }
            };
            match target.getattr(&*self.request) {
                Ok(f) if f.is_callable() => {}
                _ => {
                    return Err(EngineError::MissingCallback {
                        name: self.request.to_string(),
                        place: match self.style {
                            Style::Handler { .. } => "on the object mod_init() returned",
                            Style::Module { .. } => "at module level",
                        },
                        path: self.path.clone(),
                    })
                }
            }
            Ok((module.unbind(), target.unbind()))
        })
    }

    /// Compiles and runs the script as a module named after its file, with
    /// its directory first on `sys.path` (for its own imports), as
    /// Kamailio imports it. The module is in `sys.modules` while it runs,
    /// as an import would put it; a failed load puts the previous one back.
    fn exec_script<'py>(
        &self,
        py: Python<'py>,
        source: &str,
    ) -> Result<Bound<'py, PyModule>, EngineError> {
        let load_error = |e: &PyErr| EngineError::Load {
            path: self.path.clone(),
            message: if e.is_instance_of::<PySystemExit>(py) {
                "the script called exit() while loading".to_string()
            } else {
                describe(py, e)
            },
        };
        let name = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "kamailio".into());
        let path_text = self.path.to_string_lossy().into_owned();
        let sys = py.import("sys")?;
        if let Some(dir) = self.path.parent().map(|d| d.to_string_lossy().into_owned()) {
            let dir = if dir.is_empty() { ".".to_string() } else { dir };
            let sys_path = sys.getattr("path")?;
            if !sys_path.contains(&dir)? {
                sys_path.call_method1("insert", (0, &dir))?;
            }
        }
        let builtins = py.import("builtins")?;
        let code = builtins
            .getattr("compile")?
            .call1((source, &path_text, "exec"))
            .map_err(|e| load_error(&e))?;
        let module = PyModule::new(py, &name)?;
        module.setattr("__file__", &path_text)?;
        let modules = sys.getattr("modules")?;
        let previous = modules.get_item(&name).ok();
        modules.set_item(&name, &module)?;
        if let Err(e) = builtins.getattr("exec")?.call1((code, module.dict())) {
            match previous {
                Some(p) => modules.set_item(&name, p)?,
                None => modules.del_item(&name)?,
            }
            return Err(load_error(&e));
        }
        Ok(module)
    }

    /// The callable attribute `name` of `target`, or why there is none.
    fn function<'py>(
        &self,
        target: &Bound<'py, PyAny>,
        name: &str,
    ) -> Result<Bound<'py, PyAny>, EngineError> {
        match target.getattr(name) {
            Ok(f) if f.is_callable() => Ok(f),
            _ => Err(EngineError::Init {
                path: self.path.clone(),
                function: name.to_string(),
                message: "no such function in the script".into(),
            }),
        }
    }

    fn init_error(&self, py: Python<'_>, function: &str, e: &PyErr) -> EngineError {
        EngineError::Init {
            path: self.path.clone(),
            function: function.to_string(),
            message: describe(py, e),
        }
    }

    /// Runs the per-worker init function with `rank` on `target` (the
    /// handler's `child_init` method, or the `script_child_init`
    /// function). A missing `child_init` method is skipped; a negative
    /// integer result is a failure, as in Kamailio.
    fn child_init(&self, target: &Py<PyAny>, rank: i32) -> Result<(), EngineError> {
        let mut scratch = Context::new(Arc::clone(&self.runtime));
        let _current = Current::set(&mut scratch);
        Python::attach(|py| {
            let target = target.bind(py);
            let (function, args) = match &self.style {
                Style::Handler { child_init, .. } => match target.getattr(child_init.as_str()) {
                    Ok(f) if f.is_callable() => (f, child_init),
                    _ => {
                        tracing::debug!(target: "app_python3", "the handler has no {child_init}() method; skipped");
                        return Ok(());
                    }
                },
                Style::Module {
                    script_child_init: Some(name),
                    ..
                } => (self.function(target, name)?, name),
                Style::Module { .. } => return Ok(()),
            };
            let result = function
                .call1((rank,))
                .map_err(|e| self.init_error(py, args, &e))?;
            match result.extract::<i64>() {
                Ok(n) if n < 0 => Err(EngineError::Init {
                    path: self.path.clone(),
                    function: args.clone(),
                    message: format!("it returned {n} for rank {rank}"),
                }),
                _ => Ok(()),
            }
        })
    }
}

/// Keeps a worker thread's Python thread state alive between callbacks,
/// with the GIL released: the worker stays one Python thread
/// (`threading.local()`, `threading.current_thread()`) instead of getting
/// a new thread state for every callback.
struct ThreadState {
    gstate: ffi::PyGILState_STATE,
    saved: *mut ffi::PyThreadState,
}

impl ThreadState {
    /// `None` when this thread already holds the GIL (a thread state
    /// exists then, and releasing the GIL here would pull it from under
    /// the caller).
    fn keep() -> Option<Self> {
        // SAFETY: Python is initialised (PyScript::load did it); the
        // thread state is released in Drop, on this same thread (the
        // engine is not Send).
        unsafe {
            if ffi::PyGILState_Check() == 1 {
                return None;
            }
            let gstate = ffi::PyGILState_Ensure();
            let saved = ffi::PyEval_SaveThread();
            Some(ThreadState { gstate, saved })
        }
    }
}

impl Drop for ThreadState {
    fn drop(&mut self) {
        // SAFETY: undoes `keep`, on the thread that called it.
        unsafe {
            ffi::PyEval_RestoreThread(self.saved);
            ffi::PyGILState_Release(self.gstate);
        }
    }
}

/// One worker's handle on the shared script: its rank, the version it
/// routes with, and the thread state it keeps. Not `Send`: built on the
/// worker thread that uses it.
pub struct PyEngine {
    script: Arc<PyScript>,
    callbacks: CallbackNames,
    rank: i32,
    target: Py<PyAny>,
    generation: u64,
    version: u64,
    /// Whether the onsend callback is defined, asked per message by the
    /// proxy: looked up once per load rather than under the GIL each time.
    onsend: bool,
    // Dropped last: the fields above may still be released through it.
    _thread: Option<ThreadState>,
}

impl PyEngine {
    /// A worker's engine on `script`: keeps a thread state for this
    /// thread and runs the child init function with `rank` (Kamailio's
    /// worker rank; 1 for the first worker).
    pub fn new(
        script: Arc<PyScript>,
        callbacks: CallbackNames,
        rank: i32,
    ) -> Result<Self, EngineError> {
        let thread = ThreadState::keep();
        let (target, generation) = script.current();
        script.def.child_init(&target, rank)?;
        let mut engine = PyEngine {
            script,
            callbacks,
            rank,
            target,
            generation,
            version: 0,
            onsend: false,
            _thread: thread,
        };
        engine.onsend = engine.look_up_onsend();
        Ok(engine)
    }

    /// The shared script.
    pub fn script(&self) -> &Arc<PyScript> {
        &self.script
    }

    /// The worker rank child init ran with.
    pub fn rank(&self) -> i32 {
        self.rank
    }

    fn look_up_onsend(&self) -> bool {
        match self.callbacks.onsend.clone() {
            Some(name) => self.defines(&name),
            None => false,
        }
    }

    /// Picks up the script's current version; runs child init when it is
    /// new code.
    fn refresh(&mut self) {
        let (target, generation) = self.script.current();
        if generation == self.generation {
            return;
        }
        if let Err(e) = self.script.def.child_init(&target, self.rank) {
            tracing::error!(target: "app_python3", "after reload: {e}");
        }
        self.target = target;
        self.generation = generation;
        self.onsend = self.look_up_onsend();
    }
}

impl ScriptEngine for PyEngine {
    fn language(&self) -> &'static str {
        "Python"
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
        ctx.exit = false;
        let is_request = *name == *self.callbacks.request;
        let ctx_ptr: *mut Context = ctx;
        let result = Python::attach(|py| {
            let target = self.target.bind(py);
            let function = match target.getattr(name) {
                Ok(f) if f.is_callable() => f,
                _ if is_request => {
                    return Err(ScriptError::Missing {
                        engine: "Python",
                        callback: name.to_string(),
                    })
                }
                _ => return Ok(None),
            };
            let _current = Current::set(ctx_ptr);
            let called = match self.script.def.style {
                Style::Handler { .. } => {
                    let msg = Bound::new(py, Msg::new(Arc::clone(&self.script.def.registry)))
                        .map_err(|e| engine_error(py, name, &e))?;
                    let args = match arg {
                        None => PyTuple::new(py, [msg.clone().into_any()]),
                        Some(a) => PyTuple::new(
                            py,
                            [
                                msg.clone().into_any(),
                                a.into_pyobject(py)
                                    .map_err(|e| engine_error(py, name, &e.into()))?
                                    .into_any(),
                            ],
                        ),
                    }
                    .map_err(|e| engine_error(py, name, &e))?;
                    let called = function.call1(args);
                    msg.get().invalidate();
                    called
                }
                Style::Module { .. } => match arg {
                    None => function.call0(),
                    Some(a) => function.call1((a,)),
                },
            };
            Ok(Some(called.map(drop).map_err(|e| {
                if e.is_instance_of::<PySystemExit>(py) {
                    None
                } else {
                    Some(describe(py, &e))
                }
            })))
        })?;
        match result {
            None => Ok(CallbackOutcome::Skipped),
            Some(Ok(())) if ctx.exit => Ok(CallbackOutcome::Exit),
            Some(Ok(())) => Ok(CallbackOutcome::Returned),
            // exit(), sys.exit(), KSR.x.exit(): the callback ends normally.
            Some(Err(None)) => {
                ctx.exit = true;
                Ok(CallbackOutcome::Exit)
            }
            Some(Err(Some(message))) => Err(ScriptError::Runtime {
                engine: "Python",
                callback: name.to_string(),
                message,
            }),
        }
    }

    fn defines(&self, name: &str) -> bool {
        Python::attach(|py| {
            self.target
                .bind(py)
                .getattr(name)
                .is_ok_and(|f| f.is_callable())
        })
    }

    fn has_onsend_route(&self) -> bool {
        self.onsend
    }

    fn version(&self) -> u64 {
        self.version
    }

    fn reload_if_changed(&mut self, version: u64) -> bool {
        if version == self.version {
            return false;
        }
        self.version = version;
        self.script.reload_to(version);
        self.refresh();
        true
    }
}

fn engine_error(py: Python<'_>, callback: &str, e: &PyErr) -> ScriptError {
    ScriptError::Engine {
        engine: "Python",
        callback: callback.to_string(),
        message: describe(py, e),
    }
}

/// A Python exception as text, with its full traceback (Kamailio logs
/// `traceback.format_exception`'s output too).
pub(crate) fn describe(py: Python<'_>, e: &PyErr) -> String {
    let formatted = py.import("traceback").and_then(|tb| {
        let lines = tb.getattr("format_exception")?.call1((
            e.get_type(py),
            e.value(py),
            e.traceback(py),
        ))?;
        let text: String = pyo3::types::PyString::new(py, "")
            .call_method1("join", (lines,))?
            .extract()?;
        Ok::<_, PyErr>(text)
    });
    match formatted {
        Ok(text) => text.trim_end().to_string(),
        Err(_) => e.to_string(),
    }
}
