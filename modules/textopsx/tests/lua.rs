//! KSR.textopsx from Lua: return codes and the exact serialised bytes.

use kemi_core::context::RouteKind;
use kemi_mod_app_lua::testing::{LuaTest, Outcome};

const BODY: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\nm=audio 4000 RTP/AVP 0\r\n";

fn invite() -> String {
    format!(
        "INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1\r\n\
f: <sip:alice@example.org>;tag=a1\r\n\
To: <sip:bob@example.com>\r\n\
i: call-1\r\n\
CSeq: 1 INVITE\r\n\
Supported: timer, 100rel;q=1\r\n\
k: path\r\n\
X-Info: one\r\n\
Contact: <sip:alice@192.0.2.10>;expires=60\r\n\
Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\
\r\n\
{BODY}",
        BODY.len()
    )
}

const REPLY: &str = "SIP/2.0 486 Busy Here\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1\r\n\
From: <sip:alice@example.org>;tag=a1\r\n\
To: <sip:bob@example.com>;tag=b1\r\n\
Call-ID: call-1\r\n\
CSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\
\r\n";

fn run_as(msg: &str, route: RouteKind, body: &str) -> Outcome {
    LuaTest::new(&[&kemi_mod_textops::MODULE, &kemi_mod_textopsx::MODULE])
        .message(msg.as_bytes())
        .route(route)
        .run(&format!("function ksr_request_route()\n{body}\nend"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn run(msg: &str, body: &str) -> Outcome {
    run_as(msg, RouteKind::Request, body)
}

fn out(o: &Outcome) -> String {
    String::from_utf8(o.ctx.msg.serialize()).unwrap()
}

fn body_changed(msg: &str, old: &str, new: &str) -> String {
    let len = BODY.len();
    msg.replacen(old, new, 1).replace(
        &format!("Content-Length: {len}"),
        &format!("Content-Length: {}", len + new.len() - old.len()),
    )
}

#[test]
fn apply_changes_and_set_buffer() {
    let m = invite();
    let o = run(
        &m,
        r#"
        assert(KSR.textops.remove_hf("X-Info") == 1)
        assert(KSR.textops.is_present_hf("X-Info") == 1)
        assert(KSR.textopsx.msg_apply_changes() == 1)
        assert(KSR.textops.is_present_hf("X-Info") == -1)
        assert(KSR.textopsx.msg_apply_changes() == 1)"#,
    );
    assert!(!o.ctx.msg.is_modified());
    assert_eq!(out(&o), m.replace("X-Info: one\r\n", ""));
    let o = run(
        &m,
        &format!(
            "assert(KSR.textopsx.msg_set_buffer({:?}) == 1)\n\
         assert(KSR.textopsx.msg_set_buffer(\"garbage\") == -1)",
            REPLY
        ),
    );
    assert_eq!(out(&o), REPLY);
}

#[test]
fn reply_status() {
    let o = run_as(
        REPLY,
        RouteKind::Reply,
        r#"
        assert(KSR.textopsx.change_reply_status(603, "Decline") == 1)
        assert(KSR.textopsx.change_reply_status(200, "OK") == -1)
        assert(KSR.textopsx.change_reply_status(999, "X") == -1)"#,
    );
    assert_eq!(out(&o), REPLY.replace("486 Busy Here", "603 Decline"));
    let o = run_as(
        REPLY,
        RouteKind::Reply,
        r#"assert(KSR.textopsx.change_reply_status_code(480) == 1)"#,
    );
    assert_eq!(out(&o), REPLY.replace("486 Busy Here", "480 Busy Here"));
    let o = run(
        &invite(),
        r#"assert(KSR.textopsx.change_reply_status(486, "Busy") == -1)
        assert(KSR.textopsx.change_reply_status_code(486) == -1)"#,
    );
    assert_eq!(out(&o), invite());
    let ok200 = REPLY.replace("486 Busy Here", "200 OK");
    run_as(
        &ok200,
        RouteKind::Reply,
        r#"assert(KSR.textopsx.change_reply_status_code(486) == -1)"#,
    );
}

#[test]
fn body_and_keep() {
    let m = invite();
    let o = run(&m, r#"assert(KSR.textopsx.remove_body() == 1)"#);
    assert_eq!(out(&o), body_changed(&m, BODY, ""));
    let o = run(REPLY, r#"assert(KSR.textopsx.remove_body() == 1)"#);
    assert_eq!(out(&o), REPLY);
    let o = run(&m, r#"assert(KSR.textopsx.keep_hf() == 1)"#);
    assert_eq!(
        out(&o),
        m.replace(
            "Supported: timer, 100rel;q=1\r\nk: path\r\nX-Info: one\r\n",
            ""
        )
    );
    let o = run(
        &m,
        r#"assert(KSR.textopsx.keep_hf_re("^x-") == 1)
        assert(KSR.textopsx.keep_hf_re("(") == -1)"#,
    );
    assert_eq!(
        out(&o),
        m.replace("Supported: timer, 100rel;q=1\r\nk: path\r\n", "")
    );
}

#[test]
fn shell_matching() {
    run(
        &invite(),
        r#"
        local x = KSR.textopsx
        assert(x.fnmatch("sip.example.com", "*.example.com") == 1)
        assert(x.fnmatch("example.org", "*.example.com") == -1)
        assert(x.fnmatch("abc", "a?c") == 1)
        assert(x.fnmatch("ABC", "a*") == -1)
        assert(x.fnmatch_ex("ABC", "a*", "i") == 1)
        assert(x.fnmatch_ex("ABC", "a*", "") == -1)"#,
    );
}

#[test]
fn header_values() {
    let m = invite();
    let o = run(
        &m,
        r#"assert(KSR.textopsx.append_hf_value("Supported", "gruu") == 1)"#,
    );
    assert_eq!(out(&o), m.replace("k: path", "k: path, gruu"));
    let o = run(
        &m,
        r#"assert(KSR.textopsx.append_hf_value("Supported[1]", "gruu") == 1)
        assert(KSR.textopsx.append_hf_value("Supported[9]", "x") == -1)
        assert(KSR.textopsx.append_hf_value("[1]", "x") == -1)"#,
    );
    assert_eq!(out(&o), m.replace("timer, 100rel", "timer, gruu, 100rel"));
    let o = run(
        &m,
        r#"assert(KSR.textopsx.insert_hf_value("Supported", "gruu") == 1)"#,
    );
    assert_eq!(
        out(&o),
        m.replace("Supported: timer", "Supported: gruu, timer")
    );
    let o = run(
        &m,
        r#"assert(KSR.textopsx.insert_hf_value("X-New", "v") == 1)"#,
    );
    assert_eq!(out(&o), m.replace("\r\n\r\nv=0", "\r\nX-New: v\r\n\r\nv=0"));
    let o = run(
        &m,
        r#"assert(KSR.textopsx.assign_hf_value("Supported[-1]", "outbound") == 1)"#,
    );
    assert_eq!(out(&o), m.replace("k: path", "k: outbound"));
    let o = run(
        &m,
        r#"assert(KSR.textopsx.assign_hf_value("Contact.expires", "30") == 1)
        assert(KSR.textopsx.assign_hf_value("Supported[2].q", "0.5") == 1)"#,
    );
    assert_eq!(
        out(&o),
        m.replace("expires=60", "expires=30")
            .replace("100rel;q=1", "100rel;q=0.5")
    );
    let o = run(
        &m,
        r#"assert(KSR.textopsx.assign_hf_value("Supported[1].x", "") == 1)"#,
    );
    assert_eq!(out(&o), m.replace("timer,", "timer;x,"));
    let o = run(
        &m,
        r#"assert(KSR.textopsx.assign_hf_value2("Supported[1]", "a, b") == 1)
        assert(KSR.textopsx.assign_hf_value2("Supported[3]", "x") == -1)"#,
    );
    assert_eq!(out(&o), m.replace("timer, 100rel;q=1", "a, b"));
    let o = run(
        &m,
        r#"assert(KSR.textopsx.remove_hf_value("Supported[2]") == 1)"#,
    );
    assert_eq!(out(&o), m.replace("timer, 100rel;q=1", "timer"));
    let o = run(
        &m,
        r#"assert(KSR.textopsx.remove_hf_value("Supported[3]") == 1)"#,
    );
    assert_eq!(out(&o), m.replace("k: path\r\n", ""));
    let o = run(
        &m,
        r#"assert(KSR.textopsx.remove_hf_value("Contact.expires") == 1)
        assert(KSR.textopsx.remove_hf_value("Contact.nothere") == -1)
        assert(KSR.textopsx.remove_hf_value("X-None") == -1)"#,
    );
    assert_eq!(out(&o), m.replace(";expires=60", ""));
    let o = run(
        &m,
        r#"assert(KSR.textopsx.remove_hf_value2("Supported[1]", "") == 1)"#,
    );
    assert_eq!(out(&o), m.replace("Supported: timer, 100rel;q=1\r\n", ""));
    let o = run(
        &m,
        r#"assert(KSR.textopsx.include_hf_value("Supported", "PATH") == 1)
        assert(KSR.textopsx.include_hf_value("Supported", "gruu") == 1)"#,
    );
    assert_eq!(out(&o), m.replace("k: path", "k: path, gruu"));
    let o = run(
        &m,
        r#"assert(KSR.textopsx.exclude_hf_value("Supported", "timer") == 1)
        assert(KSR.textopsx.exclude_hf_value("Supported", "gruu") == -1)"#,
    );
    assert_eq!(out(&o), m.replace("timer, 100rel", "100rel"));
    let o = run(
        &m,
        r#"
        assert(KSR.textopsx.hf_value_exists("Supported", "path") == 1)
        assert(KSR.textopsx.hf_value_exists("k", "timer") == 1)
        assert(KSR.textopsx.hf_value_exists("Supported", "gruu") == -1)"#,
    );
    assert_eq!(out(&o), m);
}

#[test]
fn header_iterator() {
    let m = invite();
    let o = run(
        &m,
        r#"
        local x = KSR.textopsx
        assert(x.hf_iterator_next("h") == -1)
        assert(x.hf_iterator_hname("h") == nil)
        assert(x.hf_iterator_start("h") == 1)
        local names = {}
        while x.hf_iterator_next("h") == 1 do
            names[#names + 1] = x.hf_iterator_hname("h")
            if x.hf_iterator_hname("h") == "X-Info" then
                assert(x.hf_iterator_hbody("h") == "one")
                assert(x.hf_iterator_rm("h") == 1)
                assert(x.hf_iterator_insert("h", "X-Before: 1") == 1)
                assert(x.hf_iterator_append("h", "X-After: 2\r\n") == 1)
            end
        end
        assert(#names == 11, #names)
        assert(names[2] == "f")
        assert(x.hf_iterator_hbody("h") == nil)
        assert(x.hf_iterator_prev("h") == 1)
        assert(x.hf_iterator_hname("h") == "Content-Length")
        assert(x.hf_iterator_end("h") == 1)
        assert(x.hf_iterator_end("h") == -1)
        assert(x.hf_iterator_prev("h") == -1)
        assert(x.hf_iterator_start("") == -1)"#,
    );
    assert_eq!(
        out(&o),
        m.replace("X-Info: one\r\n", "X-Before: 1\r\nX-After: 2\r\n")
    );
}

#[test]
fn body_line_iterator() {
    let m = invite();
    let o = run(
        &m,
        r#"
        local x = KSR.textopsx
        assert(x.bl_iterator_start("b") == 1)
        local n = 0
        while x.bl_iterator_next("b") == 1 do
            n = n + 1
            local v = x.bl_iterator_value("b")
            if v:sub(1, 2) == "o=" then
                assert(x.bl_iterator_rm("b") == 1)
            elseif v == "v=0" then
                assert(x.bl_iterator_insert("b", "x=before\r\n") == 1)
                assert(x.bl_iterator_append("b", "s=-\r\n") == 1)
            end
        end
        assert(n == 3)
        assert(x.bl_iterator_value("b") == nil)
        assert(x.bl_iterator_end("b") == 1)
        assert(x.bl_iterator_rm("b") == -1)
        assert(x.bl_iterator_append("b", "z") == -1)"#,
    );
    assert_eq!(
        out(&o),
        body_changed(
            &m,
            BODY,
            "x=before\r\nv=0\r\ns=-\r\nm=audio 4000 RTP/AVP 0\r\n"
        )
    );
}
