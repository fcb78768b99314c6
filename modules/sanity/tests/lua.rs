//! `KSR.sanity.*` from Lua, on hand-made requests and on the application
//! class of RFC 4475 (messages that parse but that an element must refuse
//! or handle specially).

use std::path::PathBuf;

use kemi_core::config::{Config, LoadedModule, Value};
use kemi_mod_app_lua::testing::{LuaTest, Outcome};

const OPTIONS: &[u8] = b"OPTIONS sip:alice@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-san\r\n\
Max-Forwards: 70\r\n\
From: <sip:bob@example.org>;tag=from-tag\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: sanity-1\r\n\
CSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n";

fn rfc4475(file: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/rfc4475")
        .join(file);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn config(params: &[(&str, Value)]) -> Config {
    let mut cfg = Config::default();
    cfg.modules.push(LoadedModule {
        def: &kemi_mod_sanity::MODULE,
        params: params
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect(),
    });
    cfg
}

fn run_with(cfg: Config, msg: &[u8], body: &str) -> Outcome {
    LuaTest::new(&[&kemi_mod_sanity::MODULE, &kemi_mod_sl::MODULE])
        .config(cfg)
        .message(msg)
        .run(&format!("function ksr_request_route()\n{body}\nend"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn run(msg: &[u8], body: &str) -> Outcome {
    run_with(Config::default(), msg, body)
}

fn status(out: &Outcome) -> String {
    let b = &out.sent[0].bytes;
    let end = b.iter().position(|c| *c == b'\r').unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn edit(find: &str, replace: &str) -> Vec<u8> {
    let s = String::from_utf8_lossy(OPTIONS);
    assert!(s.contains(find), "{find}");
    s.replace(find, replace).into_bytes()
}

#[test]
fn a_good_request_passes_everything() {
    let out = run(
        OPTIONS,
        r#"assert(KSR.sanity.sanity_check_defaults() == 1)
           assert(KSR.sanity.sanity_check(16383, 15) == 1)
           assert(KSR.sanity.sanity_reply() == -1)"#,
    );
    assert!(out.sent.is_empty());
}

#[test]
fn each_check_and_its_reply() {
    let cases: &[(i32, Vec<u8>, &str)] = &[
        (2, edit("OPTIONS sip:", "OPTIONS foo:"), "SIP/2.0 416 "),
        (
            16,
            edit("SIP/2.0/UDP", "SIP/2.0/XYZ"),
            "SIP/2.0 400 Unsupported Transport",
        ),
        (32, edit("1 OPTIONS", "1 INVITE"), "SIP/2.0 400 CSeq method"),
        (
            64,
            edit("1 OPTIONS", "99999999999 OPTIONS"),
            "SIP/2.0 400 CSeq number",
        ),
        (
            128,
            edit("Length: 0", "Length: 0\r\nContent-Length: 5"),
            "SIP/2.0 400 Content-Length",
        ),
        (
            256,
            edit("Call-ID", "Expires: soon\r\nCall-ID"),
            "SIP/2.0 400 Expires",
        ),
        (
            512,
            edit("Call-ID", "Proxy-Require: foo\r\nCall-ID"),
            "SIP/2.0 420 Bad Extension",
        ),
        (
            1024,
            edit("To: <sip:alice@example.com>", "To: <sip:alice@>"),
            "SIP/2.0 400 Bad To URI",
        ),
        (
            2048,
            edit(
                "Call-ID",
                "Authorization: Digest username=\"a\", realm=\"r\"\r\nCall-ID",
            ),
            "SIP/2.0 400 Malformed Credentials",
        ),
        (
            4096,
            edit("tag=from-tag", "tag=a;tag=b"),
            "SIP/2.0 400 Duplicate Tag",
        ),
        (
            8192,
            edit("Call-ID", "Authorization: Digest nonsense\r\nCall-ID"),
            "SIP/2.0 400 Bad Authorization",
        ),
    ];
    for (flag, msg, want) in cases {
        let out = run(
            msg,
            &format!(
                "assert(KSR.sanity.sanity_check({flag}, 7) == -1, \"check {flag}\")
                 assert(KSR.sanity.sanity_reply() == 1)"
            ),
        );
        assert_eq!(out.sent.len(), 2, "flag {flag}");
        assert!(
            status(&out).starts_with(want),
            "flag {flag}: {}",
            status(&out)
        );
        assert_eq!(out.sent[0].bytes, out.sent[1].bytes, "flag {flag}");
        // Other checks let it through.
        // An unparsable CSeq fails the method check as well, bad
        // credentials the digest check.
        let also = match flag {
            64 => 32,
            8192 => 2048,
            _ => 0,
        };
        let others = 16383 & !flag & !1024 & !also;
        run(
            msg,
            &format!("assert(KSR.sanity.sanity_check({others}, 0) == 1, \"others of {flag}\")"),
        );
    }
}

#[test]
fn missing_headers_fail_without_a_reply() {
    // A reply needs Call-ID: nothing can be sent, as in Kamailio.
    let msg = edit("Call-ID: sanity-1\r\n", "");
    let out = run(
        &msg,
        r#"assert(KSR.sanity.sanity_check(4, 0) == -1)
           assert(KSR.sanity.sanity_reply() == -1)
           assert(KSR.sanity.sanity_check(16383 - 4 - 1024, 0) == 1)"#,
    );
    assert!(out.sent.is_empty());
    assert_eq!(out.ctx.error_reply.as_ref().map(|e| e.0), Some(400));
}

#[test]
fn bad_extension_lists_what_is_unsupported() {
    let out = run(
        &rfc4475("bext01.dat"),
        "assert(KSR.sanity.sanity_check_defaults() == -1)",
    );
    assert!(status(&out).starts_with("SIP/2.0 420 "));
    let text = String::from_utf8_lossy(&out.sent[0].bytes);
    assert!(text.contains("Unsupported: noProxiesSupportThis, norDoAnyProxiesSupportThis\r\n"));
    // Extensions named in proxy_require are accepted.
    let cfg = config(&[(
        "proxy_require",
        Value::Str("noProxiesSupportThis, NORDOANYPROXIESSUPPORTTHIS".into()),
    )]);
    let out = run_with(
        cfg,
        &rfc4475("bext01.dat"),
        "assert(KSR.sanity.sanity_check_defaults() == 1)",
    );
    assert!(out.sent.is_empty());
}

#[test]
fn rfc4475_application_class() {
    // Unknown R-URI schemes: 416.
    for file in ["unkscm.dat", "novelsc.dat"] {
        let out = run(
            &rfc4475(file),
            "assert(KSR.sanity.sanity_check_defaults() == -1)",
        );
        assert!(status(&out).starts_with("SIP/2.0 416 "), "{file}");
    }
    // Requests an application handles; sanity lets them through.
    for file in [
        "unksm2.dat",
        "invut.dat",
        "regaut01.dat",
        "zeromf.dat",
        "cparam01.dat",
        "cparam02.dat",
        "regescrt.dat",
        "sdp01.dat",
    ] {
        let out = run(
            &rfc4475(file),
            "assert(KSR.sanity.sanity_check_defaults() == 1)",
        );
        assert!(out.sent.is_empty(), "{file}");
    }
}

#[test]
fn params_noreply_and_defaults() {
    let bad = edit("1 OPTIONS", "1 INVITE");
    let cfg = config(&[("noreply", Value::Int(1))]);
    let out = run_with(
        cfg,
        &bad,
        r#"assert(KSR.sanity.sanity_check_defaults() == -1)
           assert(KSR.sanity.sanity_reply() == 1)"#,
    );
    assert_eq!(out.sent.len(), 1);
    assert!(status(&out).starts_with("SIP/2.0 400 CSeq method"));
    // default_checks without the CSeq method check: passes.
    let cfg = config(&[("default_checks", Value::Int(3047 & !32))]);
    let out = run_with(cfg, &bad, "assert(KSR.sanity.sanity_check_defaults() == 1)");
    assert!(out.sent.is_empty());
    // The recorded error feeds sl_reply_error.
    let out = run(
        &bad,
        r#"assert(KSR.sanity.sanity_check(32, 0) == -1)
           assert(KSR.sl.sl_reply_error() == 1)"#,
    );
    assert_eq!(out.sent.len(), 2);
    assert_eq!(out.sent[0].bytes, out.sent[1].bytes);
}
