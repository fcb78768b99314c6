//! Running a Ruby test script against a SIP message, the way the proxy
//! routes one. The Ruby VM works only on the thread that started it, so
//! tests using this run on one thread: a `harness = false` test binary
//! calling them from `main` (see this crate's `tests/`).
//!
//! ```no_run
//! use kemi_mod_app_ruby::testing::RubyTest;
//! let out = RubyTest::new(&[])
//!     .run("def ksr_request_route\n  raise 'not OPTIONS' unless KSR.is_OPTIONS\nend")
//!     .expect("the Ruby test failed");
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

use crate::{CallbackNames, CallbackOutcome, RubyEngine, ScriptEngine};

/// A Ruby test: modules to load, the message to route, how it arrived.
pub struct RubyTest {
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

impl RubyTest {
    /// A test with `modules` loaded (core `KSR.*`, `KSR.pv`, `KSR.hdr` are
    /// always there), routing a plain OPTIONS request received over UDP
    /// from 192.0.2.10:5062 on 127.0.0.1:5060.
    pub fn new(modules: &[&'static ModuleDef]) -> Self {
        RubyTest {
            modules: modules.to_vec(),
            config: Config::default(),
            message: b"OPTIONS sip:alice@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-test-1\r\n\
Max-Forwards: 70\r\n\
From: <sip:bob@example.org>;tag=from-tag\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: ruby-test-call-id\r\n\
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

    /// Loads `script` and runs its `ksr_request_route`. Any script error
    /// (a `raise` standing for an assertion) comes back as `Err` with the
    /// backtrace.
    pub fn run(self, script: &str) -> Result<Outcome, String> {
        let path = write_script(script).map_err(|e| format!("cannot write the script: {e}"))?;
        let result = self.run_file(&path);
        let _ = std::fs::remove_file(&path);
        result
    }

    fn run_file(self, path: &std::path::Path) -> Result<Outcome, String> {
        let capture = Arc::new(Capture::default());
        let runtime = Arc::new(Runtime::with_config(self.config, capture.clone()));
        let registry = Registry::new(&self.modules);
        reset_top_level()?;
        let mut engine = RubyEngine::with_runtime(
            &registry,
            &[path.to_path_buf()],
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

fn write_script(script: &str) -> std::io::Result<PathBuf> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("kemi-ruby-test-{}-{n}.rb", std::process::id()));
    std::fs::write(&path, script)?;
    Ok(path)
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
