//! Deciding whether a host (and port, and transport) names this proxy:
//! Kamailio's `check_self`, behind `KSR.is_myself*` and the forwarding
//! code's loop checks.
//!
//! A target is local when it matches one of:
//! - a socket the proxy bound (`Runtime::sockets`) or the socket the
//!   current message arrived on;
//! - a `listen` entry of the config (its address, or its name, or its
//!   `advertise` address);
//! - an `alias` entry of the config;
//! - with `auto_aliases` (on by default, as in Kamailio), the machine's
//!   host name on the port and transport of a socket the proxy listens
//!   on. (Kamailio also adds the reverse-DNS names of its addresses; a
//!   DNS query per socket at start-up is left out here.)
//!
//! Hosts compare case-insensitively, IP literals by value (so `[::1]`,
//! `::1` and `0:0::1` are equal). A target without a port stands for the
//! scheme's default port (5060, or 5061 for `sips:` and TLS); an alias
//! without a port matches any port, as in Kamailio.

use std::net::{IpAddr, SocketAddr};

use crate::config::{self, Config, Host};
use crate::context::Context;
use crate::net::Proto;
use crate::sip::{Scheme, Uri};

/// What is being checked: a host, optionally a port and a transport.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// Host name or IP literal; IPv6 may be bracketed.
    pub host: &'a str,
    /// `None`: the default port of the transport.
    pub port: Option<u16>,
    /// `None`: any transport.
    pub proto: Option<Proto>,
    /// Only compare the host (`is_myself_srcip`).
    pub any_port: bool,
}

impl<'a> Target<'a> {
    /// The port the target means: the explicit one, else 5061 for TLS/WSS
    /// and 5060 otherwise.
    fn effective_port(&self, secure: bool) -> u16 {
        self.port.unwrap_or(if secure { 5061 } else { 5060 })
    }
}

/// The host of a URI or a sent-by without IPv6 brackets.
fn unbracket(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// True when two hosts name the same thing: IP literals by value (IPv6
/// normalised), names case-insensitively.
pub fn same_host(a: &str, b: &str) -> bool {
    let (a, b) = (unbracket(a), unbracket(b));
    match (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
        (Ok(x), Ok(y)) => canonical_ip(x) == canonical_ip(y),
        (Err(_), Err(_)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// IPv4-mapped IPv6 addresses compare equal to their IPv4 form.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

fn proto_matches(want: Option<Proto>, have: Proto) -> bool {
    want.is_none_or(|p| p == have)
}

/// The config's protocol for a listen/alias entry; `None` for "any".
fn config_proto(p: config::Proto) -> Option<Proto> {
    match p {
        config::Proto::Udp => Some(Proto::Udp),
        config::Proto::Tcp => Some(Proto::Tcp),
        config::Proto::Tls => Some(Proto::Tls),
        config::Proto::Sctp => Some(Proto::Sctp),
        config::Proto::Any => None,
    }
}

fn host_text(h: &Host) -> Option<String> {
    match h {
        Host::Ipv4(a) => Some(a.to_string()),
        Host::Ipv6(a) => Some(a.to_string()),
        Host::Name(n) => Some(n.clone()),
        Host::Any => None,
    }
}

fn socket_matches(t: &Target<'_>, proto: Proto, addr: SocketAddr) -> bool {
    let Ok(ip) = unbracket(t.host).parse::<IpAddr>() else {
        return false;
    };
    canonical_ip(ip) == canonical_ip(addr.ip()) && socket_port_matches(t, proto, addr)
}

/// The target's transport and port are those of the socket.
fn socket_port_matches(t: &Target<'_>, proto: Proto, addr: SocketAddr) -> bool {
    proto_matches(t.proto, proto)
        && (t.any_port || t.effective_port(matches!(proto, Proto::Tls | Proto::Wss)) == addr.port())
}

/// The names `auto_aliases` adds: the machine's host name.
pub fn machine_names() -> Vec<String> {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into `buf`.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return Vec::new();
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..len]) {
        Ok(name) if !name.is_empty() => vec![name.to_string()],
        _ => Vec::new(),
    }
}

fn config_matches(t: &Target<'_>, cfg: &Config) -> bool {
    for l in &cfg.listen {
        let lproto = config_proto(l.proto);
        if let (Some(want), Some(have)) = (t.proto, lproto) {
            if want != have {
                continue;
            }
        }
        let port = l.port.unwrap_or(cfg.port);
        let secure = lproto == Some(Proto::Tls);
        let port_ok = t.any_port || t.effective_port(secure) == port;
        let names = [
            host_text(&l.addr),
            l.advertise.as_ref().and_then(|a| host_text(&a.addr)),
        ];
        let adv_port = l.advertise.as_ref().and_then(|a| a.port).unwrap_or(port);
        for (i, name) in names.iter().enumerate() {
            let Some(name) = name else { continue };
            let p_ok = if i == 0 {
                port_ok
            } else {
                t.any_port || t.effective_port(secure) == adv_port
            };
            if p_ok && same_host(name, t.host) {
                return true;
            }
        }
    }
    cfg.alias.iter().any(|a| {
        let proto_ok = match (t.proto, config_proto(a.proto)) {
            (Some(want), Some(have)) => want == have,
            _ => true,
        };
        // An alias without a port, or a check without one, matches any port
        // (Kamailio's grep_aliases).
        let port_ok = t.any_port || a.port.is_none() || t.port.is_none() || a.port == t.port;
        proto_ok && port_ok && same_host(&a.host, t.host)
    })
}

/// True when `t` names this proxy for the message in `ctx`.
pub fn is_myself(ctx: &Context, t: &Target<'_>) -> bool {
    if t.host.is_empty() {
        return false;
    }
    if !ctx.faked && socket_matches(t, ctx.recv.proto, ctx.recv.local) {
        return true;
    }
    let rt = ctx.runtime();
    let sockets = rt.sockets();
    if sockets
        .iter()
        .any(|(proto, addr)| socket_matches(t, *proto, *addr))
    {
        return true;
    }
    // `auto_aliases`: the host name stands for every listening socket.
    if rt.machine_names().iter().any(|n| same_host(n, t.host)) {
        let on_recv = !ctx.faked && socket_port_matches(t, ctx.recv.proto, ctx.recv.local);
        if on_recv
            || sockets
                .iter()
                .any(|(proto, addr)| socket_port_matches(t, *proto, *addr))
        {
            return true;
        }
    }
    config_matches(t, rt.config())
}

/// The target a SIP URI names: host, port, and the transport from its
/// `transport` parameter (`sips:` means TLS).
pub fn uri_target<'a>(uri: &Uri<'a>) -> Target<'a> {
    let proto =
        uri.params
            .value("transport")
            .and_then(Proto::parse)
            .or(if uri.scheme == Scheme::Sips {
                Some(Proto::Tls)
            } else {
                None
            });
    Target {
        host: uri.host,
        port: uri.port,
        proto,
        any_port: false,
    }
}

/// Checks a `sip:`/`sips:` URI, or a bare host when `text` is not one
/// (Kamailio's `is_myself` treats anything else as a host name).
pub fn is_myself_text(ctx: &Context, text: &str) -> bool {
    let lower = text.get(..5).unwrap_or(text).to_ascii_lowercase();
    if lower.starts_with("sip:") || lower.starts_with("sips:") {
        match Uri::parse(text) {
            Ok(uri) => is_myself(ctx, &uri_target(&uri)),
            Err(e) => {
                tracing::debug!("is_myself: bad URI {text:?}: {e}");
                false
            }
        }
    } else {
        // A bare host may carry a port: "host:port" or "[v6]:port".
        let (host, port) = split_host_port(text);
        is_myself(
            ctx,
            &Target {
                host,
                port,
                proto: None,
                any_port: false,
            },
        )
    }
}

/// Checks a URI; false when it is not a SIP URI.
pub fn is_myself_uri(ctx: &Context, uri: &str) -> bool {
    Uri::parse(uri).is_ok_and(|u| is_myself_parsed(ctx, &u))
}

/// Checks a parsed URI; false when it is not a SIP URI.
pub fn is_myself_parsed(ctx: &Context, uri: &Uri<'_>) -> bool {
    matches!(uri.scheme, Scheme::Sip | Scheme::Sips) && is_myself(ctx, &uri_target(uri))
}

/// Splits `host[:port]` / `[v6][:port]`; a bare IPv6 literal has no port.
pub fn split_host_port(s: &str) -> (&str, Option<u16>) {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some(close) = rest.find(']') {
            let host = s.get(..close + 2).unwrap_or(s);
            let port = rest
                .get(close + 1..)
                .and_then(|p| p.strip_prefix(':'))
                .and_then(|p| p.parse().ok());
            return (host, port);
        }
        return (s, None);
    }
    if s.matches(':').count() == 1 {
        if let Some((h, p)) = s.split_once(':') {
            return (h, p.parse().ok());
        }
    }
    (s, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_compare_by_value() {
        assert!(same_host("[::1]", "0:0::1"));
        assert!(same_host("Example.COM", "example.com"));
        assert!(same_host("::ffff:192.0.2.1", "192.0.2.1"));
        assert!(!same_host("192.0.2.1", "example.com"));
    }

    #[test]
    fn host_port_split() {
        assert_eq!(split_host_port("a.b:5070"), ("a.b", Some(5070)));
        assert_eq!(split_host_port("[::1]:5070"), ("[::1]", Some(5070)));
        assert_eq!(split_host_port("::1"), ("::1", None));
        assert_eq!(split_host_port("a.b"), ("a.b", None));
    }
}
