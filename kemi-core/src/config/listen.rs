//! `[proto:]addr[:port]` as written in `listen`, `advertise` and `alias`.
//! The parser rebuilds the text from adjacent tokens (`udp`, `:`, `10`,
//! `.`, ...), so these functions work on plain strings.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::model::{Host, Proto};

pub(crate) struct SockText {
    pub proto: Proto,
    pub host: Host,
    pub port: Option<u16>,
}

fn proto_of(s: &str) -> Option<Result<Proto, String>> {
    Some(Ok(match s.to_ascii_lowercase().as_str() {
        "udp" => Proto::Udp,
        "tcp" => Proto::Tcp,
        "tls" => Proto::Tls,
        "sctp" => Proto::Sctp,
        "*" | "any" => Proto::Any,
        "ws" | "wss" => {
            return Some(Err(format!(
                "protocol '{s}' cannot be used here: WebSocket runs over a tcp or tls socket"
            )))
        }
        _ => return None,
    }))
}

fn parse_port(s: &str, whole: &str) -> Result<Option<u16>, String> {
    if s == "*" {
        return Ok(None);
    }
    match s.parse::<u16>() {
        Ok(p) if p > 0 => Ok(Some(p)),
        _ => Err(format!("invalid port '{s}' in '{whole}'")),
    }
}

fn parse_host(s: &str, whole: &str) -> Result<Host, String> {
    if s == "*" {
        return Ok(Host::Any);
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return inner
            .parse::<Ipv6Addr>()
            .map(Host::Ipv6)
            .map_err(|_| format!("invalid IPv6 address '{inner}' in '{whole}'"));
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return s
            .parse::<Ipv4Addr>()
            .map(Host::Ipv4)
            .map_err(|_| format!("invalid IPv4 address '{s}' in '{whole}'"));
    }
    if s.contains(':') {
        return s
            .parse::<Ipv6Addr>()
            .map(Host::Ipv6)
            .map_err(|_| format!("invalid address '{s}' in '{whole}'"));
    }
    let valid = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && !s.starts_with(['.', '-']);
    if valid {
        Ok(Host::Name(s.to_string()))
    } else {
        Err(format!("invalid host name '{s}' in '{whole}'"))
    }
}

/// Parses `[proto:]addr[:port]`. An IPv6 address with a port must be in
/// brackets; without brackets the whole text is the address.
pub(crate) fn parse_sock(whole: &str) -> Result<SockText, String> {
    if whole.contains('(') {
        return Err(format!(
            "multi-homed address groups like '{whole}' are not supported; \
             list each address as its own socket"
        ));
    }
    let mut proto = Proto::Any;
    let mut rest = whole;
    if let Some((p, r)) = whole.split_once(':') {
        // `*:5062` is any address on port 5062, not the protocol `*`.
        let star_is_addr = p == "*" && (r == "*" || r.bytes().all(|b| b.is_ascii_digit()));
        if let Some(res) = proto_of(p).filter(|_| !star_is_addr) {
            proto = res?;
            rest = r;
        }
    }
    let (host, port) = if rest.starts_with('[') {
        match rest.find(']') {
            Some(end) => {
                let (h, after) = rest.split_at(end + 1);
                match after.strip_prefix(':') {
                    Some(p) => (h, Some(p)),
                    None if after.is_empty() => (h, None),
                    None => {
                        return Err(format!(
                            "unexpected '{after}' after the address in '{whole}'"
                        ))
                    }
                }
            }
            None => return Err(format!("missing ']' in '{whole}'")),
        }
    } else if rest.matches(':').count() > 1 {
        (rest, None)
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    let host = parse_host(host, whole)?;
    let port = match port {
        Some(p) => parse_port(p, whole)?,
        None => None,
    };
    Ok(SockText { proto, host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let s = parse_sock("udp:10.0.0.10:5060").unwrap();
        assert_eq!(
            (s.proto, s.host, s.port),
            (Proto::Udp, Host::Ipv4([10, 0, 0, 10].into()), Some(5060))
        );
        let s = parse_sock("tls:[2001:db8::1]:5061").unwrap();
        assert_eq!(s.proto, Proto::Tls);
        assert_eq!(s.host, Host::Ipv6("2001:db8::1".parse().unwrap()));
        assert_eq!(s.port, Some(5061));
        let s = parse_sock("fe80::1").unwrap();
        assert_eq!((s.proto, s.port), (Proto::Any, None));
        let s = parse_sock("sip.example.com").unwrap();
        assert_eq!(s.host, Host::Name("sip.example.com".into()));
        let s = parse_sock("*:5062").unwrap();
        assert_eq!(
            (s.proto, s.host, s.port),
            (Proto::Any, Host::Any, Some(5062))
        );
        let s = parse_sock("tcp:*:*").unwrap();
        assert_eq!((s.host, s.port), (Host::Any, None));
        let s = parse_sock("eth0:5060").unwrap();
        assert_eq!((s.host, s.port), (Host::Name("eth0".into()), Some(5060)));
        assert!(parse_sock("udp:1.2.3.4:99999").is_err());
        assert!(parse_sock("udp:1.2.3:5060").is_err());
        assert!(parse_sock("ws:1.2.3.4:80").is_err());
        assert!(parse_sock("udp:[::1").is_err());
        assert!(parse_sock("udp:(1.2.3.4,5.6.7.8):5060").is_err());
        assert!(parse_sock("").is_err());
    }
}
