//! `KSR.sl.*` from Lua: status lines, To tags, Vias, destinations.

use std::net::SocketAddr;

use kemi_core::context::RouteKind;
use kemi_core::net::{Proto, RecvInfo};
use kemi_core::sip::Message;
use kemi_mod_app_lua::testing::{LuaTest, Outcome};

const INVITE: &[u8] = b"INVITE sip:alice@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-sl-1;rport\r\n\
Via: SIP/2.0/UDP 10.1.1.1;branch=z9hG4bK-down\r\n\
Max-Forwards: 70\r\n\
From: <sip:bob@example.org>;tag=from-tag\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: sl-call-1\r\n\
CSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\r\n";

fn run(msg: &[u8], body: &str) -> Outcome {
    LuaTest::new(&[&kemi_mod_sl::MODULE])
        .message(msg)
        .run(&format!("function ksr_request_route()\n{body}\nend"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn reply(out: &Outcome, n: usize) -> Message {
    Message::parse(out.sent[n].bytes.clone()).unwrap()
}

#[test]
fn send_reply_builds_a_reply() {
    let out = run(
        INVITE,
        r#"assert(KSR.sl.send_reply(404, "Not Here") == 1)
           assert(KSR.sl.sl_send_reply(404, "Not Here") == 1)
           assert(KSR.sl.send_reply_mode(100, "Trying", 0) == 1)"#,
    );
    assert_eq!(out.sent.len(), 3);
    assert!(out.sent[0].bytes.starts_with(b"SIP/2.0 404 Not Here\r\n"));
    let r = reply(&out, 0);
    let vias = r.vias().unwrap();
    assert_eq!(vias.len(), 2);
    // rport requested: filled in, with received; sent to the source port.
    assert_eq!(vias[0].rport(), Some(Some(5062)));
    assert_eq!(out.sent[0].dst, SocketAddr::from(([192, 0, 2, 10], 5062)));
    assert_eq!(
        out.sent[0].from,
        Some(SocketAddr::from(([127, 0, 0, 1], 5060)))
    );
    assert_eq!(r.call_id().unwrap(), "sl-call-1");
    assert_eq!(r.cseq().unwrap().number, 1);
    // Same request, same reply: the To tag is stable.
    let tag = r.to().unwrap().tag().unwrap().to_string();
    assert!(!tag.is_empty());
    assert_eq!(out.sent[0].bytes, out.sent[1].bytes);
    // 100 gets no To tag.
    assert!(out.sent[2].bytes.starts_with(b"SIP/2.0 100 Trying\r\n"));
    assert_eq!(reply(&out, 2).to().unwrap().tag(), None);
    // A different request gets a different tag.
    let other = String::from_utf8_lossy(INVITE).replace("sl-call-1", "sl-call-2");
    let out2 = run(
        other.as_bytes(),
        r#"assert(KSR.sl.sl_send_reply(486, "Busy") == 1)"#,
    );
    assert_ne!(reply(&out2, 0).to().unwrap().tag().unwrap(), tag);
}

#[test]
fn udp_without_rport_goes_to_the_via_port() {
    let msg = String::from_utf8_lossy(INVITE).replace(";rport", "");
    let out = run(
        msg.as_bytes(),
        r#"assert(KSR.sl.sl_send_reply(200, "OK") == 1)"#,
    );
    assert_eq!(out.sent[0].dst, SocketAddr::from(([192, 0, 2, 10], 5062)));
    let msg = String::from_utf8_lossy(INVITE)
        .replace(":5062;branch=z9hG4bK-sl-1;rport", ";branch=z9hG4bK-sl-1");
    let out = run(
        msg.as_bytes(),
        r#"assert(KSR.sl.sl_send_reply(200, "OK") == 1)"#,
    );
    assert_eq!(out.sent[0].dst, SocketAddr::from(([192, 0, 2, 10], 5060)));
    // force_rport: back to the source port.
    let out = run(
        msg.as_bytes(),
        r#"KSR.force_rport()
           assert(KSR.sl.sl_send_reply(200, "OK") == 1)"#,
    );
    assert_eq!(out.sent[0].dst, SocketAddr::from(([192, 0, 2, 10], 5062)));
    assert_eq!(reply(&out, 0).top_via().unwrap().rport(), Some(Some(5062)));
}

#[test]
fn refusals() {
    let ack = String::from_utf8_lossy(INVITE)
        .replace("INVITE sip", "ACK sip")
        .replace("1 INVITE", "1 ACK");
    let out = run(
        ack.as_bytes(),
        r#"assert(KSR.sl.sl_send_reply(200, "OK") == -1)
           assert(KSR.sl.send_reply(200, "OK") == -1)"#,
    );
    assert!(out.sent.is_empty());
    let out = run(
        INVITE,
        r#"assert(KSR.sl.sl_send_reply(99, "Low") == -1)
           assert(KSR.sl.sl_send_reply(700, "High") == -1)
           assert(KSR.sl.send_reply(200, "") == -1)"#,
    );
    assert!(out.sent.is_empty());
}

#[test]
fn reply_error_uses_the_recorded_error() {
    let out = run(
        INVITE,
        r#"assert(KSR.sl.sl_reply_error() == 1)
           assert(KSR.sl.send_reply_error() == 1)"#,
    );
    assert!(out.sent[0].bytes.starts_with(b"SIP/2.0 500 "));
    assert_eq!(out.sent[0].bytes, out.sent[1].bytes);
}

const REPLY: &[u8] = b"SIP/2.0 486 Busy Here\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsl-ours\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-sl-1;received=192.0.2.11;rport=7000\r\n\
From: <sip:bob@example.org>;tag=from-tag\r\n\
To: <sip:alice@example.com>;tag=t\r\n\
Call-ID: sl-call-1\r\n\
CSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\r\n";

fn run_reply(msg: &[u8], body: &str) -> Result<Outcome, String> {
    LuaTest::new(&[&kemi_mod_sl::MODULE])
        .message(msg)
        .received(RecvInfo {
            proto: Proto::Udp,
            src: SocketAddr::from(([203, 0, 113, 5], 5060)),
            local: SocketAddr::from(([127, 0, 0, 1], 5060)),
        })
        .route(RouteKind::Reply)
        .run(&format!("function ksr_request_route()\n{body}\nend"))
}

#[test]
fn forward_reply_removes_our_via() {
    let out = run_reply(
        REPLY,
        r#"assert(KSR.sl.sl_send_reply(200, "OK") == -1)
           assert(KSR.sl.sl_forward_reply("", "") == 1)
           assert(KSR.sl.sl_forward_reply("480", "Gone") == 1)
           assert(KSR.sl.sl_forward_reply("200", "") == -1)
           assert(KSR.sl.sl_forward_reply("4x0", "") == -1)"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.sent.len(), 2);
    assert_eq!(out.sent[0].dst, SocketAddr::from(([192, 0, 2, 11], 7000)));
    assert!(out.sent[0].bytes.starts_with(b"SIP/2.0 486 Busy Here\r\n"));
    assert_eq!(reply(&out, 0).vias().unwrap().len(), 1);
    assert!(out.sent[1].bytes.starts_with(b"SIP/2.0 480 Gone\r\n"));
    // Not ours: dropped.
    let other = String::from_utf8_lossy(REPLY).replace("127.0.0.1:5060", "203.0.113.99");
    let out = run_reply(
        other.as_bytes(),
        r#"assert(KSR.sl.sl_forward_reply("", "") == -1)"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.sent.is_empty());
    // And a request is not a reply.
    run(INVITE, r#"assert(KSR.sl.sl_forward_reply("", "") == -1)"#);
}

#[test]
fn headers_queued_for_replies_are_sent_and_rport_is_added_once() {
    let out = run(
        INVITE,
        r#"assert(KSR.hdr.append_to_reply("X-Queued: 1\r\n") == 1)
           KSR.force_rport()
           assert(KSR.sl.send_reply(486, "Busy Here") == 1)
           assert(KSR.sl.send_reply(486, "Busy Here") == 1)"#,
    );
    assert_eq!(out.sent.len(), 2);
    for n in 0..2 {
        let text = String::from_utf8_lossy(&out.sent[n].bytes).into_owned();
        assert!(text.contains("\r\nX-Queued: 1\r\n"), "{text}");
        assert_eq!(text.matches("rport=5062").count(), 1, "{text}");
        assert_eq!(text.matches("received=").count(), 1, "{text}");
    }
    assert_eq!(
        out.sent[0].bytes, out.sent[1].bytes,
        "a repeated reply is identical"
    );
}
