//! `KSR.kx` from Lua, against message fixtures.

use std::net::SocketAddr;

use kemi_core::config;
use kemi_core::net::{Proto, RecvInfo};
use kemi_mod_app_lua::testing::fixtures::{COMPACT, INVITE, REGISTER, REPLY};
use kemi_mod_app_lua::testing::{LuaTest, Outcome};

fn run(msg: &[u8], body: &str) -> Outcome {
    LuaTest::new(&[&kemi_mod_kemix::MODULE])
        .message(msg)
        .run(&format!("function ksr_request_route()\n{body}\nend"))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn request_uri_getters() {
    run(
        INVITE,
        r#"
        assert(KSR.kx.get_ruri() == "sip:bob@example.com;transport=tcp;lr;foo=bar")
        assert(KSR.kx.get_ruser() == "bob")
        assert(KSR.kx.getw_ruser() == "bob")
        assert(KSR.kx.gete_ruser() == "bob")
        assert(KSR.kx.get_rhost() == "example.com")
        assert(KSR.kx.getw_rhost() == "example.com")
        assert(KSR.kx.gete_rhost() == "example.com")
        assert(KSR.kx.get_ouri() == KSR.kx.get_ruri())
        assert(KSR.kx.get_nhuri() == KSR.kx.get_ruri())
        "#,
    );
    // No user in the R-URI: the three null conventions.
    run(
        REGISTER,
        r#"
        assert(KSR.kx.get_ruser() == nil)
        assert(KSR.kx.getw_ruser() == "<null>")
        assert(KSR.kx.gete_ruser() == "")
        assert(KSR.kx.get_rhost() == "example.com")
        "#,
    );
    // Replies have no R-URI.
    run(
        REPLY,
        r#"
        assert(KSR.kx.get_ruri() == nil)
        assert(KSR.kx.get_ouri() == nil)
        assert(KSR.kx.get_nhuri() == nil)
        assert(KSR.kx.get_ruser() == nil)
        assert(KSR.kx.getw_ruser() == "<null>")
        assert(KSR.kx.gete_ruser() == "")
        assert(KSR.kx.get_rhost() == nil)
        assert(KSR.kx.getw_rhost() == "<null>")
        assert(KSR.kx.gete_rhost() == "")
        "#,
    );
}

#[test]
fn ruri_and_duri_follow_the_context() {
    let out = LuaTest::new(&[&kemi_mod_kemix::MODULE])
        .message(INVITE)
        .run(
            r#"function ksr_request_route()
            assert(KSR.kx.get_duri() == nil)
            assert(KSR.kx.getw_duri() == "<null>")
            assert(KSR.kx.gete_duri() == "")
            end"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.ctx.dst_uri.is_none());
    // Through the context: a new R-URI and a $du (no pv module here).
    let runtime = std::sync::Arc::new(kemi_core::Runtime::default());
    let msg = kemi_core::sip::Message::parse(INVITE).unwrap();
    let mut ctx = kemi_core::Context::for_message(runtime, msg, RecvInfo::default());
    ctx.new_uri = Some("sip:carol@example.net".into());
    ctx.dst_uri = Some("sip:10.0.0.1:5080".into());
    use kemi_mod_kemix::kemi;
    assert_eq!(kemi::get_ruri(&ctx).as_str(), Some("sip:carol@example.net"));
    assert_eq!(kemi::get_ruser(&ctx).as_str(), Some("carol"));
    assert_eq!(kemi::get_rhost(&ctx).as_str(), Some("example.net"));
    assert_eq!(
        kemi::get_ouri(&ctx).as_str(),
        Some("sip:bob@example.com;transport=tcp;lr;foo=bar")
    );
    assert_eq!(kemi::get_duri(&ctx).as_str(), Some("sip:10.0.0.1:5080"));
    assert_eq!(kemi::get_nhuri(&ctx).as_str(), Some("sip:10.0.0.1:5080"));
}

#[test]
fn from_to_contact_ua() {
    run(
        INVITE,
        r#"
        assert(KSR.kx.get_furi() == "sip:alice@example.org")
        assert(KSR.kx.get_fuser() == "alice")
        assert(KSR.kx.getw_fuser() == "alice")
        assert(KSR.kx.gete_fuser() == "alice")
        assert(KSR.kx.get_fhost() == "example.org")
        assert(KSR.kx.getw_fhost() == "example.org")
        assert(KSR.kx.gete_fhost() == "example.org")
        assert(KSR.kx.get_turi() == "sip:bob@example.com")
        assert(KSR.kx.get_tuser() == "bob")
        assert(KSR.kx.getw_tuser() == "bob")
        assert(KSR.kx.gete_tuser() == "bob")
        assert(KSR.kx.get_thost() == "example.com")
        assert(KSR.kx.getw_thost() == "example.com")
        assert(KSR.kx.gete_thost() == "example.com")
        assert(KSR.kx.get_cturi() == "sip:alice@192.0.2.10:5062;transport=udp")
        assert(KSR.kx.gete_cturi() == KSR.kx.get_cturi())
        assert(KSR.kx.getw_cturi() == KSR.kx.get_cturi())
        assert(KSR.kx.get_ua() == "TestPhone 1.0")
        assert(KSR.kx.gete_ua() == "TestPhone 1.0")
        assert(KSR.kx.getw_ua() == "TestPhone 1.0")
        "#,
    );
    // Compact forms; a From without user; no User-Agent.
    run(
        COMPACT,
        r#"
        assert(KSR.kx.get_furi() == "sip:example.org")
        assert(KSR.kx.get_fuser() == nil)
        assert(KSR.kx.getw_fuser() == "<null>")
        assert(KSR.kx.gete_fuser() == "")
        assert(KSR.kx.get_tuser() == "dave")
        assert(KSR.kx.get_thost() == "example.net")
        assert(KSR.kx.get_cturi() == "sip:dave@203.0.113.5")
        assert(KSR.kx.get_ua() == nil)
        assert(KSR.kx.getw_ua() == "<null>")
        assert(KSR.kx.gete_ua() == "")
        assert(KSR.kx.get_callid() == "compact-1")
        "#,
    );
    // Contact: * has no URI.
    run(
        REPLY,
        r#"
        assert(KSR.kx.get_cturi() == nil)
        assert(KSR.kx.getw_cturi() == "<null>")
        assert(KSR.kx.gete_cturi() == "")
        assert(KSR.kx.get_tuser() == "bob")
        "#,
    );
    // No Contact at all.
    run(
        b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        r#"
        assert(KSR.kx.get_cturi() == nil)
        assert(KSR.kx.get_callid() == "")
        assert(KSR.kx.get_tuser() == "a")
        "#,
    );
}

#[test]
fn addresses_and_protocol() {
    run(
        INVITE,
        r#"
        assert(KSR.kx.get_srcip() == "192.0.2.10")
        assert(KSR.kx.get_srcport() == 5062)
        assert(math.type(KSR.kx.get_srcport()) == "integer")
        assert(KSR.kx.get_srcuri() == "sip:192.0.2.10:5062")
        assert(KSR.kx.get_srcaddr_sock() == "udp:192.0.2.10:5062")
        assert(KSR.kx.get_rcvip() == "127.0.0.1")
        assert(KSR.kx.get_rcvport() == 5060)
        assert(KSR.kx.get_rcvadvip() == "127.0.0.1")
        assert(KSR.kx.get_rcvadvport() == 5060)
        assert(KSR.kx.get_rcvaddr_sock() == "udp:127.0.0.1:5060")
        assert(KSR.kx.get_rcv_sock_name() == nil)
        assert(KSR.kx.get_proto() == "udp")
        assert(KSR.kx.get_protoid() == 1)
        assert(KSR.kx.get_send_sock() == nil)
        assert(KSR.kx.get_send_sock_name() == nil)
        assert(KSR.kx.get_send_sock_port() == 0)
        assert(KSR.kx.get_conid() == -1)
        "#,
    );
    // TCP over IPv6, on a named socket that advertises another address.
    let cfg = config::parse_str(
        "listen=tcp:[2001:db8::1]:5070 advertise 203.0.113.1:5090 name \"pub\"\n",
        "test.cfg",
        &[],
        &[],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    LuaTest::new(&[&kemi_mod_kemix::MODULE])
        .config(cfg)
        .message(REGISTER)
        .received(RecvInfo {
            proto: Proto::Tcp,
            src: "[2001:db8::7]:40000".parse::<SocketAddr>().unwrap(),
            local: "[2001:db8::1]:5070".parse::<SocketAddr>().unwrap(),
        })
        .run(
            r#"function ksr_request_route()
            assert(KSR.kx.get_srcip() == "2001:db8::7")
            assert(KSR.kx.get_srcuri() == "sip:[2001:db8::7]:40000;transport=tcp")
            assert(KSR.kx.get_srcaddr_sock() == "tcp:[2001:db8::7]:40000")
            assert(KSR.kx.get_rcvip() == "2001:db8::1")
            assert(KSR.kx.get_rcvaddr_sock() == "tcp:[2001:db8::1]:5070")
            assert(KSR.kx.get_rcv_sock_name() == "pub")
            assert(KSR.kx.get_rcvadvip() == "203.0.113.1")
            assert(KSR.kx.get_rcvadvport() == 5090)
            assert(KSR.kx.get_proto() == "tcp")
            assert(KSR.kx.get_protoid() == 2)
            end"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn send_socket_from_context() {
    use kemi_mod_kemix::kemi;
    let runtime = std::sync::Arc::new(kemi_core::Runtime::default());
    let msg = kemi_core::sip::Message::parse(INVITE).unwrap();
    let mut ctx = kemi_core::Context::for_message(runtime, msg, RecvInfo::default());
    ctx.send_socket = Some(kemi_core::context::SocketRef {
        proto: Proto::Tls,
        addr: "10.1.1.1:5061".parse().unwrap(),
        name: Some("tls1".into()),
    });
    assert_eq!(
        kemi::get_send_sock(&ctx).as_str(),
        Some("tls:10.1.1.1:5061")
    );
    assert_eq!(kemi::get_send_sock_name(&ctx).as_str(), Some("tls1"));
    assert_eq!(kemi::get_send_sock_port(&ctx), 5061);
}

#[test]
fn credentials() {
    run(
        INVITE,
        r#"
        assert(KSR.kx.get_au() == "alice")
        assert(KSR.kx.getw_au() == "alice")
        assert(KSR.kx.gete_au() == "alice")
        "#,
    );
    run(REGISTER, r#"assert(KSR.kx.get_au() == "carol")"#);
    run(
        COMPACT,
        r#"
        assert(KSR.kx.get_au() == nil)
        assert(KSR.kx.getw_au() == "<null>")
        assert(KSR.kx.gete_au() == "")
        "#,
    );
    run(REPLY, r#"assert(KSR.kx.get_au() == nil)"#);
}

#[test]
fn method_status_body_sizes() {
    run(
        INVITE,
        r#"
        assert(KSR.kx.get_method() == "INVITE")
        assert(KSR.kx.get_status() == -1)
        assert(KSR.kx.gets_status() == nil)
        local b = KSR.kx.get_body()
        assert(b:sub(1, 5) == "v=0\r\n")
        assert(KSR.kx.get_bodylen() == 134 and #b == 134)
        assert(KSR.kx.getw_body() == b and KSR.kx.gete_body() == b)
        assert(KSR.kx.get_callid() == "invite-call-1@192.0.2.10")
        local m = KSR.kx.get_msgbuf()
        assert(m:sub(1, 7) == "INVITE ")
        assert(KSR.kx.get_msglen() == #m)
        assert(KSR.kx.get_msgtype() == 1)
        local now = os.time()
        local ts = KSR.kx.get_timestamp()
        assert(math.abs(ts - now) <= 2)
        "#,
    );
    run(
        REPLY,
        r#"
        assert(KSR.kx.get_method() == "INVITE")
        assert(KSR.kx.get_status() == 200)
        assert(KSR.kx.gets_status() == "200")
        assert(KSR.kx.get_body() == nil)
        assert(KSR.kx.getw_body() == "<null>")
        assert(KSR.kx.gete_body() == "")
        assert(KSR.kx.get_bodylen() == 0)
        assert(KSR.kx.get_msgtype() == 2)
        "#,
    );
    run(COMPACT, r#"assert(KSR.kx.get_body() == "hello")"#);
}

#[test]
fn defines_and_environment() {
    let cfg = config::parse_str(
        "#!define WITH_NAT\n#!define MAX_HOPS 42\n#!define NAME \"kemi\"\n",
        "test.cfg",
        &[],
        &[],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::env::set_var("KEMIX_TEST_NUM", "17");
    std::env::set_var("KEMIX_TEST_STR", "hello");
    LuaTest::new(&[&kemi_mod_kemix::MODULE])
        .config(cfg)
        .run(
            r#"function ksr_request_route()
            assert(KSR.kx.ifdef("WITH_NAT") == true)
            assert(KSR.kx.ifndef("WITH_NAT") == false)
            assert(KSR.kx.ifdef("WITH_TLS") == false)
            assert(KSR.kx.ifndef("WITH_TLS") == true)
            assert(KSR.kx.ifdef("KAMAILIO_6") == true)
            assert(KSR.kx.get_def("WITH_NAT") == "")
            assert(KSR.kx.get_def("MAX_HOPS") == "42")
            assert(KSR.kx.get_def("NAME") == "\"kemi\"")
            assert(KSR.kx.get_def("WITH_TLS") == nil)
            assert(KSR.kx.get_defn("MAX_HOPS") == 42)
            assert(KSR.kx.get_defn("WITH_NAT") == 0)
            assert(KSR.kx.get_defn("NAME") == 0)
            assert(KSR.kx.get_defn("WITH_TLS") == 0)
            assert(KSR.kx.get_env("KEMIX_TEST_STR") == "hello")
            assert(KSR.kx.get_env("KEMIX_TEST_UNSET_VAR") == nil)
            assert(KSR.kx.get_envn("KEMIX_TEST_NUM") == 17)
            assert(KSR.kx.get_envn("KEMIX_TEST_STR") == 0)
            assert(KSR.kx.get_envn("KEMIX_TEST_UNSET_VAR") == 0)
            end"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
}
