//! The JavaScript test harness: a script's asserts pass or fail the test,
//! and what KSR calls changed is visible afterwards.

use kemi_mod_app_jsdt::testing::JsTest;

#[test]
fn a_passing_script_returns_the_context() {
    let out = JsTest::new(&[])
        .run(
            r#"function ksr_request_route() {
                 assert(KSR.setflag(4) === true);
                 assert(KSR.isflagset(4));
                 assert(KSR.pv.get("$ci") === "js-test-call-id");
                 KSR.setdsturi("sip:192.0.2.1:5080");
                 KSR.x.exit();
               }"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.ctx.flags, 1 << 4);
    assert_eq!(out.ctx.dst_uri.as_deref(), Some("sip:192.0.2.1:5080"));
    assert!(out.exited());
    assert!(out.sent.is_empty());
}

#[test]
fn a_failing_assert_fails_with_the_script_line() {
    let err = JsTest::new(&[])
        .run("function ksr_request_route() {\n  assert(KSR.isflagset(1), 'flag 1 expected');\n}\n")
        .expect_err("the assert must fail");
    assert!(
        err.contains("flag 1 expected") && err.contains("test.js:2"),
        "{err}"
    );
}
