//! `KSR.corex` from Lua, against message fixtures.

use std::net::SocketAddr;
use std::sync::Arc;

use kemi_core::config::{self, Config};
use kemi_core::net::Proto;
use kemi_mod_app_lua::testing::fixtures::{INVITE, REGISTER, REPLY};
use kemi_mod_app_lua::testing::{LuaTest, Outcome};

fn run_cfg(cfg: Config, msg: &[u8], body: &str) -> Outcome {
    LuaTest::new(&[&kemi_mod_corex::MODULE])
        .config(cfg)
        .message(msg)
        .run(&format!("function ksr_request_route()\n{body}\nend"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn run(msg: &[u8], body: &str) -> Outcome {
    run_cfg(Config::default(), msg, body)
}

fn sockets_cfg() -> Config {
    config::parse_str(
        "listen=udp:127.0.0.1:5060\n\
         listen=tcp:127.0.0.1:5060 name \"int-tcp\"\n\
         listen=udp:192.0.2.1:5080 name \"pub\"\n",
        "test.cfg",
        &[],
        &[],
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn branches() {
    let out = run(
        INVITE,
        r#"
        local c = KSR.corex
        assert(c.append_branch_uri("sip:carol@example.net") == 1)
        assert(c.append_branch_uri_q("sip:dave@example.net", "0.5") == 1)
        assert(c.append_branch_uri_q("sip:erin@example.net", "2") == -1)
        assert(c.append_branch_uri_q("sip:erin@example.net", "x") == -1)
        assert(c.append_branch() == 1)
        "#,
    );
    let b = &out.ctx.branches;
    assert_eq!(b.len(), 3);
    assert_eq!(b[0].uri, "sip:carol@example.net");
    assert_eq!(b[0].q, None);
    assert_eq!(b[1].uri, "sip:dave@example.net");
    assert_eq!(b[1].q, Some(500));
    assert_eq!(b[2].uri, "sip:bob@example.com;transport=tcp;lr;foo=bar");

    // The set holds MAX_BRANCHES - 1 branches besides the R-URI.
    let out = run(
        INVITE,
        r#"
        for i = 1, 11 do assert(KSR.corex.append_branch_uri("sip:u" .. i .. "@x") == 1) end
        assert(KSR.corex.append_branch_uri("sip:one-too-many@x") == -1)
        "#,
    );
    assert_eq!(out.ctx.branches.len(), 11);
    // A reply has no R-URI to append.
    run(REPLY, r#"assert(KSR.corex.append_branch() == -1)"#);
}

#[test]
fn append_branch_takes_the_ruri_attributes() {
    use kemi_mod_corex::kemi;
    let runtime = Arc::new(kemi_core::Runtime::default());
    let msg = kemi_core::sip::Message::parse(INVITE).unwrap();
    let mut ctx = kemi_core::Context::for_message(runtime, msg, Default::default());
    ctx.dst_uri = Some("sip:10.0.0.1:5070".into());
    ctx.bflags[0] = 0b100;
    ctx.new_uri = Some("sip:new@example.com".into());
    assert_eq!(kemi::append_branch_uri(&mut ctx, "sip:other@x"), 1);
    assert_eq!(
        ctx.branches[0].dst_uri.as_deref(),
        Some("sip:10.0.0.1:5070")
    );
    assert_eq!(ctx.branches[0].flags, 0b100);
    // Attributes stay for the R-URI after adding another URI...
    assert!(ctx.dst_uri.is_some());
    assert_eq!(kemi::append_branch(&mut ctx), 1);
    // ...and move with it when the R-URI itself is appended.
    assert_eq!(ctx.branches[1].uri, "sip:new@example.com");
    assert_eq!(
        ctx.branches[1].dst_uri.as_deref(),
        Some("sip:10.0.0.1:5070")
    );
    assert!(ctx.dst_uri.is_none());
    assert_eq!(ctx.bflags[0], 0);
}

#[test]
fn xflags() {
    let out = run(
        INVITE,
        r#"
        local c = KSR.corex
        assert(c.isxflagset(40) == -1)
        assert(c.setxflag(40) == 1)
        assert(c.setxflag(0) == 1)
        assert(c.isxflagset(40) == 1)
        assert(c.resetxflag(40) == 1)
        assert(c.isxflagset(40) == -1)
        assert(c.isxflagset(0) == 1)
        assert(c.setxflag(64) == -1 and c.setxflag(-1) == -1)
        assert(c.resetxflag(64) == -1)
        assert(c.isxflagset(64) == -1)
        "#,
    );
    assert_eq!(out.ctx.xflags, 1);
}

#[test]
fn sockets() {
    let out = run_cfg(
        sockets_cfg(),
        INVITE,
        r#"
        local c = KSR.corex
        assert(c.is_socket_name("pub") == 1)
        assert(c.is_socket_name("nope") == -1)
        assert(c.is_socket_name("") == -1)
        assert(c.set_send_socket("udp:10.9.9.9:5060") == -1)
        assert(c.set_send_socket("garbage") == -1)
        assert(c.set_send_socket("tcp:127.0.0.1:5060") == 1)
        assert(c.set_send_socket("") == 1)
        assert(c.set_send_socket_name("nope") == -1)
        assert(c.set_send_socket_name("pub") == 1)
        "#,
    );
    let s = out.ctx.send_socket.expect("a forced socket");
    assert_eq!(s.proto, Proto::Udp);
    assert_eq!(s.addr, "192.0.2.1:5080".parse::<SocketAddr>().unwrap());
    assert_eq!(s.name.as_deref(), Some("pub"));

    let out = run_cfg(
        sockets_cfg(),
        INVITE,
        r#"
        assert(KSR.corex.set_send_socket("tcp:127.0.0.1") == 1)
        assert(KSR.corex.set_recv_socket("udp:192.0.2.1:5080") == 1)
        assert(KSR.corex.set_recv_socket("udp:192.0.2.99:5080") == -1)
        "#,
    );
    let s = out.ctx.send_socket.expect("a forced socket");
    assert_eq!(s.name.as_deref(), Some("int-tcp"));
    assert_eq!(
        out.ctx.recv.local,
        "192.0.2.1:5080".parse::<SocketAddr>().unwrap()
    );

    let out = run_cfg(
        sockets_cfg(),
        INVITE,
        r#"
        assert(KSR.corex.set_recv_socket_name("int-tcp") == 1)
        assert(KSR.corex.set_recv_socket_name("nope") == -1)
        assert(KSR.corex.set_source_address("udp:198.51.100.1:7000") == 1)
        assert(KSR.corex.set_source_address("198.51.100.1") == -1)
        assert(KSR.corex.set_source_address("junk") == -1)
        "#,
    );
    assert_eq!(out.ctx.recv.proto, Proto::Tcp);
    assert_eq!(
        out.ctx.recv.local,
        "127.0.0.1:5060".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(
        out.ctx.recv.src,
        "198.51.100.1:7000".parse::<SocketAddr>().unwrap()
    );
}

#[test]
fn via_options() {
    let out = run(
        INVITE,
        r#"
        local c = KSR.corex
        assert(c.via_add_srvid(1) == 1)
        assert(c.via_add_xavp_params(1) == 1)
        assert(c.via_use_xavp_fields(1) == 1)
        assert(c.via_reply_add_xavp_params(1) == 1)
        assert(c.via_use_xavp_fields(0) == 1)
        "#,
    );
    let v = out.ctx.via_options;
    assert!(v.add_srvid && v.add_xavp_params && v.reply_add_xavp_params);
    assert!(!v.use_xavp_fields);
}

#[test]
fn message_checks() {
    run(
        INVITE,
        r#"
        assert(KSR.corex.has_ruri_user() == 1)
        assert(KSR.corex.has_user_agent() == 1)
        assert(KSR.corex.is_faked_msg() == -1)
        "#,
    );
    run(
        REGISTER,
        r#"
        assert(KSR.corex.has_ruri_user() == -1)
        assert(KSR.corex.has_user_agent() == -1)
        "#,
    );
    run(REPLY, r#"assert(KSR.corex.has_ruri_user() == -1)"#);
    let runtime = Arc::new(kemi_core::Runtime::default());
    let ctx = kemi_core::Context::new(runtime);
    assert_eq!(kemi_mod_corex::kemi::is_faked_msg(&ctx), 1);
}

#[test]
fn sending() {
    let out = run_cfg(
        sockets_cfg(),
        INVITE,
        r#"
        local c = KSR.corex
        assert(c.send_data("sip:198.51.100.5:5070;transport=tcp", "PING") == 1)
        assert(c.send_data("sip:198.51.100.5", "hello") == 1)
        assert(c.send_data("sips:[2001:db8::5]", "secure") == 1)
        assert(c.send_data("not a uri", "x") == -1)
        assert(c.send_data("sip:198.51.100.5;transport=bogus", "x") == -1)
        assert(c.sendx("sip:198.51.100.6:5090", "udp:192.0.2.1:5080", "X1") == 1)
        assert(c.sendx("sip:198.51.100.6:5090", "int-tcp", "X2") == 1)
        assert(c.sendx("sip:198.51.100.6:5090", "udp:10.1.1.1:5060", "X3") == -1)
        "#,
    );
    let sent: Vec<_> = out
        .sent
        .iter()
        .map(|s| {
            (
                s.proto,
                s.from,
                s.dst,
                String::from_utf8_lossy(&s.bytes).into_owned(),
            )
        })
        .collect();
    let a = |s: &str| s.parse::<SocketAddr>().unwrap();
    assert_eq!(
        sent,
        vec![
            (Proto::Tcp, None, a("198.51.100.5:5070"), "PING".into()),
            (Proto::Udp, None, a("198.51.100.5:5060"), "hello".into()),
            (Proto::Tls, None, a("[2001:db8::5]:5061"), "secure".into()),
            (
                Proto::Udp,
                Some(a("192.0.2.1:5080")),
                a("198.51.100.6:5090"),
                "X1".into()
            ),
            (
                Proto::Tcp,
                Some(a("127.0.0.1:5060")),
                a("198.51.100.6:5090"),
                "X2".into()
            ),
        ]
    );
}

#[test]
fn files() {
    let dir = std::env::temp_dir().join(format!("corex-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("data.txt");
    let p = path.display().to_string();
    let missing = dir.join("missing/x.txt").display().to_string();
    run(
        INVITE,
        &format!(
            r#"
        assert(KSR.corex.file_write("{p}", "line1\nline2\n") == 1)
        assert(KSR.corex.file_read("{p}") == "line1\nline2\n")
        assert(KSR.corex.file_write("{p}", "short") == 1)
        assert(KSR.corex.file_read("{p}") == "short")
        assert(KSR.corex.file_read("{missing}") == nil)
        assert(KSR.corex.file_write("{missing}", "x") == -1)
        "#
        ),
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// An INVITE that went through another proxy (two Vias) to this one.
const PROXIED_INVITE: &[u8] = b"INVITE sip:bob@198.51.100.5:5080 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bK-up-1\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-caller-1\r\n\
Max-Forwards: 69\r\n\
From: <sip:alice@example.org>;tag=fa1\r\n\
To: <sip:bob@example.com>\r\n\
Call-ID: uac-call-1\r\n\
CSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\r\n";

/// The messages sent, parsed, with where they went.
fn sent_requests(out: &Outcome) -> Vec<(kemi_core::sip::Message, Proto, SocketAddr)> {
    out.sent
        .iter()
        .map(|s| {
            (
                kemi_core::sip::Message::parse(s.bytes.clone()).unwrap(),
                s.proto,
                s.dst,
            )
        })
        .collect()
}

/// The Via branches of a message (one per Via).
fn via_branches(m: &kemi_core::sip::Message) -> Vec<String> {
    m.vias()
        .unwrap()
        .iter()
        .map(|v| v.branch().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn forward_uac_sends_with_only_our_via() {
    let out = run(
        PROXIED_INVITE,
        r#"
        assert(KSR.corex.forward_uac() == 1)
        assert(KSR.corex.forward_uac() == 1)
        assert(KSR.forward() == 1)
        "#,
    );
    let sent = sent_requests(&out);
    assert_eq!(sent.len(), 3);
    let a = |s: &str| s.parse::<SocketAddr>().unwrap();
    for (m, proto, dst) in &sent[..2] {
        assert_eq!((*proto, *dst), (Proto::Udp, a("198.51.100.5:5080")));
        let vias = m.vias().unwrap();
        assert_eq!(vias.len(), 1, "{}", String::from_utf8_lossy(m.as_bytes()));
        assert_eq!((vias[0].host, vias[0].port), ("127.0.0.1", Some(5060)));
        assert_eq!(m.request_uri(), Some("sip:bob@198.51.100.5:5080"));
        // The rest of the request goes as it came.
        assert_eq!(m.call_id().unwrap(), "uac-call-1");
        assert_eq!(m.from().unwrap().tag(), Some("fa1"));
        assert_eq!(m.max_forwards().unwrap(), Some(69));
    }
    // A new branch each time, unlike a stateless forward's, which comes
    // from the request (and keeps the received Vias below it).
    let uac1 = via_branches(&sent[0].0);
    let uac2 = via_branches(&sent[1].0);
    let stateless = via_branches(&sent[2].0);
    assert!(uac1[0].starts_with("z9hG4bK"));
    assert_ne!(uac1, uac2);
    assert_eq!(stateless.len(), 3);
    assert_ne!(uac1[0], stateless[0]);
    assert_eq!(
        stateless[0],
        kemi_core::forward::stateless_branch(
            &kemi_core::sip::Message::parse(PROXIED_INVITE).unwrap()
        )
    );
}

#[test]
fn forward_uac_to_a_uri_and_to_branches() {
    let out = run(
        PROXIED_INVITE,
        r#"
        local c = KSR.corex
        KSR.pv.sets("$du", "sip:198.51.100.6:5090")
        assert(c.forward_uac() == 1)
        assert(c.forward_uac_uri("sip:198.51.100.7:5070;transport=tcp") == 1)
        KSR.pv.unset("$du")
        assert(c.append_branch_uri("sip:carol@198.51.100.8:5072") == 1)
        KSR.pv.sets("$du", "sip:198.51.100.9")
        assert(c.append_branch_uri("sip:dave@example.net") == 1)
        assert(c.forward_uac_branch(0) == 1)
        assert(c.forward_uac_branch(1) == 1)
        assert(c.forward_uac_uri_branch("sip:198.51.100.10:5074", 0) == 1)
        -- No such branch, no usable URI.
        assert(c.forward_uac_branch(2) == -1)
        assert(c.forward_uac_branch(-1) == -1)
        assert(c.forward_uac_uri_branch("sip:198.51.100.10", 7) == -1)
        assert(c.forward_uac_uri("tel:+123") == -1)
        assert(c.forward_uac_uri("sip:198.51.100.7;transport=bogus") == -1)
        "#,
    );
    let a = |s: &str| s.parse::<SocketAddr>().unwrap();
    let got: Vec<(Proto, SocketAddr, String, String)> = sent_requests(&out)
        .into_iter()
        .map(|(m, proto, dst)| {
            let via = m.vias().unwrap();
            assert_eq!(via.len(), 1);
            (
                proto,
                dst,
                via[0].transport.to_string(),
                m.request_uri().unwrap().to_string(),
            )
        })
        .collect();
    let bob = "sip:bob@198.51.100.5:5080".to_string();
    assert_eq!(
        got,
        vec![
            (
                Proto::Udp,
                a("198.51.100.6:5090"),
                "UDP".into(),
                bob.clone()
            ),
            (Proto::Tcp, a("198.51.100.7:5070"), "TCP".into(), bob),
            (
                Proto::Udp,
                a("198.51.100.8:5072"),
                "UDP".into(),
                "sip:carol@198.51.100.8:5072".into()
            ),
            (
                Proto::Udp,
                a("198.51.100.9:5060"),
                "UDP".into(),
                "sip:dave@example.net".into()
            ),
            (
                Proto::Udp,
                a("198.51.100.10:5074"),
                "UDP".into(),
                "sip:carol@198.51.100.8:5072".into()
            ),
        ]
    );
}

#[test]
fn forward_uac_refuses_replies() {
    let out = run(
        REPLY,
        r#"
        assert(KSR.corex.forward_uac_uri("sip:198.51.100.5") == -1)
        assert(KSR.corex.forward_uac() == -1)
        "#,
    );
    assert!(out.sent.is_empty());
}
