//! Running a JavaScript test script against a SIP message, the way the
//! proxy runs `ksr_request_route`: for this engine's tests and for module
//! tests that want to check a function from JavaScript. The harness is
//! kemi-core's [`ScriptTest`](kemi_core::testing::ScriptTest); this says
//! how JavaScript loads a test script.
//!
//! The script gets a global `assert(cond, message)` that throws an `Error`
//! when `cond` is falsy, so a failed check fails the test with its stack.
//!
//! ```no_run
//! use kemi_mod_app_jsdt::testing::JsTest;
//! let out = JsTest::new(&[])
//!     .run("function ksr_request_route() { assert(KSR.is_OPTIONS()); }")
//!     .expect("the JavaScript test failed");
//! ```

use std::path::Path;
use std::sync::Arc;

use kemi_core::testing::{ScriptTest, TestEngine};
use kemi_core::{Registry, Runtime};

pub use kemi_core::testing::Outcome;

use crate::{CallbackNames, JsEngine, ScriptSource};

/// Loaded before the test script (file names sort it first).
const PRELUDE: &str = "function assert(cond, message) {\n\
  if (!cond) { throw new Error(message === undefined ? \"assertion failed\" : message); }\n\
}\n";

/// A JavaScript test: a failed `assert` or any script error comes back
/// from `run` as `Err` with the JavaScript stack.
pub type JsTest = ScriptTest<Js>;

/// Loads JavaScript test scripts: a directory with the prelude and the
/// script, `require` enabled.
#[derive(Clone, Copy, Debug, Default)]
pub struct Js;

impl TestEngine for Js {
    type Engine = JsEngine;
    const EXTENSION: &'static str = "js";

    fn load(
        &self,
        script: &str,
        path: &Path,
        registry: &Registry,
        runtime: Arc<Runtime>,
        callbacks: CallbackNames,
    ) -> Result<JsEngine, String> {
        write_scripts(path, script).map_err(|e| format!("cannot write the script: {e}"))?;
        let source = ScriptSource::Dir(path.to_path_buf());
        JsEngine::with_runtime(registry, source, true, callbacks, runtime)
            .map_err(|e| e.to_string())
    }
}

fn write_scripts(dir: &Path, script: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("0-prelude.js"), PRELUDE)?;
    std::fs::write(dir.join("test.js"), script)
}
