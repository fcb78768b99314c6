//! Running a Lua test script against a SIP message, for the tests of the
//! modules: each module's KSR functions are tested the way scripts use
//! them, through this engine. The harness is kemi-core's
//! [`ScriptTest`](kemi_core::testing::ScriptTest); this says how Lua loads
//! a test script.
//!
//! ```no_run
//! use kemi_mod_app_lua::testing::LuaTest;
//! let sent = LuaTest::new(&[])
//!     .message(b"OPTIONS sip:a@b SIP/2.0\r\n...")
//!     .run("function ksr_request_route() assert(KSR.is_OPTIONS()) end")
//!     .expect("the Lua test failed");
//! ```

pub mod fixtures;

use std::path::Path;
use std::sync::Arc;

use kemi_core::testing::{ScriptTest, TestEngine};
use kemi_core::{Registry, Runtime};

pub use kemi_core::testing::Outcome;

use crate::{CallbackNames, LuaEngine};

/// A Lua test: a failed Lua `assert` or any script error comes back from
/// `run` as `Err` with the traceback.
pub type LuaTest = ScriptTest<Lua>;

/// Loads Lua test scripts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lua;

impl TestEngine for Lua {
    type Engine = LuaEngine;
    const EXTENSION: &'static str = "lua";

    fn load(
        &self,
        script: &str,
        path: &Path,
        registry: &Registry,
        runtime: Arc<Runtime>,
        callbacks: CallbackNames,
    ) -> Result<LuaEngine, String> {
        std::fs::write(path, script).map_err(|e| format!("cannot write the script: {e}"))?;
        LuaEngine::with_runtime(registry, &[path.to_path_buf()], callbacks, runtime)
            .map_err(|e| e.to_string())
    }
}
