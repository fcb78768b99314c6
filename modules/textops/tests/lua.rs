//! KSR.textops from Lua, against message fixtures: return codes and the
//! exact bytes the recorded edits produce.

use kemi_mod_app_lua::testing::{LuaTest, Outcome};

const SDP: &str = "v=0\r\n\
o=alice 1 1 IN IP4 192.0.2.10\r\n\
s=-\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0\r\n\
a=sendrecv\r\n";

fn invite() -> String {
    format!(
        "INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1\r\n\
v: SIP/2.0/TCP 192.0.2.11;branch=z9hG4bK-0\r\n\
f: <sip:alice@example.org>;tag=a1\r\n\
To: <sip:bob@example.com>\r\n\
i: call-1\r\n\
CSeq: 1 INVITE\r\n\
Supported: timer, 100rel\r\n\
Supported: path\r\n\
X-Info: one\r\n\
X-Info: two\r\n\
Privacy: id;header\r\n\
Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\
\r\n\
{SDP}",
        SDP.len()
    )
}

const MP_BODY: &str = "--b1\r\n\
Content-Type: application/sdp\r\n\
\r\n\
v=0\r\n\
c=IN IP4 0.0.0.0\r\n\
m=audio 4000 RTP/AVP 0\r\n\
\r\n\
--b1\r\n\
Content-Type: application/isup\r\n\
Content-Disposition: signal\r\n\
\r\n\
ISUPDATA\r\n\
--b1--\r\n";

fn multipart() -> String {
    format!(
        "INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1\r\n\
From: <sip:alice@example.org>;tag=a1\r\n\
To: <sip:bob@example.com>\r\n\
Call-ID: call-2\r\n\
CSeq: 1 INVITE\r\n\
Content-Type: multipart/mixed;boundary=b1\r\n\
Content-Length: {}\r\n\
\r\n\
{MP_BODY}",
        MP_BODY.len()
    )
}

fn run(msg: &str, body: &str) -> Outcome {
    LuaTest::new(&[&kemi_mod_textops::MODULE])
        .message(msg.as_bytes())
        .run(&format!("function ksr_request_route()\n{body}\nend"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn out(o: &Outcome) -> String {
    String::from_utf8(o.ctx.msg.serialize()).unwrap()
}

/// The serialised message must be `msg` with `from` replaced by `to`.
fn assert_changed(o: &Outcome, msg: &str, from: &str, to: &str) {
    assert!(msg.contains(from), "fixture lacks {from:?}");
    assert_eq!(out(o), msg.replacen(from, to, 1));
}

fn with_body(msg: &str, old: &str, new: &str) -> String {
    msg.replace(old, new).replace(
        &format!(
            "Content-Length: {}",
            msg.len() - msg.find("\r\n\r\n").unwrap() - 4
        ),
        &format!(
            "Content-Length: {}",
            msg.len() - msg.find("\r\n\r\n").unwrap() - 4 + new.len() - old.len()
        ),
    )
}

#[test]
fn search_family() {
    let m = invite();
    let o = run(
        &m,
        r#"
        local t = KSR.textops
        assert(t.search("^cseq: 1 invite") == 1)
        assert(t.search("nothing-here") == -1)
        assert(t.search("(") == -1)
        assert(t.search_body("^m=audio [0-9]+") == 1)
        assert(t.search_body("^Via") == -1)
        assert(t.search_hf("Supported", "path", "") == 1)
        assert(t.search_hf("Supported", "path", "f") == -1)
        assert(t.search_hf("Supported", "path", "l") == 1)
        assert(t.search_hf("via", "TCP", "") == 1)
        assert(t.search_hf("X-None", ".", "") == -1)
        assert(t.search_str("hello world", "WORLD$") == 1)
        assert(t.search_str("hello", "x") == -1)
        assert(t.is_present_hf("From") == 1)
        assert(t.is_present_hf("Call-ID") == 1)
        assert(t.is_present_hf("x-info") == 1)
        assert(t.is_present_hf("Route") == -1)
        assert(t.is_present_hf_re("^x-i") == 1)
        assert(t.is_present_hf_re("^Route$") == -1)
        assert(t.is_present_hf_re("[") == -1)
    "#,
    );
    assert_eq!(out(&o), m);
}

#[test]
fn search_append_in_headers_and_body() {
    let m = invite();
    let o = run(
        &m,
        r#"assert(KSR.textops.search_append("X-Info: one", ";x=1") == 1)
        assert(KSR.textops.search_append("nomatch", "z") == -1)"#,
    );
    assert_changed(&o, &m, "X-Info: one", "X-Info: one;x=1");
    let o = run(
        &m,
        r#"assert(KSR.textops.search_append_body("^s=-", "x") == 1)"#,
    );
    assert_eq!(out(&o), with_body(&m, "s=-", "s=-x"));
}

#[test]
fn replace_family() {
    let m = invite();
    let o = run(
        &m,
        r#"assert(KSR.textops.replace("x-info: [a-z]+", "X-Info: uno") == 1)"#,
    );
    assert_changed(&o, &m, "X-Info: one", "X-Info: uno");
    let o = run(
        &m,
        r#"assert(KSR.textops.replace_all("X-Info: [a-z]+", "X-I: n") == 1)"#,
    );
    assert_eq!(
        out(&o),
        m.replace("X-Info: one", "X-I: n")
            .replace("X-Info: two", "X-I: n")
    );
    let o = run(
        &m,
        r#"assert(KSR.textops.replace("sip:bob@", "sip:carol@") == 1)"#,
    );
    assert_changed(&o, &m, "INVITE sip:bob@", "INVITE sip:carol@");
    let o = run(
        &m,
        r#"assert(KSR.textops.replace_body("192\\.0\\.2\\.10", "198.51.100.1") == 1)"#,
    );
    assert_eq!(
        out(&o),
        with_body(
            &m,
            "o=alice 1 1 IN IP4 192.0.2.10",
            "o=alice 1 1 IN IP4 198.51.100.1"
        )
    );
    let o = run(
        &m,
        r#"assert(KSR.textops.replace_body_all("192\\.0\\.2\\.10", "10.0.0.1") == 1)"#,
    );
    let body = SDP.replace("192.0.2.10", "10.0.0.1");
    assert_eq!(out(&o), with_body(&m, SDP, &body));
    let o = run(
        &m,
        r#"assert(KSR.textops.replace_body_atonce("192\\.0\\.2\\.10", "10.0.0.1") == 1)
        assert(KSR.textops.replace_body_atonce("zzz", "y") == -1)"#,
    );
    assert_eq!(out(&o), with_body(&m, SDP, &body));
    let o = run(
        &m,
        r#"assert(KSR.textops.replace_hdrs("192\\.0\\.2\\.10", "H") == 1)
        assert(KSR.textops.replace_hdrs("^v=0", "x") == -1)"#,
    );
    assert_changed(&o, &m, "UDP 192.0.2.10:5062", "UDP H:5062");
    let o = run(
        &m,
        r#"assert(KSR.textops.replace_str("X-Info", "X-Data", "a") == 1)
        assert(KSR.textops.replace_str("X-Info", "X", "q") == -1)
        assert(KSR.textops.replace_str("absent", "X", "f") == -1)"#,
    );
    assert_eq!(out(&o), m.replace("X-Info", "X-Data"));
    let o = run(
        &m,
        r#"assert(KSR.textops.replace_body_str("IN IP4", "IN IP6", "f") == 1)"#,
    );
    assert_eq!(
        out(&o),
        with_body(&m, "o=alice 1 1 IN IP4", "o=alice 1 1 IN IP6")
    );
    let o = run(
        &m,
        r#"assert(KSR.textops.replace_hdrs_str("timer", "t", "f") == 1)
        assert(KSR.textops.replace_hdrs_str("v=0", "t", "a") == -1)"#,
    );
    assert_changed(&o, &m, "timer", "t");
}

#[test]
fn subst_family() {
    let m = invite();
    let o = run(
        &m,
        r#"assert(KSR.textops.subst("/(X-Info): (o)ne/\\1: \\2NE/") == 1)
        assert(KSR.textops.subst("/nomatch/x/") == -1)
        assert(KSR.textops.subst("/bad") == -1)
        assert(KSR.textops.subst("/(/x/") == -1)"#,
    );
    assert_changed(&o, &m, "X-Info: one", "X-Info: oNE");
    let o = run(
        &m,
        r#"assert(KSR.textops.subst("/x-info: ([a-z]+)/X-Info: [\\1]/ig") == 1)"#,
    );
    assert_eq!(
        out(&o),
        m.replace("X-Info: one", "X-Info: [one]")
            .replace("X-Info: two", "X-Info: [two]")
    );
    let o = run(
        &m,
        r#"assert(KSR.textops.subst_body("/a=sendrecv/a=sendonly/") == 1)"#,
    );
    assert_eq!(out(&o), with_body(&m, "a=sendrecv", "a=sendonly"));
    let o = run(
        &m,
        r#"assert(KSR.textops.subst_hf("Supported", "/([a-z0-9]+)/<\\1>/g", "") == 1)
        assert(KSR.textops.subst_hf("X-None", "/a/b/", "") == -1)"#,
    );
    assert_eq!(
        out(&o),
        m.replace("Supported: timer, 100rel", "Supported: <timer>, <100rel>")
            .replace("Supported: path", "Supported: <path>")
    );
    let o = run(
        &m,
        r#"assert(KSR.textops.subst_hf("X-Info", "/.*/last/", "l") == 1)"#,
    );
    assert_changed(&o, &m, "X-Info: two", "X-Info: last");
    let o = run(
        &m,
        r#"
        assert(KSR.textops.subst_uri("/^sip:bob@(.*)$/sip:carol@\\1;x=y/") == 1)
        assert(KSR.textops.subst_uri("/^tel:/x/") == -1)"#,
    );
    assert_eq!(o.ctx.new_uri.as_deref(), Some("sip:carol@example.com;x=y"));
    let o = run(
        &m,
        r#"assert(KSR.textops.subst_user("/bob/+4930/") == 1)
        assert(KSR.textops.subst_user("/zzz/y/") == -1)"#,
    );
    assert_eq!(o.ctx.new_uri.as_deref(), Some("sip:+4930@example.com"));
    let o = run(
        &m,
        r#"assert(KSR.textops.subst_v("abc", "/b/X/", "$var(x)") == 1)
        assert(KSR.pv.get("$var(x)") == "aXc")
        assert(KSR.textops.subst_v("abc", "/q/X/", "$var(y)") == -1)
        assert(KSR.textops.subst_v("abc", "/b/X/", "$ci") == -1)"#,
    );
    assert_eq!(out(&o), m);
}

#[test]
fn remove_hf_family() {
    let m = invite();
    let o = run(
        &m,
        r#"assert(KSR.textops.remove_hf("x-info") == 2)
        assert(KSR.textops.remove_hf("Route") == -1)"#,
    );
    assert_eq!(out(&o), m.replace("X-Info: one\r\nX-Info: two\r\n", ""));
    // Compact and full forms are one header.
    let o = run(&m, r#"assert(KSR.textops.remove_hf("Via") == 2)"#);
    assert_eq!(
        out(&o),
        m.replace("Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1\r\nv: SIP/2.0/TCP 192.0.2.11;branch=z9hG4bK-0\r\n", "")
    );
    let o = run(
        &m,
        r#"assert(KSR.textops.remove_hf_re("^(x-|priv)") == 3)
        assert(KSR.textops.remove_hf_re("^zzz") == -1)
        assert(KSR.textops.remove_hf_re("(") == -1)"#,
    );
    assert_eq!(
        out(&o),
        m.replace("X-Info: one\r\nX-Info: two\r\nPrivacy: id;header\r\n", "")
    );
    let o = run(
        &m,
        r#"assert(KSR.textops.remove_hf_idx("X-Info", 1) == 1)
        assert(KSR.textops.remove_hf_idx("X-Info", 2) == -1)
        assert(KSR.textops.remove_hf_idx("X-Info", -3) == -1)"#,
    );
    assert_eq!(out(&o), m.replace("X-Info: two\r\n", ""));
    let o = run(
        &m,
        r#"assert(KSR.textops.remove_hf_idx("Supported", -2) == 1)"#,
    );
    assert_eq!(out(&o), m.replace("Supported: timer, 100rel\r\n", ""));
    let o = run(
        &m,
        r#"assert(KSR.textops.remove_hf_exp("^[xs]", "^supp") == 2)
        assert(KSR.textops.remove_hf_exp("^zz", "^s") == -1)"#,
    );
    assert_eq!(out(&o), m.replace("X-Info: one\r\nX-Info: two\r\n", ""));
    let o = run(
        &m,
        r#"
        assert(KSR.textops.remove_hf_match("X-Info", "eq", "two") == 1)
        assert(KSR.textops.remove_hf_match("X-Info", "zz", "two") == -1)
        assert(KSR.textops.remove_hf_match("Supported", "sw", "nothing") == -1)"#,
    );
    assert_eq!(out(&o), m.replace("X-Info: two\r\n", ""));
    let o = run(
        &m,
        r#"assert(KSR.textops.remove_hf_match("Supported", "re", "^t.*rel$") == 1)"#,
    );
    assert_eq!(out(&o), m.replace("Supported: timer, 100rel\r\n", ""));
    let o = run(
        &m,
        r#"assert(KSR.textops.remove_hf_match("X-Info", "ne", "one") == 1)
        assert(KSR.textops.remove_hf_match("Supported", "in", "100") == 1)"#,
    );
    assert_eq!(
        out(&o),
        m.replace("X-Info: two\r\n", "")
            .replace("Supported: timer, 100rel\r\n", "")
    );
}

#[test]
fn bodies() {
    let m = invite();
    let o = run(
        &m,
        r#"
        local t = KSR.textops
        assert(t.has_body() == 1)
        assert(t.has_body_type("application/sdp") == 1)
        assert(t.has_body_type("application/*") == 1)
        assert(t.has_body_type("text/plain") == -1)
        assert(t.set_body("hello", "text/plain") == 1)
        -- reads still see the received message
        assert(t.has_body_type("application/sdp") == 1)
        assert(t.set_body("", "text/plain") == -1)"#,
    );
    let expected = m
        .replace("Content-Type: application/sdp", "Content-Type: text/plain")
        .replace(
            &format!("Content-Length: {}", SDP.len()),
            "Content-Length: 5",
        )
        .replace(SDP, "hello");
    assert_eq!(out(&o), expected);
    let o = run(
        &m,
        r#"assert(KSR.textops.set_body_hex("68 690a", "text/x") == 1)
        assert(KSR.textops.set_body_hex("6", "text/x") == -1)"#,
    );
    let expected = m
        .replace("Content-Type: application/sdp", "Content-Type: text/x")
        .replace(
            &format!("Content-Length: {}", SDP.len()),
            "Content-Length: 3",
        )
        .replace(SDP, "hi\n");
    assert_eq!(out(&o), expected);
    // No body, no Content-Type: set_body adds one.
    let o = LuaTest::new(&[&kemi_mod_textops::MODULE])
        .run(
            r#"function ksr_request_route()
            assert(KSR.textops.has_body() == -1)
            assert(KSR.textops.has_body_type("application/sdp") == -1)
            assert(KSR.textops.set_body("abc", "text/plain") == 1)
            assert(KSR.textops.set_body("abcd", "text/html") == 1)
        end"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let s = out(&o);
    assert!(
        s.ends_with("Content-Length: 4\r\nContent-Type: text/html\r\n\r\nabcd"),
        "{s}"
    );
    assert_eq!(s.matches("Content-Type").count(), 1);
}

#[test]
fn audio_hold() {
    let m = invite();
    let o = run(&m, r#"assert(KSR.textops.is_audio_on_hold() == -1)"#);
    assert_eq!(out(&o), m);
    let held = with_body(&m, "a=sendrecv", "a=inactive");
    run(&held, r#"assert(KSR.textops.is_audio_on_hold() == 2)"#);
    let held = with_body(&m, "c=IN IP4 192.0.2.10", "c=IN IP4 0.0.0.0");
    run(&held, r#"assert(KSR.textops.is_audio_on_hold() == 1)"#);
    // The SDP part of a multipart body.
    run(
        &multipart(),
        r#"assert(KSR.textops.is_audio_on_hold() == 1)"#,
    );
    run(
        &multipart(),
        r#"assert(KSR.textops.has_body_type("application/isup") == 1)"#,
    );
}

#[test]
fn multipart_parts() {
    let m = multipart();
    let o = run(
        &m,
        r#"assert(KSR.textops.filter_body("application/isup") == 1)
        assert(KSR.textops.filter_body("text/html") == -1)"#,
    );
    let expected = m
        .replace("multipart/mixed;boundary=b1", "application/isup")
        .replace(
            &format!("Content-Length: {}", MP_BODY.len()),
            "Content-Length: 8",
        )
        .replace(MP_BODY, "ISUPDATA");
    assert_eq!(out(&o), expected);
    run(
        &invite(),
        r#"assert(KSR.textops.filter_body("application/sdp") == -1)"#,
    );

    let o = run(
        &m,
        r#"assert(KSR.textops.remove_body_part("application/sdp") == 1)
        assert(KSR.textops.remove_body_part("text/html") == -1)"#,
    );
    let sdp_part = "--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n\r\n";
    assert_eq!(out(&o), with_body(&m, sdp_part, ""));

    let o = run(
        &m,
        r#"assert(KSR.textops.append_body_part("hello", "text/plain") == 1)
        assert(KSR.textops.append_body_part_cd("x", "text/x", "render") == 1)
        assert(KSR.textops.append_body_part_hex("6869", "text/y") == 1)
        assert(KSR.textops.append_body_part_hex_cd("21", "text/z", "session") == 1)
        assert(KSR.textops.append_body_part_hex("2", "text/y") == -1)
        assert(KSR.textops.append_body_part("", "text/y") == -1)"#,
    );
    let added = "--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
--b1\r\nContent-Type: text/x\r\nContent-Disposition: render\r\n\r\nx\r\n\
--b1\r\nContent-Type: text/y\r\n\r\nhi\r\n\
--b1\r\nContent-Type: text/z\r\nContent-Disposition: session\r\n\r\n!\r\n--b1--\r\n";
    assert_eq!(out(&o), with_body(&m, "--b1--\r\n", added));

    let o = run(
        &m,
        r#"assert(KSR.textops.get_body_part("application/isup", "$var(x)") == 1)
        assert(#KSR.pv.get("$var(x)") > 0)
        assert(KSR.textops.get_body_part_raw("application/isup", "$var(raw)") == 1)
        assert(string.find(KSR.pv.get("$var(raw)"), "application/isup", 1, true))
        assert(KSR.textops.get_body_part("text/html", "$var(none)") == -1)"#,
    );
    assert_eq!(out(&o), m);
    let msg = kemi_core::sip::Message::parse(m.clone().into_bytes()).unwrap();
    assert_eq!(
        kemi_mod_textops::kemi::body_part(&msg, "application/isup", false).unwrap(),
        b"ISUPDATA"
    );
    assert!(
        kemi_mod_textops::kemi::body_part(&msg, "application/isup", true)
            .unwrap()
            .starts_with(b"--b1\r\nContent-Type: application/isup\r\n")
    );
}

#[test]
fn make_multipart() {
    let m = invite();
    let o = run(
        &m,
        r#"assert(KSR.textops.set_body_multipart_mode() == 1)
        assert(KSR.textops.append_body_part("hello", "text/plain") == 1)"#,
    );
    let body = format!(
        "--unique-boundary-1\r\nContent-Type: application/sdp\r\n\r\n{SDP}\r\n\
--unique-boundary-1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--unique-boundary-1--\r\n"
    );
    let expected = with_body(&m, SDP, &body).replace(
        "Content-Type: application/sdp\r\nContent-Length",
        "Content-Type: multipart/mixed;boundary=\"unique-boundary-1\"\r\nContent-Length",
    );
    assert_eq!(out(&o), expected);
    let o = run(
        &m,
        r#"assert(KSR.textops.set_body_multipart_boundary("zz") == 1)
        assert(KSR.textops.set_body_multipart_boundary("bad boundary") == -1)"#,
    );
    assert!(out(&o).contains("multipart/mixed;boundary=\"zz\"\r\n"));
    assert!(out(&o).ends_with(&format!(
        "\r\n\r\n--zz\r\nContent-Type: application/sdp\r\n\r\n{SDP}\r\n--zz--\r\n"
    )));
    let o = run(
        &m,
        r#"assert(KSR.textops.set_body_multipart_content("hi", "text/plain") == 1)"#,
    );
    assert!(out(&o).ends_with("\r\n\r\n--unique-boundary-1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--unique-boundary-1--\r\n"));
    let o = run(
        &m,
        r#"assert(KSR.textops.set_body_multipart("hi", "text/plain", "bb") == 1)"#,
    );
    let s = out(&o);
    assert!(
        s.ends_with(
            "Content-Length: 46\r\n\r\n--bb\r\nContent-Type: text/plain\r\n\r\nhi\r\n--bb--\r\n"
        ),
        "{s}"
    );
    // No body to convert.
    LuaTest::new(&[&kemi_mod_textops::MODULE])
        .run(
            r#"function ksr_request_route()
            assert(KSR.textops.set_body_multipart_mode() == -1)
            assert(KSR.textops.append_body_part("a", "text/plain") == 1)
        end"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn privacy_and_strings() {
    let m = invite();
    let o = run(
        &m,
        r#"
        local t = KSR.textops
        assert(t.is_privacy("id") == 1)
        assert(t.is_privacy("HEADER") == 1)
        assert(t.is_privacy("session") == -1)
        assert(t.in_list("b", "a, b ,c", ",") == 1)
        assert(t.in_list("d", "a,b,c", ",") == -1)
        assert(t.in_list("a", "a,b", "") == -1)
        assert(t.in_list_prefix("+4930123", "+33;+49", ";") == 1)
        assert(t.in_list_prefix("+4130123", "+33;+49", ";") == -1)
        assert(t.cmp_str("abc", "abc") == 1)
        assert(t.cmp_str("abc", "ABC") == -1)
        assert(t.cmp_istr("abc", "ABC") == 1)
        assert(t.cmp_istr("abc", "abd") == -1)
        assert(t.starts_with("sip:alice", "sip:") == 1)
        assert(t.starts_with("sip:alice", "tel:") == -1)
        assert(t.ends_with("alice@example.com", ".com") == 1)
        assert(t.ends_with("alice@example.com", ".org") == -1)
        assert(t.str_find("hello", "ll") == 3)
        assert(t.str_find("hello", "LL") == -1)
        assert(t.str_ifind("hello", "LL") == 3)
        assert(t.str_ifind("hello", "x") == -1)
        assert(t.str_any_in("hello", "xyzo") == 1)
        assert(t.str_any_in("hello", "xyz") == -1)
        assert(t.str_all_in("hello", "oh") == 1)
        assert(t.str_all_in("hello", "ohx") == -1)
        assert(t.regex_substring("abc123def", "([a-z]+)([0-9]+)", 2, 0, "$var(x)") == 1)
        assert(KSR.pv.get("$var(x)") == "123")
        assert(t.regex_substring("abcdef", "([0-9]+)", 1, 0, "$var(x)") == -1)
    "#,
    );
    assert_eq!(out(&o), m);
    assert_eq!(
        kemi_mod_textops::kemi::substring("a1 b22 c333", "([a-z])([0-9]+)", 2, 1).as_deref(),
        Some("22")
    );
    assert!(kemi_mod_textops::kemi::substring("a1", "(", 0, 0).is_none());
    assert!(kemi_mod_textops::kemi::substring("a1", "x", 0, 0).is_none());
}

/// Routes `msg` with textops, sl and tm loaded.
fn run_replying(msg: &str, body: &str) -> Outcome {
    LuaTest::new(&[
        &kemi_mod_textops::MODULE,
        &kemi_mod_sl::MODULE,
        &kemi_mod_tm::MODULE,
    ])
    .message(msg.as_bytes())
    .run(&format!("function ksr_request_route()\n{body}\nend"))
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Content-Type, Content-Length and body of the `n`th message sent.
fn reply_body(o: &Outcome, n: usize) -> (Option<String>, Option<usize>, Vec<u8>) {
    let r = kemi_core::sip::Message::parse(o.sent[n].bytes.clone()).unwrap();
    let ctype = r
        .header(kemi_core::sip::HeaderName::ContentType)
        .map(str::to_string);
    (ctype, r.content_length().unwrap(), r.body().to_vec())
}

#[test]
fn reply_body_goes_into_stateless_replies() {
    let o = run_replying(
        &invite(),
        r#"assert(KSR.textops.set_reply_body("<html>busy</html>", "text/html") == 1)
        -- One reply body per request.
        assert(KSR.textops.set_reply_body("again", "text/plain") == -1)
        assert(KSR.sl.sl_send_reply(486, "Busy Here") == 1)
        assert(KSR.sl.send_reply(486, "Busy Here") == 1)"#,
    );
    assert_eq!(o.sent.len(), 2);
    for n in 0..2 {
        assert!(o.sent[n].bytes.starts_with(b"SIP/2.0 486 Busy Here\r\n"));
        assert_eq!(
            reply_body(&o, n),
            (
                Some("text/html".into()),
                Some(17),
                b"<html>busy</html>".to_vec()
            )
        );
    }
    // The request itself keeps its body.
    assert_eq!(out(&o), invite());

    let o = run_replying(
        &invite(),
        r#"assert(KSR.textops.set_reply_body_hex("68690a00ff", "application/octet-stream") == 1)
        assert(KSR.sl.sl_send_reply(200, "OK") == 1)"#,
    );
    assert_eq!(
        reply_body(&o, 0),
        (
            Some("application/octet-stream".into()),
            Some(5),
            vec![b'h', b'i', b'\n', 0, 0xff]
        )
    );
}

#[test]
fn reply_body_goes_into_transaction_replies() {
    let o = run_replying(
        &invite(),
        r#"assert(KSR.tm.t_newtran() == 1)
        assert(KSR.textops.set_reply_body("v=0\r\n", "application/sdp") == 1)
        assert(KSR.tm.t_reply(200, "OK") == 1)"#,
    );
    assert_eq!(o.sent.len(), 1);
    assert!(o.sent[0].bytes.starts_with(b"SIP/2.0 200 OK\r\n"));
    assert_eq!(
        reply_body(&o, 0),
        (Some("application/sdp".into()), Some(5), b"v=0\r\n".to_vec())
    );
}

#[test]
fn reply_body_refusals() {
    let o = run_replying(
        &invite(),
        r#"assert(KSR.textops.set_reply_body("", "text/plain") == -1)
        assert(KSR.textops.set_reply_body("x", "") == -1)
        assert(KSR.textops.set_reply_body("x", "text/plain\r\nX-Evil: 1") == -1)
        assert(KSR.textops.set_reply_body_hex("7", "text/plain") == -1)
        assert(KSR.textops.set_reply_body_hex("zz", "text/plain") == -1)
        assert(KSR.textops.set_reply_body_hex("", "text/plain") == -1)
        assert(KSR.sl.sl_send_reply(404, "Not Found") == 1)"#,
    );
    // Nothing was queued: the reply has no body and no Content-Type.
    assert_eq!(reply_body(&o, 0), (None, Some(0), Vec::new()));
    assert!(o.ctx.reply_headers.is_empty());
}
