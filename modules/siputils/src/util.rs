//! Helpers of the siputils exports: URI parameter surgery, Contact
//! rewriting, encodings, dates, URI comparison and "is this us".

use std::net::IpAddr;

use kemi_core::config::Host;
use kemi_core::sip::{Contacts, Edit, HeaderName, Message, Scheme, Uri};
use kemi_core::Context;
use tracing::{debug, error};

/// Parses a URI of a scheme Kamailio's URI parser takes (sip, sips, tel,
/// tels, urn); anything else is refused as it is there.
pub fn parse_uri(s: &str) -> Option<Uri<'_>> {
    let uri = Uri::parse(s).ok()?;
    let known = match uri.scheme {
        Scheme::Sip | Scheme::Sips | Scheme::Tel => true,
        Scheme::Other => {
            uri.scheme_str.eq_ignore_ascii_case("tels")
                || uri.scheme_str.eq_ignore_ascii_case("urn")
        }
    };
    known.then_some(uri)
}

/// What `uri_param*` look for.
pub enum ParamCheck<'a> {
    NoValue,
    Value(&'a str),
    Any,
}

pub fn ruri_param_check(ctx: &Context, name: &str, check: ParamCheck<'_>) -> i32 {
    if !ctx.msg.is_request() {
        return -1;
    }
    let Some(uri) = parse_uri(ctx.ruri()) else {
        error!("uri_param: bad R-URI");
        return -1;
    };
    // Parameter names and values compare case-sensitively, as in Kamailio.
    let hit = uri.params.iter().any(|p| {
        p.name == name
            && match check {
                ParamCheck::NoValue => p.value.is_none(),
                ParamCheck::Value(v) => p.value == Some(v),
                ParamCheck::Any => true,
            }
    });
    if hit {
        1
    } else {
        -1
    }
}

/// The R-URI without parameter `name`: `None` on error, `Some(None)` when
/// there was nothing to remove.
pub fn ruri_without_param(ctx: &Context, name: &str) -> Option<Option<String>> {
    if !ctx.msg.is_request() {
        return None;
    }
    let uri = parse_uri(ctx.ruri())?;
    Some(uri.params.has(name).then(|| remove_param(&uri, name)))
}

/// Offset of `part` (a slice of `whole`) in `whole`.
fn offset_in(whole: &str, part: &str) -> Option<usize> {
    let off = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (off + part.len() <= whole.len()).then_some(off)
}

/// `uri.raw` without every `;name[=value]` parameter.
pub fn remove_param(uri: &Uri<'_>, name: &str) -> String {
    let raw = uri.raw;
    let mut out = String::with_capacity(raw.len());
    let mut pos = 0;
    for p in uri.params.iter().filter(|p| p.name == name) {
        let Some(start) = offset_in(raw, p.name) else {
            continue;
        };
        let end = match p.value {
            Some(v) => offset_in(raw, v).map_or(start + p.name.len(), |o| o + v.len()),
            None => start + p.name.len(),
        };
        // Drop the ';' before the parameter too.
        let start = start.saturating_sub(1);
        if start < pos {
            continue;
        }
        out.push_str(raw.get(pos..start).unwrap_or_default());
        pos = end;
    }
    out.push_str(raw.get(pos..).unwrap_or_default());
    out
}

/// `raw` with `;param` added after its last parameter (before any
/// `?headers`).
pub fn add_param(raw: &str, param: &str) -> String {
    // '?' may appear in the user part, so look for it after the '@'.
    let host_start = raw.find('@').map_or(0, |a| a + 1);
    let q = raw
        .get(host_start..)
        .and_then(|r| r.find('?'))
        .map(|q| q + host_start);
    match q {
        Some(q) => format!(
            "{};{param}{}",
            raw.get(..q).unwrap_or_default(),
            raw.get(q..).unwrap_or_default()
        ),
        None => format!("{raw};{param}"),
    }
}

fn modparam<'a>(ctx: &'a Context, name: &str) -> Option<&'a str> {
    ctx.runtime()
        .config()
        .module("siputils")
        .and_then(|m| m.param(name))
        .and_then(|v| v.as_str())
}

/// The extra header lines of the OPTIONS reply.
pub fn options_headers(ctx: &Context) -> String {
    let mut h = String::from(
        "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REGISTER, SUBSCRIBE, NOTIFY, \
         PUBLISH, MESSAGE, INFO, PRACK, UPDATE, REFER\r\n",
    );
    for (param, header, default) in [
        ("options_accept", "Accept", "*/*"),
        ("options_accept_encoding", "Accept-Encoding", ""),
        ("options_accept_language", "Accept-Language", "en"),
        ("options_support", "Supported", ""),
    ] {
        let v = modparam(ctx, param).unwrap_or(default);
        // Values come from the config; keep them on one line.
        if !v.is_empty() && !v.contains(['\r', '\n']) {
            h.push_str(&format!("{header}: {v}\r\n"));
        }
    }
    h
}

/// A To tag for a local reply: stable for retransmissions of the same
/// request (same Call-ID, From tag and top Via branch).
pub fn to_tag(msg: &Message) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    msg.call_id().unwrap_or("").hash(&mut h);
    msg.from()
        .ok()
        .and_then(|f| f.tag())
        .unwrap_or("")
        .hash(&mut h);
    msg.top_via()
        .ok()
        .and_then(|v| v.branch())
        .unwrap_or("")
        .hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The field separator of encode/decode_contact.
pub fn separator(ctx: &Context) -> char {
    modparam(ctx, "contact_flds_separator")
        .and_then(|s| s.chars().next())
        .unwrap_or('*')
}

/// Rewrites the URI of every Contact with `f` (`None` keeps it). Returns
/// how many were changed; an error without Contact or when one does not
/// parse.
pub fn rewrite_contacts(
    msg: &mut Message,
    mut f: impl FnMut(&Uri<'_>) -> Option<String>,
) -> Result<usize, String> {
    let mut edits = Vec::new();
    let mut seen = false;
    for h in msg.headers().filter(|h| h.name == HeaderName::Contact) {
        seen = true;
        // Reads see the message as received; start from an earlier
        // rewrite of this header so successive calls compose.
        let pending = msg.edits().iter().rev().find_map(|e| match e {
            Edit::ReplaceValue { index, value } if *index == h.index => Some(value.as_str()),
            _ => None,
        });
        let value = pending.unwrap_or(h.value);
        if value.trim() == "*" {
            continue;
        }
        let mut list = Vec::new();
        // One header at a time: its value is what gets replaced.
        let parsed = Message::parse(
            format!("OPTIONS sip:x SIP/2.0\r\nContact: {value}\r\n\r\n").into_bytes(),
        )
        .map_err(|e| e.to_string())?;
        match parsed.contacts().map_err(|e| e.to_string())? {
            Contacts::Star => continue,
            Contacts::List(l) => {
                for c in l {
                    let new = f(&c.uri);
                    list.push((c.uri.raw.to_string(), c.angle, c.raw.to_string(), new));
                }
            }
        }
        let mut new_value = String::with_capacity(value.len());
        let mut pos = 0;
        let mut changed = 0;
        for (uri_raw, angle, na_raw, new) in list {
            let Some(new) = new else { continue };
            // Locate the name-addr, then its URI, in the original value.
            let Some(na_at) = value
                .get(pos..)
                .and_then(|v| v.find(&na_raw))
                .map(|o| o + pos)
            else {
                continue;
            };
            let Some(uri_at) = na_raw.find(&uri_raw).map(|o| o + na_at) else {
                continue;
            };
            new_value.push_str(value.get(pos..uri_at).unwrap_or_default());
            // Without <>, parameters of the new URI would read as header
            // parameters.
            if angle || !new.contains([';', '?', ',']) {
                new_value.push_str(&new);
            } else {
                new_value.push('<');
                new_value.push_str(&new);
                new_value.push('>');
            }
            pos = uri_at + uri_raw.len();
            changed += 1;
        }
        if changed > 0 {
            new_value.push_str(value.get(pos..).unwrap_or_default());
            edits.push((h.index, new_value, changed));
        }
    }
    if !seen {
        return Err("no Contact header".into());
    }
    let mut total = 0;
    for (index, value, n) in edits {
        msg.replace_header_value(index, &value)
            .map_err(|e| e.to_string())?;
        total += n;
    }
    Ok(total)
}

pub fn rewrite_result(func: &str, r: Result<usize, String>) -> i32 {
    match r {
        Ok(n) => {
            debug!("{func}: {n} Contact URIs rewritten");
            1
        }
        Err(e) => {
            debug!("{func}: {e}");
            -1
        }
    }
}

/// The URI's parameters except `transport`, each with its leading ';'.
fn params_except_transport(uri: &Uri<'_>) -> String {
    let mut s = String::new();
    for p in uri
        .params
        .iter()
        .filter(|p| !p.name.eq_ignore_ascii_case("transport"))
    {
        s.push(';');
        s.push_str(p.name);
        if let Some(v) = p.value {
            s.push('=');
            s.push_str(v);
        }
    }
    s
}

/// `sip:user:pass@host:port;transport=p;x` to
/// `sip:PREFIX*user*pass*host*port*p@ADDR;x`.
pub fn encode_uri(uri: &Uri<'_>, prefix: &str, addr: &str, sep: char) -> Option<String> {
    if !matches!(uri.scheme, Scheme::Sip | Scheme::Sips) {
        return None;
    }
    let port = uri.port.map(|p| p.to_string()).unwrap_or_default();
    Some(format!(
        "{}:{prefix}{sep}{}{sep}{}{sep}{}{sep}{port}{sep}{}@{addr}{}",
        uri.scheme_str,
        uri.user.unwrap_or(""),
        uri.password.unwrap_or(""),
        uri.host,
        uri.params.value("transport").unwrap_or(""),
        params_except_transport(uri),
    ))
}

/// The inverse of [`encode_uri`]; `None` if the user part is not six
/// separated fields.
pub fn decode_uri(uri: &Uri<'_>, sep: char) -> Option<String> {
    if !matches!(uri.scheme, Scheme::Sip | Scheme::Sips) {
        return None;
    }
    let fields: Vec<&str> = uri.user?.split(sep).collect();
    let [_prefix, user, pass, host, port, proto] = fields.as_slice() else {
        return None;
    };
    if host.is_empty() {
        return None;
    }
    let mut s = format!("{}:", uri.scheme_str);
    if !user.is_empty() {
        s.push_str(user);
        if !pass.is_empty() {
            s.push(':');
            s.push_str(pass);
        }
        s.push('@');
    }
    s.push_str(host);
    if !port.is_empty() {
        s.push(':');
        s.push_str(port);
    }
    if !proto.is_empty() {
        s.push_str(";transport=");
        s.push_str(proto);
    }
    s.push_str(&params_except_transport(uri));
    parse_uri(&s).is_some().then_some(s)
}

/// `saddr;nparam=<base64url(raw)>`.
pub fn param_encode(raw: &str, nparam: &str, saddr: &str) -> String {
    add_param(
        saddr,
        &format!("{nparam}={}", b64url_encode(raw.as_bytes())),
    )
}

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding (RFC 4648 5): safe in a URI parameter.
pub fn b64url_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let idx = ((n >> (18 - 6 * i)) & 63) as usize;
            out.push(char::from(B64URL.get(idx).copied().unwrap_or(b'A')));
        }
    }
    out
}

/// Decodes base64url, with or without `=` padding; `None` if invalid.
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = B64URL.iter().position(|&x| x == c)?;
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    // A lone sixth of a byte cannot come from an encoder.
    (bits < 6).then_some(out)
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Parses an RFC 1123 date in GMT (`Sat, 13 Nov 2010 23:29:00 GMT`) into
/// Unix seconds.
pub fn parse_date(value: &str) -> Option<i64> {
    kemi_core::sip::check_date(value).ok()?;
    let mut w = value.split_whitespace().skip(1);
    let day: i64 = w.next()?.parse().ok()?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mon = w.next()?;
    let month = MONTHS.iter().position(|m| *m == mon)? as i64 + 1;
    let year: i64 = w.next()?.parse().ok()?;
    let mut t = w.next()?.split(':').map(|x| x.parse::<i64>().ok());
    let (h, m, s) = (t.next()??, t.next()??, t.next()??);
    Some(days_from_civil(year, month, day) * 86400 + h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn default_port(uri: &Uri<'_>) -> u16 {
    if uri.scheme == Scheme::Sips {
        5061
    } else {
        5060
    }
}

/// RFC 3261 19.1.4 URI equality.
pub fn uri_eq(a: &Uri<'_>, b: &Uri<'_>) -> bool {
    if a.scheme != b.scheme || !a.scheme_str.eq_ignore_ascii_case(b.scheme_str) {
        return false;
    }
    if !matches!(a.scheme, Scheme::Sip | Scheme::Sips) {
        return a.opaque.eq_ignore_ascii_case(b.opaque);
    }
    let dec = |s: Option<&str>| s.map(|s| kemi_core::sip::percent_decode(s).into_owned());
    if dec(a.user) != dec(b.user)
        || dec(a.password) != dec(b.password)
        || !a.host.eq_ignore_ascii_case(b.host)
        || a.port != b.port
    {
        return false;
    }
    for name in ["transport", "user", "ttl", "method", "maddr"] {
        let va = a.params.iter().find(|p| p.name.eq_ignore_ascii_case(name));
        let vb = b.params.iter().find(|p| p.name.eq_ignore_ascii_case(name));
        match (va, vb) {
            (None, None) => {}
            (Some(x), Some(y))
                if x.value
                    .unwrap_or("")
                    .eq_ignore_ascii_case(y.value.unwrap_or("")) => {}
            _ => return false,
        }
    }
    // Other parameters count only when both URIs have them.
    for pa in a.params.iter() {
        if let Some(pb) = b
            .params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(pa.name))
        {
            if !pa
                .value
                .unwrap_or("")
                .eq_ignore_ascii_case(pb.value.unwrap_or(""))
            {
                return false;
            }
        }
    }
    // Headers must all match, in any order.
    a.headers.len() == b.headers.len()
        && a.headers.iter().all(|ha| {
            b.headers
                .iter()
                .any(|hb| ha.name.eq_ignore_ascii_case(hb.name) && ha.value == hb.value)
        })
}

/// Address-of-record equality: user, host and port (defaulted).
pub fn aor_eq(a: &Uri<'_>, b: &Uri<'_>) -> bool {
    if !matches!(a.scheme, Scheme::Sip | Scheme::Sips)
        || !matches!(b.scheme, Scheme::Sip | Scheme::Sips)
    {
        return a.scheme == b.scheme && a.user == b.user && a.opaque == b.opaque;
    }
    a.user == b.user
        && a.host.eq_ignore_ascii_case(b.host)
        && a.port.unwrap_or(default_port(a)) == b.port.unwrap_or(default_port(b))
}

/// Whether `uri` points at this proxy: its host is one of our addresses
/// (bound sockets, `listen`, the socket the message came in on) or an
/// `alias`, and its port, if any, one we use.
pub fn is_myself(ctx: &Context, uri: &Uri<'_>) -> bool {
    let host = uri.host_unbracketed();
    let ip: Option<IpAddr> = host.parse().ok();
    let cfg = ctx.runtime().config();
    let mut ports = vec![ctx.recv.local.port(), cfg.port];
    let mut hit = ip == Some(ctx.recv.local.ip());
    for (_, addr) in ctx.runtime().sockets() {
        if ip == Some(addr.ip()) {
            hit = true;
        }
        ports.push(addr.port());
    }
    for l in &cfg.listen {
        let same = match &l.addr {
            Host::Ipv4(a) => ip == Some(IpAddr::V4(*a)),
            Host::Ipv6(a) => ip == Some(IpAddr::V6(*a)),
            Host::Name(n) => n.eq_ignore_ascii_case(host),
            Host::Any => false,
        };
        hit |= same;
        ports.extend(l.port);
    }
    for a in &cfg.alias {
        if a.host.eq_ignore_ascii_case(host) {
            hit = true;
            ports.extend(a.port);
        }
    }
    hit && uri.port.is_none_or(|p| ports.contains(&p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trip() {
        for s in [
            "",
            "a",
            "ab",
            "abc",
            "sip:alice@192.0.2.1:5060;transport=tcp",
        ] {
            let e = b64url_encode(s.as_bytes());
            assert!(!e.contains(['+', '/', '=']));
            assert_eq!(b64url_decode(&e).as_deref(), Some(s.as_bytes()));
        }
        assert_eq!(b64url_encode(b"\xfb\xff"), "-_8");
        assert_eq!(b64url_decode("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(b64url_decode("a"), None);
        assert_eq!(b64url_decode("a*b"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("Sat, 13 Nov 2010 23:29:00 GMT"),
            Some(1_289_690_940)
        );
        assert_eq!(parse_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_date("Sat, 13 Nov 2010 23:29:00 CET"), None);
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn params() {
        let u = Uri::parse("sip:a@b;x=1;lr;x;y=2?h=v").unwrap();
        assert_eq!(remove_param(&u, "x"), "sip:a@b;lr;y=2?h=v");
        assert_eq!(add_param("sip:a@b?h=v", "k=1"), "sip:a@b;k=1?h=v");
        assert_eq!(add_param("sip:a?b@c", "k"), "sip:a?b@c;k");
    }
}
