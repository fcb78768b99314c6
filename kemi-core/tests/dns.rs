//! RFC 3263 next-hop lookups against a real DNS exchange: a small UDP
//! nameserver in the test answers NAPTR and SRV queries from a table, and
//! `resolve_uri` is pointed at it with `KEMI_PROXY_NAMESERVER`.

use std::net::UdpSocket;
use std::sync::{Arc, Mutex, Once};

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{NAPTR, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use kemi_core::forward::resolve_uri;
use kemi_core::net::Proto;

fn name(s: &str) -> Name {
    Name::from_ascii(s).unwrap()
}

fn naptr(order: u16, service: &str, replacement: &str) -> RData {
    RData::NAPTR(NAPTR::new(
        order,
        10,
        b"s".to_vec().into_boxed_slice(),
        service.as_bytes().to_vec().into_boxed_slice(),
        Vec::new().into_boxed_slice(),
        name(replacement),
    ))
}

fn srv(priority: u16, weight: u16, port: u16, target: &str) -> RData {
    RData::SRV(SRV::new(priority, weight, port, name(target)))
}

/// The zone the test nameserver serves.
fn answer(qname: &str, kind: RecordType) -> Vec<RData> {
    match (qname.trim_end_matches('.'), kind) {
        ("example.test", RecordType::NAPTR) => vec![
            naptr(20, "SIP+D2U", "_sip._udp.example.test."),
            naptr(10, "SIP+D2T", "_sip._tcp.example.test."),
        ],
        ("_sip._tcp.example.test", RecordType::SRV) => vec![
            srv(20, 0, 5099, "localhost."),
            srv(10, 5, 5077, "localhost."),
        ],
        ("_sip._udp.example.test", RecordType::SRV) => vec![srv(10, 5, 5066, "localhost.")],
        ("_sip._udp.other.test", RecordType::SRV) => vec![srv(10, 5, 5078, "localhost.")],
        ("_sip._udp.cached.test", RecordType::SRV) => vec![srv(10, 5, 5081, "localhost.")],
        ("tlsonly.test", RecordType::NAPTR) => {
            vec![naptr(10, "SIPS+D2T", "_sips._tcp.tlsonly.test.")]
        }
        ("_sip._udp.tlsonly.test", RecordType::SRV) => vec![srv(10, 5, 5079, "localhost.")],
        _ => Vec::new(),
    }
}

/// Every name queried, in order (tests run in parallel: count by name).
static QUERIES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn queries_for(qname: &str) -> usize {
    QUERIES
        .lock()
        .unwrap()
        .iter()
        .filter(|n| n.trim_end_matches('.') == qname)
        .count()
}

fn start_nameserver() {
    static START: Once = Once::new();
    START.call_once(|| {
        let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
        let addr = sock.local_addr().unwrap();
        std::env::set_var("KEMI_PROXY_NAMESERVER", addr.to_string());
        std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            loop {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(q) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                for query in q.queries() {
                    QUERIES.lock().unwrap().push(query.name().to_ascii());
                }
                let mut r = Message::new();
                r.set_id(q.id())
                    .set_message_type(MessageType::Response)
                    .set_recursion_desired(true)
                    .set_recursion_available(true)
                    .add_queries(q.queries().to_vec());
                let mut found = false;
                for query in q.queries() {
                    for rdata in answer(&query.name().to_ascii(), query.query_type()) {
                        found = true;
                        r.add_answer(Record::from_rdata(query.name().clone(), 60, rdata));
                    }
                }
                if !found {
                    r.set_response_code(ResponseCode::NXDomain);
                }
                let _ = sock.send_to(&r.to_vec().unwrap(), from);
            }
        });
    });
}

#[test]
fn naptr_picks_the_transport_and_srv_the_port() {
    start_nameserver();
    let hop = resolve_uri("sip:alice@example.test").unwrap();
    // NAPTR order 10 is TCP; its SRV with priority 10 is port 5077.
    assert_eq!(hop.proto, Proto::Tcp);
    assert_eq!(hop.dst.port(), 5077);
    assert!(hop.dst.ip().is_loopback());
}

#[test]
fn transport_parameter_goes_straight_to_srv() {
    start_nameserver();
    let hop = resolve_uri("sip:other.test;transport=udp").unwrap();
    assert_eq!((hop.proto, hop.dst.port()), (Proto::Udp, 5078));
    let hop = resolve_uri("sip:example.test;transport=udp").unwrap();
    assert_eq!((hop.proto, hop.dst.port()), (Proto::Udp, 5066));
}

#[test]
fn unusable_naptr_services_fall_back_to_srv() {
    start_nameserver();
    // Only TLS is offered by NAPTR, which this proxy cannot send over.
    let hop = resolve_uri("sip:tlsonly.test").unwrap();
    assert_eq!((hop.proto, hop.dst.port()), (Proto::Udp, 5079));
}

#[test]
fn explicit_ports_and_ip_literals_skip_dns() {
    start_nameserver();
    let hop = resolve_uri("sip:127.0.0.1").unwrap();
    assert_eq!(hop.dst.port(), 5060);
    let hop = resolve_uri("sip:localhost:5090").unwrap();
    assert_eq!(hop.dst.port(), 5090);
    let all = QUERIES.lock().unwrap().clone();
    assert!(
        all.iter()
            .all(|n| !n.contains("localhost") && !n.contains("127.0.0.1")),
        "{all:?}"
    );
}

#[test]
fn answers_are_cached() {
    start_nameserver();
    for _ in 0..10 {
        let hop = resolve_uri("sip:cached.test;transport=udp").unwrap();
        assert_eq!(hop.dst.port(), 5081);
    }
    assert_eq!(queries_for("_sip._udp.cached.test"), 1);
}
