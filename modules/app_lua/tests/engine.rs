//! The Lua engine against real scripts (tests/scripts/*.lua) and the ktest
//! module, which covers every KEMI parameter and return kind.

use std::path::PathBuf;
use std::sync::Arc;

use kemi_core::context::RouteKind;
use kemi_core::{Context, Registry, Runtime};
use kemi_mod_app_lua::testing::LuaTest;
use kemi_mod_app_lua::{
    CallbackNames, CallbackOutcome, EngineError, LuaEngine, ScriptEngine, ScriptError,
};

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scripts")
        .join(name)
}

fn with_ktest() -> Registry {
    Registry::new(&[&kemi_mod_ktest::MODULE])
}

fn engine(name: &str) -> LuaEngine {
    match LuaEngine::new(&with_ktest(), &[script(name)], CallbackNames::default()) {
        Ok(e) => e,
        Err(e) => panic!("engine for {name}: {e}"),
    }
}

fn context() -> Context {
    Context::new(Arc::new(Runtime::default()))
}

fn run(engine: &mut LuaEngine, ctx: &mut Context, name: &str) -> CallbackOutcome {
    match engine.run_callback(ctx, name, None) {
        Ok(o) => o,
        Err(e) => panic!("{name}: {e}"),
    }
}

fn global(engine: &LuaEngine, name: &str) -> String {
    match engine.lua().globals().get::<String>(name) {
        Ok(s) => s,
        Err(e) => panic!("global {name}: {e}"),
    }
}

#[test]
fn request_route_runs_and_changes_the_context() {
    let mut e = engine("basic.lua");
    let mut ctx = context();
    assert_eq!(
        e.request_route(&mut ctx).unwrap(),
        CallbackOutcome::Returned
    );
    // flag 30 was set at load time, on the scratch context: not on this one
    assert_eq!(ctx.flags, 1 << 3);
}

#[test]
fn every_return_kind_is_converted() {
    let mut e = engine("basic.lua");
    assert_eq!(
        run(&mut e, &mut context(), "test_returns"),
        CallbackOutcome::Returned
    );
}

#[test]
fn argument_errors_name_the_function_and_signature() {
    let mut e = engine("basic.lua");
    assert_eq!(
        run(&mut e, &mut context(), "test_args"),
        CallbackOutcome::Returned
    );
    let nil_err = global(&e, "nil_err");
    assert!(nil_err.contains("KSR.ktest.xval_str"), "{nil_err}");
    assert!(nil_err.contains("got nil"), "{nil_err}");
    assert!(
        nil_err.contains("[signature: xval KSR.ktest.xval_str(str s)]"),
        "{nil_err}"
    );
    let table_err = global(&e, "table_err");
    assert!(
        table_err.contains("KSR.ktest.ret_int") && table_err.contains("got table"),
        "{table_err}"
    );
    let few_err = global(&e, "few_err");
    assert!(
        few_err.contains("KSR.ktest.concat: expects 2 arguments, got 1"),
        "{few_err}"
    );
    let extra_err = global(&e, "extra_err");
    assert!(
        extra_err.contains("KSR.ktest.ret_none: expects 0 arguments, got 1"),
        "{extra_err}"
    );
    assert_eq!(
        e.lua().globals().get::<bool>("after_pcall").ok(),
        Some(true)
    );
}

#[test]
fn an_uncaught_argument_error_is_a_script_error() {
    let mut e = engine("basic.lua");
    let err = e
        .run_callback(&mut context(), "test_uncaught_arg_error", None)
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("KSR.ktest.xval_str"), "{text}");
    // prefixed with the position of the calling Lua line
    assert!(text.contains("basic.lua:65: KSR.ktest.xval_str"), "{text}");
    assert!(text.contains("stack traceback"), "{text}");
}

#[test]
fn ksr_calls_see_the_routing_context() {
    let mut e = engine("basic.lua");
    let mut ctx = context();
    run(&mut e, &mut ctx, "test_context");
    assert_eq!(ctx.flags, (1 << 3) | (1 << 5));
}

#[test]
fn exit_ends_the_callback_without_error() {
    let mut e = engine("basic.lua");
    let mut ctx = context();
    assert_eq!(run(&mut e, &mut ctx, "test_exit"), CallbackOutcome::Exit);
    assert!(ctx.exit);
    assert_eq!(ctx.flags, 1 << 1, "statements after exit did not run");
    // the next callback for the same message starts afresh
    assert_eq!(
        e.request_route(&mut ctx).unwrap(),
        CallbackOutcome::Returned
    );
    assert!(!ctx.exit);
}

#[test]
fn exit_swallowed_by_pcall_still_ends_ksr_calls() {
    let mut e = engine("basic.lua");
    let mut ctx = context();
    assert_eq!(
        run(&mut e, &mut ctx, "test_exit_in_pcall"),
        CallbackOutcome::Exit
    );
    assert_eq!(ctx.flags, 1 << 1);
}

#[test]
fn drop_sets_drop_outside_the_request_route() {
    let mut e = engine("basic.lua");
    let mut ctx = context();
    ctx.route = RouteKind::Reply;
    assert_eq!(run(&mut e, &mut ctx, "test_drop"), CallbackOutcome::Exit);
    assert!(ctx.drop && ctx.exit);
    assert_eq!(ctx.flags, 0);

    let mut req = context();
    assert_eq!(run(&mut e, &mut req, "test_drop"), CallbackOutcome::Exit);
    assert!(!req.drop, "set_drop has no effect in the request route");
    assert!(req.exit);
}

#[test]
fn a_runtime_error_has_a_traceback_and_the_engine_goes_on() {
    let mut e = engine("basic.lua");
    let err = e
        .run_callback(&mut context(), "test_runtime_error", None)
        .unwrap_err();
    let ScriptError::Runtime {
        callback, message, ..
    } = &err
    else {
        panic!("not a runtime error: {err}");
    };
    assert_eq!(callback, "test_runtime_error");
    assert!(message.contains("basic.lua:96:"), "{message}");
    assert!(message.contains("stack traceback"), "{message}");
    assert!(
        message.contains("in function 'test_runtime_error'"),
        "{message}"
    );
    // the state is usable afterwards
    let mut ctx = context();
    assert_eq!(
        e.request_route(&mut ctx).unwrap(),
        CallbackOutcome::Returned
    );
    assert_eq!(ctx.flags, 1 << 3);
}

#[test]
fn a_non_string_error_value_is_reported() {
    let mut e = engine("basic.lua");
    let err = e
        .run_callback(&mut context(), "test_error_table", None)
        .unwrap_err();
    assert!(err.to_string().contains("table: "), "{err}");
}

#[test]
fn os_exit_is_a_script_error_not_a_process_exit() {
    let mut e = engine("basic.lua");
    let err = e
        .run_callback(&mut context(), "test_os_exit", None)
        .unwrap_err();
    assert!(err.to_string().contains("os.exit() is disabled"), "{err}");
    // still here
    assert_eq!(
        e.request_route(&mut context()).unwrap(),
        CallbackOutcome::Returned
    );
}

#[test]
fn logging_version_modf_and_probe() {
    let mut e = engine("basic.lua");
    assert_eq!(
        run(&mut e, &mut context(), "test_log"),
        CallbackOutcome::Returned
    );
}

#[test]
fn event_callbacks_get_the_event_name() {
    let mut e = engine("basic.lua");
    e.run_callback(&mut context(), "test_event", Some("core:worker-one-init"))
        .unwrap();
    assert_eq!(global(&e, "event_seen"), "core:worker-one-init");
}

#[test]
fn missing_optional_callbacks_are_skipped() {
    let mut e = engine("basic.lua");
    let mut ctx = context();
    assert_eq!(e.reply_route(&mut ctx).unwrap(), CallbackOutcome::Skipped);
    assert_eq!(e.onsend_route(&mut ctx).unwrap(), CallbackOutcome::Skipped);
    assert_eq!(
        e.event_route(&mut ctx, "core:x").unwrap(),
        CallbackOutcome::Skipped
    );
    assert_eq!(
        e.run_callback(&mut ctx, "no_such_function", None).unwrap(),
        CallbackOutcome::Skipped
    );
}

#[test]
fn ksr_has_only_registry_submodules() {
    let mut e = engine("basic.lua");
    run(&mut e, &mut context(), "test_has_ktest");
    let mut bare = LuaEngine::new(
        &Registry::new(&[]),
        &[script("basic.lua")],
        CallbackNames::default(),
    );
    // basic.lua only calls ktest inside functions, so it loads without it
    let bare = bare.as_mut().unwrap();
    run(bare, &mut context(), "test_no_ktest");
}

#[test]
fn missing_request_route_is_a_startup_error() {
    let err = LuaEngine::new(
        &with_ktest(),
        &[script("no_request_route.lua")],
        CallbackNames::default(),
    )
    .err()
    .unwrap();
    let text = err.to_string();
    assert!(matches!(err, EngineError::MissingCallback { .. }), "{text}");
    assert!(text.contains("ksr_request_route"), "{text}");
    assert!(text.contains("no_request_route.lua"), "{text}");
}

#[test]
fn script_load_errors_name_the_file() {
    for name in ["syntax_error.lua", "load_error.lua", "does_not_exist.lua"] {
        let err = LuaEngine::new(&with_ktest(), &[script(name)], CallbackNames::default())
            .err()
            .unwrap();
        let text = err.to_string();
        assert!(text.contains(name), "{text}");
    }
}

#[test]
fn callback_names_are_configurable() {
    let names = CallbackNames {
        request: "my_route".into(),
        reply: CallbackNames::optional("none"),
        onsend: CallbackNames::optional(""),
        event: CallbackNames::optional("my_event"),
    };
    assert_eq!(names.reply, None);
    assert_eq!(names.onsend, None);
    let mut e = LuaEngine::new(&with_ktest(), &[script("custom_names.lua")], names).unwrap();
    let mut ctx = context();
    assert_eq!(
        e.request_route(&mut ctx).unwrap(),
        CallbackOutcome::Returned
    );
    assert_eq!(ctx.flags, 1 << 7);
    e.event_route(&mut ctx, "core:worker-one-init").unwrap();
    assert_eq!(global(&e, "seen_event"), "core:worker-one-init");
    // the default name is not required when renamed
    let err = LuaEngine::new(
        &with_ktest(),
        &[script("custom_names.lua")],
        CallbackNames::default(),
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("ksr_request_route"));
}

#[test]
fn exit_inside_a_coroutine_is_still_an_exit() {
    // coroutine.wrap re-raises the exit with its position prepended.
    let out = LuaTest::new(&[])
        .run(
            "function ksr_request_route()\n\
               KSR.setflag(1)\n\
               coroutine.wrap(function() coroutine.wrap(KSR.x.exit)() end)()\n\
               KSR.setflag(2)\n\
             end\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.exited());
    assert_eq!(out.ctx.flags, 1 << 1);
}

#[test]
fn an_error_after_a_caught_exit_is_still_an_error() {
    let err = LuaTest::new(&[])
        .run("function ksr_request_route()\n  pcall(KSR.x.exit)\n  error('boom')\nend\n")
        .expect_err("a real error is reported");
    assert!(err.contains("boom"), "{err}");
    // A script raising the exit text itself, without KSR.x.exit(), errs too.
    let err = LuaTest::new(&[])
        .run("function ksr_request_route()\n  error('~~ksr~exit~~')\nend\n")
        .expect_err("not an exit");
    assert!(err.contains(":2: ~~ksr~exit~~"), "{err}");
}
