//! `KSR.rr.*` from Lua.

use kemi_core::config::{self, Config};
use kemi_mod_app_lua::testing::{LuaTest, Outcome};

const INVITE: &[u8] = b"INVITE sip:alice@192.0.2.20 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-rr1\r\n\
Max-Forwards: 70\r\n\
From: <sip:bob@example.org>;tag=ft1\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: rr-1\r\n\
CSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\r\n";

/// In-dialog BYE from the caller (From tag ft1) with our Route on top.
const BYE: &[u8] = b"BYE sip:alice@192.0.2.20 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-rr2\r\n\
Max-Forwards: 70\r\n\
Route: <sip:127.0.0.1;lr;ftag=ft1;nat=yes>\r\n\
Route: <sip:198.51.100.7:5070;lr>\r\n\
From: <sip:bob@example.org>;tag=ft1\r\n\
To: <sip:alice@example.com>;tag=tt1\r\n\
Call-ID: rr-1\r\n\
CSeq: 2 BYE\r\n\
Content-Length: 0\r\n\r\n";

fn cfg(params: &str) -> Config {
    config::parse_str(params, "test.cfg", &[&kemi_mod_rr::MODULE], &[])
        .unwrap_or_else(|e| panic!("{e}"))
}

fn run_cfg(c: Config, msg: &[u8], body: &str) -> Outcome {
    LuaTest::new(&[&kemi_mod_rr::MODULE])
        .config(c)
        .message(msg)
        .run(&format!("function ksr_request_route()\n{body}\nend"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn run(msg: &[u8], body: &str) -> Outcome {
    run_cfg(Config::default(), msg, body)
}

fn sent_text(out: &Outcome) -> String {
    assert_eq!(out.sent.len(), 1, "one message forwarded");
    String::from_utf8_lossy(&out.sent[0].bytes).into_owned()
}

fn rr_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("Record-Route:"))
        .collect()
}

#[test]
fn record_route_is_carried_by_forward() {
    let out = run(
        INVITE,
        r#"assert(KSR.rr.record_route() == 1)
           assert(KSR.forward() == 1)"#,
    );
    assert_eq!(
        rr_lines(&sent_text(&out)),
        ["Record-Route: <sip:127.0.0.1;lr>"]
    );
}

#[test]
fn record_route_with_ftag_and_params() {
    let c = cfg("loadmodule \"rr.so\"\nmodparam(\"rr\", \"append_fromtag\", 1)\n");
    let out = run_cfg(
        c,
        INVITE,
        r#"assert(KSR.rr.add_rr_param(";nat=yes") == 1)
           assert(KSR.rr.record_route() == 1)
           assert(KSR.rr.add_rr_param("x=1") == 1)
           assert(KSR.forward() == 1)"#,
    );
    assert_eq!(
        rr_lines(&sent_text(&out)),
        ["Record-Route: <sip:127.0.0.1;lr;ftag=ft1;nat=yes;x=1>"]
    );
}

#[test]
fn record_route_variants() {
    let out = run(
        INVITE,
        r#"assert(KSR.rr.record_route_params(";p=1") == 1)
           assert(KSR.rr.record_route_preset_one("proxy.example.net:5080") == 1)
           assert(KSR.rr.record_route_advertised_address("adv.example.net") == 1)
           assert(KSR.rr.remove_record_route() == 1)
           assert(KSR.rr.record_route_preset("10.0.0.1", "203.0.113.1:5070") == 1)"#,
    );
    let text = String::from_utf8_lossy(&out.ctx.msg.serialize()).into_owned();
    let lines = rr_lines(&text);
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines.contains(&"Record-Route: <sip:10.0.0.1;lr;r2=on>"));
    assert!(lines.contains(&"Record-Route: <sip:203.0.113.1:5070;lr;r2=on>"));
}

#[test]
fn loose_route_in_dialog_bye() {
    let out = run(
        BYE,
        r#"assert(KSR.rr.next_hop_route() == 1)
           assert(KSR.rr.loose_route() == 1)
           assert(KSR.pv.get("$du") == "sip:198.51.100.7:5070;lr")
           assert(KSR.rr.check_route_param("nat=yes") == 1)
           assert(KSR.rr.check_route_param("nat=no") == -1)
           assert(KSR.rr.is_direction("downstream") == 1)
           assert(KSR.rr.is_direction("upstream") == -1)
           assert(KSR.rr.next_hop_route() == 1)"#,
    );
    let text = String::from_utf8_lossy(&out.ctx.msg.serialize()).into_owned();
    assert!(!text.contains("Route: <sip:127.0.0.1"), "{text}");
    assert!(
        text.contains("Route: <sip:198.51.100.7:5070;lr>\r\n"),
        "{text}"
    );
    assert_eq!(out.ctx.new_uri, None);
}

#[test]
fn upstream_direction() {
    let bye = String::from_utf8_lossy(BYE)
        .replace(
            "From: <sip:bob@example.org>;tag=ft1",
            "From: <sip:alice@example.com>;tag=tt1",
        )
        .replace(
            "To: <sip:alice@example.com>;tag=tt1",
            "To: <sip:bob@example.org>;tag=ft1",
        );
    run(
        bye.as_bytes(),
        r#"assert(KSR.rr.is_direction("upstream") == -1) -- not loose-routed yet
           assert(KSR.rr.loose_route() == 1)
           assert(KSR.rr.is_direction("upstream") == 1)
           assert(KSR.rr.is_direction("downstream") == -1)
           assert(KSR.rr.is_direction("sideways") == -1)"#,
    );
}

#[test]
fn no_route_and_only_our_route() {
    run(
        INVITE,
        r#"assert(KSR.rr.loose_route() == -1)
           assert(KSR.rr.next_hop_route() == -1)
           assert(KSR.rr.check_route_param("lr") == -1)
           assert(KSR.rr.loose_route_preloaded() == -1)"#,
    );
    let only_ours =
        String::from_utf8_lossy(BYE).replace("Route: <sip:198.51.100.7:5070;lr>\r\n", "");
    let out = run(
        only_ours.as_bytes(),
        r#"assert(KSR.rr.loose_route() == 1)
           assert(KSR.pv.get("$du") == nil)
           assert(KSR.rr.next_hop_route() == -1)"#,
    );
    assert!(!String::from_utf8_lossy(&out.ctx.msg.serialize()).contains("Route:"));
}

#[test]
fn preloaded_route_not_ours() {
    let inv = String::from_utf8_lossy(INVITE).replace(
        "Call-ID",
        "Route: <sip:edge.example.net;lr>, <sip:core.example.net;lr>\r\nCall-ID",
    );
    let out = run(
        inv.as_bytes(),
        r#"assert(KSR.rr.loose_route_preloaded() == 1)
           assert(KSR.pv.get("$du") == "sip:edge.example.net;lr")
           assert(KSR.rr.check_route_param("lr") == -1)"#,
    );
    let text = String::from_utf8_lossy(&out.ctx.msg.serialize()).into_owned();
    assert!(text.contains("Route: <sip:edge.example.net;lr>, <sip:core.example.net;lr>\r\n"));
}

#[test]
fn route_values_on_one_line() {
    let bye = String::from_utf8_lossy(BYE).replace(
        "Route: <sip:127.0.0.1;lr;ftag=ft1;nat=yes>\r\nRoute: <sip:198.51.100.7:5070;lr>\r\n",
        "Route: <sip:127.0.0.1;lr;ftag=ft1>, <sip:198.51.100.7:5070;lr>\r\n",
    );
    let out = run(
        bye.as_bytes(),
        r#"assert(KSR.rr.loose_route_mode(1) == 1)
           assert(KSR.pv.get("$du") == "sip:198.51.100.7:5070;lr")"#,
    );
    let text = String::from_utf8_lossy(&out.ctx.msg.serialize()).into_owned();
    assert!(
        text.contains("Route: <sip:198.51.100.7:5070;lr>\r\n"),
        "{text}"
    );
    assert!(!text.contains("127.0.0.1;lr;ftag"), "{text}");
}

#[test]
fn strict_router_compatibility() {
    // A strict router before us put our Record-Route in the R-URI and the
    // remote target at the end of the Route set.
    let bye = String::from_utf8_lossy(BYE)
        .replace(
            "BYE sip:alice@192.0.2.20 SIP/2.0",
            "BYE sip:127.0.0.1;lr;ftag=ft1 SIP/2.0",
        )
        .replace(
            "Route: <sip:127.0.0.1;lr;ftag=ft1;nat=yes>\r\nRoute: <sip:198.51.100.7:5070;lr>\r\n",
            "Route: <sip:198.51.100.7:5070;lr>\r\nRoute: <sip:alice@192.0.2.20>\r\n",
        );
    let out = run(
        bye.as_bytes(),
        r#"assert(KSR.rr.loose_route() == 1)
           assert(KSR.pv.get("$du") == "sip:198.51.100.7:5070;lr")
           assert(KSR.pv.get("$ru") == "sip:alice@192.0.2.20")
           assert(KSR.rr.is_direction("downstream") == 1)"#,
    );
    let text = String::from_utf8_lossy(&out.ctx.msg.serialize()).into_owned();
    assert!(!text.contains("Route: <sip:alice@192.0.2.20>"), "{text}");
}
