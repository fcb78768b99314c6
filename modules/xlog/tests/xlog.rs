//! `KSR.xlog.*` from Lua, and the PV expansion its lines go through.

use std::sync::Arc;

use kemi_core::sip::Message;
use kemi_core::{pv, Context, Runtime};
use kemi_mod_app_lua::testing::LuaTest;

#[test]
fn every_function_returns_1_and_bad_levels_fail() {
    LuaTest::new(&[&kemi_mod_xlog::MODULE])
        .run(
            r#"function ksr_request_route()
              assert(KSR.xlog.xdbg("dbg $ru\n") == 1)
              assert(KSR.xlog.xinfo("info $ci $var(none)\n") == 1)
              assert(KSR.xlog.xnotice("notice $hdr(X-None)") == 1)
              assert(KSR.xlog.xwarn("warn $nope $") == 1)
              assert(KSR.xlog.xerr("err $fu") == 1)
              assert(KSR.xlog.xalert("alert") == 1)
              assert(KSR.xlog.xcrit("crit") == 1)
              assert(KSR.xlog.xlog("L_INFO", "via xlog $rm") == 1)
              assert(KSR.xlog.xlog("err", "lower-case level") == 1)
              assert(KSR.xlog.xlog("L_LOUD", "x") == -1)
              assert(KSR.xlog.xlog_facility("LOG_LOCAL0", "L_WARN", "fac $si") == 1)
              assert(KSR.xlog.xlog_facility("LOG_LOCAL0", "nope", "x") == -1)
            end"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn format_expands_pvs_and_keeps_other_text() {
    let msg = Message::parse(
        &b"MESSAGE sip:alice@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1\r\n\
From: <sip:bob@example.org>;tag=t1\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: fmt-1\r\n\
CSeq: 7 MESSAGE\r\n\
Content-Length: 0\r\n\r\n"[..],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut ctx = Context::for_message(Arc::new(Runtime::default()), msg, Default::default());
    pv::set_by_name(&mut ctx, "$var(n)", Some(pv::PvValue::Int(3)))
        .unwrap_or_else(|e| panic!("{e}"));
    let f = |text: &str| pv::format(&ctx, text);
    assert_eq!(f("plain"), "plain");
    assert_eq!(
        f("$rm from $fU ($ft) cseq=$cs"),
        "MESSAGE from bob (t1) cseq=7"
    );
    assert_eq!(f("[$ci]$var(n)."), "[fmt-1]3.");
    assert_eq!(f("$hdr(X-None)|$du"), "<null>|<null>");
    assert_eq!(f("cost $5 and $nope and $"), "cost $5 and $nope and $");
    assert_eq!(
        f("$(hdr(Via)[0])!"),
        "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-1!"
    );
    assert_eq!(f("$rU@$rd\n"), "alice@example.com\n");
    assert_eq!(f("été $ci ü"), "été fmt-1 ü");
}
