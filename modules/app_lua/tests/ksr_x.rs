//! `KSR.x` has exactly the functions kemi-core lists for Lua, the list the
//! reference and the stubs are rendered from.

use kemi_core::ksr::x;
use kemi_core::testing::{self, logs};
use kemi_mod_app_lua::testing::LuaTest;

#[test]
fn ksr_x_has_exactly_the_documented_functions() {
    let expected = x::sorted_names(x::LUA).join(",");
    let script = format!(
        r#"function ksr_request_route()
            local names = {{}}
            for name, f in pairs(KSR.x) do
                assert(type(f) == "function", name .. " is not a function")
                names[#names + 1] = name
            end
            table.sort(names)
            local got = table.concat(names, ",")
            assert(got == "{expected}", "KSR.x has " .. got)
        end"#
    );
    LuaTest::new(&[])
        .run(&script)
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The script the `KSR.x.modf` tests of every engine run, in Lua.
const MODF_SCRIPT: &str = r#"
function ksr_request_route()
    assert(KSR.x.modf("setflag", "3") == 1)
    assert(KSR.isflagset(3))
    assert(KSR.x.modf("isflagset", "3") == 1)
    assert(KSR.x.modf("isflagset", "4") == -1)
    -- native name of KSR.hdr.append
    assert(KSR.x.modf("append_hf", "X-A: 1\r\n") == 1)
    -- a module function: its int result comes back as is
    assert(KSR.x.modf("ret_int", "42") == 42)
    assert(KSR.x.modf("ret_none") == 1)
    assert(KSR.x.modf("no_such_function", "1") == -1)
end
"#;

#[test]
fn modf_runs_loaded_functions_by_name() {
    let (outcome, lines) =
        logs::capture(|| LuaTest::new(&[&kemi_mod_ktest::MODULE]).run(MODF_SCRIPT));
    let outcome = outcome.unwrap_or_else(|e| panic!("{e}"));
    testing::assert_modf_script_ran(&outcome, &lines);
}

#[test]
fn modf_with_a_bad_int_argument_is_a_script_error() {
    let err = LuaTest::new(&[])
        .run(r#"function ksr_request_route() KSR.x.modf("setflag", "abc") end"#)
        .unwrap_err();
    assert!(
        err.contains(
            "KSR.x.modf(\"setflag\"): KSR.setflag: argument 1 (flag) must be int, got string \"abc\""
        ),
        "{err}"
    );
    let err = LuaTest::new(&[])
        .run(r#"function ksr_request_route() KSR.x.modf("setflag", "1", "2") end"#)
        .unwrap_err();
    assert!(
        err.contains("KSR.x.modf(\"setflag\"): KSR.setflag: expects 1 argument, got 2"),
        "{err}"
    );
}
