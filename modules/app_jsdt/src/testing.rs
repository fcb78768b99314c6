//! Running a JavaScript test script against a SIP message, the way the
//! proxy runs `ksr_request_route`: for this engine's tests and for module
//! tests that want to check a function from JavaScript.
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

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use kemi_core::config::Config;
use kemi_core::context::RouteKind;
use kemi_core::net::{Capture, Proto, RecvInfo, Sent};
use kemi_core::sip::Message;
use kemi_core::{Context, ModuleDef, Registry, Runtime};

use crate::{CallbackNames, CallbackOutcome, JsEngine, ScriptEngine, ScriptSource};

/// Loaded before the test script (file names sort it first).
const PRELUDE: &str = "function assert(cond, message) {\n\
  if (!cond) { throw new Error(message === undefined ? \"assertion failed\" : message); }\n\
}\n";

/// A JavaScript test: modules to load, the message to route, how it arrived.
pub struct JsTest {
    modules: Vec<&'static ModuleDef>,
    config: Config,
    message: Vec<u8>,
    recv: RecvInfo,
    route: RouteKind,
}

/// What a test run left behind.
#[derive(Debug)]
pub struct Outcome {
    /// Everything KSR functions sent through the transport.
    pub sent: Vec<Sent>,
    /// The routing context after the callback (flags, `$du`, edits...).
    pub ctx: Context,
    pub exited: bool,
}

impl JsTest {
    /// A test with `modules` loaded (core `KSR.*`, `KSR.pv`, `KSR.hdr` are
    /// always there), routing a plain OPTIONS request received over UDP
    /// from 192.0.2.10:5062 on 127.0.0.1:5060.
    pub fn new(modules: &[&'static ModuleDef]) -> Self {
        JsTest {
            modules: modules.to_vec(),
            config: Config::default(),
            message: b"OPTIONS sip:alice@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-test-1\r\n\
Max-Forwards: 70\r\n\
From: <sip:bob@example.org>;tag=from-tag\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: js-test-call-id\r\n\
CSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n"
                .to_vec(),
            recv: RecvInfo {
                proto: Proto::Udp,
                src: SocketAddr::from(([192, 0, 2, 10], 5062)),
                local: SocketAddr::from(([127, 0, 0, 1], 5060)),
            },
            route: RouteKind::Request,
        }
    }

    /// Routes `bytes` instead of the default OPTIONS.
    pub fn message(mut self, bytes: &[u8]) -> Self {
        self.message = bytes.to_vec();
        self
    }

    /// Uses `config` (module parameters, aliases, defines...).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets how the message arrived.
    pub fn received(mut self, recv: RecvInfo) -> Self {
        self.recv = recv;
        self
    }

    /// Runs the callback as this route kind (request by default).
    pub fn route(mut self, route: RouteKind) -> Self {
        self.route = route;
        self
    }

    /// Loads `script` and runs its `ksr_request_route`. A failed `assert`
    /// or any script error comes back as `Err` with the JavaScript stack.
    pub fn run(self, script: &str) -> Result<Outcome, String> {
        let dir = write_scripts(script).map_err(|e| format!("cannot write the script: {e}"))?;
        let result = self.run_dir(dir.clone());
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    fn run_dir(self, dir: PathBuf) -> Result<Outcome, String> {
        let capture = Arc::new(Capture::default());
        let runtime = Arc::new(Runtime::with_config(self.config, capture.clone()));
        let registry = Registry::new(&self.modules);
        let mut engine = JsEngine::with_runtime(
            &registry,
            ScriptSource::Dir(dir),
            true,
            CallbackNames::default(),
            runtime.clone(),
        )
        .map_err(|e| e.to_string())?;
        let msg = Message::parse(self.message).map_err(|e| format!("bad test message: {e}"))?;
        let mut ctx = Context::for_message(runtime, msg, self.recv);
        ctx.route = self.route;
        let outcome = engine.request_route(&mut ctx).map_err(|e| e.to_string())?;
        Ok(Outcome {
            sent: capture.take(),
            exited: outcome == CallbackOutcome::Exit,
            ctx,
        })
    }
}

/// A directory of its own with the prelude and the script.
fn write_scripts(script: &str) -> std::io::Result<PathBuf> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("kemi-js-test-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("0-prelude.js"), PRELUDE)?;
    std::fs::write(dir.join("test.js"), script)?;
    Ok(dir)
}
