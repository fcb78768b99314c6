//! Running a test script through a script engine against one SIP message,
//! the way the proxy routes it: what the engines' test harnesses
//! (`LuaTest`, `JsTest`, `RubyTest`, `PyTest`) share. An engine says how it
//! loads a test script ([`TestEngine`]); the message, the modules, the
//! captured transport and the run are here.
//!
//! Everything happens on the calling thread (Ruby's VM works only on the
//! thread that started it). [`logs`] captures what the code under test
//! logs.

pub mod logs;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::config::Config;
use crate::context::RouteKind;
use crate::engine::{CallbackNames, CallbackOutcome, ScriptEngine};
use crate::net::{Capture, Proto, RecvInfo, Sent};
use crate::sip::Message;
use crate::{Context, ModuleDef, Registry, Runtime};

/// How an engine loads a test script; the value carries the engine's own
/// settings (Python's script style), if any.
pub trait TestEngine {
    type Engine: ScriptEngine;

    /// The scripts' file extension ("lua"), also in the test message's
    /// Call-ID (`lua-test-call-id`).
    const EXTENSION: &'static str;

    /// Writes `script` at `path` (a fresh temporary path, removed after the
    /// run, whether the engine made it a file or a directory) and loads it
    /// into a new engine.
    fn load(
        &self,
        script: &str,
        path: &Path,
        registry: &Registry,
        runtime: Arc<Runtime>,
        callbacks: CallbackNames,
    ) -> Result<Self::Engine, String>;
}

/// A test: the engine's settings, modules to load, the message to route
/// and how it arrived.
pub struct ScriptTest<E> {
    pub engine: E,
    modules: Vec<&'static ModuleDef>,
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
    /// The routing context after the callback (flags, `$du`, edits...).
    pub ctx: Context,
    pub outcome: CallbackOutcome,
}

impl Outcome {
    /// True when `exit` (or `drop`) ended the callback.
    pub fn exited(&self) -> bool {
        self.outcome == CallbackOutcome::Exit
    }
}

impl<E: TestEngine + Default> ScriptTest<E> {
    /// A test with `modules` loaded (core `KSR.*`, `KSR.pv`, `KSR.hdr` are
    /// always there), routing a plain OPTIONS request received over UDP
    /// from 192.0.2.10:5062 on 127.0.0.1:5060.
    pub fn new(modules: &[&'static ModuleDef]) -> Self {
        Self::with_engine(E::default(), modules)
    }
}

impl<E: TestEngine> ScriptTest<E> {
    /// Like [`ScriptTest::new`], with the engine's settings given.
    pub fn with_engine(engine: E, modules: &[&'static ModuleDef]) -> Self {
        ScriptTest {
            engine,
            modules: modules.to_vec(),
            config: Config::default(),
            callbacks: CallbackNames::default(),
            message: options(&format!("{}-test-call-id", E::EXTENSION)),
            recv: RecvInfo {
                proto: Proto::Udp,
                src: SocketAddr::from(([192, 0, 2, 10], 5062)),
                local: SocketAddr::from(([127, 0, 0, 1], 5060)),
            },
            route: RouteKind::Request,
        }
    }

    /// Uses other engine settings.
    pub fn engine(mut self, engine: E) -> Self {
        self.engine = engine;
        self
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

    /// Uses other callback names.
    pub fn callbacks(mut self, callbacks: CallbackNames) -> Self {
        self.callbacks = callbacks;
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

    /// The callback names the test uses.
    pub fn callback_names(&self) -> &CallbackNames {
        &self.callbacks
    }

    /// A registry of the test's modules.
    pub fn registry(&self) -> Registry {
        Registry::new(&self.modules)
    }

    /// A runtime with the test's config, sending into the returned capture.
    pub fn runtime(&self) -> (Arc<Runtime>, Arc<Capture>) {
        let capture = Arc::new(Capture::default());
        let runtime = Runtime::with_config(self.config.clone(), capture.clone());
        (Arc::new(runtime), capture)
    }

    /// A context for the test message on `runtime`.
    pub fn context(&self, runtime: Arc<Runtime>) -> Result<Context, String> {
        let msg =
            Message::parse(self.message.clone()).map_err(|e| format!("bad test message: {e}"))?;
        let mut ctx = Context::for_message(runtime, msg, self.recv);
        ctx.route = self.route;
        Ok(ctx)
    }

    /// Loads `script` and runs its request route callback. A failed
    /// assertion or any other script error comes back as `Err` with the
    /// engine's traceback.
    pub fn run(self, script: &str) -> Result<Outcome, String> {
        let path = temp_path(E::EXTENSION);
        let result = self.run_at(script, &path);
        if path.is_dir() {
            let _ = std::fs::remove_dir_all(&path);
        } else {
            let _ = std::fs::remove_file(&path);
        }
        result
    }

    fn run_at(&self, script: &str, path: &Path) -> Result<Outcome, String> {
        let (runtime, capture) = self.runtime();
        let mut engine = self.engine.load(
            script,
            path,
            &self.registry(),
            runtime.clone(),
            self.callbacks.clone(),
        )?;
        let mut ctx = self.context(runtime)?;
        let outcome = engine.request_route(&mut ctx).map_err(|e| e.to_string())?;
        Ok(Outcome {
            sent: capture.take(),
            ctx,
            outcome,
        })
    }
}

/// A path in the temporary directory no other test of this process uses,
/// ending in `.<extension>`.
pub fn temp_path(extension: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    // Underscores: Python names its module after the file.
    std::env::temp_dir().join(format!(
        "kemi_{extension}_test_{}_{n}.{extension}",
        std::process::id()
    ))
}

/// Checks what every engine's `KSR.x.modf` test script leaves behind:
/// `modf("setflag", "3")` set flag 3, `modf("append_hf", "X-A: 1\r\n")`
/// added the header, and `modf("no_such_function", ...)` logged one line.
pub fn assert_modf_script_ran(outcome: &Outcome, lines: &[logs::LogLine]) {
    assert_eq!(outcome.ctx.flags, 1 << 3);
    let message = String::from_utf8_lossy(&outcome.ctx.msg.serialize()).into_owned();
    assert!(message.contains("\r\nX-A: 1\r\n"), "{message}");
    let unknown: Vec<_> = lines
        .iter()
        .filter(|l| l.message.contains("no such function"))
        .collect();
    assert_eq!(unknown.len(), 1, "{lines:?}");
    assert_eq!(
        unknown[0].message,
        "KSR.x.modf(\"no_such_function\"): no such function among the loaded modules"
    );
}

/// The OPTIONS request tests route unless they set another.
fn options(call_id: &str) -> Vec<u8> {
    format!(
        "OPTIONS sip:alice@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-test-1\r\n\
Max-Forwards: 70\r\n\
From: <sip:bob@example.org>;tag=from-tag\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: {call_id}\r\n\
CSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}
