//! Locating a SIP server by name (RFC 3263 §4): NAPTR picks the transport
//! when the URI names none, SRV gives hosts and ports when the URI has no
//! port, A/AAAA (the system resolver) gives the address.
//!
//! NAPTR and SRV queries go to the nameservers of `/etc/resolv.conf` over
//! UDP (the standard library cannot ask for them); messages are encoded
//! and decoded with hickory-proto. Answers are cached for their TTL, so a
//! name costs one lookup per TTL, not one per request. The environment
//! variable `KEMI_PROXY_NAMESERVER` (`ip:port`) replaces the resolv.conf
//! servers, for tests and for debugging.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RData, RecordType};

use crate::net::Proto;

/// One SRV target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrvTarget {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub host: String,
}

/// One NAPTR record usable for SIP.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Naptr {
    order: u16,
    preference: u16,
    proto: Proto,
    replacement: String,
}

#[derive(Clone)]
enum Answer {
    Srv(Vec<SrvTarget>),
    Naptr(Vec<Naptr>),
}

type Cache = Mutex<HashMap<(String, RecordType), (Instant, Answer)>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Cache entries are kept at least this long (a TTL of 0 would mean a
/// lookup per request) and at most this long (names do move).
const MIN_TTL: Duration = Duration::from_secs(5);
const MAX_TTL: Duration = Duration::from_secs(3600);
/// Longest wait per query and server: routing waits for it.
const QUERY_TIMEOUT: Duration = Duration::from_millis(1500);

fn nameservers() -> Vec<SocketAddr> {
    if let Some(ns) = std::env::var("KEMI_PROXY_NAMESERVER")
        .ok()
        .and_then(|v| v.parse::<SocketAddr>().ok())
    {
        return vec![ns];
    }
    let text = std::fs::read("/etc/resolv.conf").unwrap_or_default();
    match resolv_conf::Config::parse(&text) {
        Ok(conf) => conf
            .nameservers
            .iter()
            .map(|ip| SocketAddr::new(IpAddr::from(ip), 53))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Asks the nameservers for `name`'s records of type `kind`; the answer's
/// records, or nothing when none answers or the name has none.
fn query(name: &str, kind: RecordType) -> (Vec<RData>, u32) {
    let Ok(qname) = Name::from_ascii(name) else {
        return (Vec::new(), 0);
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let id = crate::forward::fnv1a(&[name.as_bytes(), &nanos.to_le_bytes()]) as u16;
    let mut msg = Message::new();
    msg.set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(qname, kind));
    let Ok(bytes) = msg.to_vec() else {
        return (Vec::new(), 0);
    };
    for server in nameservers() {
        let bind: SocketAddr = if server.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let Ok(sock) = UdpSocket::bind(bind) else {
            continue;
        };
        if sock.set_read_timeout(Some(QUERY_TIMEOUT)).is_err()
            || sock.send_to(&bytes, server).is_err()
        {
            continue;
        }
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + QUERY_TIMEOUT;
        while Instant::now() < deadline {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                break;
            };
            if from != server {
                continue;
            }
            let Ok(reply) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            if reply.id() != id {
                continue;
            }
            let ttl = reply.answers().iter().map(|r| r.ttl()).min().unwrap_or(0);
            let data = reply
                .answers()
                .iter()
                .filter(|r| r.record_type() == kind)
                .map(|r| r.data().clone())
                .collect();
            return (data, ttl);
        }
    }
    (Vec::new(), 0)
}

fn cached(name: &str, kind: RecordType, fetch: impl FnOnce() -> (Answer, u32)) -> Answer {
    let key = (name.to_ascii_lowercase(), kind);
    {
        let cache = cache().lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((until, answer)) = cache.get(&key) {
            if *until > Instant::now() {
                return answer.clone();
            }
        }
    }
    let (answer, ttl) = fetch();
    let keep = Duration::from_secs(u64::from(ttl)).clamp(MIN_TTL, MAX_TTL);
    cache()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, (Instant::now() + keep, answer.clone()));
    answer
}

/// SRV records of `name` (`_sip._udp.example.com`), best first: lowest
/// priority, then highest weight (a deterministic stand-in for RFC 2782's
/// weighted pick).
pub fn srv(name: &str) -> Vec<SrvTarget> {
    let answer = cached(name, RecordType::SRV, || {
        let (data, ttl) = query(name, RecordType::SRV);
        let mut targets: Vec<SrvTarget> = data
            .into_iter()
            .filter_map(|d| match d {
                RData::SRV(s) => Some(SrvTarget {
                    priority: s.priority(),
                    weight: s.weight(),
                    port: s.port(),
                    host: s.target().to_ascii().trim_end_matches('.').to_string(),
                }),
                _ => None,
            })
            // "." means the service is not offered there.
            .filter(|t| !t.host.is_empty())
            .collect();
        targets.sort_by_key(|t| (t.priority, std::cmp::Reverse(t.weight)));
        (Answer::Srv(targets), ttl)
    });
    match answer {
        Answer::Srv(t) => t,
        Answer::Naptr(_) => Vec::new(),
    }
}

fn naptr(name: &str, secure: bool) -> Vec<Naptr> {
    let answer = cached(name, RecordType::NAPTR, || {
        let (data, ttl) = query(name, RecordType::NAPTR);
        let mut records: Vec<Naptr> = data
            .into_iter()
            .filter_map(|d| match d {
                RData::NAPTR(n) => {
                    let service = String::from_utf8_lossy(n.services()).to_ascii_uppercase();
                    let proto = match service.as_str() {
                        "SIP+D2U" => Proto::Udp,
                        "SIP+D2T" => Proto::Tcp,
                        "SIPS+D2T" => Proto::Tls,
                        _ => return None,
                    };
                    // Only "s" (an SRV name follows) is meaningful for SIP.
                    if !n.flags().eq_ignore_ascii_case(b"s") {
                        return None;
                    }
                    Some(Naptr {
                        order: n.order(),
                        preference: n.preference(),
                        proto,
                        replacement: n.replacement().to_ascii().trim_end_matches('.').to_string(),
                    })
                }
                _ => None,
            })
            .collect();
        records.sort_by_key(|n| (n.order, n.preference));
        (Answer::Naptr(records), ttl)
    });
    match answer {
        Answer::Naptr(n) => n
            .into_iter()
            .filter(|n| !secure || n.proto == Proto::Tls)
            .collect(),
        Answer::Srv(_) => Vec::new(),
    }
}

fn srv_name(host: &str, proto: Proto, secure: bool) -> String {
    let (service, transport) = match proto {
        Proto::Udp => ("sip", "udp"),
        Proto::Tls => ("sips", "tcp"),
        _ if secure => ("sips", "tcp"),
        _ => ("sip", "tcp"),
    };
    format!("_{service}._{transport}.{host}")
}

/// Where RFC 3263 says to send for `host` (a name, not an IP literal) when
/// the URI gave no port: `(transport, host, port)` of the best target, or
/// `None` when DNS has no NAPTR/SRV records for it (then the caller uses
/// the name's A/AAAA records and the default port). `transport` is the
/// URI's `transport` parameter, if any; transports this proxy cannot send
/// over are skipped.
pub fn locate(
    host: &str,
    transport: Option<Proto>,
    secure: bool,
    usable: impl Fn(Proto) -> bool,
) -> Option<(Proto, String, u16)> {
    if let Some(proto) = transport {
        let target = srv(&srv_name(host, proto, secure)).into_iter().next()?;
        return Some((proto, target.host, target.port));
    }
    for n in naptr(host, secure) {
        if !usable(n.proto) {
            continue;
        }
        if let Some(t) = srv(&n.replacement).into_iter().next() {
            return Some((n.proto, t.host, t.port));
        }
    }
    // No NAPTR: SRV for each transport we support, UDP first (RFC 3263 4.1).
    let protos: &[Proto] = if secure {
        &[Proto::Tls]
    } else {
        &[Proto::Udp, Proto::Tcp]
    };
    protos.iter().copied().filter(|p| usable(*p)).find_map(|p| {
        srv(&srv_name(host, p, secure))
            .into_iter()
            .next()
            .map(|t| (p, t.host, t.port))
    })
}
