//! URIs: SIP and SIPS (RFC 3261 19.1, IPv6 references per RFC 5118), tel
//! (RFC 3966, kept simple) and any other absolute URI as opaque text.
//! Parsing borrows from the input; escapes stay as received and are decoded
//! only on request ([`percent_decode`]).

use super::error::ParseError;
use super::params::{Param, Params};
use std::borrow::Cow;
use std::fmt;

/// The URI scheme, case-insensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Sip,
    Sips,
    Tel,
    /// Any other scheme (`http`, `isbn`, `soap.beep`...): the rest is opaque.
    Other,
}

/// A parsed URI. For `sip`/`sips` every field is filled in; for `tel` the
/// number is in `user` and the parameters in `params`; for other schemes
/// only `opaque` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri<'a> {
    /// The whole URI as received.
    pub raw: &'a str,
    pub scheme: Scheme,
    /// The scheme as received (`sip`, `SIP`, `isbn`...).
    pub scheme_str: &'a str,
    /// User part, still escaped (see [`Uri::user_decoded`]).
    pub user: Option<&'a str>,
    pub password: Option<&'a str>,
    /// Host name, IPv4 address or IPv6 reference with its brackets.
    pub host: &'a str,
    pub port: Option<u16>,
    /// uri-parameters (`;lr`, `;transport=tcp`...), still escaped.
    pub params: Params<'a>,
    /// `?name=value&...` headers, still escaped.
    pub headers: Params<'a>,
    /// Everything after `scheme:`.
    pub opaque: &'a str,
}

impl<'a> Uri<'a> {
    /// Parses a URI. White space and control characters are refused: in a
    /// header field a URI with spaces must be quoted or enclosed in `<>`.
    pub fn parse(s: &'a str) -> Result<Uri<'a>, ParseError> {
        if s.is_empty() {
            return Err(ParseError::uri(s, "empty URI"));
        }
        if let Some(_bad) = s.bytes().find(|&b| b <= b' ' || b == 0x7f) {
            return Err(ParseError::uri(
                s,
                "white space or control character in URI",
            ));
        }
        let colon = s
            .find(':')
            .ok_or_else(|| ParseError::uri(s, "missing scheme"))?;
        let scheme_str = s.get(..colon).unwrap_or_default();
        if !valid_scheme(scheme_str) {
            return Err(ParseError::uri(s, "bad scheme"));
        }
        let opaque = s.get(colon + 1..).unwrap_or_default();
        let scheme = if scheme_str.eq_ignore_ascii_case("sip") {
            Scheme::Sip
        } else if scheme_str.eq_ignore_ascii_case("sips") {
            Scheme::Sips
        } else if scheme_str.eq_ignore_ascii_case("tel") {
            Scheme::Tel
        } else {
            Scheme::Other
        };
        let mut uri = Uri {
            raw: s,
            scheme,
            scheme_str,
            user: None,
            password: None,
            host: "",
            port: None,
            params: Params::default(),
            headers: Params::default(),
            opaque,
        };
        match scheme {
            Scheme::Sip | Scheme::Sips => uri.parse_sip(s)?,
            Scheme::Tel => {
                let (number, params) = match opaque.find(';') {
                    Some(p) => (opaque.get(..p).unwrap_or_default(), opaque.get(p..)),
                    None => (opaque, None),
                };
                if number.is_empty() {
                    return Err(ParseError::uri(s, "empty telephone number"));
                }
                uri.user = Some(number);
                if let Some(p) = params {
                    uri.params = uri_params(s, p.get(1..).unwrap_or_default())?;
                }
            }
            Scheme::Other => {
                if opaque.is_empty() {
                    return Err(ParseError::uri(s, "nothing after the scheme"));
                }
            }
        }
        Ok(uri)
    }

    fn parse_sip(&mut self, whole: &'a str) -> Result<(), ParseError> {
        let rest = self.opaque;
        // '@' cannot appear unescaped in the user, password, host, parameters
        // or headers: the first one ends the userinfo (the user part itself
        // may contain ';', '?', '/' and ',').
        let hostpart = match rest.find('@') {
            Some(at) => {
                let userinfo = rest.get(..at).unwrap_or_default();
                let (user, password) = match userinfo.find(':') {
                    Some(c) => (userinfo.get(..c).unwrap_or_default(), userinfo.get(c + 1..)),
                    None => (userinfo, None),
                };
                if user.is_empty() {
                    return Err(ParseError::uri(whole, "empty user part before '@'"));
                }
                self.user = Some(user);
                self.password = password;
                rest.get(at + 1..).unwrap_or_default()
            }
            None => rest,
        };
        let b = hostpart.as_bytes();
        let host_end = if b.first() == Some(&b'[') {
            let close = hostpart
                .find(']')
                .ok_or_else(|| ParseError::uri(whole, "IPv6 reference without ']'"))?;
            let inner = hostpart.get(1..close).unwrap_or_default();
            if inner.is_empty()
                || !inner
                    .bytes()
                    .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
                || !inner.contains(':')
            {
                return Err(ParseError::uri(whole, "bad IPv6 reference"));
            }
            close + 1
        } else {
            let e = hostpart.find([':', ';', '?']).unwrap_or(hostpart.len());
            let host = hostpart.get(..e).unwrap_or_default();
            if host.is_empty() {
                return Err(ParseError::uri(whole, "empty host"));
            }
            if !host
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
            {
                return Err(ParseError::uri(whole, "bad character in host"));
            }
            e
        };
        self.host = hostpart.get(..host_end).unwrap_or_default();
        let mut rest = hostpart.get(host_end..).unwrap_or_default();
        if let Some(p) = rest.strip_prefix(':') {
            let e = p.find([';', '?']).unwrap_or(p.len());
            let port = p.get(..e).unwrap_or_default();
            self.port = Some(parse_port(port).ok_or_else(|| ParseError::uri(whole, "bad port"))?);
            rest = p.get(e..).unwrap_or_default();
        }
        let (params, headers) = match rest.find('?') {
            Some(q) => (rest.get(..q).unwrap_or_default(), rest.get(q + 1..)),
            None => (rest, None),
        };
        if let Some(p) = params.strip_prefix(';') {
            self.params = uri_params(whole, p)?;
        } else if !params.is_empty() {
            return Err(ParseError::uri(whole, "unexpected text after host"));
        }
        if let Some(h) = headers {
            let mut list = Vec::new();
            for item in h.split('&') {
                let (name, value) = match item.find('=') {
                    Some(e) => (item.get(..e).unwrap_or_default(), item.get(e + 1..)),
                    None => (item, None),
                };
                if name.is_empty() {
                    return Err(ParseError::uri(whole, "empty URI header name"));
                }
                list.push(Param { name, value });
            }
            self.headers = Params { list };
        }
        Ok(())
    }

    /// The user part with `%HH` escapes decoded (may not be UTF-8: `%00`).
    pub fn user_decoded(&self) -> Option<Cow<'a, [u8]>> {
        self.user.map(percent_decode)
    }

    /// The host without the brackets of an IPv6 reference.
    pub fn host_unbracketed(&self) -> &'a str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(self.host)
    }

    /// True for `sips:` URIs.
    pub fn is_secure(&self) -> bool {
        self.scheme == Scheme::Sips
    }
}

impl fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

fn valid_scheme(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

/// Parses a port number (1 to 5 digits, at most 65535).
pub(crate) fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn uri_params<'a>(whole: &str, s: &'a str) -> Result<Params<'a>, ParseError> {
    let mut list = Vec::new();
    for item in s.split(';') {
        let (name, value) = match item.find('=') {
            Some(e) => (item.get(..e).unwrap_or_default(), item.get(e + 1..)),
            None => (item, None),
        };
        if name.is_empty() {
            return Err(ParseError::uri(whole, "empty URI parameter"));
        }
        list.push(Param { name, value });
    }
    Ok(Params { list })
}

/// Decodes `%HH` escapes. A `%` not followed by two hex digits is kept as is.
pub fn percent_decode(s: &str) -> Cow<'_, [u8]> {
    if !s.contains('%') {
        return Cow::Borrowed(s.as_bytes());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|&x| hex(x)),
                b.get(i + 2).and_then(|&x| hex(x)),
            ) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    Cow::Owned(out)
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_uri_full() {
        let u = Uri::parse(
            "sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr?Subject=x&Priority=urgent",
        )
        .unwrap();
        assert_eq!(u.scheme, Scheme::Sips);
        assert_eq!(u.user, Some("alice"));
        assert_eq!(u.password, Some("secret"));
        assert_eq!(u.host, "[2001:db8::10]");
        assert_eq!(u.host_unbracketed(), "2001:db8::10");
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.params.value("transport"), Some("tcp"));
        assert!(u.params.has("lr"));
        assert_eq!(u.headers.value("priority"), Some("urgent"));
    }

    #[test]
    fn unusual_user() {
        let u = Uri::parse("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com").unwrap();
        assert_eq!(
            u.user,
            Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        );
        assert_eq!(
            u.password,
            Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        );
        assert_eq!(u.host, "example.com");
    }

    #[test]
    fn escapes() {
        let u = Uri::parse("sip:sips%3Auser%40example.com@example.net").unwrap();
        assert_eq!(&*u.user_decoded().unwrap(), b"sips:user@example.com");
        assert_eq!(&*percent_decode("null-%00-null"), b"null-\0-null");
        assert_eq!(&*percent_decode("%Z%45"), b"%ZE");
    }

    #[test]
    fn other_schemes() {
        let u = Uri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap();
        assert_eq!(u.scheme, Scheme::Tel);
        assert_eq!(u.user, Some("+1-201-555-0123"));
        assert_eq!(u.params.value("phone-context"), Some("example.com"));
        let u = Uri::parse("soap.beep://192.0.2.103:3002").unwrap();
        assert_eq!(u.scheme, Scheme::Other);
        assert_eq!(u.opaque, "//192.0.2.103:3002");
    }

    #[test]
    fn bad_uris() {
        for bad in [
            "",
            "sip:",
            "nocolon",
            "sip:@host",
            "sip:host:99999",
            "sip:host:",
            "sip:[::1",
            "sip:[zz]",
            "sip:a b@host",
            "sip:host;;lr",
            "sip:ho st",
            "1sip:host",
        ] {
            assert!(Uri::parse(bad).is_err(), "{bad:?}");
        }
    }
}
