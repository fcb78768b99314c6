//! `KSR.x` has exactly the functions kemi-core lists for Lua, the list the
//! reference and the stubs are rendered from.

use kemi_core::ksr::x;
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
