//! Running a Python test script against a SIP message, for this crate's
//! tests and for modules that want to check their KSR functions from
//! Python: like app_lua's `LuaTest`, with the script style to choose.
//!
//! ```no_run
//! use kemi_mod_app_python3::testing::PyTest;
//! let out = PyTest::module_style(&[])
//!     .run("import KSR\ndef ksr_request_route():\n    assert KSR.is_OPTIONS()\n")
//!     .expect("the Python test failed");
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use kemi_core::config::Config;
use kemi_core::context::RouteKind;
use kemi_core::net::{Capture, Proto, RecvInfo, Sent};
use kemi_core::sip::Message;
use kemi_core::{Context, ModuleDef, Registry, Runtime};

use crate::{CallbackNames, CallbackOutcome, PyEngine, PyScript, ScriptEngine, Style};

/// The OPTIONS request tests route unless they set another.
pub const OPTIONS: &[u8] = b"OPTIONS sip:alice@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-test-1\r\n\
Max-Forwards: 70\r\n\
From: <sip:bob@example.org>;tag=from-tag\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: py-test-call-id\r\n\
CSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n";

/// A Python test: modules to load, the script style, the message to
/// route, how it arrived.
pub struct PyTest {
    modules: Vec<&'static ModuleDef>,
    style: Style,
    config: Config,
    callbacks: CallbackNames,
    message: Vec<u8>,
    recv: RecvInfo,
    route: RouteKind,
}

/// What a test run left behind.
#[derive(Debug)]
pub struct Outcome {
    /// Everything KSR functions sent through the transport.
    pub sent: Vec<Sent>,
    /// The routing context after the callback.
    pub ctx: Context,
    pub outcome: CallbackOutcome,
}

impl PyTest {
    /// An app_python3s test (module-level callbacks) with `modules`
    /// loaded, routing [`OPTIONS`] received over UDP from 192.0.2.10:5062
    /// on 127.0.0.1:5060.
    pub fn module_style(modules: &[&'static ModuleDef]) -> Self {
        PyTest {
            modules: modules.to_vec(),
            style: Style::module(),
            config: Config::default(),
            callbacks: CallbackNames::default(),
            message: OPTIONS.to_vec(),
            recv: RecvInfo {
                proto: Proto::Udp,
                src: SocketAddr::from(([192, 0, 2, 10], 5062)),
                local: SocketAddr::from(([127, 0, 0, 1], 5060)),
            },
            route: RouteKind::Request,
        }
    }

    /// An app_python3 test: `mod_init()` returns the handler object.
    pub fn handler_style(modules: &[&'static ModuleDef]) -> Self {
        PyTest {
            style: Style::handler(),
            ..PyTest::module_style(modules)
        }
    }

    /// Uses `style` (custom init function names).
    pub fn style(mut self, style: Style) -> Self {
        self.style = style;
        self
    }

    /// Routes `bytes` instead of [`OPTIONS`].
    pub fn message(mut self, bytes: &[u8]) -> Self {
        self.message = bytes.to_vec();
        self
    }

    /// Uses `config` (module parameters, defines...).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Uses other callback names.
    pub fn callbacks(mut self, callbacks: CallbackNames) -> Self {
        self.callbacks = callbacks;
        self
    }

    /// Runs the callback as this route kind (request by default).
    pub fn route(mut self, route: RouteKind) -> Self {
        self.route = route;
        self
    }

    /// Loads `script` and runs its request route callback. A failed
    /// `assert` or any other exception comes back as `Err` with the
    /// traceback.
    pub fn run(self, script: &str) -> Result<Outcome, String> {
        let path = write_script(script).map_err(|e| format!("cannot write the script: {e}"))?;
        let result = self.run_file(&path);
        let _ = std::fs::remove_file(&path);
        result
    }

    /// Loads the script at `path` and builds one worker's engine (rank 1),
    /// with the capture of everything sent.
    pub fn engine(&self, path: &Path) -> Result<(PyEngine, Arc<Capture>), String> {
        let capture = Arc::new(Capture::default());
        let runtime = Arc::new(Runtime::with_config(self.config.clone(), capture.clone()));
        let registry = Registry::new(&self.modules);
        let script = PyScript::load(
            &registry,
            path,
            self.style.clone(),
            Arc::clone(&self.callbacks.request),
            runtime,
        )
        .map_err(|e| e.to_string())?;
        let engine = PyEngine::new(script, self.callbacks.clone(), 1).map_err(|e| e.to_string())?;
        Ok((engine, capture))
    }

    /// A context for the test message, on `engine`'s runtime.
    pub fn context(&self, runtime: Arc<Runtime>) -> Result<Context, String> {
        let msg =
            Message::parse(self.message.clone()).map_err(|e| format!("bad test message: {e}"))?;
        let mut ctx = Context::for_message(runtime, msg, self.recv);
        ctx.route = self.route;
        Ok(ctx)
    }

    fn run_file(self, path: &Path) -> Result<Outcome, String> {
        let (mut engine, capture) = self.engine(path)?;
        let runtime = Arc::clone(capture_runtime(&engine));
        let mut ctx = self.context(runtime)?;
        let outcome = engine.request_route(&mut ctx).map_err(|e| e.to_string())?;
        Ok(Outcome {
            sent: capture.take(),
            ctx,
            outcome,
        })
    }
}

fn capture_runtime(engine: &PyEngine) -> &Arc<Runtime> {
    engine.script().runtime()
}

/// Writes `script` to a fresh file in the temporary directory.
pub fn write_script(script: &str) -> std::io::Result<PathBuf> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("kemi_py_test_{}_{n}.py", std::process::id()));
    std::fs::write(&path, script)?;
    Ok(path)
}
