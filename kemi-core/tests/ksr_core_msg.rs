//! The core `KSR.*` functions that look at the message and the network
//! (method and protocol tests, `is_myself*`, R-URI rewrites, forwarding),
//! called through the registry the way engines call them.

use std::net::SocketAddr;
use std::sync::Arc;

use kemi_core::config::{Alias, Config, Proto as CfgProto};
use kemi_core::net::{Capture, Proto, RecvInfo};
use kemi_core::sip::Message;
use kemi_core::{Arg, Context, Registry, Ret, Runtime};

const INVITE: &[u8] = b"INVITE sip:bob@198.51.100.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@proxy.example.com>;tag=f\r\n\
To: <sip:bob@example.org>\r\n\
Call-ID: core-msg-1\r\n\
CSeq: 7 INVITE\r\n\
Content-Length: 0\r\n\r\n";

const REPLY: &[u8] = b"SIP/2.0 180 Ringing\r\n\
Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-ours\r\n\
Via: SIP/2.0/TCP 192.0.2.10:5062;branch=z9hG4bK-1;received=[2001:db8::7]\r\n\
From: <sip:alice@example.com>;tag=f\r\n\
To: <sip:bob@example.org>;tag=t\r\n\
Call-ID: core-msg-1\r\n\
CSeq: 7 BYE\r\n\
Content-Length: 0\r\n\r\n";

fn call(ctx: &mut Context, name: &str, args: &[Arg<'_>]) -> Ret {
    let registry = Registry::new(&[]);
    let export = registry
        .find("", name)
        .unwrap_or_else(|| panic!("KSR.{name} is not registered"));
    export
        .invoke(ctx, args)
        .unwrap_or_else(|e| panic!("KSR.{name} refused its arguments: {e}"))
}

fn b(ctx: &mut Context, name: &str, args: &[Arg<'_>]) -> bool {
    match call(ctx, name, args) {
        Ret::Bool(v) => v,
        other => panic!("KSR.{name} returned {other:?}"),
    }
}

fn i(ctx: &mut Context, name: &str, args: &[Arg<'_>]) -> i32 {
    match call(ctx, name, args) {
        Ret::Int(v) => v,
        other => panic!("KSR.{name} returned {other:?}"),
    }
}

fn setup(bytes: &[u8], proto: Proto, config: Config) -> (Context, Arc<Capture>) {
    let cap = Arc::new(Capture::default());
    let rt = Arc::new(Runtime::with_config(config, cap.clone()));
    rt.set_sockets(vec![
        (Proto::Udp, "198.51.100.1:5060".parse().unwrap()),
        (Proto::Tcp, "198.51.100.1:5060".parse().unwrap()),
    ]);
    let recv = RecvInfo {
        proto,
        src: "192.0.2.10:5062".parse().unwrap(),
        local: "198.51.100.1:5060".parse().unwrap(),
    };
    let msg = Message::parse(bytes.to_vec()).unwrap();
    (Context::for_message(rt, msg, recv), cap)
}

fn invite() -> Context {
    setup(INVITE, Proto::Udp, Config::default()).0
}

#[test]
fn method_tests() {
    let mut c = invite();
    assert!(b(&mut c, "is_INVITE", &[]));
    for name in [
        "is_ACK",
        "is_BYE",
        "is_CANCEL",
        "is_REGISTER",
        "is_OPTIONS",
        "is_SUBSCRIBE",
        "is_PUBLISH",
        "is_NOTIFY",
        "is_REFER",
        "is_INFO",
        "is_UPDATE",
        "is_PRACK",
        "is_MESSAGE",
        "is_KDMQ",
        "is_GET",
        "is_POST",
        "is_PUT",
        "is_DELETE",
    ] {
        assert!(!b(&mut c, name, &[]), "{name}");
    }
    assert!(b(&mut c, "is_method", &[Arg::Str(b"invite")]));
    assert!(b(&mut c, "is_method", &[Arg::Str(b"BYE|INVITE")]));
    assert!(!b(&mut c, "is_method", &[Arg::Str(b"BYE|FOO|INVITE")]));
    assert!(!b(&mut c, "is_method", &[Arg::Str(b"BYE")]));
    assert!(b(&mut c, "is_method_in", &[Arg::Str(b"bi")]));
    assert!(!b(&mut c, "is_method_in", &[Arg::Str(b"ABC")]));
    // Replies are tested on the CSeq method.
    let (mut r, _) = setup(REPLY, Proto::Udp, Config::default());
    assert!(b(&mut r, "is_BYE", &[]));
    assert!(b(&mut r, "is_method_in", &[Arg::Str(b"B")]));
    assert!(!b(&mut r, "is_INVITE", &[]));
    // Every method test, for each method.
    for (m, f) in [
        ("ACK", "is_ACK"),
        ("CANCEL", "is_CANCEL"),
        ("REGISTER", "is_REGISTER"),
        ("OPTIONS", "is_OPTIONS"),
        ("SUBSCRIBE", "is_SUBSCRIBE"),
        ("PUBLISH", "is_PUBLISH"),
        ("NOTIFY", "is_NOTIFY"),
        ("REFER", "is_REFER"),
        ("INFO", "is_INFO"),
        ("UPDATE", "is_UPDATE"),
        ("PRACK", "is_PRACK"),
        ("MESSAGE", "is_MESSAGE"),
        ("KDMQ", "is_KDMQ"),
        ("GET", "is_GET"),
        ("POST", "is_POST"),
        ("PUT", "is_PUT"),
        ("DELETE", "is_DELETE"),
    ] {
        let text = String::from_utf8_lossy(INVITE)
            .replace("INVITE sip:", &format!("{m} sip:"))
            .replace("7 INVITE", &format!("7 {m}"));
        let (mut c, _) = setup(text.as_bytes(), Proto::Udp, Config::default());
        assert!(b(&mut c, f, &[]), "{f}");
        assert!(!b(&mut c, "is_INVITE", &[]), "{m}");
    }
}

#[test]
fn receive_protocol_and_family() {
    let mut c = invite();
    assert!(b(&mut c, "is_UDP", &[]));
    assert!(!b(&mut c, "is_TCP", &[]));
    assert!(!b(&mut c, "is_TCPX", &[]));
    assert!(b(&mut c, "is_proto", &[Arg::Str(b"tU")]));
    assert!(!b(&mut c, "is_proto", &[Arg::Str(b"tesvw")]));
    assert!(b(&mut c, "is_IPv4", &[]));
    assert!(!b(&mut c, "is_IPv6", &[]));
    assert!(b(&mut c, "is_src_port", &[Arg::Int(5062)]));
    assert!(!b(&mut c, "is_src_port", &[Arg::Int(5060)]));
    assert!(b(&mut c, "is_dst_port", &[Arg::Int(5060)]));
    for (proto, yes) in [
        (Proto::Tcp, &["is_TCP", "is_TCPX"][..]),
        (Proto::Tls, &["is_TLS", "is_TCPX"][..]),
        (Proto::Ws, &["is_WS", "is_WSX", "is_TCPX"][..]),
        (Proto::Wss, &["is_WSS", "is_WSX", "is_TCPX"][..]),
        (Proto::Sctp, &["is_SCTP"][..]),
    ] {
        let (mut c, _) = setup(INVITE, proto, Config::default());
        for name in [
            "is_UDP", "is_TCP", "is_TCPX", "is_TLS", "is_WS", "is_WSS", "is_WSX", "is_SCTP",
        ] {
            assert_eq!(b(&mut c, name, &[]), yes.contains(&name), "{proto} {name}");
        }
    }
}

#[test]
fn outgoing_protocol_and_family() {
    let mut c = invite();
    assert!(b(&mut c, "to_UDP", &[]));
    assert!(b(&mut c, "to_IPv4", &[]));
    assert!(!b(&mut c, "to_IPv6", &[]));
    c.new_uri = Some("sip:x@[2001:db8::1];transport=tcp".into());
    assert!(b(&mut c, "to_TCP", &[]));
    assert!(b(&mut c, "to_IPv6", &[]));
    c.dst_uri = Some("sips:example.com".into());
    assert!(b(&mut c, "to_TLS", &[]));
    assert!(!b(&mut c, "to_IPv4", &[]));
    assert!(!b(&mut c, "to_IPv6", &[]));
    for (t, names) in [
        ("sctp", &["to_SCTP"][..]),
        ("ws", &["to_WS", "to_WSX"][..]),
        ("wss", &["to_WSS", "to_WSX"][..]),
    ] {
        c.dst_uri = Some(format!("sip:192.0.2.1;transport={t}"));
        for name in [
            "to_UDP", "to_TCP", "to_TLS", "to_SCTP", "to_WS", "to_WSS", "to_WSX",
        ] {
            assert_eq!(b(&mut c, name, &[]), names.contains(&name), "{t} {name}");
        }
    }
    // A reply leaves per its second Via (received wins over sent-by).
    let (mut r, _) = setup(REPLY, Proto::Udp, Config::default());
    assert!(b(&mut r, "to_TCP", &[]));
    assert!(b(&mut r, "to_IPv6", &[]));
}

#[test]
fn myself_checks() {
    let mut cfg = Config::default();
    cfg.alias.push(Alias {
        proto: CfgProto::Any,
        host: "proxy.example.com".into(),
        port: None,
    });
    let (mut c, _) = setup(INVITE, Proto::Udp, cfg);
    let mut yes = |s: &str| b(&mut c, "is_myself", &[Arg::Str(s.as_bytes())]);
    assert!(yes("sip:198.51.100.1"));
    assert!(yes("sip:u@198.51.100.1:5060;transport=tcp"));
    assert!(yes("sip:[::ffff:198.51.100.1]"));
    assert!(!yes("sip:198.51.100.1:5070"));
    assert!(!yes("sips:198.51.100.1"));
    assert!(!yes("sip:198.51.100.1;transport=tls"));
    assert!(yes("sip:PROXY.example.com:9999"));
    assert!(yes("198.51.100.1"));
    assert!(yes("proxy.example.com"));
    assert!(!yes("example.org"));
    assert!(!yes("sip:"));
    assert!(b(&mut c, "is_myself_ruri", &[]));
    assert!(b(&mut c, "is_myself_furi", &[]));
    assert!(!b(&mut c, "is_myself_turi", &[]));
    assert!(!b(&mut c, "is_myself_duri", &[]));
    assert!(b(&mut c, "is_myself_nhuri", &[]));
    c.dst_uri = Some("sip:203.0.113.5".into());
    assert!(!b(&mut c, "is_myself_nhuri", &[]));
    c.dst_uri = Some("sip:proxy.example.com".into());
    assert!(b(&mut c, "is_myself_duri", &[]));
    c.new_uri = Some("sip:bob@example.org".into());
    assert!(!b(&mut c, "is_myself_ruri", &[]));
    assert!(!b(&mut c, "is_myself_srcip", &[]));
    assert!(!b(&mut c, "is_myself_suri", &[]));
    // A message from ourselves.
    c.recv.src = SocketAddr::from(([198, 51, 100, 1], 5060));
    assert!(b(&mut c, "is_myself_srcip", &[]));
    assert!(b(&mut c, "is_myself_suri", &[]));
    c.recv.src = SocketAddr::from(([198, 51, 100, 1], 40000));
    assert!(b(&mut c, "is_myself_srcip", &[]));
    assert!(!b(&mut c, "is_myself_suri", &[]));
    // Replies have no R-URI to check.
    let (mut r, _) = setup(REPLY, Proto::Udp, Config::default());
    assert!(!b(&mut r, "is_myself_ruri", &[]));
}

#[test]
fn auto_aliases_makes_the_host_name_local() {
    let host = kemi_core::myself::machine_names()
        .into_iter()
        .next()
        .expect("this machine has a host name");
    // On (Kamailio's default): the host name on a listening port.
    let (mut c, _) = setup(INVITE, Proto::Udp, Config::default());
    let mut yes = |s: &str| b(&mut c, "is_myself", &[Arg::Str(s.as_bytes())]);
    assert!(yes(&format!("sip:{host}")));
    assert!(yes(&format!(
        "sip:bob@{}:5060;transport=tcp",
        host.to_uppercase()
    )));
    assert!(!yes(&format!("sip:{host}:5070")), "not a listening port");
    assert!(!yes(&format!("sips:{host}")), "not a listening transport");
    // Off: only the listen addresses and aliases.
    let cfg = Config {
        auto_aliases: false,
        ..Config::default()
    };
    let (mut c, _) = setup(INVITE, Proto::Udp, cfg);
    assert!(!b(
        &mut c,
        "is_myself",
        &[Arg::Str(format!("sip:{host}").as_bytes())]
    ));
    assert!(b(&mut c, "is_myself", &[Arg::Str(b"sip:198.51.100.1")]));
}

#[test]
fn request_uri_rewrites() {
    let mut c = invite();
    assert!(b(&mut c, "setuser", &[Arg::Str(b"carol")]));
    assert_eq!(c.ruri(), "sip:carol@198.51.100.1:5060");
    assert!(b(&mut c, "sethost", &[Arg::Str(b"example.net")]));
    assert_eq!(c.ruri(), "sip:carol@example.net:5060");
    assert!(b(&mut c, "sethost", &[Arg::Str(b"2001:db8::2")]));
    assert_eq!(c.ruri(), "sip:carol@[2001:db8::2]:5060");
    assert!(b(&mut c, "setuser", &[Arg::Str(b"")]));
    assert_eq!(c.ruri(), "sip:[2001:db8::2]:5060");
    assert!(!b(&mut c, "sethost", &[Arg::Str(b"")]));
    assert!(!b(&mut c, "sethost", &[Arg::Str(b"bad host")]));
    assert!(b(&mut c, "seturi", &[Arg::Str(b"sip:dave:pw@x.org;lr")]));
    assert!(b(&mut c, "setuser", &[Arg::Str(b"erin")]));
    assert_eq!(c.ruri(), "sip:erin:pw@x.org;lr");
    assert!(!b(&mut c, "seturi", &[Arg::Str(b"not a uri")]));
    assert_eq!(c.ruri(), "sip:erin:pw@x.org;lr");
    c.new_uri = Some("tel:+1234".into());
    assert!(!b(&mut c, "setuser", &[Arg::Str(b"x")]));
}

#[test]
fn forward_and_forward_uri() {
    let (mut c, cap) = setup(INVITE, Proto::Udp, Config::default());
    c.new_uri = Some("sip:bob@192.0.2.50:5080".into());
    assert_eq!(i(&mut c, "forward", &[]), 1);
    assert_eq!(
        i(
            &mut c,
            "forward_uri",
            &[Arg::Str(b"sip:192.0.2.60;transport=tcp")]
        ),
        1
    );
    assert_eq!(i(&mut c, "forward_uri", &[Arg::Str(b"")]), 1);
    assert_eq!(i(&mut c, "forward_uri", &[Arg::Str(b"tel:+1")]), -1);
    let sent = cap.take();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[0].dst, "192.0.2.50:5080".parse().unwrap());
    assert_eq!(sent[1].dst, "192.0.2.60:5060".parse().unwrap());
    assert_eq!(sent[1].proto, Proto::Tcp);
    assert_eq!(sent[2].dst, "192.0.2.50:5080".parse().unwrap());
    let out = Message::parse(sent[0].bytes.clone()).unwrap();
    assert_eq!(out.request_uri(), Some("sip:bob@192.0.2.50:5080"));
    assert_eq!(out.vias().unwrap().len(), 2);
    // The same request forwarded again gets the same branch.
    let b0 = Message::parse(sent[0].bytes.clone()).unwrap();
    let b2 = Message::parse(sent[2].bytes.clone()).unwrap();
    assert_eq!(
        b0.top_via().unwrap().branch(),
        b2.top_via().unwrap().branch()
    );
}

#[test]
fn advertised_address_and_tcp_alias() {
    let (mut c, cap) = setup(INVITE, Proto::Udp, Config::default());
    assert_eq!(i(&mut c, "set_advertised_address", &[Arg::Str(b"")]), 0);
    assert_eq!(
        i(
            &mut c,
            "set_advertised_address",
            &[Arg::Str(b"pub.example.com")]
        ),
        1
    );
    assert_eq!(i(&mut c, "set_advertised_port", &[Arg::Str(b"x")]), 0);
    assert_eq!(i(&mut c, "set_advertised_port", &[Arg::Str(b"5080")]), 1);
    assert_eq!(i(&mut c, "forward", &[]), 1);
    let out = Message::parse(cap.take()[0].bytes.clone()).unwrap();
    let via = out.top_via().unwrap();
    assert_eq!((via.host, via.port), ("pub.example.com", Some(5080)));
    // Aliases only make sense on streams.
    assert_eq!(i(&mut c, "add_tcp_alias", &[Arg::Int(5070)]), 0);
    assert_eq!(i(&mut c, "add_tcp_alias_via", &[]), 0);
    assert!(cap.take_aliases().is_empty());
    let (mut t, cap) = setup(INVITE, Proto::Tcp, Config::default());
    assert_eq!(i(&mut t, "add_tcp_alias", &[Arg::Int(70000)]), 0);
    assert_eq!(i(&mut t, "add_tcp_alias", &[Arg::Int(5070)]), 1);
    assert_eq!(t.tcp_alias_port, Some(5070));
    assert_eq!(i(&mut t, "add_tcp_alias_via", &[]), 1);
    assert_eq!(t.tcp_alias_port, Some(5062));
    // The transport got both, for the sender's own address.
    let src = t.recv.src;
    let aliases: Vec<(SocketAddr, SocketAddr)> = cap
        .take_aliases()
        .into_iter()
        .inspect(|a| assert_eq!(a.proto, Proto::Tcp))
        .map(|a| (a.peer, a.alias))
        .collect();
    assert_eq!(
        aliases,
        [
            (src, SocketAddr::new(src.ip(), 5070)),
            (src, SocketAddr::new(src.ip(), 5062))
        ]
    );
}

#[test]
fn route_has_no_native_blocks() {
    let mut c = invite();
    assert_eq!(i(&mut c, "route", &[Arg::Str(b"RELAY")]), -1);
}
