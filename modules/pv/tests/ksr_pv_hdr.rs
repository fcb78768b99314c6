//! The core `KSR.pv` and `KSR.hdr` functions, called from Lua the way
//! scripts call them, against an INVITE fixture.

use std::net::SocketAddr;

use kemi_core::net::{Proto, RecvInfo};
use kemi_mod_app_lua::testing::{LuaTest, Outcome};

const INVITE: &[u8] = b"INVITE sip:alice:pw@example.com:5070;transport=tcp SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1\r\n\
v: SIP/2.0/TCP 198.51.100.1;branch=z9hG4bK-2\r\n\
Max-Forwards: 70\r\n\
f: \"Bob B\" <sip:bob@example.org>;tag=ftag\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: call-1@example.org\r\n\
CSeq: 42 INVITE\r\n\
User-Agent: Test UA 1.0\r\n\
X-Num: 17\r\n\
X-Multi: one\r\n\
X-Multi: Two\r\n\
Content-Type: text/plain\r\n\
Content-Length: 5\r\n\r\nhello";

const REPLY: &[u8] = b"SIP/2.0 486 Busy Here\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1\r\n\
From: <sip:bob@example.org>;tag=ftag\r\n\
To: <sip:alice@example.com>;tag=ttag\r\n\
Call-ID: call-1@example.org\r\n\
CSeq: 42 INVITE\r\n\
Content-Length: 0\r\n\r\n";

fn run(msg: &[u8], body: &str) -> Outcome {
    LuaTest::new(&[&kemi_mod_pv::MODULE])
        .message(msg)
        .received(RecvInfo {
            proto: Proto::Tcp,
            src: SocketAddr::from(([192, 0, 2, 10], 5062)),
            local: SocketAddr::from(([127, 0, 0, 1], 5060)),
        })
        .run(&format!("function ksr_request_route()\n{body}\nend"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn serialized(out: &Outcome) -> String {
    String::from_utf8_lossy(&out.ctx.msg.serialize()).into_owned()
}

#[test]
fn message_pvs_read() {
    run(
        INVITE,
        r#"
        local function eq(name, want)
          local got = KSR.pv.get(name)
          assert(got == want, name .. " = " .. tostring(got) .. ", wanted " .. tostring(want))
        end
        eq("$ru", "sip:alice:pw@example.com:5070;transport=tcp")
        eq("$rU", "alice")
        eq("$rd", "example.com")
        eq("$rp", 5070)
        eq("$rz", "sip")
        eq("$fu", "sip:bob@example.org")
        eq("$fU", "bob")
        eq("$fd", "example.org")
        eq("$fn", "Bob B")
        eq("$ft", "ftag")
        eq("$tu", "sip:alice@example.com")
        eq("$tU", "alice")
        eq("$td", "example.com")
        eq("$tn", nil)
        eq("$tt", nil)
        eq("$ci", "call-1@example.org")
        eq("$cs", 42)
        eq("$rm", "INVITE")
        eq("$rs", nil)
        eq("$rr", nil)
        eq("$si", "192.0.2.10")
        eq("$sp", 5062)
        eq("$Ri", "127.0.0.1")
        eq("$Rp", 5060)
        eq("$pr", "tcp")
        eq("$proto", "tcp")
        eq("$ua", "Test UA 1.0")
        eq("$rb", "hello")
        eq("$du", nil)
        eq("$ruid", nil)
        eq("$null", nil)
        assert(KSR.pv.get("$ml") == #KSR.pv.get("$mb"))
        assert(string.sub(KSR.pv.get("$mb"), 1, 7) == "INVITE ")
        eq("$hdr(Via)", "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1")
        eq("$(hdr(v)[1])", "SIP/2.0/TCP 198.51.100.1;branch=z9hG4bK-2")
        eq("$(hdr(Via)[-1])", "SIP/2.0/TCP 198.51.100.1;branch=z9hG4bK-2")
        eq("$(hdr(x-multi)[*])", "one,Two")
        eq("$hdr(From)", "\"Bob B\" <sip:bob@example.org>;tag=ftag")
        eq("$hdr(X-None)", nil)
        eq("$hdrc(Via)", 2)
        eq("$hdrc(X-None)", 0)
        "#,
    );
}

#[test]
fn reply_pvs_read() {
    run(
        REPLY,
        r#"
        assert(KSR.pv.get("$rs") == 486)
        assert(KSR.pv.get("$rr") == "Busy Here")
        assert(KSR.pv.get("$rm") == "INVITE")
        assert(KSR.pv.get("$ru") == nil)
        assert(KSR.pv.get("$tt") == "ttag")
        assert(KSR.pv.sets("$ru", "sip:x@y") == false)
        "#,
    );
}

#[test]
fn null_forms_and_defaults() {
    run(
        INVITE,
        r#"
        assert(KSR.pv.get("$hdr(X-None)") == nil)
        assert(KSR.pv.gete("$hdr(X-None)") == "")
        assert(KSR.pv.getw("$hdr(X-None)") == "<null>")
        assert(KSR.pv.getw("$ci") == "call-1@example.org")
        assert(KSR.pv.gete("$ci") == "call-1@example.org")
        assert(KSR.pv.getvn("$hdr(X-None)", 7) == 7)
        assert(KSR.pv.getvn("$cs", 7) == 42)
        assert(KSR.pv.getvs("$hdr(X-None)", "dflt") == "dflt")
        assert(KSR.pv.getvs("$rU", "dflt") == "alice")
        assert(KSR.pv.is_null("$hdr(X-None)") == true)
        assert(KSR.pv.is_null("$ci") == false)
        -- bad names: logged, null, never an error
        assert(KSR.pv.get("ru") == nil)
        assert(KSR.pv.get("$nope") == nil)
        assert(KSR.pv.get("$var(x") == nil)
        assert(KSR.pv.getw("$nope") == "<null>")
        assert(KSR.pv.gete("$nope") == "")
        assert(KSR.pv.geti("$nope") == 0)
        assert(KSR.pv.getl("$nope") == 0)
        assert(KSR.pv.is_null("$nope") == true)
        assert(KSR.pv.sets("$nope", "x") == false)
        assert(KSR.pv.unset("$nope") == false)
        "#,
    );
}

#[test]
fn integer_getters() {
    run(
        INVITE,
        r#"
        assert(KSR.pv.geti("$cs") == 42)
        assert(KSR.pv.geti("$hdr(X-Num)") == 17)
        assert(KSR.pv.geti("$ci") == 0)
        assert(KSR.pv.geti("$hdr(X-None)") == 0)
        assert(KSR.pv.getl("$hdr(X-Num)") == 17)
        assert(KSR.pv.setl("$var(big)", 1099511627776) == true)
        assert(KSR.pv.getl("$var(big)") == 1099511627776)
        assert(KSR.pv.get("$var(big)") == 1099511627776)
        assert(math.type(KSR.pv.get("$cs")) == "integer")
        "#,
    );
}

#[test]
fn vars_and_shared_vars() {
    run(
        INVITE,
        r#"
        assert(KSR.pv.get("$var(never)") == 0)
        assert(KSR.pv.is_null("$var(never)") == false)
        assert(KSR.pv.seti("$var(n)", 5) == true)
        assert(KSR.pv.get("$var(n)") == 5)
        assert(KSR.pv.sets("$var(n)", "five") == true)
        assert(KSR.pv.get("$var(n)") == "five")
        assert(KSR.pv.unset("$var(n)") == true)
        assert(KSR.pv.get("$var(n)") == 0)
        assert(KSR.pv.sets("$shv(s)", "shared") == true)
        assert(KSR.pv.get("$shv(s)") == "shared")
        assert(KSR.pv.get("$shv(unset)") == 0)
        "#,
    );
}

#[test]
fn avps_stack_and_unset() {
    run(
        INVITE,
        r#"
        assert(KSR.pv.is_null("$avp(a)") == true)
        assert(KSR.pv.seti("$avp(a)", 1) == true)
        assert(KSR.pv.sets("$avp(a)", "two") == true)
        assert(KSR.pv.get("$avp(a)") == "two")
        assert(KSR.pv.get("$(avp(a)[1])") == 1)
        assert(KSR.pv.get("$(avp(a)[-1])") == 1)
        assert(KSR.pv.get("$(avp(a)[*])") == "two,1")
        assert(KSR.pv.sets("$(avp(a)[1])", "one") == true)
        assert(KSR.pv.get("$(avp(a)[1])") == "one")
        assert(KSR.pv.sets("$(avp(a)[5])", "x") == false)
        assert(KSR.pv.unset("$avp(a)") == true)
        assert(KSR.pv.get("$avp(a)") == "one")
        assert(KSR.pv.seti("$avp(a)", 3) == true)
        assert(KSR.pv.unset("$(avp(a)[*])") == true)
        assert(KSR.pv.is_null("$avp(a)") == true)
        "#,
    );
}

#[test]
fn xavps_through_pv() {
    let out = run(
        INVITE,
        r#"
        assert(KSR.pv.sets("$xavp(r=>a)", "1") == true)
        assert(KSR.pv.seti("$xavp(r=>b)", 2) == true)
        assert(KSR.pv.get("$xavp(r=>a)") == "1")
        assert(KSR.pv.get("$xavp(r[0]=>b)") == 2)
        assert(KSR.pv.sets("$xavp(r)", "top") == true)
        assert(KSR.pv.get("$xavp(r)") == "top")
        assert(KSR.pv.get("$xavp(r[1]=>a)") == "1")
        assert(KSR.pv.get("$xavp(r=>a)") == nil)
        assert(KSR.pv.unset("$xavp(r)") == true)
        assert(KSR.pv.get("$xavp(r=>a)") == "1")
        assert(KSR.pv.unset("$xavp(r=>a)") == true)
        assert(KSR.pv.get("$xavp(r=>a)") == nil)
        assert(KSR.pv.sets("$xavu(u)", "1") == true)
        assert(KSR.pv.sets("$xavu(u)", "2") == true)
        assert(KSR.pv.get("$xavu(u)") == "2")
        assert(KSR.pv.sets("$xavi(CaSe=>K)", "v") == true)
        assert(KSR.pv.get("$xavi(case=>k)") == "v")
        assert(KSR.pv.get("$xavp(x[3])") == nil)
        "#,
    );
    assert_eq!(out.ctx.pv.xavus.count("u", false), 1);
}

#[test]
fn ruri_and_du_writes() {
    let out = run(
        INVITE,
        r#"
        assert(KSR.pv.sets("$rU", "carol") == true)
        assert(KSR.pv.get("$ru") == "sip:carol@example.com:5070;transport=tcp")
        assert(KSR.pv.sets("$rd", "other.net") == true)
        assert(KSR.pv.seti("$rp", 5080) == true)
        assert(KSR.pv.get("$rp") == 5080)
        assert(KSR.pv.unset("$rp") == true)
        assert(KSR.pv.get("$rp") == 0)
        assert(KSR.pv.sets("$rp", "nan") == false)
        assert(KSR.pv.get("$ru") == "sip:carol@other.net;transport=tcp")
        assert(KSR.pv.sets("$du", "sip:proxy.example.net;transport=tcp") == true)
        assert(KSR.pv.get("$du") == "sip:proxy.example.net;transport=tcp")
        assert(KSR.pv.sets("$ruid", "r1") == true)
        assert(KSR.pv.get("$ruid") == "r1")
        -- read-only and refused ones
        assert(KSR.pv.sets("$ci", "x") == false)
        assert(KSR.pv.sets("$null", "x") == false)
        assert(KSR.pv.unset("$ru") == false)
        "#,
    );
    assert_eq!(
        out.ctx.new_uri.as_deref(),
        Some("sip:carol@other.net;transport=tcp")
    );
    assert_eq!(
        out.ctx.dst_uri.as_deref(),
        Some("sip:proxy.example.net;transport=tcp")
    );
    let out = run(
        INVITE,
        r#"assert(KSR.pv.sets("$ru", "sip:z@z.org") == true)
        assert(KSR.pv.get("$rU") == "z")
        assert(KSR.pv.unset("$du") == true)
        assert(KSR.pv.get("$du") == nil)
        assert(KSR.pv.sets("$ru", "") == false)"#,
    );
    assert_eq!(out.ctx.new_uri.as_deref(), Some("sip:z@z.org"));
    assert_eq!(out.ctx.dst_uri, None);
}

/// The serialised message after the route.
fn sent_text(out: &Outcome) -> String {
    String::from_utf8(out.ctx.msg.serialize()).unwrap()
}

#[test]
fn from_and_to_parts_are_writable() {
    let out = run(
        INVITE,
        r#"
        assert(KSR.pv.sets("$fU", "carol") == true)
        assert(KSR.pv.sets("$fd", "c.example.net") == true)
        assert(KSR.pv.sets("$fn", "Carol C") == true)
        -- Reads keep seeing the received header, as in Kamailio.
        assert(KSR.pv.get("$fu") == "sip:bob@example.org")
        assert(KSR.pv.sets("$tu", "sip:dave@d.example.net;user=phone") == true)
        assert(KSR.pv.sets("$tn", "Dave") == true)
        "#,
    );
    let text = sent_text(&out);
    assert!(
        text.contains("\r\nf: \"Carol C\" <sip:carol@c.example.net>;tag=ftag\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\nTo: \"Dave\" <sip:dave@d.example.net;user=phone>\r\n"),
        "{text}"
    );
    // Nothing else changed.
    let expected = String::from_utf8_lossy(INVITE)
        .replace(
            "f: \"Bob B\" <sip:bob@example.org>",
            "f: \"Carol C\" <sip:carol@c.example.net>",
        )
        .replace(
            "To: <sip:alice@example.com>",
            "To: \"Dave\" <sip:dave@d.example.net;user=phone>",
        );
    assert_eq!(text, expected);

    // Null removes the display name and the user; $fu and $fd cannot be
    // null. A reply's To keeps its tag.
    let out = run(
        INVITE,
        r#"
        assert(KSR.pv.unset("$fn") == true)
        assert(KSR.pv.unset("$tU") == true)
        assert(KSR.pv.unset("$fu") == false)
        assert(KSR.pv.unset("$td") == false)
        assert(KSR.pv.sets("$fu", "") == false)
        assert(KSR.pv.sets("$fU", "x\r\nX-Evil: 1") == false)
        assert(KSR.pv.sets("$ft", "newtag") == false)
        "#,
    );
    let text = sent_text(&out);
    assert!(
        text.contains("\r\nf: <sip:bob@example.org>;tag=ftag\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nTo: <sip:example.com>\r\n"), "{text}");
    assert!(!text.contains("X-Evil"), "{text}");

    let out = run(
        REPLY,
        r#"
        assert(KSR.pv.sets("$tU", "alice2") == true)
        assert(KSR.pv.sets("$fu", "sip:bob@b.example.org") == true)
        "#,
    );
    let text = sent_text(&out);
    assert!(
        text.contains("\r\nTo: <sip:alice2@example.com>;tag=ttag\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\nFrom: <sip:bob@b.example.org>;tag=ftag\r\n"),
        "{text}"
    );
}

#[test]
fn sbranch_pv() {
    run(
        INVITE,
        r#"
        assert(KSR.pv.sets("$sbranch(uri)", "sip:b@example.net") == true)
        assert(KSR.pv.get("$sbranch(uri)") == "sip:b@example.net")
        assert(KSR.pv.seti("$sbranch(q)", 500) == true)
        assert(KSR.pv.get("$sbranch(q)") == 500)
        assert(KSR.pv.sets("$sbranch(bogus)", "x") == false)
        "#,
    );
}

#[test]
fn hdr_reads() {
    run(
        INVITE,
        r#"
        assert(KSR.hdr.is_present("Via") == 1)
        assert(KSR.hdr.is_present("v") == 1)
        assert(KSR.hdr.is_present("from") == 1)
        assert(KSR.hdr.is_present("X-None") == -1)
        assert(KSR.hdr.is_present("") == -1)
        assert(KSR.hdr.get("From") == "\"Bob B\" <sip:bob@example.org>;tag=ftag")
        assert(KSR.hdr.get("x-multi") == "one")
        assert(KSR.hdr.get("X-None") == nil)
        assert(KSR.hdr.gete("X-None") == "")
        assert(KSR.hdr.getw("X-None") == "<null>")
        assert(KSR.hdr.gete("X-Num") == "17")
        assert(KSR.hdr.getw("X-Num") == "17")
        assert(KSR.hdr.get_idx("Via", 1) == "SIP/2.0/TCP 198.51.100.1;branch=z9hG4bK-2")
        assert(KSR.hdr.get_idx("v", -1) == "SIP/2.0/TCP 198.51.100.1;branch=z9hG4bK-2")
        assert(KSR.hdr.get_idx("v", -2) == "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1")
        assert(KSR.hdr.get_idx("Via", 2) == nil)
        assert(KSR.hdr.get_idx("Via", -3) == nil)
        assert(KSR.hdr.gete_idx("Via", 2) == "")
        assert(KSR.hdr.getw_idx("Via", 2) == "<null>")
        assert(KSR.hdr.gete_idx("X-Multi", 1) == "Two")
        assert(KSR.hdr.getw_idx("X-Multi", -1) == "Two")
        assert(KSR.hdr.get("bad name") == nil)
        "#,
    );
}

#[test]
fn hdr_match_content() {
    run(
        INVITE,
        r#"
        assert(KSR.hdr.match_content("X-Multi", "eq", "ONE", "f") == true)
        assert(KSR.hdr.match_content("X-Multi", "eq", "two", "l") == true)
        assert(KSR.hdr.match_content("X-Multi", "eq", "two", "f") == false)
        assert(KSR.hdr.match_content("X-Multi", "ne", "two", "f") == true)
        assert(KSR.hdr.match_content("X-Multi", "eq", "two", "o") == true)
        assert(KSR.hdr.match_content("X-Multi", "eq", "two", "a") == false)
        assert(KSR.hdr.match_content("X-Multi", "in", "o", "a") == true)
        assert(KSR.hdr.match_content("User-Agent", "sw", "test ua", "f") == true)
        assert(KSR.hdr.match_content("User-Agent", "sw", "ua", "f") == false)
        assert(KSR.hdr.match_content("User-Agent", "re", ".*", "f") == false)
        assert(KSR.hdr.match_content("User-Agent", "xx", "a", "f") == false)
        assert(KSR.hdr.match_content("X-None", "eq", "a", "o") == false)
        assert(KSR.hdr.match_content("X-None", "eq", "a", "a") == false)
        assert(KSR.hdr.match_content("X-Num", "eq", "17", "z") == false)
        "#,
    );
}

#[test]
fn hdr_edits_are_recorded_not_read_back() {
    let out = run(
        INVITE,
        r#"
        assert(KSR.hdr.append("X-App: 1\r\n") == 1)
        assert(KSR.hdr.is_present("X-App") == -1)
        assert(KSR.hdr.insert("X-First: a\r\nX-Second: b\r\n") == 1)
        assert(KSR.hdr.append_after("X-After: 1\r\n", "CSeq") == 1)
        assert(KSR.hdr.insert_before("X-Before: 1\r\n", "t") == 1)
        assert(KSR.hdr.append_after("X-End: 1\r\n", "X-None") == 1)
        assert(KSR.hdr.insert_before("X-Top: 1\r\n", "X-None") == 1)
        assert(KSR.hdr.remove("X-Multi") == 1)
        assert(KSR.hdr.remove("X-None") == 1)
        assert(KSR.hdr.get("X-Multi") == "one")
        assert(KSR.hdr.rmappend("User-Agent", "User-Agent: new\r\n") == 1)
        assert(KSR.hdr.rminsert("X-Num", "X-Num: 18\r\n") == 1)
        -- refused texts
        assert(KSR.hdr.append("X-NoCrlf: 1") == -1)
        assert(KSR.hdr.append("no colon\r\n") == -1)
        assert(KSR.hdr.insert("") == -1)
        assert(KSR.hdr.remove("") == -1)
        assert(KSR.hdr.append_after("X-A: 1\r\n", "bad name") == -1)
        assert(KSR.hdr.append_to_reply("X-Reply: 1\r\n") == 1)
        assert(KSR.hdr.append_to_reply("X-Reply") == -1)
        "#,
    );
    let text = serialized(&out);
    let lines: Vec<&str> = text.split("\r\n").collect();
    let pos = |h: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(h))
            .unwrap_or_else(|| panic!("{h} missing from {text}"))
    };
    // Texts added at the same place come out in the order they were added.
    assert!(pos("X-First:") < pos("X-Top:"));
    assert!(pos("X-Top:") < pos("Via:"));
    assert!(pos("X-First:") < pos("X-Second:"));
    assert!(pos("X-Second:") < pos("Via:"));
    assert!(pos("X-Before:") + 1 == pos("To:"));
    assert!(pos("X-After:") == pos("CSeq:") + 1);
    assert!(pos("X-App:") < pos("X-End:"));
    assert!(pos("User-Agent: new") > pos("Content-Length:"));
    assert!(pos("X-Num: 18") < pos("Via:"));
    assert!(!text.contains("X-Multi"));
    assert!(!text.contains("Test UA"));
    assert!(!text.contains("X-Num: 17"));
    assert!(!text.contains("NoCrlf"));
    assert!(text.ends_with("\r\n\r\nhello"));
    assert_eq!(out.ctx.reply_headers, "X-Reply: 1\r\n");
}

#[test]
fn hdr_folded_text_and_compact_remove() {
    let out = run(
        INVITE,
        r#"
        assert(KSR.hdr.append("X-Fold: a\r\n b\r\n") == 1)
        assert(KSR.hdr.remove("v") == 1)
        "#,
    );
    let text = serialized(&out);
    assert!(text.contains("X-Fold: a b\r\n"), "{text}");
    assert!(!text.contains("Via:") && !text.contains("\r\nv:"), "{text}");
}
