//! `KSR.maxfwd.*` from Lua.

use kemi_mod_app_lua::testing::{LuaTest, Outcome};

const NO_MF: &[u8] = b"OPTIONS sip:alice@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-mf\r\n\
From: <sip:bob@example.org>;tag=f\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: mf-1\r\n\
CSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n";

fn with_mf(value: &str) -> Vec<u8> {
    String::from_utf8_lossy(NO_MF)
        .replace("Call-ID", &format!("Max-Forwards: {value}\r\nCall-ID"))
        .into_bytes()
}

fn run(msg: &[u8], body: &str) -> Outcome {
    LuaTest::new(&[&kemi_mod_maxfwd::MODULE])
        .message(msg)
        .run(&format!("function ksr_request_route()\n{body}\nend"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn serialized_mf(out: &Outcome) -> Option<u8> {
    let bytes = out.ctx.msg.serialize();
    kemi_core::sip::Message::parse(bytes)
        .unwrap()
        .max_forwards()
        .unwrap()
}

#[test]
fn decrements_an_existing_value() {
    let out = run(
        &with_mf("70"),
        r#"assert(KSR.maxfwd.is_maxfwd_lt(71) == 1)
           assert(KSR.maxfwd.is_maxfwd_lt(70) == -1)
           assert(KSR.maxfwd.process_maxfwd(10) == 1)"#,
    );
    assert_eq!(serialized_mf(&out), Some(69));
}

#[test]
fn adds_a_missing_header() {
    let out = run(
        NO_MF,
        r#"assert(KSR.maxfwd.is_maxfwd_lt(10) == -2)
           assert(KSR.maxfwd.process_maxfwd(10) == 2)"#,
    );
    assert_eq!(serialized_mf(&out), Some(10));
}

#[test]
fn zero_means_do_not_forward() {
    let out = run(
        &with_mf("0"),
        r#"assert(KSR.maxfwd.process_maxfwd(10) == -1)
           assert(KSR.maxfwd.is_maxfwd_lt(1) == 1)"#,
    );
    assert!(!out.ctx.msg.is_modified());
}

#[test]
fn bad_values_and_limits() {
    run(
        &with_mf("abc"),
        r#"assert(KSR.maxfwd.process_maxfwd(10) == -2)
           assert(KSR.maxfwd.is_maxfwd_lt(10) == -3)"#,
    );
    run(
        &with_mf("256"),
        r#"assert(KSR.maxfwd.process_maxfwd(10) == -2)"#,
    );
    run(NO_MF, r#"assert(KSR.maxfwd.process_maxfwd(300) == -2)"#);
}
