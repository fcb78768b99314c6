//! `RubyEngine`: the process's Ruby VM with `KSR` and the routing scripts
//! loaded, used from the one thread that started the VM.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kemi_core::engine::{log_reload, CallbackNames, CallbackOutcome, ScriptEngine, ScriptError};
use kemi_core::{Context, Registry, Runtime};
use magnus::prelude::*;
use magnus::{kwargs, Error, RString, Ruby, Value};

use crate::call::{self, Current};

/// Why the engine could not be built or its scripts (re)loaded.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Vm(String),
    #[error("building KSR: {0}")]
    Ksr(String),
    #[error("cannot read Ruby script {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("error loading Ruby script {path}: {message}")]
    Load { path: PathBuf, message: String },
    #[error(
        "no method `{name}` (the request route callback) defined in the Ruby scripts: {scripts}"
    )]
    MissingCallback { name: String, scripts: String },
}

/// The Ruby VM with `KSR` and the scripts loaded. Not `Send`: the VM works
/// only on the thread that started it. The process has one VM, so building
/// a second engine rebuilds `KSR` and re-runs scripts in the same VM.
pub struct RubyEngine {
    ruby: Ruby,
    /// The context KSR calls act on while scripts load (no message is
    /// routed then): calls work, their effects are discarded.
    scratch: Box<Context>,
    scripts: Vec<PathBuf>,
    callbacks: CallbackNames,
    version: u64,
}

impl RubyEngine {
    /// Starts the VM if needed (on this thread), removes the top-level
    /// methods earlier engines' scripts defined, builds `KSR` from
    /// `registry`, loads `scripts` in order and checks that the request
    /// route callback exists. `xval_mode` comes from the runtime's config
    /// (`modparam("app_ruby", "xval_mode", ...)`, default 1).
    pub fn with_runtime(
        registry: &Registry,
        scripts: &[PathBuf],
        callbacks: CallbackNames,
        runtime: Arc<Runtime>,
    ) -> Result<Self, EngineError> {
        let ruby = crate::vm::ruby().map_err(EngineError::Vm)?;
        let xval_mode = runtime
            .config()
            .module("app_ruby")
            .and_then(|m| m.param("xval_mode"))
            .and_then(|v| v.as_int())
            .unwrap_or(1);
        crate::vm::forget_script_methods(&ruby)
            .and_then(|()| call::build_ksr(&ruby, registry, xval_mode))
            .map_err(|e| EngineError::Ksr(error_text(&ruby, &e)))?;
        let mut engine = RubyEngine {
            ruby,
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

    /// Evaluates `code` at the top level and returns its `to_s` (for tests
    /// and diagnostics: reading a script's globals, for example).
    pub fn eval_to_string(&self, code: &str) -> Result<String, String> {
        self.ruby
            .eval::<Value>(code)
            .and_then(|v| v.funcall::<_, _, String>("to_s", ()))
            .map_err(|e| error_text(&self.ruby, &e))
    }

    /// Re-runs the scripts in the VM when the shared reload counter moved
    /// to `version` (the `app_ruby.reload` RPC bumps it; the routing thread
    /// calls this before a message). All scripts are compiled before any
    /// runs, so a syntax error leaves the running code untouched; methods
    /// defined before persist, as in Kamailio. The version is recorded
    /// either way, so a broken script is reported once.
    pub fn try_reload(&mut self, version: u64) -> Result<bool, EngineError> {
        if version == self.version {
            return Ok(false);
        }
        self.version = version;
        let result = self
            .load_scripts()
            .and_then(|()| self.check_request_callback());
        log_reload("Ruby", version, result).map(|()| true)
    }

    /// Compiles every script, then runs them in order at the top level.
    fn load_scripts(&mut self) -> Result<(), EngineError> {
        // The compiled code lives in Ruby objects, kept in a Ruby array
        // (a Rust Vec is not scanned by Ruby's GC) until all have run.
        let compiled = self.ruby.ary_new_capa(self.scripts.len());
        for path in &self.scripts {
            let iseq = compile(&self.ruby, path)?;
            compiled.push(iseq).map_err(|e| self.load_error(path, &e))?;
        }
        // Running a script again redefines its constants and methods on
        // purpose; Ruby's warnings about that would only be noise on stderr.
        let verbose: Value = self
            .ruby
            .eval("v = $VERBOSE; $VERBOSE = nil; v")
            .map_err(|e| EngineError::Vm(error_text(&self.ruby, &e)))?;
        let result = self.run_compiled(compiled);
        let restore: Result<Value, Error> = self
            .ruby
            .eval::<magnus::block::Proc>("->(v) { $VERBOSE = v }")
            .and_then(|set| set.call((verbose,)));
        if let Err(e) = restore {
            tracing::warn!(target: "app_ruby", "cannot restore $VERBOSE: {}", error_text(&self.ruby, &e));
        }
        result
    }

    /// Runs the compiled scripts in order.
    fn run_compiled(&mut self, compiled: magnus::RArray) -> Result<(), EngineError> {
        for (i, path) in self.scripts.clone().iter().enumerate() {
            // A fresh scratch context per script: an exit or flags left by
            // one script must not leak into the next.
            *self.scratch = Context::new(Arc::clone(self.scratch.runtime()));
            let scratch: *mut Context = &mut *self.scratch;
            let result = {
                let _current = Current::set(scratch);
                compiled
                    .entry::<Value>(i as isize)
                    .and_then(|iseq| iseq.funcall::<_, _, Value>("eval", ()))
            };
            match result {
                Ok(_) => {}
                // `exit` at the top level ends that script only.
                Err(e) if call::is_exit(&self.ruby, &e) => {}
                Err(e) => return Err(self.load_error(path, &e)),
            }
        }
        Ok(())
    }

    fn load_error(&self, path: &Path, e: &Error) -> EngineError {
        EngineError::Load {
            path: path.to_path_buf(),
            message: error_text(&self.ruby, e),
        }
    }

    fn check_request_callback(&self) -> Result<(), EngineError> {
        let name = &self.callbacks.request;
        if self.defines(name) {
            return Ok(());
        }
        Err(EngineError::MissingCallback {
            name: name.to_string(),
            scripts: if self.scripts.is_empty() {
                "(no script loaded: set modparam(\"app_ruby\", \"load\", ...))".to_string()
            } else {
                self.scripts
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        })
    }
}

impl ScriptEngine for RubyEngine {
    fn language(&self) -> &'static str {
        "Ruby"
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
        if !self.defines(name) {
            if *name == *self.callbacks.request {
                return Err(ScriptError::Missing {
                    engine: "Ruby",
                    callback: name.to_string(),
                });
            }
            return Ok(CallbackOutcome::Skipped);
        }
        ctx.exit = false;
        // Top-level `def`s are private methods of Object, reachable from
        // any object; Kamailio calls them on Kernel, and so does this.
        let kernel = self.ruby.module_kernel();
        let result = {
            let _current = Current::set(ctx as *mut Context);
            match arg {
                None => kernel.funcall::<_, _, Value>(name, ()),
                Some(a) => kernel.funcall::<_, _, Value>(name, (a,)),
            }
        };
        match result {
            Ok(_) if ctx.exit => Ok(CallbackOutcome::Exit),
            Ok(_) => Ok(CallbackOutcome::Returned),
            Err(e) if call::is_exit(&self.ruby, &e) => {
                ctx.exit = true;
                Ok(CallbackOutcome::Exit)
            }
            Err(e) => Err(ScriptError::Runtime {
                engine: "Ruby",
                callback: name.to_string(),
                message: error_text(&self.ruby, &e),
            }),
        }
    }

    fn defines(&self, name: &str) -> bool {
        self.ruby
            .module_kernel()
            .respond_to(name, true)
            .unwrap_or(false)
    }

    fn version(&self) -> u64 {
        self.version
    }

    fn reload_if_changed(&mut self, version: u64) -> bool {
        // try_reload logs the outcome.
        self.try_reload(version).unwrap_or(true)
    }
}

/// Compiles one script with `RubyVM::InstructionSequence.compile_file`, so
/// syntax errors show up before anything runs and backtraces name the file.
fn compile(ruby: &Ruby, path: &Path) -> Result<Value, EngineError> {
    // Read errors are reported by the OS's words, not as a Ruby exception.
    std::fs::metadata(path).map_err(|source| EngineError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let load_error = |e: Error| EngineError::Load {
        path: path.to_path_buf(),
        message: error_text(ruby, &e),
    };
    let iseq_class: Value = ruby
        .eval("RubyVM::InstructionSequence")
        .map_err(load_error)?;
    iseq_class
        .funcall("compile_file", (path.display().to_string(),))
        .map_err(load_error)
}

/// The text of a Ruby error: Ruby's own `full_message` (message, class and
/// backtrace, innermost frame first), without the terminal highlighting.
pub(crate) fn error_text(ruby: &Ruby, e: &Error) -> String {
    let full = e.value().and_then(|exc| {
        exc.funcall::<_, _, RString>(
            "full_message",
            (kwargs!(ruby, "highlight" => false, "order" => ruby.to_symbol("top")),),
        )
        .ok()
        .and_then(|s| s.to_string().ok())
    });
    match full {
        Some(text) => text.trim_end().to_string(),
        None => e.to_string(),
    }
}
