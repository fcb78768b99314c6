//! Running a Python test script against a SIP message, for this crate's
//! tests and for modules that want to check their KSR functions from
//! Python: kemi-core's [`ScriptTest`](kemi_core::testing::ScriptTest)
//! with the script [`Style`] as the engine's setting.
//!
//! ```no_run
//! use kemi_mod_app_python3::testing;
//! let out = testing::module_style(&[])
//!     .run("import KSR\ndef ksr_request_route():\n    assert KSR.is_OPTIONS()\n")
//!     .expect("the Python test failed");
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kemi_core::net::Capture;
use kemi_core::testing::{temp_path, ScriptTest, TestEngine};
use kemi_core::{ModuleDef, Registry, Runtime};

pub use kemi_core::testing::Outcome;

use crate::{CallbackNames, PyEngine, PyScript, Style};

/// A Python test: a failed `assert` or any other exception comes back
/// from `run` as `Err` with the traceback.
pub type PyTest = ScriptTest<Style>;

/// An app_python3s test (module-level callbacks) with `modules` loaded.
pub fn module_style(modules: &[&'static ModuleDef]) -> PyTest {
    PyTest::with_engine(Style::module(), modules)
}

/// An app_python3 test: `mod_init()` returns the handler object.
pub fn handler_style(modules: &[&'static ModuleDef]) -> PyTest {
    PyTest::with_engine(Style::handler(), modules)
}

impl TestEngine for Style {
    type Engine = PyEngine;
    const EXTENSION: &'static str = "py";

    fn load(
        &self,
        script: &str,
        path: &Path,
        registry: &Registry,
        runtime: Arc<Runtime>,
        callbacks: CallbackNames,
    ) -> Result<PyEngine, String> {
        std::fs::write(path, script).map_err(|e| format!("cannot write the script: {e}"))?;
        worker_engine(self, path, registry, runtime, callbacks)
    }
}

/// Loads the script at `path` and builds one worker's engine (rank 1),
/// with the capture of everything sent.
pub fn engine(test: &PyTest, path: &Path) -> Result<(PyEngine, Arc<Capture>), String> {
    let (runtime, capture) = test.runtime();
    let callbacks = test.callback_names().clone();
    let engine = worker_engine(&test.engine, path, &test.registry(), runtime, callbacks)?;
    Ok((engine, capture))
}

fn worker_engine(
    style: &Style,
    path: &Path,
    registry: &Registry,
    runtime: Arc<Runtime>,
    callbacks: CallbackNames,
) -> Result<PyEngine, String> {
    let request = Arc::clone(&callbacks.request);
    let script = PyScript::load(registry, path, style.clone(), request, runtime)
        .map_err(|e| e.to_string())?;
    PyEngine::new(script, callbacks, 1).map_err(|e| e.to_string())
}

/// Writes `script` to a fresh file in the temporary directory.
pub fn write_script(script: &str) -> std::io::Result<PathBuf> {
    let path = temp_path("py");
    std::fs::write(&path, script)?;
    Ok(path)
}
