//! The JavaScript engine against real scripts (tests/scripts/*.js) and the
//! ktest module, which covers every KEMI parameter and return kind.

use std::path::PathBuf;
use std::sync::Arc;

use kemi_core::context::RouteKind;
use kemi_core::{Context, Registry, Runtime};
use kemi_mod_app_jsdt::{
    CallbackNames, CallbackOutcome, EngineError, JsEngine, ScriptEngine, ScriptError, ScriptSource,
};

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scripts")
        .join(name)
}

fn with_ktest() -> Registry {
    Registry::new(&[&kemi_mod_ktest::MODULE])
}

fn load(registry: &Registry, name: &str, names: CallbackNames) -> Result<JsEngine, EngineError> {
    JsEngine::new(registry, ScriptSource::File(script(name)), true, names)
}

fn engine(name: &str) -> JsEngine {
    load(&with_ktest(), name, CallbackNames::default())
        .unwrap_or_else(|e| panic!("engine for {name}: {e}"))
}

fn context() -> Context {
    Context::new(Arc::new(Runtime::default()))
}

fn run(engine: &mut JsEngine, ctx: &mut Context, name: &str) -> CallbackOutcome {
    match engine.run_callback(ctx, name, None) {
        Ok(o) => o,
        Err(e) => panic!("{name}: {e}"),
    }
}

fn global(engine: &JsEngine, name: &str) -> String {
    engine
        .global_string(name)
        .unwrap_or_else(|| panic!("global {name} is not set"))
}

fn runtime_error(engine: &mut JsEngine, name: &str) -> String {
    match engine.run_callback(&mut context(), name, None) {
        Err(ScriptError::Runtime {
            callback, message, ..
        }) => {
            assert_eq!(callback, name);
            message
        }
        other => panic!("{name}: not a runtime error: {other:?}"),
    }
}

#[test]
fn request_route_runs_and_changes_the_context() {
    let mut e = engine("basic.js");
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
    let mut e = engine("basic.js");
    assert_eq!(
        run(&mut e, &mut context(), "test_returns"),
        CallbackOutcome::Returned
    );
}

#[test]
fn argument_errors_are_type_errors_naming_the_function_and_signature() {
    let mut e = engine("basic.js");
    assert_eq!(
        run(&mut e, &mut context(), "test_args"),
        CallbackOutcome::Returned
    );
    let null_err = global(&e, "null_err");
    assert!(
        null_err.starts_with("TypeError: KSR.ktest.xval_str"),
        "{null_err}"
    );
    assert!(null_err.contains("got null"), "{null_err}");
    assert!(
        null_err.contains("[signature: xval KSR.ktest.xval_str(str s)]"),
        "{null_err}"
    );
    assert!(global(&e, "undefined_err").contains("got undefined"));
    let object_err = global(&e, "object_err");
    assert!(
        object_err.contains("KSR.ktest.ret_int") && object_err.contains("got object"),
        "{object_err}"
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
    assert!(global(&e, "float_err").contains("got number 1.5"));
    assert_eq!(global(&e, "after_catch"), "true");
}

#[test]
fn an_uncaught_argument_error_is_a_script_error_with_the_stack() {
    let mut e = engine("basic.js");
    let text = runtime_error(&mut e, "test_uncaught_arg_error");
    assert!(text.starts_with("TypeError: KSR.ktest.xval_str"), "{text}");
    assert!(text.contains("basic.js:63"), "{text}");
    assert!(text.contains("test_uncaught_arg_error"), "{text}");
}

#[test]
fn ksr_calls_see_the_routing_context() {
    let mut e = engine("basic.js");
    let mut ctx = context();
    run(&mut e, &mut ctx, "test_context");
    assert_eq!(ctx.flags, (1 << 3) | (1 << 5));
}

#[test]
fn exit_ends_the_callback_without_error() {
    let mut e = engine("basic.js");
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
fn exit_swallowed_by_try_catch_still_ends_ksr_calls() {
    let mut e = engine("basic.js");
    let mut ctx = context();
    assert_eq!(
        run(&mut e, &mut ctx, "test_exit_in_try"),
        CallbackOutcome::Exit
    );
    assert_eq!(ctx.flags, 1 << 1);
    assert_eq!(global(&e, "caught_exit"), "~~ksr~exit~~");
    assert_eq!(e.global_string("after_swallowed_exit"), None);

    let mut ctx = context();
    assert_eq!(
        run(&mut e, &mut ctx, "test_exit_swallowed_twice"),
        CallbackOutcome::Exit
    );
    assert_eq!(ctx.flags, 1 << 1);
    assert_eq!(global(&e, "plain_js_after_exit"), "true");
}

#[test]
fn drop_sets_drop_outside_the_request_route() {
    let mut e = engine("basic.js");
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
fn a_runtime_error_has_the_js_stack_and_the_engine_goes_on() {
    let mut e = engine("basic.js");
    let message = runtime_error(&mut e, "test_runtime_error");
    assert!(message.starts_with("TypeError:"), "{message}");
    assert!(message.contains("at helper_that_fails"), "{message}");
    assert!(message.contains("scripts/basic.js:"), "{message}");
    assert!(message.contains("at test_runtime_error"), "{message}");
    // the context is usable afterwards
    let mut ctx = context();
    assert_eq!(
        e.request_route(&mut ctx).unwrap(),
        CallbackOutcome::Returned
    );
    assert_eq!(ctx.flags, 1 << 3);
}

#[test]
fn thrown_non_errors_are_reported() {
    let mut e = engine("basic.js");
    assert_eq!(runtime_error(&mut e, "test_throw_string"), "plain string");
    assert_eq!(
        runtime_error(&mut e, "test_throw_object"),
        "[object Object]"
    );
    let missing = runtime_error(&mut e, "test_missing_function");
    assert!(missing.starts_with("TypeError:"), "{missing}");
    assert!(missing.contains("at test_missing_function"), "{missing}");
}

#[test]
fn runaway_recursion_is_a_script_error_not_a_crash() {
    let mut e = engine("basic.js");
    let message = runtime_error(&mut e, "test_deep_recursion");
    assert!(message.contains("RangeError"), "{message}");
    assert_eq!(
        e.request_route(&mut context()).unwrap(),
        CallbackOutcome::Returned
    );
}

#[test]
fn scripts_run_in_sloppy_mode_like_duktape() {
    let mut e = engine("basic.js");
    run(&mut e, &mut context(), "test_sloppy_mode");
    assert_eq!(global(&e, "implicit_global"), "7");
}

#[test]
fn logging_and_modf() {
    let mut e = engine("basic.js");
    assert_eq!(
        run(&mut e, &mut context(), "test_log"),
        CallbackOutcome::Returned
    );
}

#[test]
fn event_callbacks_get_the_event_name() {
    let mut e = engine("basic.js");
    e.run_callback(&mut context(), "test_event", Some("core:worker-one-init"))
        .unwrap();
    assert_eq!(global(&e, "event_seen"), "core:worker-one-init");
}

#[test]
fn missing_optional_callbacks_are_skipped() {
    let mut e = engine("basic.js");
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
    // a global that is not a function is not a callback either
    assert_eq!(
        e.run_callback(&mut ctx, "KSR", None).unwrap(),
        CallbackOutcome::Skipped
    );
    assert!(e.defines("test_exit"));
    assert!(!e.defines("KSR"));
}

#[test]
fn ksr_has_only_registry_submodules() {
    let mut e = engine("basic.js");
    run(&mut e, &mut context(), "test_has_ktest");
    // basic.js only calls ktest inside functions, so it loads without it
    let mut bare = load(&Registry::new(&[]), "basic.js", CallbackNames::default()).unwrap();
    run(&mut bare, &mut context(), "test_no_ktest");
}

#[test]
fn missing_request_route_is_a_startup_error() {
    let err = load(
        &with_ktest(),
        "no_request_route.js",
        CallbackNames::default(),
    )
    .err()
    .unwrap();
    let text = err.to_string();
    assert!(matches!(err, EngineError::MissingCallback { .. }), "{text}");
    assert!(text.contains("ksr_request_route"), "{text}");
    assert!(text.contains("no_request_route.js"), "{text}");
}

#[test]
fn script_load_errors_name_the_file() {
    for name in ["syntax_error.js", "load_error.js", "does_not_exist.js"] {
        let err = load(&with_ktest(), name, CallbackNames::default())
            .err()
            .unwrap();
        let text = err.to_string();
        assert!(text.contains(name), "{text}");
    }
    let err = load(&with_ktest(), "load_error.js", CallbackNames::default())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("ReferenceError"), "{err}");
    assert!(err.contains("undefined_function_at_load_time"), "{err}");
}

#[test]
fn callback_names_are_configurable() {
    let names = CallbackNames {
        request: "my_route".into(),
        reply: CallbackNames::optional("none"),
        onsend: CallbackNames::optional(""),
        event: CallbackNames::optional("my_event"),
    };
    let mut e = load(&with_ktest(), "custom_names.js", names).unwrap();
    let mut ctx = context();
    assert_eq!(
        e.request_route(&mut ctx).unwrap(),
        CallbackOutcome::Returned
    );
    assert_eq!(ctx.flags, 1 << 7);
    e.event_route(&mut ctx, "core:worker-one-init").unwrap();
    assert_eq!(global(&e, "seen_event"), "core:worker-one-init");
}

#[test]
fn require_loads_commonjs_modules_relative_to_the_script() {
    let mut e = engine("require_main.js");
    let mut ctx = context();
    e.request_route(&mut ctx).unwrap();
    assert_eq!(ctx.flags, 1 << 4, "a value exported by the module");
    run(&mut e, &mut ctx, "test_require");
    assert_eq!(global(&e, "same_module"), "true");
    assert_eq!(global(&e, "greeting"), "hello js");
    assert_eq!(global(&e, "loads"), "1", "a module runs once");
    assert_eq!(global(&e, "index_value"), "index");
    assert_eq!(global(&e, "nested_value"), "helper in lib/sub");
    assert!(global(&e, "filename_seen").ends_with("tests/scripts/lib/greet.js"));
    let missing = global(&e, "missing_err");
    assert!(
        missing.contains("cannot find module './lib/missing'"),
        "{missing}"
    );
    let broken = global(&e, "broken_err");
    assert!(broken.contains("TypeError"), "{broken}");
    assert!(broken.contains("broken.js:2"), "{broken}");
}

#[test]
fn mode_0_has_no_require() {
    let err = JsEngine::new(
        &with_ktest(),
        ScriptSource::File(script("require_main.js")),
        false,
        CallbackNames::default(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("ReferenceError") && err.contains("require"),
        "{err}"
    );
}
