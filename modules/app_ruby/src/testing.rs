//! Running a Ruby test script against a SIP message, the way the proxy
//! routes one. The Ruby VM works only on the thread that started it, so
//! tests using this run on one thread: a `harness = false` test binary
//! calling them from `main` (see this crate's `tests/`). The harness is
//! kemi-core's [`ScriptTest`](kemi_core::testing::ScriptTest); this says
//! how Ruby loads a test script.
//!
//! ```no_run
//! use kemi_mod_app_ruby::testing::RubyTest;
//! let out = RubyTest::new(&[])
//!     .run("def ksr_request_route\n  raise 'not OPTIONS' unless KSR.is_OPTIONS\nend")
//!     .expect("the Ruby test failed");
//! ```

use std::path::Path;
use std::sync::Arc;

use kemi_core::testing::{ScriptTest, TestEngine};
use kemi_core::{Registry, Runtime};

pub use kemi_core::testing::Outcome;

use crate::{CallbackNames, RubyEngine};

/// A Ruby test: any script error (a `raise` standing for an assertion)
/// comes back from `run` as `Err` with the backtrace.
pub type RubyTest = ScriptTest<Ruby>;

/// Loads Ruby test scripts into the process's one VM, after removing the
/// methods earlier tests defined.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ruby;

impl TestEngine for Ruby {
    type Engine = RubyEngine;
    const EXTENSION: &'static str = "rb";

    fn load(
        &self,
        script: &str,
        path: &Path,
        registry: &Registry,
        runtime: Arc<Runtime>,
        callbacks: CallbackNames,
    ) -> Result<RubyEngine, String> {
        std::fs::write(path, script).map_err(|e| format!("cannot write the script: {e}"))?;
        reset_top_level()?;
        RubyEngine::with_runtime(registry, &[path.to_path_buf()], callbacks, runtime)
            .map_err(|e| e.to_string())
    }
}

/// Removes the top-level methods earlier tests defined: the process has
/// one VM, and a test must not pass on another test's callbacks. Building
/// an engine does this itself; tests call it between scenarios that only
/// evaluate code.
pub fn reset_top_level() -> Result<(), String> {
    let ruby = crate::vm::ruby()?;
    crate::vm::forget_script_methods(&ruby).map_err(|e| {
        format!(
            "cannot reset the Ruby VM: {}",
            crate::engine::error_text(&ruby, &e)
        )
    })
}

/// Evaluates `code` at the top level of the VM and returns its `to_s`
/// (reading a script's globals in tests).
pub fn eval_to_string(code: &str) -> Result<String, String> {
    use magnus::prelude::*;
    let ruby = crate::vm::ruby()?;
    ruby.eval::<magnus::Value>(code)
        .and_then(|v| v.funcall::<_, _, String>("to_s", ()))
        .map_err(|e| crate::engine::error_text(&ruby, &e))
}
