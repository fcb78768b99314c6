//! `KSR.x` has exactly the functions kemi-core lists for Python, the list
//! the reference and the `.pyi` stubs are rendered from, in both script
//! styles (app_python3 and app_python3s).

use kemi_core::ksr::x;
use kemi_core::testing::logs;
use kemi_mod_app_python3::testing;

/// A Python `check()` that fails unless `KSR.x` holds exactly `expected`.
fn check_function() -> String {
    let expected = x::sorted_names(x::PYTHON).join(",");
    format!(
        "import KSR\n\n\
         def check():\n\
         \x20   got = ','.join(sorted(n for n in dir(KSR.x) if not n.startswith('_')))\n\
         \x20   assert got == '{expected}', 'KSR.x has ' + got\n\
         \x20   assert all(callable(getattr(KSR.x, n)) for n in got.split(','))\n\n"
    )
}

#[test]
fn ksr_x_has_exactly_the_documented_functions() {
    let module = format!(
        "{}def ksr_request_route():\n    check()\n",
        check_function()
    );
    testing::module_style(&[])
        .run(&module)
        .unwrap_or_else(|e| panic!("module style: {e}"));
    let handler = format!(
        "{}class Handler:\n    def ksr_request_route(self, msg):\n        check()\n        return 1\n\n\
         def mod_init():\n    return Handler()\n",
        check_function()
    );
    testing::handler_style(&[])
        .run(&handler)
        .unwrap_or_else(|e| panic!("handler style: {e}"));
}

/// The same `KSR.x.modf` scenario as every engine's tests, in Python,
/// plus a reply sent through sl's native name.
const MODF_SCRIPT: &str = r#"
import KSR

def ksr_request_route():
    assert KSR.x.modf("setflag", "3") == 1
    assert KSR.isflagset(3) is True
    assert KSR.x.modf("isflagset", "3") == 1
    assert KSR.x.modf("isflagset", "4") == -1
    # native name of KSR.hdr.append
    assert KSR.x.modf("append_hf", "X-A: 1\r\n") == 1
    # a module function: its int result comes back as is
    assert KSR.x.modf("ret_int", "42") == 42
    assert KSR.x.modf("ret_none") == 1
    assert KSR.x.modf("no_such_function", "1") == -1
    assert KSR.x.modf("sl_send_reply", "403", "Not Here") == 1
"#;

#[test]
fn modf_runs_loaded_functions_by_name() {
    let (outcome, lines) = logs::capture(|| {
        testing::module_style(&[&kemi_mod_ktest::MODULE, &kemi_mod_sl::MODULE]).run(MODF_SCRIPT)
    });
    let outcome = outcome.unwrap_or_else(|e| panic!("{e}"));
    kemi_core::testing::assert_modf_script_ran(&outcome, &lines);
    assert_eq!(outcome.sent.len(), 1);
    assert!(
        outcome.sent[0]
            .bytes
            .starts_with(b"SIP/2.0 403 Not Here\r\n"),
        "{:?}",
        String::from_utf8_lossy(&outcome.sent[0].bytes)
    );
}

#[test]
fn modf_argument_errors_raise_like_ksr_functions() {
    testing::module_style(&[])
        .run(
            r#"
import KSR

def ksr_request_route():
    try:
        KSR.x.modf("setflag", "abc")
        raise AssertionError("no error")
    except ValueError as e:
        assert str(e).startswith('KSR.x.modf("setflag"): KSR.setflag: argument 1 (flag) must be int, got string "abc"'), str(e)
    try:
        KSR.x.modf("setflag", "1", "2")
        raise AssertionError("no error")
    except TypeError as e:
        assert "expects 1 argument, got 2" in str(e), str(e)
    try:
        KSR.x.modf(None)
        raise AssertionError("no error")
    except TypeError as e:
        assert "must be the function name (str), got None" in str(e), str(e)
    assert not KSR.isflagset(1)
"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    // Uncaught, it is a script error naming the function.
    let err = testing::module_style(&[])
        .run("import KSR\n\ndef ksr_request_route():\n    KSR.x.modf(\"setflag\", \"abc\")\n")
        .unwrap_err();
    assert!(
        err.contains("KSR.x.modf(\"setflag\"): KSR.setflag: argument 1 (flag) must be int"),
        "{err}"
    );
}
