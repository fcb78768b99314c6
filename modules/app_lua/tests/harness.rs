//! The Lua test harness other modules use: a script's asserts pass or fail
//! the test, and what KSR calls changed is visible afterwards.

use kemi_mod_app_lua::testing::LuaTest;

#[test]
fn a_passing_script_returns_the_context() {
    let out = LuaTest::new(&[])
        .run(
            r#"function ksr_request_route()
                 assert(KSR.setflag(4) == true)
                 assert(KSR.isflagset(4))
                 KSR.setdsturi("sip:192.0.2.1:5080")
                 KSR.x.exit()
               end"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.ctx.flags, 1 << 4);
    assert_eq!(out.ctx.dst_uri.as_deref(), Some("sip:192.0.2.1:5080"));
    assert!(out.exited());
    assert!(out.sent.is_empty());
}

#[test]
fn a_failing_assert_fails_with_the_script_line() {
    let err = LuaTest::new(&[])
        .run("function ksr_request_route()\n  assert(KSR.isflagset(1), 'flag 1 expected')\nend\n")
        .expect_err("the assert must fail");
    assert!(
        err.contains("flag 1 expected") && err.contains(":2:"),
        "{err}"
    );
}
