//! The 91 root `KSR.*` functions called from Lua, the way routing scripts
//! call them, against message fixtures: values, return codes, and what the
//! calls left in the context or sent. `every_root_export_is_called_here`
//! keeps this coverage from shrinking silently.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use kemi_core::config::{Alias, Config, Proto as CfgProto};
use kemi_core::context::RouteKind;
use kemi_core::net::{Proto, RecvInfo};
use kemi_core::sip::Message;
use kemi_core::Registry;
use kemi_mod_app_lua::testing::{LuaTest, Outcome};

const INVITE: &[u8] = b"INVITE sip:bob@198.51.100.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@proxy.example.com>;tag=f\r\n\
To: <sip:bob@example.org>\r\n\
Call-ID: core-lua-1\r\n\
CSeq: 7 INVITE\r\n\
Content-Length: 0\r\n\r\n";

const REPLY: &[u8] = b"SIP/2.0 180 Ringing\r\n\
Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-ours\r\n\
Via: SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bK-1;received=[2001:db8::7]\r\n\
From: <sip:alice@example.com>;tag=f\r\n\
To: <sip:bob@example.org>;tag=t\r\n\
Call-ID: core-lua-1\r\n\
CSeq: 7 BYE\r\n\
Content-Length: 0\r\n\r\n";

/// The INVITE received over UDP/IPv4 on 198.51.100.1:5060.
fn recv(proto: Proto) -> RecvInfo {
    RecvInfo {
        proto,
        src: "192.0.2.10:5062".parse().unwrap(),
        local: "198.51.100.1:5060".parse().unwrap(),
    }
}

fn invite() -> LuaTest {
    LuaTest::new(&[]).message(INVITE).received(recv(Proto::Udp))
}

fn reply() -> LuaTest {
    LuaTest::new(&[]).message(REPLY).received(recv(Proto::Udp))
}

/// Runs `body` as the request route; a failed Lua assert fails the test.
fn run(test: LuaTest, body: &str) -> Outcome {
    let script = format!("function ksr_request_route()\n{body}\nend\n");
    test.run(&script).unwrap_or_else(|e| panic!("{e}"))
}

/// The same INVITE with another method (request line and CSeq).
fn request(method: &str) -> Vec<u8> {
    String::from_utf8_lossy(INVITE)
        .replace("INVITE sip:", &format!("{method} sip:"))
        .replace("7 INVITE", &format!("7 {method}"))
        .into_bytes()
}

#[test]
fn message_flags_from_lua() {
    let out = run(
        invite(),
        r#"
  assert(KSR.isflagset(5) == false)
  assert(KSR.setflag(5) == true)
  assert(KSR.isflagset(5) == true)
  assert(KSR.setflag(7) == true)
  assert(KSR.resetflag(5) == true)
  assert(KSR.isflagset(5) == false)
  -- out of range: refused, nothing changes
  assert(KSR.setflag(32) == false)
  assert(KSR.setflag(-1) == false)
  assert(KSR.isflagset(32) == false)
"#,
    );
    assert_eq!(out.ctx.flags, 1 << 7);
}

#[test]
fn script_flags_from_lua() {
    let out = run(
        invite(),
        r#"
  assert(KSR.issflagset(1) == false)
  assert(KSR.setsflag(1) == true)
  assert(KSR.setsflag(3) == true)
  assert(KSR.issflagset(1) == true)
  assert(KSR.isflagset(1) == false, "script flags are not message flags")
  assert(KSR.resetsflag(1) == true)
  assert(KSR.issflagset(1) == false)
  assert(KSR.setsflag(1000) == false)
"#,
    );
    assert_eq!((out.ctx.flags, out.ctx.sflags), (0, 1 << 3));
}

#[test]
fn branch_flags_from_lua() {
    let out = run(
        invite(),
        r#"
  assert(KSR.isbflagset(2) == false)
  assert(KSR.setbflag(2) == true)
  assert(KSR.isbflagset(2) == true)
  assert(KSR.setbiflag(3, 4) == true)
  assert(KSR.isbiflagset(3, 4) == true)
  assert(KSR.isbiflagset(2, 4) == false, "branch 4 has its own flags")
  assert(KSR.isbiflagset(2, 0) == true, "setbflag is branch 0")
  assert(KSR.setbiflag(6, 4) == true)
  assert(KSR.resetbiflag(3, 4) == true)
  assert(KSR.isbiflagset(3, 4) == false)
  assert(KSR.setbflag(9) == true)
  assert(KSR.resetbflag(2) == true)
  assert(KSR.isbflagset(2) == false)
  -- out of range flags and branches are refused
  assert(KSR.setbflag(32) == false)
  assert(KSR.setbiflag(1, 12) == false)
  assert(KSR.setbiflag(1, -1) == false)
  assert(KSR.isbiflagset(1, 12) == false)
"#,
    );
    let mut want = [0u32; 12];
    want[0] = 1 << 9;
    want[4] = 1 << 6;
    assert_eq!(out.ctx.bflags, want);
}

#[test]
fn destination_uri_from_lua() {
    let out = run(
        invite(),
        r#"
  assert(KSR.isdsturiset() == false)
  assert(KSR.setdsturi("sip:10.0.0.1:5080") == true)
  assert(KSR.isdsturiset() == true)
  assert(KSR.pv.get("$du") == "sip:10.0.0.1:5080")
  assert(KSR.setdsturi("") == true)
  assert(KSR.isdsturiset() == false)
  assert(KSR.setdsturi("sip:10.0.0.2") == true)
  assert(KSR.resetdsturi() == true)
  assert(KSR.isdsturiset() == false)
  assert(KSR.pv.get("$du") == nil)
  assert(KSR.setdsturi("sip:10.0.0.3;transport=tcp") == true)
"#,
    );
    assert_eq!(
        out.ctx.dst_uri.as_deref(),
        Some("sip:10.0.0.3;transport=tcp")
    );
}

#[test]
fn send_options_and_rport_marks_from_lua() {
    let out = run(
        invite(),
        r#"
  assert(KSR.force_rport() == true)
  assert(KSR.add_local_rport() == true)
  assert(KSR.set_forward_close() == true)
  assert(KSR.set_forward_no_connect() == true)
  assert(KSR.set_reply_close() == true)
  assert(KSR.set_reply_no_connect() == true)
"#,
    );
    let c = &out.ctx;
    assert!(c.force_rport && c.add_local_rport);
    assert!(c.forward_send.close && c.forward_send.no_connect);
    assert!(c.reply_send.close && c.reply_send.no_connect);
}

#[test]
fn set_drop_marks_only_outside_the_request_route() {
    // `none` without parameters comes back as false (Kamailio's quirk).
    let body = r#"
  assert(KSR.set_drop() == false)
  assert(KSR.isflagset(1) == false, "the script goes on after set_drop")
  KSR.setflag(1)
"#;
    let out = run(invite(), body);
    assert!(!out.ctx.drop, "the request route has no drop mark");
    assert_eq!(out.ctx.flags, 1 << 1);
    let out = run(reply().route(RouteKind::Reply), body);
    assert!(out.ctx.drop);
    assert!(
        !out.exited() && !out.ctx.exit,
        "set_drop does not stop the script"
    );
    assert_eq!(out.ctx.flags, 1 << 1);
}

#[test]
fn get_debug_reads_the_configured_level() {
    let cfg = Config {
        debug: -1,
        ..Config::default()
    };
    run(
        invite().config(cfg),
        r#"
  local d = KSR.get_debug()
  assert(math.type(d) == "integer" and d == -1, tostring(d))
"#,
    );
    let cfg = Config {
        debug: 3,
        ..Config::default()
    };
    run(invite().config(cfg), "assert(KSR.get_debug() == 3)");
}

#[test]
fn log_functions_take_text_and_refuse_nil() {
    run(
        invite(),
        r#"
  -- `none` with parameters comes back as 0
  assert(KSR.dbg("dbg from lua\n") == 0)
  assert(KSR.info("info from lua\n") == 0)
  assert(KSR.notice("notice from lua\n") == 0)
  assert(KSR.warn("warn from lua\n") == 0)
  assert(KSR.err("err from lua\n") == 0)
  assert(KSR.crit("crit from lua\n") == 0)
  assert(KSR.log("info", "log from lua\n") == 0)
  assert(KSR.log("err", 42) == 0, "numbers are accepted as text")
  local ok, e = pcall(KSR.info, nil)
  assert(not ok, "nil text must be refused")
  e = tostring(e)
  assert(e:find("KSR.info", 1, true) and e:find("none KSR.info(str text)", 1, true), e)
  ok, e = pcall(KSR.log, "info")
  assert(not ok, "a missing parameter must be refused")
"#,
    );
}

#[test]
fn method_tests_on_an_invite() {
    run(
        invite(),
        r#"
  assert(KSR.is_INVITE() == true)
  local others = {
    ACK = KSR.is_ACK, BYE = KSR.is_BYE, CANCEL = KSR.is_CANCEL,
    REGISTER = KSR.is_REGISTER, OPTIONS = KSR.is_OPTIONS,
    SUBSCRIBE = KSR.is_SUBSCRIBE, PUBLISH = KSR.is_PUBLISH,
    NOTIFY = KSR.is_NOTIFY, REFER = KSR.is_REFER, INFO = KSR.is_INFO,
    UPDATE = KSR.is_UPDATE, PRACK = KSR.is_PRACK, MESSAGE = KSR.is_MESSAGE,
    KDMQ = KSR.is_KDMQ, GET = KSR.is_GET, POST = KSR.is_POST,
    PUT = KSR.is_PUT, DELETE = KSR.is_DELETE,
  }
  for m, f in pairs(others) do assert(f() == false, m) end
  assert(KSR.is_method("invite") == true)
  assert(KSR.is_method("BYE|INVITE") == true)
  assert(KSR.is_method("BYE|FOO|INVITE") == false)
  assert(KSR.is_method("BYE") == false)
  assert(KSR.is_method_in("bi") == true)
  assert(KSR.is_method_in("ABC") == false)
"#,
    );
}

#[test]
fn every_method_test_matches_its_method() {
    for (method, call) in [
        ("ACK", "KSR.is_ACK()"),
        ("BYE", "KSR.is_BYE()"),
        ("CANCEL", "KSR.is_CANCEL()"),
        ("REGISTER", "KSR.is_REGISTER()"),
        ("OPTIONS", "KSR.is_OPTIONS()"),
        ("SUBSCRIBE", "KSR.is_SUBSCRIBE()"),
        ("PUBLISH", "KSR.is_PUBLISH()"),
        ("NOTIFY", "KSR.is_NOTIFY()"),
        ("REFER", "KSR.is_REFER()"),
        ("INFO", "KSR.is_INFO()"),
        ("UPDATE", "KSR.is_UPDATE()"),
        ("PRACK", "KSR.is_PRACK()"),
        ("MESSAGE", "KSR.is_MESSAGE()"),
        ("KDMQ", "KSR.is_KDMQ()"),
        ("GET", "KSR.is_GET()"),
        ("POST", "KSR.is_POST()"),
        ("PUT", "KSR.is_PUT()"),
        ("DELETE", "KSR.is_DELETE()"),
    ] {
        run(
            invite().message(&request(method)),
            &format!(
                "assert({call} == true, '{method}')\n\
                 assert(KSR.is_INVITE() == false, '{method}')\n\
                 assert(KSR.is_method('{method}') == true, '{method}')"
            ),
        );
    }
}

#[test]
fn method_tests_on_a_reply_use_the_cseq() {
    run(
        reply().route(RouteKind::Reply),
        r#"
  assert(KSR.is_BYE() == true)
  assert(KSR.is_INVITE() == false)
  assert(KSR.is_method_in("B") == true)
  assert(KSR.is_method("BYE") == true)
"#,
    );
}

#[test]
fn receive_protocol_family_and_ports_over_udp() {
    run(
        invite(),
        r#"
  assert(KSR.is_UDP() == true)
  assert(KSR.is_TCP() == false)
  assert(KSR.is_TCPX() == false)
  assert(KSR.is_TLS() == false)
  assert(KSR.is_WS() == false)
  assert(KSR.is_WSS() == false)
  assert(KSR.is_WSX() == false)
  assert(KSR.is_SCTP() == false)
  assert(KSR.is_proto("tU") == true)
  assert(KSR.is_proto("tesvw") == false)
  assert(KSR.is_IPv4() == true)
  assert(KSR.is_IPv6() == false)
  assert(KSR.is_src_port(5062) == true)
  assert(KSR.is_src_port(5060) == false)
  assert(KSR.is_dst_port(5060) == true)
  assert(KSR.is_dst_port(5062) == false)
"#,
    );
}

#[test]
fn receive_over_tcp_and_ipv6() {
    let recv6 = RecvInfo {
        proto: Proto::Tcp,
        src: "[2001:db8::10]:40000".parse().unwrap(),
        local: "[2001:db8::1]:5070".parse().unwrap(),
    };
    run(
        invite().received(recv6),
        r#"
  assert(KSR.is_TCP() == true)
  assert(KSR.is_TCPX() == true)
  assert(KSR.is_UDP() == false)
  assert(KSR.is_proto("t") == true)
  assert(KSR.is_proto("u") == false)
  assert(KSR.is_IPv6() == true)
  assert(KSR.is_IPv4() == false)
  assert(KSR.is_src_port(40000) == true)
  assert(KSR.is_dst_port(5070) == true)
  assert(KSR.pv.get("$si") == "2001:db8::10")
  -- the socket it arrived on is ours
  assert(KSR.is_myself("sip:[2001:db8::1]:5070;transport=tcp") == true)
  assert(KSR.is_myself("sip:[2001:db8::1]:5070;transport=udp") == false)
"#,
    );
    for (proto, yes) in [
        (Proto::Tls, "TLS TCPX"),
        (Proto::Ws, "WS WSX TCPX"),
        (Proto::Wss, "WSS WSX TCPX"),
        (Proto::Sctp, "SCTP"),
    ] {
        run(
            invite().received(recv(proto)),
            &format!(
                r#"
  local yes = {{}}
  for w in ("{yes}"):gmatch("%S+") do yes[w] = true end
  local all = {{ UDP = KSR.is_UDP, TCP = KSR.is_TCP, TCPX = KSR.is_TCPX,
    TLS = KSR.is_TLS, WS = KSR.is_WS, WSS = KSR.is_WSS, WSX = KSR.is_WSX,
    SCTP = KSR.is_SCTP }}
  for name, f in pairs(all) do
    assert(f() == (yes[name] == true), "{proto} " .. name)
  end
"#
            ),
        );
    }
}

#[test]
fn outgoing_protocol_and_family() {
    run(
        invite(),
        r#"
  assert(KSR.to_UDP() == true)
  assert(KSR.to_IPv4() == true)
  assert(KSR.to_IPv6() == false)
  assert(KSR.seturi("sip:x@[2001:db8::1];transport=tcp") == true)
  assert(KSR.to_TCP() == true)
  assert(KSR.to_UDP() == false)
  assert(KSR.to_IPv6() == true)
  assert(KSR.setdsturi("sips:example.com") == true)
  assert(KSR.to_TLS() == true)
  assert(KSR.to_IPv4() == false and KSR.to_IPv6() == false, "a name is no family")
  local cases = {
    sctp = "SCTP", ws = "WS WSX", wss = "WSS WSX",
  }
  local fns = { UDP = KSR.to_UDP, TCP = KSR.to_TCP, TLS = KSR.to_TLS,
    SCTP = KSR.to_SCTP, WS = KSR.to_WS, WSS = KSR.to_WSS, WSX = KSR.to_WSX }
  for t, names in pairs(cases) do
    KSR.setdsturi("sip:192.0.2.1;transport=" .. t)
    local yes = {}
    for w in names:gmatch("%S+") do yes[w] = true end
    for name, f in pairs(fns) do
      assert(f() == (yes[name] == true), t .. " " .. name)
    end
  end
"#,
    );
    // A reply leaves per its second Via (received wins over sent-by).
    run(
        reply().route(RouteKind::Reply),
        r#"
  assert(KSR.to_TCP() == true)
  assert(KSR.to_IPv6() == true)
  assert(KSR.to_UDP() == false)
"#,
    );
}

fn with_alias() -> Config {
    let mut cfg = Config::default();
    cfg.alias.push(Alias {
        proto: CfgProto::Any,
        host: "proxy.example.com".into(),
        port: None,
    });
    cfg
}

#[test]
fn myself_checks_with_an_alias() {
    let out = run(
        invite().config(with_alias()),
        r#"
  assert(KSR.is_myself("sip:198.51.100.1") == true)
  assert(KSR.is_myself("sip:u@198.51.100.1:5060;transport=udp") == true)
  assert(KSR.is_myself("sip:[::ffff:198.51.100.1]") == true)
  assert(KSR.is_myself("sip:198.51.100.1:5070") == false)
  assert(KSR.is_myself("sips:198.51.100.1") == false)
  assert(KSR.is_myself("sip:198.51.100.1;transport=tls") == false)
  assert(KSR.is_myself("sip:PROXY.example.com:9999") == true, "aliases match any port")
  assert(KSR.is_myself("198.51.100.1") == true)
  assert(KSR.is_myself("proxy.example.com") == true)
  assert(KSR.is_myself("example.org") == false)
  assert(KSR.is_myself("sip:") == false)
  assert(KSR.is_myself_ruri() == true)
  assert(KSR.is_myself_furi() == true, "From is at the alias")
  assert(KSR.is_myself_turi() == false)
  assert(KSR.is_myself_duri() == false, "no $du")
  assert(KSR.is_myself_nhuri() == true, "next hop is the R-URI")
  KSR.setdsturi("sip:203.0.113.5")
  assert(KSR.is_myself_nhuri() == false)
  assert(KSR.is_myself_duri() == false)
  KSR.setdsturi("sip:proxy.example.com")
  assert(KSR.is_myself_duri() == true)
  assert(KSR.is_myself_nhuri() == true)
  KSR.seturi("sip:bob@example.org")
  assert(KSR.is_myself_ruri() == false)
  assert(KSR.is_myself_srcip() == false)
  assert(KSR.is_myself_suri() == false)
"#,
    );
    assert_eq!(out.ctx.ruri(), "sip:bob@example.org");
    // Without the alias, the From host is not ours.
    run(invite(), "assert(KSR.is_myself_furi() == false)");
    // A message that came from ourselves.
    let looped = RecvInfo {
        proto: Proto::Udp,
        src: SocketAddr::from(([198, 51, 100, 1], 5060)),
        local: "198.51.100.1:5060".parse().unwrap(),
    };
    run(
        invite().received(looped),
        "assert(KSR.is_myself_srcip() == true)\nassert(KSR.is_myself_suri() == true)",
    );
    let other_port = RecvInfo {
        src: SocketAddr::from(([198, 51, 100, 1], 40000)),
        ..looped
    };
    run(
        invite().received(other_port),
        "assert(KSR.is_myself_srcip() == true)\nassert(KSR.is_myself_suri() == false)",
    );
    // Replies have no R-URI to check.
    run(
        reply().route(RouteKind::Reply),
        "assert(KSR.is_myself_ruri() == false)\nassert(KSR.is_myself_nhuri() == false)",
    );
}

#[test]
fn request_uri_rewrites_from_lua() {
    let out = run(
        invite(),
        r#"
  assert(KSR.setuser("carol") == true)
  assert(KSR.pv.get("$ru") == "sip:carol@198.51.100.1:5060")
  assert(KSR.sethost("example.net") == true)
  assert(KSR.pv.get("$ru") == "sip:carol@example.net:5060")
  assert(KSR.sethost("2001:db8::2") == true)
  assert(KSR.pv.get("$ru") == "sip:carol@[2001:db8::2]:5060")
  assert(KSR.setuser("") == true)
  assert(KSR.pv.get("$ru") == "sip:[2001:db8::2]:5060")
  assert(KSR.sethost("") == false)
  assert(KSR.sethost("bad host") == false)
  assert(KSR.seturi("sip:dave:pw@x.org;lr") == true)
  assert(KSR.setuser("erin") == true)
  assert(KSR.seturi("not a uri") == false)
  assert(KSR.pv.get("$ru") == "sip:erin:pw@x.org;lr")
"#,
    );
    assert_eq!(out.ctx.ruri(), "sip:erin:pw@x.org;lr");
    assert_eq!(out.ctx.new_uri.as_deref(), Some("sip:erin:pw@x.org;lr"));
    run(
        invite(),
        r#"
  assert(KSR.seturi("tel:+1234") == true)
  assert(KSR.setuser("x") == false, "tel: has no user part to set")
"#,
    );
}

#[test]
fn forward_sends_to_the_destination_uri_with_our_via_on_top() {
    let out = run(
        invite(),
        r#"
  KSR.setdsturi("sip:192.0.2.50:5080")
  assert(KSR.forward() == 1)
"#,
    );
    assert_eq!(out.sent.len(), 1);
    let sent = &out.sent[0];
    assert_eq!(sent.dst, "192.0.2.50:5080".parse().unwrap());
    assert_eq!(sent.proto, Proto::Udp);
    let msg = Message::parse(sent.bytes.clone()).unwrap();
    assert_eq!(msg.request_uri(), Some("sip:bob@198.51.100.1:5060"));
    let vias = msg.vias().unwrap();
    assert_eq!(vias.len(), 2, "ours on top of the caller's");
    let top = msg.top_via().unwrap();
    assert_eq!(top.host, "198.51.100.1");
    assert!(top.branch().unwrap_or("").starts_with("z9hG4bK"));
    assert_ne!(top.branch(), Some("z9hG4bK-1"));
    assert!(
        String::from_utf8_lossy(&sent.bytes).contains("\r\nMax-Forwards: 70\r\n"),
        "forward() leaves Max-Forwards to maxfwd"
    );
}

#[test]
fn forward_uri_overrides_the_next_hop() {
    let out = run(
        invite(),
        r#"
  KSR.seturi("sip:bob@192.0.2.50:5080")
  assert(KSR.forward() == 1, "to the R-URI without $du")
  assert(KSR.forward_uri("sip:192.0.2.60;transport=tcp") == 1)
  assert(KSR.forward_uri("") == 1, "empty: the usual next hop")
  assert(KSR.forward_uri("tel:+1") == -1)
"#,
    );
    let sent = &out.sent;
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[0].dst, "192.0.2.50:5080".parse().unwrap());
    assert_eq!(
        (sent[1].dst, sent[1].proto),
        ("192.0.2.60:5060".parse().unwrap(), Proto::Tcp)
    );
    assert_eq!(sent[2].dst, "192.0.2.50:5080".parse().unwrap());
    let first = Message::parse(sent[0].bytes.clone()).unwrap();
    let again = Message::parse(sent[2].bytes.clone()).unwrap();
    assert_eq!(first.request_uri(), Some("sip:bob@192.0.2.50:5080"));
    assert_eq!(
        first.top_via().unwrap().branch(),
        again.top_via().unwrap().branch(),
        "the same request forwarded again keeps its branch"
    );
}

#[test]
fn advertised_address_and_port_go_into_our_via() {
    let out = run(
        invite(),
        r#"
  assert(KSR.set_advertised_address("") == 0)
  assert(KSR.set_advertised_address("pub.example.com") == 1)
  assert(KSR.set_advertised_port("x") == 0)
  assert(KSR.set_advertised_port("5080") == 1)
  KSR.setdsturi("sip:192.0.2.50")
  assert(KSR.forward() == 1)
"#,
    );
    let msg = Message::parse(out.sent[0].bytes.clone()).unwrap();
    let via = msg.top_via().unwrap();
    assert_eq!((via.host, via.port), ("pub.example.com", Some(5080)));
}

#[test]
fn tcp_aliases_only_on_streams() {
    let out = run(
        invite(),
        r#"
  assert(KSR.add_tcp_alias(5070) == 0)
  assert(KSR.add_tcp_alias_via() == 0)
"#,
    );
    assert_eq!(out.ctx.tcp_alias_port, None);
    let out = run(
        invite().received(recv(Proto::Tcp)),
        r#"
  assert(KSR.add_tcp_alias(70000) == 0)
  assert(KSR.add_tcp_alias(5070) == 1)
"#,
    );
    assert_eq!(out.ctx.tcp_alias_port, Some(5070));
    let out = run(
        invite().received(recv(Proto::Tcp)),
        "assert(KSR.add_tcp_alias_via() == 1)",
    );
    assert_eq!(out.ctx.tcp_alias_port, Some(5062), "the top Via's port");
}

#[test]
fn route_has_no_native_blocks() {
    let out = run(
        invite(),
        r#"
  assert(KSR.route("RELAY") == -1)
  KSR.setflag(2)
"#,
    );
    assert_eq!(out.ctx.flags, 1 << 2, "the script goes on");
}

/// Every root `KSR.*` function must be called by a script in this file.
#[test]
fn every_root_export_is_called_here() {
    let source = include_str!("ksr_core_lua.rs");
    let registry = Registry::new(&[]);
    let root = registry
        .submodules()
        .iter()
        .find(|s| s.name.is_empty())
        .expect("the root submodule");
    let called: BTreeSet<&str> = root
        .exports
        .iter()
        .map(|e| e.name)
        .filter(|name| {
            let needle = format!("KSR.{name}");
            source.match_indices(&needle).any(|(at, _)| {
                !source[at + needle.len()..]
                    .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            })
        })
        .collect();
    let missing: Vec<&str> = root
        .exports
        .iter()
        .map(|e| e.name)
        .filter(|n| !called.contains(n))
        .collect();
    assert!(missing.is_empty(), "not called from Lua: {missing:?}");
    assert_eq!(root.exports.len(), 91, "update this file for new exports");
}
