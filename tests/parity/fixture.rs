//! One engine built from a config, as the proxy builds it, with what the
//! scenarios need around it: contexts holding real SIP messages, the
//! `$shv` values the script recorded, and what was sent.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use kemi_core::context::RouteKind;
use kemi_core::engine::{CallbackOutcome, EngineBuilder, ScriptEngine, ScriptError};
use kemi_core::net::{Capture, Proto, RecvInfo, Sent};
use kemi_core::pv::{PvValue, SharedVars};
use kemi_core::sip::Message;
use kemi_core::{Context, Runtime};

use crate::Engine;

/// A plain OPTIONS request.
pub const OPTIONS: &[u8] = b"OPTIONS sip:alice@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-parity-1\r\n\
Max-Forwards: 70\r\n\
From: <sip:bob@example.org>;tag=from-parity\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: parity-options-1\r\n\
CSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n";

/// An INVITE, for the onsend, branch and failure routes.
pub const INVITE: &[u8] = b"INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-parity-2\r\n\
Max-Forwards: 70\r\n\
From: \"Alice\" <sip:alice@example.org>;tag=fa1\r\n\
To: <sip:bob@example.com>\r\n\
Call-ID: parity-invite-1\r\n\
CSeq: 10 INVITE\r\n\
Contact: <sip:alice@192.0.2.10:5062>\r\n\
Content-Length: 0\r\n\r\n";

/// A 200 reply to that INVITE, through this proxy.
pub const REPLY_200: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-proxy-1\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-parity-2\r\n\
From: \"Alice\" <sip:alice@example.org>;tag=fa1\r\n\
To: <sip:bob@example.com>;tag=tb2\r\n\
Call-ID: parity-invite-1\r\n\
CSeq: 10 INVITE\r\n\
Content-Length: 0\r\n\r\n";

/// Where every message comes from: a phone at 192.0.2.10:5062 over UDP.
pub fn sender() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 10], 5062))
}

/// The scenario's working directory: the config and a copy of the script.
pub struct Files {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub script: PathBuf,
}

impl Files {
    /// A fresh directory for `scenario` holding a copy of the engine's
    /// parity script and a config loading it, with `extra` lines (core
    /// parameters) added before `cfgengine`.
    pub fn new(engine: &Engine, scenario: &str, extra: &str) -> Files {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("parity")
            .join(engine.name)
            .join(scenario);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("parity/scripts")
            .join(engine.script);
        let script = dir.join(engine.script);
        std::fs::copy(&source, &script)
            .unwrap_or_else(|e| panic!("copying {}: {e}", source.display()));
        let config = dir.join("kamailio.cfg");
        let text = format!(
            "#!KAMAILIO\n\
             loadmodule \"sl.so\"\n\
             loadmodule \"ktest.so\"\n\
             loadmodule \"{module}.so\"\n\
             modparam(\"{module}\", \"load\", \"{script}\")\n\
             kemi.event_route_callback = \"ksr_event_route\"\n\
             {extra}\n\
             cfgengine \"{cfgengine}\"\n",
            module = engine.module,
            script = script.display(),
            cfgengine = engine.cfgengine,
        );
        std::fs::write(&config, text).unwrap();
        Files {
            dir,
            config,
            script,
        }
    }

    /// The script's text.
    pub fn read_script(&self) -> String {
        std::fs::read_to_string(&self.script).unwrap()
    }

    /// Replaces the script's text.
    pub fn write_script(&self, text: &str) {
        std::fs::write(&self.script, text).unwrap();
    }

    /// Loads the config into a runtime sending through a capture, and
    /// calls the engine's entry point: the script is loaded once there, as
    /// the proxy does before binding sockets.
    pub fn load(
        &self,
        engine: &Engine,
    ) -> (Arc<Runtime>, Arc<Capture>, Result<EngineBuilder, String>) {
        let config = kemi_core::config::load(&self.config, kemi_proxy::module_table::MODULES, &[])
            .unwrap_or_else(|e| panic!("parity config {}: {e}", self.dir.display()));
        let capture = Arc::new(Capture::default());
        let runtime = Arc::new(Runtime::with_config(config, capture.clone()));
        let builder = (engine.entry)(&runtime);
        (runtime, capture, builder)
    }
}

/// An engine with its scripts loaded, and the runtime it routes under.
pub struct Fixture {
    pub files: Files,
    pub runtime: Arc<Runtime>,
    pub capture: Arc<Capture>,
    pub builder: EngineBuilder,
    pub engine: Box<dyn ScriptEngine>,
}

impl Fixture {
    /// Builds `engine` for `scenario` with the default config.
    pub fn new(engine: &Engine, scenario: &str) -> Fixture {
        Fixture::with_config(engine, scenario, "")
    }

    /// Builds `engine` for `scenario`, with `extra` config lines.
    pub fn with_config(engine: &Engine, scenario: &str, extra: &str) -> Fixture {
        let files = Files::new(engine, scenario, extra);
        let (runtime, capture, builder) = files.load(engine);
        let builder = builder.unwrap_or_else(|e| panic!("{} entry point: {e}", engine.name));
        let engine = (builder.build)().unwrap_or_else(|e| panic!("building the engine: {e}"));
        Fixture {
            files,
            runtime,
            capture,
            builder,
            engine,
        }
    }

    /// A context routing `msg` as `route`, received from [`sender`] on
    /// 127.0.0.1:5060 over UDP.
    pub fn context(&self, msg: &[u8], route: RouteKind) -> Context {
        let msg = Message::parse_slice(msg).unwrap();
        let recv = RecvInfo {
            proto: Proto::Udp,
            src: sender(),
            local: SocketAddr::from(([127, 0, 0, 1], 5060)),
        };
        let mut ctx = Context::for_message(Arc::clone(&self.runtime), msg, recv);
        ctx.route = route;
        ctx
    }

    /// Runs the script function `name` on `ctx`.
    pub fn run(&mut self, ctx: &mut Context, name: &str) -> Result<CallbackOutcome, ScriptError> {
        self.engine.run_callback(ctx, name, None)
    }

    /// Runs `name` on a fresh OPTIONS request and expects it to return.
    pub fn run_ok(&mut self, name: &str) -> Context {
        let mut ctx = self.context(OPTIONS, RouteKind::Request);
        let outcome = self
            .run(&mut ctx, name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(outcome, CallbackOutcome::Returned, "{name}");
        ctx
    }

    /// What the script recorded in `$shv(key)` (0 when it never did).
    pub fn shv(&self, key: &str) -> PvValue {
        self.runtime.state::<SharedVars>().get(key)
    }

    /// Asserts the script recorded `expected` in `$shv(key)`.
    #[track_caller]
    pub fn expect_shv(&self, key: &str, expected: &str) {
        assert_eq!(
            self.shv(key),
            PvValue::Str(expected.to_string()),
            "$shv({key})"
        );
    }

    /// Asserts the script never recorded `$shv(key)`.
    #[track_caller]
    pub fn expect_unset(&self, key: &str) {
        assert_eq!(
            self.shv(key),
            PvValue::Int(0),
            "$shv({key}) must not be set"
        );
    }

    /// Takes what was sent so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.capture.take()
    }
}

/// Runs `f` and returns what it logged at warning level and above (the
/// engines report failed reloads only through the log).
pub fn logs_during<T>(f: impl FnOnce() -> T) -> (T, String) {
    let captured = LogBuffer::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let result = tracing::subscriber::with_default(subscriber, f);
    let bytes = captured.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    (result, String::from_utf8_lossy(&bytes).into_owned())
}

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
