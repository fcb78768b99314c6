//! `KSR.x` has exactly the functions kemi-core lists for JavaScript, the
//! list the reference and the TypeScript stubs are rendered from.

use kemi_core::ksr::x;
use kemi_core::testing::{self, logs};
use kemi_mod_app_jsdt::testing::JsTest;

#[test]
fn ksr_x_has_exactly_the_documented_functions() {
    let expected = x::sorted_names(x::JAVASCRIPT).join(",");
    let script = format!(
        r#"function ksr_request_route() {{
            var names = Object.keys(KSR.x).sort();
            names.forEach(function (n) {{
                if (typeof KSR.x[n] !== "function") throw new Error(n + " is not a function");
            }});
            var got = names.join(",");
            if (got !== "{expected}") throw new Error("KSR.x has " + got);
        }}"#
    );
    JsTest::new(&[])
        .run(&script)
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The same `KSR.x.modf` scenario as every engine's tests, in JavaScript.
const MODF_SCRIPT: &str = r#"
function check(ok, what) { if (!ok) throw new Error("failed: " + what); }
function ksr_request_route() {
    check(KSR.x.modf("setflag", "3") === 1, "setflag");
    check(KSR.isflagset(3) === true, "isflagset");
    check(KSR.x.modf("isflagset", "3") === 1, "modf isflagset 3");
    check(KSR.x.modf("isflagset", "4") === -1, "modf isflagset 4");
    // native name of KSR.hdr.append
    check(KSR.x.modf("append_hf", "X-A: 1\r\n") === 1, "append_hf");
    // a module function: its int result comes back as is
    check(KSR.x.modf("ret_int", "42") === 42, "ret_int");
    check(KSR.x.modf("ret_none") === 1, "ret_none");
    check(KSR.x.modf("no_such_function", "1") === -1, "unknown");
}
"#;

#[test]
fn modf_runs_loaded_functions_by_name() {
    let (outcome, lines) =
        logs::capture(|| JsTest::new(&[&kemi_mod_ktest::MODULE]).run(MODF_SCRIPT));
    let outcome = outcome.unwrap_or_else(|e| panic!("{e}"));
    testing::assert_modf_script_ran(&outcome, &lines);
}

#[test]
fn modf_with_a_bad_int_argument_is_a_script_error() {
    let err = JsTest::new(&[])
        .run(r#"function ksr_request_route() { KSR.x.modf("setflag", "abc"); }"#)
        .unwrap_err();
    assert!(
        err.contains(
            "TypeError: KSR.x.modf(\"setflag\"): KSR.setflag: argument 1 (flag) must be int, got string \"abc\""
        ),
        "{err}"
    );
    // A script can catch it like any TypeError.
    JsTest::new(&[])
        .run(
            r#"function ksr_request_route() {
                try { KSR.x.modf("setflag", "1", "2"); throw new Error("no error"); }
                catch (e) {
                    if (!(e instanceof TypeError)) throw e;
                    if (e.message.indexOf("expects 1 argument, got 2") < 0) throw e;
                }
            }"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
}
