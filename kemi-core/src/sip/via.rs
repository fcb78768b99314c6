//! Via header values (RFC 3261 20.42, IPv6 sent-by per RFC 5118).

use super::error::ParseError;
use super::params::{parse_header_params, Params};
use super::scan::{skip_lws, split_commas, token_end, trim_lws};
use super::uri::parse_port;

/// One via-parm: `SIP/2.0/UDP host:port;branch=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via<'a> {
    /// The whole via-parm as received (LWS-trimmed).
    pub raw: &'a str,
    pub protocol: &'a str,
    pub version: &'a str,
    /// `UDP`, `TCP`, `TLS`, `SCTP`, `WS`... as received (any token).
    pub transport: &'a str,
    /// Host name, IPv4 address or bracketed IPv6 reference.
    pub host: &'a str,
    pub port: Option<u16>,
    pub params: Params<'a>,
}

impl<'a> Via<'a> {
    /// Parses a single via-parm.
    pub fn parse(s: &'a str) -> Result<Via<'a>, ParseError> {
        let s = trim_lws(s);
        let b = s.as_bytes();
        let bad = |r: &str| ParseError::header("Via", r.to_owned());
        let mut i = 0;
        let mut parts = [""; 3];
        for (n, part) in parts.iter_mut().enumerate() {
            if n > 0 {
                i = skip_lws(b, i);
                if b.get(i) != Some(&b'/') {
                    return Err(bad("bad sent-protocol, expected SIP/2.0/transport"));
                }
                i = skip_lws(b, i + 1);
            }
            let e = token_end(b, i);
            if e == i {
                return Err(bad("bad sent-protocol, expected SIP/2.0/transport"));
            }
            *part = s.get(i..e).unwrap_or_default();
            i = e;
        }
        let [protocol, version, transport] = parts;
        if !protocol.eq_ignore_ascii_case("SIP") || version != "2.0" {
            return Err(bad(&format!("unsupported protocol {protocol}/{version}")));
        }
        i = skip_lws(b, i);
        let host_start = i;
        if b.get(i) == Some(&b'[') {
            let close = s
                .get(i..)
                .and_then(|r| r.find(']'))
                .ok_or_else(|| bad("IPv6 reference without ']'"))?;
            let inner = s.get(i + 1..i + close).unwrap_or_default();
            if inner.is_empty()
                || !inner.contains(':')
                || !inner
                    .bytes()
                    .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
            {
                return Err(bad("bad IPv6 reference in sent-by"));
            }
            i += close + 1;
        } else {
            while b
                .get(i)
                .is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
            {
                i += 1;
            }
        }
        if i == host_start {
            return Err(bad("missing sent-by host"));
        }
        let host = s.get(host_start..i).unwrap_or_default();
        let j = skip_lws(b, i);
        let mut port = None;
        if b.get(j) == Some(&b':') {
            let p = skip_lws(b, j + 1);
            let mut e = p;
            while b.get(e).is_some_and(|c| c.is_ascii_digit()) {
                e += 1;
            }
            port = Some(
                s.get(p..e)
                    .and_then(parse_port)
                    .ok_or_else(|| bad("bad port in sent-by"))?,
            );
            i = e;
        }
        let (params, end) = parse_header_params(s, i, "Via")?;
        if end != s.len() {
            return Err(bad("unexpected text after sent-by"));
        }
        Ok(Via {
            raw: s,
            protocol,
            version,
            transport,
            host,
            port,
            params,
        })
    }

    /// The `branch` parameter (transaction id, RFC 3261 8.1.1.7).
    pub fn branch(&self) -> Option<&'a str> {
        self.params.value("branch")
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<&'a str> {
        self.params.value("received")
    }

    /// `None` without an `rport` parameter, `Some(None)` for a bare
    /// `;rport` (a request for symmetric response routing), `Some(Some(p))`
    /// when it carries a port.
    pub fn rport(&self) -> Option<Option<u16>> {
        let p = self.params.get("rport")?;
        Some(p.value.and_then(parse_port))
    }

    /// The port, or the transport's default (5061 for TLS, 5060 otherwise;
    /// RFC 3261 18.2.2).
    pub fn port_or_default(&self) -> u16 {
        self.port
            .unwrap_or(if self.transport.eq_ignore_ascii_case("TLS") {
                5061
            } else {
                5060
            })
    }

    /// The host without the brackets of an IPv6 reference.
    pub fn host_unbracketed(&self) -> &'a str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(self.host)
    }
}

/// Parses a Via header value (one or several comma-joined via-parms).
pub(crate) fn parse_vias<'a>(value: &'a str, out: &mut Vec<Via<'a>>) -> Result<(), ParseError> {
    for item in split_commas(value) {
        if item.is_empty() {
            return Err(ParseError::header("Via", "empty value"));
        }
        out.push(Via::parse(item)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_and_spaced() {
        let mut v = Vec::new();
        parse_vias(
            "SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239",
            &mut v,
        )
        .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].transport, "TCP");
        assert_eq!(v[0].host, "spindle.example.com");
        assert_eq!(v[0].branch(), Some("z9hG4bK9ikj8"));
        assert_eq!(v[1].transport, "UDP");
        assert_eq!(v[1].host, "192.168.255.111");
        assert_eq!(v[1].branch(), Some("z9hG4bK30239"));
    }

    #[test]
    fn ipv6_rport() {
        let v = Via::parse(
            "SIP/2.0/UDP [2001:db8::9:1]:5070;branch=z9hG4bKas3;rport;received=2001:db8::9:255",
        )
        .unwrap();
        assert_eq!(v.host, "[2001:db8::9:1]");
        assert_eq!(v.host_unbracketed(), "2001:db8::9:1");
        assert_eq!(v.port, Some(5070));
        assert_eq!(v.port_or_default(), 5070);
        assert_eq!(Via::parse("SIP/2.0/TLS h").unwrap().port_or_default(), 5061);
        assert_eq!(v.rport(), Some(None));
        assert_eq!(v.received(), Some("2001:db8::9:255"));
    }

    #[test]
    fn rejects() {
        for bad in [
            "SIP/2.0/UDP 192.0.2.15;;",
            "SIP/7.0/UDP host",
            "SIP/2.0 host",
            "SIP/2.0/UDP",
            "SIP/2.0/UDP host:99999",
            "SIP/2.0/UDP host junk",
            "SIP/2.0/UDP [::1",
        ] {
            assert!(Via::parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse_vias("SIP/2.0/UDP a, ,SIP/2.0/UDP b", &mut Vec::new()).is_err());
    }
}
