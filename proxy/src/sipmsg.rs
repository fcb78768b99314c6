//! The proxy's narrow view of a SIP message: what transports and the native
//! router need (framing, parsing, the Via received/rport edit, stateless
//! replies).
//!
//! INTERIM: `kemi_core::sip` (branch `sip`) is the real parser; until it is
//! merged this file carries a small, strict stand-in with the same shape so
//! the transports can be built and tested. Once merged these functions
//! become thin wrappers over `kemi_core::sip`.

use std::net::SocketAddr;

/// Why a message could not be used, and whether the sender can be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadMessage {
    /// A request whose Via, From, To, Call-ID and CSeq are usable: a 400 can
    /// be built and routed back.
    pub answerable: bool,
    pub reason: &'static str,
}

impl BadMessage {
    fn silent(reason: &'static str) -> Self {
        BadMessage {
            answerable: false,
            reason,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstLine {
    Request { method: String, uri: String },
    Reply { code: u16, reason: String },
}

/// A parsed message: first line and headers in order (names as written).
#[derive(Debug, Clone)]
pub struct Msg {
    pub first: FirstLine,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Compact header forms (RFC 3261 7.3.3) mapped to their long names.
fn canonical(name: &str) -> String {
    let long = match name.to_ascii_lowercase().as_str() {
        "v" => "via",
        "f" => "from",
        "t" => "to",
        "i" => "call-id",
        "l" => "content-length",
        "m" => "contact",
        "c" => "content-type",
        other => return other.to_string(),
    };
    long.to_string()
}

fn find_subslice(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Splits the header block into lines, unfolding continuation lines.
fn header_lines(head: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
                continue;
            }
        }
        out.push(line.to_string());
    }
    out
}

/// The value of the first `Content-Length` (or `l`) header in a header block.
fn content_length(head: &str) -> Option<Result<usize, ()>> {
    for line in header_lines(head).iter().skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            if canonical(name.trim()) == "content-length" {
                return Some(value.trim().parse::<usize>().map_err(|_| ()));
            }
        }
    }
    None
}

/// For stream transports: the length of the first complete message in `buf`,
/// `None` while more bytes are needed. A message without a usable
/// Content-Length cannot be framed on a stream (RFC 3261 18.3).
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, BadMessage> {
    let Some(end) = find_subslice(buf, b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| BadMessage::silent("not UTF-8"))?;
    match content_length(head) {
        Some(Ok(len)) => Ok(Some(end + 4 + len).filter(|total| *total <= buf.len())),
        Some(Err(())) => Err(answerable_if_request(&buf[..end + 4], "bad Content-Length")),
        None => Err(answerable_if_request(
            &buf[..end + 4],
            "missing Content-Length",
        )),
    }
}

/// Whether the header block of a broken message is still a request that a 400
/// can be built for.
fn answerable_if_request(head: &[u8], reason: &'static str) -> BadMessage {
    let answerable = match parse_inner(head, false) {
        Ok(m) => m.is_request(),
        Err(e) => e.answerable,
    };
    BadMessage { answerable, reason }
}

/// Parses one whole message (a datagram, or one framed stream message).
pub fn parse(buf: &[u8]) -> Result<Msg, BadMessage> {
    parse_inner(buf, true)
}

fn parse_inner(buf: &[u8], check_length: bool) -> Result<Msg, BadMessage> {
    let end = find_subslice(buf, b"\r\n\r\n").ok_or(BadMessage::silent("no end of headers"))?;
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| BadMessage::silent("not UTF-8"))?;
    let lines = header_lines(head);
    let first_line = lines.first().ok_or(BadMessage::silent("empty message"))?;
    let first = parse_first_line(first_line).ok_or(BadMessage::silent("bad first line"))?;
    let mut headers = Vec::new();
    for line in lines.iter().skip(1) {
        let (name, value) = line
            .split_once(':')
            .ok_or(BadMessage::silent("header line without colon"))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let msg = Msg {
        first,
        headers,
        body: buf[end + 4..].to_vec(),
    };
    let answerable = msg.is_request()
        && ["via", "from", "to", "call-id", "cseq"]
            .iter()
            .all(|h| msg.header(h).is_some());
    let bad = |reason| BadMessage { answerable, reason };
    if !answerable && msg.is_request() {
        return Err(BadMessage::silent(
            "request without Via/From/To/Call-ID/CSeq",
        ));
    }
    if msg.is_request() {
        let cseq = msg.header("cseq").unwrap_or_default();
        let mut parts = cseq.split_whitespace();
        let number_ok = parts.next().is_some_and(|n| n.parse::<u32>().is_ok());
        if !number_ok || parts.next().is_none() {
            return Err(bad("bad CSeq"));
        }
    }
    if check_length {
        match content_length(head) {
            Some(Ok(len)) if len > msg.body.len() => {
                return Err(bad("body shorter than Content-Length"))
            }
            Some(Err(())) => return Err(bad("bad Content-Length")),
            _ => {}
        }
    }
    Ok(msg)
}

fn parse_first_line(line: &str) -> Option<FirstLine> {
    let mut parts = line.splitn(3, ' ');
    let a = parts.next()?;
    let b = parts.next()?;
    let c = parts.next().unwrap_or("");
    if a.eq_ignore_ascii_case("SIP/2.0") {
        let code = b.parse::<u16>().ok().filter(|c| (100..700).contains(c))?;
        return Some(FirstLine::Reply {
            code,
            reason: c.to_string(),
        });
    }
    let token_ok = !a.is_empty()
        && a.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b));
    if token_ok && !b.is_empty() && c.eq_ignore_ascii_case("SIP/2.0") {
        return Some(FirstLine::Request {
            method: a.to_string(),
            uri: b.to_string(),
        });
    }
    None
}

impl Msg {
    pub fn is_request(&self) -> bool {
        matches!(self.first, FirstLine::Request { .. })
    }

    pub fn method(&self) -> Option<&str> {
        match &self.first {
            FirstLine::Request { method, .. } => Some(method),
            FirstLine::Reply { .. } => None,
        }
    }

    /// The first header with this (long, lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| canonical(n) == name)
            .map(|(_, v)| v.as_str())
    }

    /// Adds `received` and fills `rport` on the top Via as RFC 3261 18.2.1
    /// and RFC 3581 4 say: `received` when the sent-by host differs from the
    /// source address (always when `rport` is present), `rport=<port>` when
    /// the sender asked for it (or `force_rport`).
    pub fn set_via_received(&mut self, src: SocketAddr, force_rport: bool) {
        let Some((_, via)) = self.headers.iter_mut().find(|(n, _)| canonical(n) == "via") else {
            return;
        };
        // Only the top value of a comma-joined Via is ours to change.
        let (top, rest) = match via.find(',') {
            Some(i) => (via[..i].to_string(), via[i..].to_string()),
            None => (via.clone(), String::new()),
        };
        let mut pieces: Vec<String> = top.split(';').map(|s| s.trim().to_string()).collect();
        let sent_by_host = pieces
            .first()
            .and_then(|p| p.split_whitespace().nth(1))
            .map(host_of)
            .unwrap_or_default();
        let ip = src.ip().to_string();
        let has_rport = pieces.iter().skip(1).any(|p| {
            p.eq_ignore_ascii_case("rport") || p.to_ascii_lowercase().starts_with("rport=")
        });
        pieces.retain(|p| !p.to_ascii_lowercase().starts_with("received="));
        if has_rport || force_rport {
            pieces.retain(|p| {
                !(p.eq_ignore_ascii_case("rport") || p.to_ascii_lowercase().starts_with("rport="))
            });
            pieces.push(format!("received={ip}"));
            pieces.push(format!("rport={}", src.port()));
        } else if sent_by_host.trim_matches(['[', ']']) != ip {
            pieces.push(format!("received={ip}"));
        }
        *via = pieces.join(";") + &rest;
    }

    /// A stateless reply: Via, From, To (with `to_tag` added when the To has
    /// no tag and the reply is not 100), Call-ID and CSeq copied from this
    /// request.
    pub fn build_reply(&self, code: u16, reason: &str, to_tag: &str) -> Vec<u8> {
        let mut out = format!("SIP/2.0 {code} {reason}\r\n");
        for (name, value) in &self.headers {
            match canonical(name).as_str() {
                "via" | "from" | "call-id" | "cseq" => {
                    out.push_str(&format!("{name}: {value}\r\n"));
                }
                "to" => {
                    let has_tag = value.to_ascii_lowercase().contains(";tag=");
                    if has_tag || code == 100 {
                        out.push_str(&format!("{name}: {value}\r\n"));
                    } else {
                        out.push_str(&format!("{name}: {value};tag={to_tag}\r\n"));
                    }
                }
                _ => {}
            }
        }
        out.push_str("Server: kemi-proxy\r\nContent-Length: 0\r\n\r\n");
        out.into_bytes()
    }
}

/// The host of a `host[:port]` sent-by.
fn host_of(sent_by: &str) -> String {
    if let Some(rest) = sent_by.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("").to_string();
    }
    sent_by.split(':').next().unwrap_or("").to_string()
}

/// A best-effort 400 for a request that could not be parsed fully but whose
/// header block still has what a reply needs.
pub fn bad_request_reply(buf: &[u8], reason: &str, src: SocketAddr) -> Option<Vec<u8>> {
    let end = find_subslice(buf, b"\r\n\r\n")
        .map(|e| e + 4)
        .unwrap_or(buf.len());
    let mut msg = parse_inner(&buf[..end], false).ok()?;
    if !msg.is_request() || msg.method() == Some("ACK") {
        return None;
    }
    msg.set_via_received(src, false);
    Some(msg.build_reply(400, &format!("Bad Request - {reason}"), "kemi400"))
}
