//! The Ruby engine against real scripts (tests/scripts/*.rb) and the ktest
//! module, which covers every KEMI parameter and return kind.
//!
//! The Ruby VM starts once per process and works only on the thread that
//! started it, so this binary has no libtest harness: `main` runs every
//! scenario in turn on the main thread. `cargo test -p kemi-mod-app-ruby
//! --test engine -- NAME` runs the scenarios whose name contains NAME.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, OnceLock};

use kemi_core::config::{Config, LoadedModule, Value as CfgValue};
use kemi_core::context::RouteKind;
use kemi_core::engine::Threading;
use kemi_core::{Context, Registry, Runtime};
use kemi_mod_app_ruby::testing::{reset_top_level, RubyTest};
use kemi_mod_app_ruby::{
    CallbackNames, CallbackOutcome, EngineError, RubyEngine, ScriptEngine, ScriptError,
};

type TestResult = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!("{}:{}: {}", file!(), line!(), format!($($fmt)+)));
        }
    };
}

macro_rules! ensure_eq {
    ($left:expr, $right:expr) => {{
        let (l, r) = (&$left, &$right);
        if l != r {
            return Err(format!(
                "{}:{}: {} != {}: {:?} vs {:?}",
                file!(),
                line!(),
                stringify!($left),
                stringify!($right),
                l,
                r
            ));
        }
    }};
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scripts")
        .join(name)
}

fn with_ktest() -> Registry {
    Registry::new(&[&kemi_mod_ktest::MODULE])
}

fn runtime() -> Arc<Runtime> {
    Arc::new(Runtime::default())
}

fn engine_with(registry: &Registry, name: &str) -> Result<RubyEngine, String> {
    RubyEngine::with_runtime(
        registry,
        &[script(name)],
        CallbackNames::default(),
        runtime(),
    )
    .map_err(|e| format!("engine for {name}: {e}"))
}

fn engine(name: &str) -> Result<RubyEngine, String> {
    engine_with(&with_ktest(), name)
}

fn context() -> Context {
    Context::new(runtime())
}

fn run(engine: &mut RubyEngine, ctx: &mut Context, name: &str) -> Result<CallbackOutcome, String> {
    engine
        .run_callback(ctx, name, None)
        .map_err(|e| format!("{name}: {e}"))
}

fn global(engine: &RubyEngine, code: &str) -> Result<String, String> {
    engine.eval_to_string(code)
}

fn runtime_error(result: Result<CallbackOutcome, ScriptError>) -> Result<(String, String), String> {
    match result {
        Err(ScriptError::Runtime {
            engine,
            callback,
            message,
        }) => {
            ensure_eq!(engine, "Ruby");
            Ok((callback, message))
        }
        other => Err(format!("expected a runtime error, got {other:?}")),
    }
}

// ---- logs -----------------------------------------------------------------

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
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

fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(Captured::default)
}

/// The logs written since the last call.
fn take_logs() -> String {
    let bytes = std::mem::take(&mut *logs().0.lock().unwrap_or_else(|e| e.into_inner()));
    String::from_utf8_lossy(&bytes).into_owned()
}

// ---- scenarios --------------------------------------------------------------

fn request_route_runs_and_changes_the_context() -> TestResult {
    let mut e = engine("basic.rb")?;
    let mut ctx = context();
    ensure_eq!(
        e.request_route(&mut ctx).map_err(|e| e.to_string())?,
        CallbackOutcome::Returned
    );
    // flag 30 was set at load time, on the scratch context: not on this one
    ensure_eq!(ctx.flags, 1 << 3);
    ensure_eq!(e.language(), "Ruby");
    Ok(())
}

fn every_return_kind_is_converted() -> TestResult {
    let mut e = engine("basic.rb")?;
    ensure_eq!(
        run(&mut e, &mut context(), "test_returns")?,
        CallbackOutcome::Returned
    );
    Ok(())
}

fn argument_errors_raise_argument_and_type_errors() -> TestResult {
    let mut e = engine("basic.rb")?;
    ensure_eq!(
        run(&mut e, &mut context(), "test_args")?,
        CallbackOutcome::Returned
    );
    ensure_eq!(global(&e, "$after_rescue")?, "true");
    let nil_err = global(&e, "$errors[:nil]")?;
    ensure!(
        nil_err.contains("KSR.ktest.xval_str")
            && nil_err.contains("got nil")
            && nil_err.contains("[signature: xval KSR.ktest.xval_str(str s)]"),
        "{nil_err}"
    );
    let array_err = global(&e, "$errors[:array]")?;
    ensure!(array_err.contains("must be int, got Array"), "{array_err}");
    let symbol_err = global(&e, "$errors[:symbol]")?;
    ensure!(symbol_err.contains("got Symbol"), "{symbol_err}");
    let few = global(&e, "$errors[:few]")?;
    ensure!(
        few.contains("KSR.ktest.concat: expects 2 arguments, got 1"),
        "{few}"
    );
    let extra = global(&e, "$errors[:extra]")?;
    ensure!(
        extra.contains("KSR.ktest.ret_none: expects 0 arguments, got 1"),
        "{extra}"
    );
    let big = global(&e, "$errors[:big]")?;
    ensure!(big.contains("Integer out of range"), "{big}");
    Ok(())
}

fn an_uncaught_argument_error_is_a_script_error() -> TestResult {
    let mut e = engine("basic.rb")?;
    let (callback, text) =
        runtime_error(e.run_callback(&mut context(), "test_uncaught_arg_error", None))?;
    ensure_eq!(callback, "test_uncaught_arg_error");
    ensure!(text.contains("(TypeError)"), "{text}");
    ensure!(
        text.contains("[signature: xval KSR.ktest.xval_str(str s)]"),
        "{text}"
    );
    ensure!(
        text.contains("basic.rb:86:in `test_uncaught_arg_error'"),
        "{text}"
    );
    Ok(())
}

fn ksr_survives_garbage_collection_and_compaction() -> TestResult {
    let mut e = engine("basic.rb")?;
    for _ in 0..3 {
        global(
            &e,
            "GC.start(full_mark: true, immediate_sweep: true); GC.compact; 1",
        )?;
        run(&mut e, &mut context(), "test_returns")?;
        run(&mut e, &mut context(), "test_args")?;
        // KSR::X.modf's body is a Proc too
        run(&mut e, &mut context(), "test_log")?;
    }
    // 10 000 calls with garbage between them
    let mut ctx = context();
    for _ in 0..2000 {
        run(&mut e, &mut ctx, "test_context")?;
    }
    ensure_eq!(ctx.flags, (1 << 3) | (1 << 5));
    Ok(())
}

fn ksr_calls_see_the_routing_context() -> TestResult {
    let mut e = engine("basic.rb")?;
    let mut ctx = context();
    run(&mut e, &mut ctx, "test_context")?;
    ensure_eq!(ctx.flags, (1 << 3) | (1 << 5));
    Ok(())
}

fn ruby_exit_ends_the_callback_without_error() -> TestResult {
    let mut e = engine("basic.rb")?;
    let mut ctx = context();
    ensure_eq!(run(&mut e, &mut ctx, "test_exit")?, CallbackOutcome::Exit);
    ensure!(ctx.exit, "ctx.exit set");
    ensure_eq!(ctx.flags, 1 << 1);
    // the next callback starts afresh
    ensure_eq!(
        run(&mut e, &mut ctx, "ksr_request_route")?,
        CallbackOutcome::Returned
    );
    ensure!(!ctx.exit, "exit cleared for the next callback");
    Ok(())
}

fn ksr_x_exit_ends_the_callback() -> TestResult {
    let mut e = engine("basic.rb")?;
    let mut ctx = context();
    ensure_eq!(
        run(&mut e, &mut ctx, "test_ksr_x_exit")?,
        CallbackOutcome::Exit
    );
    ensure!(ctx.exit, "ctx.exit set");
    ensure_eq!(ctx.flags, 1 << 1);
    Ok(())
}

fn a_rescued_ksr_exit_still_ends_ksr_calls() -> TestResult {
    let mut e = engine("basic.rb")?;
    let mut ctx = context();
    ensure_eq!(
        run(&mut e, &mut ctx, "test_exit_rescued")?,
        CallbackOutcome::Exit
    );
    ensure_eq!(ctx.flags, 1 << 1);
    // Ruby's own exit, rescued by the script, leaves KSR calls working
    let mut ctx = context();
    ensure_eq!(
        run(&mut e, &mut ctx, "test_ruby_exit_rescued")?,
        CallbackOutcome::Returned
    );
    ensure_eq!(ctx.flags, 1 << 4);
    Ok(())
}

fn drop_sets_drop_outside_the_request_route() -> TestResult {
    let mut e = engine("basic.rb")?;
    let mut ctx = context();
    ctx.route = RouteKind::Reply;
    ensure_eq!(run(&mut e, &mut ctx, "test_drop")?, CallbackOutcome::Exit);
    ensure!(ctx.drop && ctx.exit, "drop and exit");
    ensure_eq!(ctx.flags, 0);
    let mut req = context();
    req.route = RouteKind::Request;
    ensure_eq!(run(&mut e, &mut req, "test_drop")?, CallbackOutcome::Exit);
    ensure!(!req.drop, "set_drop has no effect in the request route");
    // Kamailio's Ruby idiom: KSR.set_drop then exit
    let mut reply = context();
    reply.route = RouteKind::Reply;
    ensure_eq!(
        run(&mut e, &mut reply, "test_set_drop_then_exit")?,
        CallbackOutcome::Exit
    );
    ensure!(reply.drop, "dropped");
    Ok(())
}

fn a_runtime_error_has_a_backtrace_and_the_engine_goes_on() -> TestResult {
    let mut e = engine("basic.rb")?;
    let mut ctx = context();
    let (callback, message) = runtime_error(e.run_callback(&mut ctx, "test_runtime_error", None))?;
    ensure_eq!(callback, "test_runtime_error");
    ensure!(message.contains("(NoMethodError)"), "{message}");
    ensure!(
        message.contains("basic.rb:139:in `helper_that_fails'"),
        "{message}"
    );
    ensure!(
        message.contains("from ") && message.contains("in `test_runtime_error'"),
        "{message}"
    );
    ensure_eq!(
        e.request_route(&mut ctx).map_err(|e| e.to_string())?,
        CallbackOutcome::Returned
    );
    ensure_eq!(ctx.flags, 1 << 3);
    Ok(())
}

fn abort_and_exit_bang_are_errors_not_process_exits() -> TestResult {
    let mut e = engine("basic.rb")?;
    let (_, message) = runtime_error(e.run_callback(&mut context(), "test_abort", None))?;
    ensure!(message.contains("gave up"), "{message}");
    let (_, message) = runtime_error(e.run_callback(&mut context(), "test_exit_bang", None))?;
    ensure!(message.contains("exit! is disabled"), "{message}");
    // still here, still routing
    ensure_eq!(
        e.request_route(&mut context()).map_err(|e| e.to_string())?,
        CallbackOutcome::Returned
    );
    Ok(())
}

fn runaway_recursion_is_a_script_error() -> TestResult {
    let path = temp_script(
        "recursion",
        "def ksr_request_route\nend\ndef deep(n)\n  deep(n + 1)\nend\ndef test_deep\n  deep(0)\nend\n",
    )?;
    let mut e = RubyEngine::with_runtime(
        &with_ktest(),
        std::slice::from_ref(&path),
        CallbackNames::default(),
        runtime(),
    )
    .map_err(|e| e.to_string())?;
    let (_, message) = runtime_error(e.run_callback(&mut context(), "test_deep", None))?;
    ensure!(message.contains("SystemStackError"), "{message}");
    let _ = std::fs::remove_file(path);
    Ok(())
}

fn logging_and_modf() -> TestResult {
    let mut e = engine("basic.rb")?;
    take_logs();
    ensure_eq!(
        run(&mut e, &mut context(), "test_log")?,
        CallbackOutcome::Returned
    );
    let logs = take_logs();
    ensure!(
        logs.contains("KSR.x.modf(\"sl_send_reply\"): no such function among the loaded modules"),
        "{logs}"
    );
    Ok(())
}

fn event_callbacks_get_the_event_name() -> TestResult {
    let mut e = engine("basic.rb")?;
    ensure_eq!(
        e.run_callback(&mut context(), "test_event", Some("core:worker-one-init"))
            .map_err(|e| e.to_string())?,
        CallbackOutcome::Returned
    );
    ensure_eq!(global(&e, "$event_seen")?, "core:worker-one-init");
    Ok(())
}

fn missing_optional_callbacks_are_skipped() -> TestResult {
    let mut e = engine("basic.rb")?;
    let mut ctx = context();
    ensure_eq!(
        e.reply_route(&mut ctx).map_err(|e| e.to_string())?,
        CallbackOutcome::Skipped
    );
    ensure!(!e.has_onsend_route(), "no onsend route");
    ensure_eq!(
        e.run_callback(&mut ctx, "no_such_method", None)
            .map_err(|e| e.to_string())?,
        CallbackOutcome::Skipped
    );
    ensure!(e.defines("test_exit"), "defines test_exit");
    ensure!(
        !e.defines("no_such_method"),
        "does not define no_such_method"
    );
    Ok(())
}

fn ksr_has_only_registry_submodules() -> TestResult {
    let mut e = engine_with(&Registry::new(&[]), "basic.rb")?;
    run(&mut e, &mut context(), "test_no_ktest")?;
    reset_top_level()?;
    let mut e = engine("basic.rb")?;
    run(&mut e, &mut context(), "test_has_ktest")?;
    ensure_eq!(global(&e, "KSR::KTEST.name")?, "KSR::KTEST");
    ensure_eq!(global(&e, "defined?(KSR::AUTH).inspect")?, "nil");
    Ok(())
}

fn missing_request_route_is_a_startup_error() -> TestResult {
    // An engine built before defined ksr_request_route; a new engine starts
    // from a clean top level, so it does not count.
    engine("basic.rb")?;
    let err = match engine("no_request_route.rb") {
        Ok(_) => return Err("engine built without ksr_request_route".into()),
        Err(e) => e,
    };
    ensure!(err.contains("ksr_request_route"), "{err}");
    ensure!(err.contains("no_request_route.rb"), "{err}");
    Ok(())
}

fn script_load_errors_name_the_file() -> TestResult {
    for (name, what) in [
        ("syntax_error.rb", "syntax error"),
        ("load_error.rb", "broken at load (ArgumentError)"),
        ("does_not_exist.rb", "cannot read Ruby script"),
    ] {
        reset_top_level()?;
        let err = match RubyEngine::with_runtime(
            &with_ktest(),
            &[script(name)],
            CallbackNames::default(),
            runtime(),
        ) {
            Ok(_) => return Err(format!("{name} loaded")),
            Err(e) => e,
        };
        let text = err.to_string();
        ensure!(
            matches!(err, EngineError::Load { .. } | EngineError::Read { .. }),
            "{text}"
        );
        ensure!(text.contains(name), "{text}");
        ensure!(text.contains(what), "{text}");
    }
    Ok(())
}

fn exit_at_the_top_level_ends_that_script_only() -> TestResult {
    let mut e = engine("top_exit.rb")?;
    ensure!(!e.defines("never_defined"), "code after exit did not run");
    let mut ctx = context();
    e.request_route(&mut ctx).map_err(|e| e.to_string())?;
    ensure_eq!(ctx.flags, 1 << 6);
    Ok(())
}

fn callback_names_are_configurable() -> TestResult {
    let names = CallbackNames {
        request: "my_request".into(),
        reply: CallbackNames::optional("none"),
        onsend: CallbackNames::optional(""),
        event: CallbackNames::optional("my_event"),
    };
    let path = temp_script(
        "names",
        "def my_request\n  KSR.setflag(7)\nend\ndef my_event(name)\n  $seen_event = name\nend\n",
    )?;
    let mut e =
        RubyEngine::with_runtime(&with_ktest(), std::slice::from_ref(&path), names, runtime())
            .map_err(|e| e.to_string())?;
    let mut ctx = context();
    e.request_route(&mut ctx).map_err(|e| e.to_string())?;
    ensure_eq!(ctx.flags, 1 << 7);
    e.event_route(&mut ctx, "core:worker-one-init")
        .map_err(|e| e.to_string())?;
    ensure_eq!(global(&e, "$seen_event")?, "core:worker-one-init");
    let _ = std::fs::remove_file(path);
    Ok(())
}

fn reload_runs_new_code_and_keeps_old_code_on_failure() -> TestResult {
    let path = temp_script("reload", "def ksr_request_route\n  KSR.setflag(1)\nend\n")?;
    let mut e = RubyEngine::with_runtime(
        &with_ktest(),
        std::slice::from_ref(&path),
        CallbackNames::default(),
        runtime(),
    )
    .map_err(|e| e.to_string())?;
    let flags = |e: &mut RubyEngine| -> Result<u32, String> {
        let mut ctx = context();
        e.request_route(&mut ctx).map_err(|e| e.to_string())?;
        Ok(ctx.flags)
    };
    ensure_eq!(flags(&mut e)?, 1 << 1);
    ensure_eq!(e.version(), 0);
    ensure!(!e.reload_if_changed(0), "same version: no reload");

    std::fs::write(&path, "def ksr_request_route\n  KSR.setflag(2)\nend\n")
        .map_err(|e| e.to_string())?;
    ensure!(e.reload_if_changed(1), "reloaded");
    ensure_eq!(e.version(), 1);
    ensure_eq!(flags(&mut e)?, 1 << 2);

    // a syntax error: reported, the running code stays
    std::fs::write(&path, "def ksr_request_route\n  KSR.setflag(3)\n")
        .map_err(|e| e.to_string())?;
    take_logs();
    match e.try_reload(2) {
        Err(EngineError::Load { message, .. }) => {
            ensure!(message.contains("syntax error"), "{message}")
        }
        other => return Err(format!("expected a load error, got {other:?}")),
    }
    let logs = take_logs();
    ensure!(
        logs.contains("Ruby reload failed, the previous code keeps running"),
        "{logs}"
    );
    ensure_eq!(e.version(), 2);
    ensure_eq!(flags(&mut e)?, 1 << 2);
    // reported once: the same version is not retried
    ensure!(!e.reload_if_changed(2), "not retried");

    // a script that raises while running: reported, methods stay
    std::fs::write(&path, "raise 'broken on purpose'\n").map_err(|e| e.to_string())?;
    ensure!(e.try_reload(3).is_err(), "raising script fails the reload");
    ensure_eq!(flags(&mut e)?, 1 << 2);
    let _ = std::fs::remove_file(path);
    Ok(())
}

fn xval_mode_zero_is_kamailios_legacy_mode() -> TestResult {
    let mut config = Config::default();
    config.modules.push(LoadedModule {
        def: &kemi_mod_app_ruby::MODULE,
        params: vec![("xval_mode".to_string(), CfgValue::Int(0))],
    });
    let runtime = Arc::new(Runtime::with_config(
        config,
        Arc::new(kemi_core::net::Capture::default()),
    ));
    let mut e = RubyEngine::with_runtime(
        &with_ktest(),
        &[script("basic.rb")],
        CallbackNames::default(),
        Arc::clone(&runtime),
    )
    .map_err(|e| e.to_string())?;
    take_logs();
    let mut ctx = Context::new(runtime);
    run(&mut e, &mut ctx, "test_legacy_pv")?;
    let logs = take_logs();
    ensure!(
        logs.contains("KSR.ktest.xval_str: string results are disabled"),
        "{logs}"
    );
    Ok(())
}

fn the_test_helper_reports_failures_with_the_line() -> TestResult {
    let out = RubyTest::new(&[])
        .run("def ksr_request_route\n  KSR.setflag(4)\n  KSR.setdsturi('sip:192.0.2.1:5080')\n  KSR::X.exit\nend\n")?;
    ensure_eq!(out.ctx.flags, 1 << 4);
    ensure_eq!(out.ctx.dst_uri.as_deref(), Some("sip:192.0.2.1:5080"));
    ensure!(out.exited(), "exited");
    let err = match RubyTest::new(&[])
        .run("def ksr_request_route\n  raise 'flag 1 expected' unless KSR.isflagset(1)\nend\n")
    {
        Ok(_) => return Err("the failing script passed".into()),
        Err(e) => e,
    };
    ensure!(
        err.contains("flag 1 expected") && err.contains(":2:"),
        "{err}"
    );
    Ok(())
}

fn replies_go_out_through_the_transport() -> TestResult {
    let out = RubyTest::new(&[&kemi_mod_sl::MODULE]).run(
        "def ksr_request_route\n  if KSR.is_OPTIONS\n    KSR::SL.send_reply(200, 'Ruby OK')\n    exit\n  end\nend\n",
    )?;
    ensure!(out.exited(), "exited");
    ensure_eq!(out.sent.len(), 1);
    let reply = String::from_utf8_lossy(&out.sent[0].bytes).into_owned();
    ensure!(reply.starts_with("SIP/2.0 200 Ruby OK\r\n"), "{reply}");
    ensure!(reply.contains("Call-ID: rb-test-call-id\r\n"), "{reply}");
    Ok(())
}

fn the_builder_routes_on_the_caller_thread_and_loads_once() -> TestResult {
    let dir = std::env::temp_dir();
    let path = temp_script(
        "builder",
        "$loads = ($loads || 0) + 1\ndef ksr_request_route\n  KSR.setflag(9)\nend\n",
    )?;
    let mut config = Config {
        file: dir.join("kamailio.cfg").display().to_string(),
        ..Config::default()
    };
    config.modules.push(LoadedModule {
        def: &kemi_mod_app_ruby::MODULE,
        params: vec![
            (
                "load".to_string(),
                CfgValue::Str(path.display().to_string()),
            ),
            (
                "modproc".to_string(),
                CfgValue::Str("/usr/lib/app_ruby_proc.so".into()),
            ),
        ],
    });
    let runtime = Arc::new(Runtime::with_config(
        config,
        Arc::new(kemi_core::net::Capture::default()),
    ));
    let builder = kemi_mod_app_ruby::builder(&runtime)?;
    ensure_eq!(builder.threading, Threading::CallerThread);
    ensure!(builder.reload, "reload enabled");
    let mut engine = (builder.build)()?;
    let mut ctx = Context::new(Arc::clone(&runtime));
    engine.request_route(&mut ctx).map_err(|e| e.to_string())?;
    ensure_eq!(ctx.flags, 1 << 9);
    ensure_eq!(kemi_mod_app_ruby::testing::eval_to_string("$loads")?, "1");
    // A second build loads again (a fresh engine in the same VM).
    let _again = (builder.build)()?;
    ensure_eq!(kemi_mod_app_ruby::testing::eval_to_string("$loads")?, "2");
    // Other threads cannot use the VM: a clear error, no crash.
    let build = Arc::clone(&builder.build);
    let from_thread = std::thread::spawn(move || (build)().err())
        .join()
        .map_err(|_| "thread panicked".to_string())?;
    let err = from_thread.ok_or("built on another thread")?;
    ensure!(err.contains("only on the thread that started it"), "{err}");
    let _ = std::fs::remove_file(path);
    Ok(())
}

fn the_builder_refuses_a_config_without_script() -> TestResult {
    let mut config = Config::default();
    config.modules.push(LoadedModule {
        def: &kemi_mod_app_ruby::MODULE,
        params: vec![],
    });
    let runtime = Arc::new(Runtime::with_config(
        config,
        Arc::new(kemi_core::net::Capture::default()),
    ));
    let err = match kemi_mod_app_ruby::builder(&runtime) {
        Ok(_) => return Err("built without a script".into()),
        Err(e) => e,
    };
    ensure!(err.contains("modparam(\"app_ruby\", \"load\""), "{err}");
    let runtime = Arc::new(Runtime::default());
    let err = match kemi_mod_app_ruby::builder(&runtime) {
        Ok(_) => return Err("built without app_ruby".into()),
        Err(e) => e,
    };
    ensure!(err.contains("loadmodule \"app_ruby.so\""), "{err}");
    Ok(())
}

/// Ruby traps SIGINT, SIGTERM and others when it starts; the engine puts
/// back what was there (the default here: this binary installs none), so
/// the proxy's own signal handling decides what those signals do.
fn ruby_leaves_the_signal_handlers_as_they_were() -> TestResult {
    engine("basic.rb")?;
    for (name, sig, want) in [
        ("SIGINT", libc::SIGINT, libc::SIG_DFL),
        ("SIGTERM", libc::SIGTERM, libc::SIG_DFL),
        ("SIGHUP", libc::SIGHUP, libc::SIG_DFL),
        ("SIGUSR1", libc::SIGUSR1, libc::SIG_DFL),
        // Rust's runtime ignores SIGPIPE before main
        ("SIGPIPE", libc::SIGPIPE, libc::SIG_IGN),
    ] {
        // SAFETY: reads the current action into a zeroed struct.
        let action = unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(sig, std::ptr::null(), &mut old);
            old.sa_sigaction
        };
        ensure!(
            action == want,
            "{name} handler is {action:#x}, not {want:#x}"
        );
    }
    Ok(())
}

fn temp_script(name: &str, text: &str) -> Result<PathBuf, String> {
    let path =
        std::env::temp_dir().join(format!("kemi-ruby-engine-{}-{name}.rb", std::process::id()));
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    Ok(path)
}

/// A scenario: its name and the function running it.
type Scenario = (&'static str, fn() -> TestResult);

/// The same `KSR.x.modf` scenario as every engine's tests, in Ruby,
/// plus a reply sent through sl's native name.
const MODF_SCRIPT: &str = r#"
def check(ok, what)
  raise "failed: #{what}" unless ok
end

def ksr_request_route
  check(KSR::X.modf("setflag", "3") == 1, "setflag")
  check(KSR.isflagset(3) == true, "isflagset")
  check(KSR::X.modf("isflagset", "3") == 1, "modf isflagset 3")
  check(KSR::X.modf("isflagset", "4") == -1, "modf isflagset 4")
  # native name of KSR::HDR.append
  check(KSR::X.modf("append_hf", "X-A: 1\r\n") == 1, "append_hf")
  # a module function: its int result comes back as is
  check(KSR::X.modf("ret_int", "42") == 42, "ret_int")
  check(KSR::X.modf("ret_none") == 1, "ret_none")
  check(KSR::X.modf("no_such_function", "1") == -1, "unknown")
  check(KSR::X.modf("sl_send_reply", "403", "Not Here") == 1, "sl_send_reply")
end
"#;

fn modf_runs_loaded_functions_by_name() -> TestResult {
    take_logs();
    let out = RubyTest::new(&[&kemi_mod_ktest::MODULE, &kemi_mod_sl::MODULE]).run(MODF_SCRIPT)?;
    let logs = take_logs();
    ensure_eq!(out.ctx.flags, 1 << 3);
    let message = String::from_utf8_lossy(&out.ctx.msg.serialize()).into_owned();
    ensure!(message.contains("\r\nX-A: 1\r\n"), "{message}");
    ensure_eq!(out.sent.len(), 1);
    let reply = String::from_utf8_lossy(&out.sent[0].bytes).into_owned();
    ensure!(reply.starts_with("SIP/2.0 403 Not Here\r\n"), "{reply}");
    ensure_eq!(
        logs.matches("KSR.x.modf(\"no_such_function\"): no such function among the loaded modules")
            .count(),
        1
    );
    Ok(())
}

fn modf_argument_errors_raise_like_ksr_functions() -> TestResult {
    RubyTest::new(&[]).run(
        r#"
def ksr_request_route
  begin
    KSR::X.modf("setflag", "abc")
    raise "no error"
  rescue TypeError => e
    raise e.message unless e.message.start_with?('KSR.x.modf("setflag"): KSR.setflag: argument 1 (flag) must be int, got string "abc"')
  end
  begin
    KSR::X.modf("setflag", "1", "2")
    raise "no error"
  rescue ArgumentError => e
    raise e.message unless e.message.include?("expects 1 argument, got 2")
  end
  raise "flag 1 set" if KSR.isflagset(1)
end
"#,
    )?;
    // Uncaught, it is a script error naming the function.
    let err = match RubyTest::new(&[])
        .run("def ksr_request_route\n  KSR::X.modf('setflag', 'abc')\nend\n")
    {
        Ok(_) => return Err("the bad argument was accepted".into()),
        Err(e) => e,
    };
    ensure!(
        err.contains("KSR.x.modf(\"setflag\"): KSR.setflag: argument 1 (flag) must be int"),
        "{err}"
    );
    Ok(())
}

/// `KSR::X` has exactly the functions kemi-core lists for Ruby, the list
/// the reference and the RBS stubs are rendered from.
fn ksr_x_has_exactly_the_documented_functions() -> TestResult {
    let expected = kemi_core::ksr::x::sorted_names(kemi_core::ksr::x::RUBY).join(",");
    RubyTest::new(&[]).run(&format!(
        "def ksr_request_route\n  got = KSR::X.singleton_methods.map(&:to_s).sort.join(',')\n  raise \"KSR::X has #{{got}}\" unless got == '{expected}'\nend\n"
    ))?;
    Ok(())
}

const SCENARIOS: &[Scenario] = &[
    (
        "ksr_x_has_exactly_the_documented_functions",
        ksr_x_has_exactly_the_documented_functions,
    ),
    (
        "ruby_leaves_the_signal_handlers_as_they_were",
        ruby_leaves_the_signal_handlers_as_they_were,
    ),
    (
        "request_route_runs_and_changes_the_context",
        request_route_runs_and_changes_the_context,
    ),
    (
        "every_return_kind_is_converted",
        every_return_kind_is_converted,
    ),
    (
        "argument_errors_raise_argument_and_type_errors",
        argument_errors_raise_argument_and_type_errors,
    ),
    (
        "an_uncaught_argument_error_is_a_script_error",
        an_uncaught_argument_error_is_a_script_error,
    ),
    (
        "ksr_calls_see_the_routing_context",
        ksr_calls_see_the_routing_context,
    ),
    (
        "ksr_survives_garbage_collection_and_compaction",
        ksr_survives_garbage_collection_and_compaction,
    ),
    (
        "ruby_exit_ends_the_callback_without_error",
        ruby_exit_ends_the_callback_without_error,
    ),
    ("ksr_x_exit_ends_the_callback", ksr_x_exit_ends_the_callback),
    (
        "a_rescued_ksr_exit_still_ends_ksr_calls",
        a_rescued_ksr_exit_still_ends_ksr_calls,
    ),
    (
        "drop_sets_drop_outside_the_request_route",
        drop_sets_drop_outside_the_request_route,
    ),
    (
        "a_runtime_error_has_a_backtrace_and_the_engine_goes_on",
        a_runtime_error_has_a_backtrace_and_the_engine_goes_on,
    ),
    (
        "abort_and_exit_bang_are_errors_not_process_exits",
        abort_and_exit_bang_are_errors_not_process_exits,
    ),
    (
        "runaway_recursion_is_a_script_error",
        runaway_recursion_is_a_script_error,
    ),
    ("logging_and_modf", logging_and_modf),
    (
        "modf_runs_loaded_functions_by_name",
        modf_runs_loaded_functions_by_name,
    ),
    (
        "modf_argument_errors_raise_like_ksr_functions",
        modf_argument_errors_raise_like_ksr_functions,
    ),
    (
        "event_callbacks_get_the_event_name",
        event_callbacks_get_the_event_name,
    ),
    (
        "missing_optional_callbacks_are_skipped",
        missing_optional_callbacks_are_skipped,
    ),
    (
        "ksr_has_only_registry_submodules",
        ksr_has_only_registry_submodules,
    ),
    (
        "missing_request_route_is_a_startup_error",
        missing_request_route_is_a_startup_error,
    ),
    (
        "script_load_errors_name_the_file",
        script_load_errors_name_the_file,
    ),
    (
        "exit_at_the_top_level_ends_that_script_only",
        exit_at_the_top_level_ends_that_script_only,
    ),
    (
        "callback_names_are_configurable",
        callback_names_are_configurable,
    ),
    (
        "reload_runs_new_code_and_keeps_old_code_on_failure",
        reload_runs_new_code_and_keeps_old_code_on_failure,
    ),
    (
        "xval_mode_zero_is_kamailios_legacy_mode",
        xval_mode_zero_is_kamailios_legacy_mode,
    ),
    (
        "the_test_helper_reports_failures_with_the_line",
        the_test_helper_reports_failures_with_the_line,
    ),
    (
        "replies_go_out_through_the_transport",
        replies_go_out_through_the_transport,
    ),
    (
        "the_builder_routes_on_the_caller_thread_and_loads_once",
        the_builder_routes_on_the_caller_thread_and_loads_once,
    ),
    (
        "the_builder_refuses_a_config_without_script",
        the_builder_refuses_a_config_without_script,
    ),
];

fn main() -> ExitCode {
    let writer = logs().clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        eprintln!("cannot install the log capture");
        return ExitCode::FAILURE;
    }
    // `cargo test -- NAME` filters; libtest's own flags are ignored.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let selected: Vec<_> = SCENARIOS
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    println!(
        "\nrunning {} tests (Ruby engine, one thread)",
        selected.len()
    );
    let mut failed = Vec::new();
    for (name, test) in &selected {
        let result = reset_top_level().and_then(|()| {
            catch_unwind(AssertUnwindSafe(test)).unwrap_or_else(|_| Err("panicked".into()))
        });
        match result {
            Ok(()) => println!("test {name} ... ok"),
            Err(e) => {
                println!("test {name} ... FAILED\n    {e}");
                failed.push(*name);
            }
        }
    }
    let passed = selected.len() - failed.len();
    if failed.is_empty() {
        println!("\ntest result: ok. {passed} passed; 0 failed\n");
        ExitCode::SUCCESS
    } else {
        println!(
            "\ntest result: FAILED. {passed} passed; {} failed: {}\n",
            failed.len(),
            failed.join(", ")
        );
        ExitCode::FAILURE
    }
}
