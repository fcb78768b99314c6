//! `KSR.sl.*` from Lua: status lines, To tags, Vias, destinations.

use std::net::SocketAddr;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use kemi_core::context::RouteKind;
use kemi_core::engine::{CallbackNames, ScriptEngine};
use kemi_core::net::{Capture, Proto, RecvInfo};
use kemi_core::sip::Message;
use kemi_core::{Context, Registry, Runtime};
use kemi_mod_app_lua::testing::{LuaTest, Outcome};
use kemi_mod_app_lua::LuaEngine;

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

#[test]
fn send_reply_mode_sets_the_connection_flags_of_the_reply() {
    for (mode, no_connect, close) in [
        (0, false, false),
        (1, true, false),
        (2, false, true),
        (3, true, true),
    ] {
        let out = run(
            INVITE,
            &format!(r#"assert(KSR.sl.send_reply_mode(404, "Not Found", {mode}) == 1)"#),
        );
        assert!(out.sent[0].bytes.starts_with(b"SIP/2.0 404 Not Found\r\n"));
        assert_eq!(out.ctx.reply_send.no_connect, no_connect, "mode {mode}");
        assert_eq!(out.ctx.reply_send.close, close, "mode {mode}");
    }
}

/// A Lua engine with tm and sl over one runtime, so several messages
/// meet the same transactions.
struct Stateful {
    runtime: Arc<Runtime>,
    capture: Arc<Capture>,
    engine: LuaEngine,
    _script: tempfile::NamedTempFile,
}

impl Stateful {
    fn new(script: &str) -> Self {
        let modules = [&kemi_mod_tm::MODULE, &kemi_mod_sl::MODULE];
        let capture = Arc::new(Capture::default());
        let runtime = Arc::new(Runtime::with_config(Default::default(), capture.clone()));
        let file = tempfile::Builder::new().suffix(".lua").tempfile().unwrap();
        std::fs::write(file.path(), script).unwrap();
        let engine = LuaEngine::with_runtime(
            &Registry::new(&modules),
            &[file.path().to_path_buf()],
            CallbackNames::default(),
            runtime.clone(),
        )
        .unwrap();
        Stateful {
            runtime,
            capture,
            engine,
            _script: file,
        }
    }

    fn route(&mut self, msg: &[u8]) -> Context {
        let msg = Message::parse(msg.to_vec()).unwrap();
        let recv = RecvInfo {
            proto: Proto::Udp,
            src: SocketAddr::from(([192, 0, 2, 10], 5062)),
            local: SocketAddr::from(([127, 0, 0, 1], 5060)),
        };
        let mut ctx = Context::for_message(self.runtime.clone(), msg, recv);
        self.engine.request_route(&mut ctx).unwrap();
        kemi_mod_tm::after_route(&mut ctx, &mut self.engine);
        ctx
    }

    fn local_replies(&self) -> u64 {
        kemi_mod_tm::Tm::of(&self.runtime)
            .stats
            .local_replies
            .load(Ordering::Relaxed)
    }
}

#[test]
fn send_reply_answers_through_the_transaction() {
    // The script answers only new requests: a retransmission is absorbed
    // by t_newtran (0), and tm alone sends the stored reply again.
    let mut p = Stateful::new(
        r#"
        function ksr_request_route()
            if KSR.tm.t_newtran() == 0 then KSR.x.exit() end
            KSR.pv.seti("$shv(answered)", (KSR.pv.get("$shv(answered)") or 0) + 1)
            assert(KSR.sl.send_reply(486, "Busy Here") == 1)
        end
        "#,
    );
    p.route(INVITE);
    let first = p.capture.take();
    assert_eq!(first.len(), 1);
    assert!(first[0].bytes.starts_with(b"SIP/2.0 486 Busy Here\r\n"));
    assert_eq!(p.local_replies(), 1, "tm counts the reply as its own");
    // The To tag is the transaction's, not sl's.
    let tm_tag = Message::parse(first[0].bytes.clone())
        .unwrap()
        .to()
        .unwrap()
        .tag()
        .unwrap()
        .to_string();
    let sl_tag = Message::parse(
        run(INVITE, r#"KSR.sl.sl_send_reply(486, "Busy Here")"#).sent[0]
            .bytes
            .clone(),
    )
    .unwrap()
    .to()
    .unwrap()
    .tag()
    .unwrap()
    .to_string();
    assert_ne!(tm_tag, sl_tag);

    // The retransmitted INVITE gets the same bytes, without the script
    // replying again.
    p.route(INVITE);
    let again = p.capture.take();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].bytes, first[0].bytes);
    assert_eq!(again[0].dst, first[0].dst);
    assert_eq!(p.local_replies(), 1);
    let ctx = Context::new(p.runtime.clone());
    assert_eq!(
        kemi_core::pv::get_by_name(&ctx, "$shv(answered)")
            .unwrap()
            .map(|v| v.to_string()),
        Some("1".to_string())
    );

    // send_reply_mode and send_reply_error go through the transaction too.
    let mut p = Stateful::new(
        r#"
        function ksr_request_route()
            assert(KSR.tm.t_newtran() == 1)
            assert(KSR.sl.send_reply_mode(180, "Ringing", 2) == 1)
            assert(KSR.sl.send_reply_error() == 1)
            -- The final reply is sent: a second one is refused.
            assert(KSR.sl.send_reply(404, "Too Late") == -1)
        end
        "#,
    );
    let ctx = p.route(INVITE);
    assert!(ctx.reply_send.close);
    let sent = p.capture.take();
    assert_eq!(sent.len(), 2);
    assert!(sent[0].bytes.starts_with(b"SIP/2.0 180 Ringing\r\n"));
    assert!(sent[1].bytes.starts_with(b"SIP/2.0 500 "));
    assert_eq!(p.local_replies(), 2);
}
