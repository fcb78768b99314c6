//! What the transport and the stateless reply path need from a request:
//! Via `received`/`rport` (RFC 3261 18.2.1, RFC 3581) and a response built
//! from the request's bytes (RFC 3261 8.2.6).

use std::net::IpAddr;

use super::edit::Edit;
use super::error::ParseError;
use super::header::HeaderName;
use super::message::{index_headers, off, HeaderEntry, Message, Span, StartLine};
use super::method::Method;
use super::scan::is_token;
use super::MAX_MESSAGE_SIZE;

/// The edits a server makes to the top Via of a received request:
/// `received=<src_ip>` when the sent-by host is not that address, or when
/// `rport` is requested (RFC 3581 requires `received` then), and
/// `rport=<src_port>` when the Via has `;rport` or `force_rport` is set.
/// Apply them with [`Message::edit`]; empty if nothing is needed.
pub fn via_receive_params(
    msg: &Message,
    src_ip: IpAddr,
    src_port: u16,
    force_rport: bool,
) -> Result<Vec<Edit>, ParseError> {
    let via = msg.top_via()?;
    let via_end = msg
        .offset_of(via.raw)
        .map(|o| o + via.raw.len())
        .ok_or_else(|| ParseError::header("Via", "not in the message"))?;
    let rport = via.params.get("rport").copied();
    let want_rport = rport.is_some() || force_rport;
    let host_is_src = via
        .host_unbracketed()
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip == src_ip);
    let mut edits = Vec::new();
    let mut tail = String::new();
    if !host_is_src || want_rport {
        let text = format!("received={src_ip}");
        match via.params.get("received") {
            Some(p) => {
                if p.value != Some(text.get(9..).unwrap_or_default()) {
                    edits.push(param_splice(msg, p.name, p.value, text)?);
                }
            }
            None => {
                tail.push(';');
                tail.push_str(&text);
            }
        }
    }
    if want_rport {
        let text = format!("rport={src_port}");
        match rport {
            Some(p) => edits.push(param_splice(msg, p.name, p.value, text)?),
            None => {
                tail.push(';');
                tail.push_str(&text);
            }
        }
    }
    if !tail.is_empty() {
        edits.push(Edit::Splice {
            start: via_end,
            end: via_end,
            text: tail,
        });
    }
    Ok(edits)
}

/// A splice replacing `name[=value]` (slices of the message) by `text`.
fn param_splice(
    msg: &Message,
    name: &str,
    value: Option<&str>,
    text: String,
) -> Result<Edit, ParseError> {
    let start = msg
        .offset_of(name)
        .ok_or_else(|| ParseError::header("Via", "parameter not in the message"))?;
    let end = match value {
        Some(v) => msg.offset_of(v).map(|o| o + v.len()),
        None => Some(start + name.len()),
    }
    .ok_or_else(|| ParseError::header("Via", "parameter not in the message"))?;
    Ok(Edit::Splice { start, end, text })
}

impl Message {
    /// Records the Via edits of [`via_receive_params`]; returns how many.
    pub fn add_via_receive_params(
        &mut self,
        src_ip: IpAddr,
        src_port: u16,
        force_rport: bool,
    ) -> Result<usize, ParseError> {
        let edits = via_receive_params(self, src_ip, src_port, force_rport)?;
        // Deciding again (the script asked for rport after the receive
        // path added `received`) replaces the earlier decision instead of
        // adding the parameters twice.
        let via = self.top_via()?;
        if let Some(start) = self.offset_of(via.raw) {
            let end = start + via.raw.len();
            self.edits.retain(
                |e| !matches!(e, Edit::Splice { start: s, end: e, .. } if *s >= start && *e <= end),
            );
        }
        let n = edits.len();
        for e in edits {
            // Offsets come from the message itself, so this cannot fail;
            // map the impossible case to a parse error rather than panic.
            self.edit(e)
                .map_err(|e| ParseError::header("Via", e.to_string()))?;
        }
        Ok(n)
    }
}

/// The header lines the proxy adds to what it generates itself: `Server`
/// on its replies, `User-Agent` on its requests (Kamailio's
/// `server_signature`, `server_header` and `user_agent_header`). Each is
/// a complete line ending in CRLF, or empty when `server_signature=no`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Signature {
    pub server: String,
    pub user_agent: String,
}

impl Signature {
    /// `server`/`user_agent` are whole header lines from the config;
    /// `None` gives ours: `Server: kemi-proxy (<version> (<arch>/<os>))`,
    /// after Kamailio's `Server: kamailio (5.8.1 (x86_64/linux))`.
    pub fn new(enabled: bool, server: Option<&str>, user_agent: Option<&str>) -> Signature {
        if !enabled {
            return Signature::default();
        }
        let ours = format!(
            "kemi-proxy ({} ({}/{}))",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::ARCH,
            std::env::consts::OS
        );
        let line = |given: Option<&str>, name: &str| match given {
            Some(text) => format!("{text}\r\n"),
            None => format!("{name}: {ours}\r\n"),
        };
        Signature {
            server: line(server, "Server"),
            user_agent: line(user_agent, "User-Agent"),
        }
    }
}

/// Builds a stateless response to `request` (RFC 3261 8.2.6): every Via in
/// order (with the request's own Via edits, e.g. `received`, applied), From,
/// To (with `to_tag` added if given and the To has no tag), Call-ID, CSeq,
/// then `extra_headers` (complete lines; a missing final CRLF is added),
/// Content-Length and `body`. Header fields are copied byte-exact from the
/// request. Fails if the request lacks one of those fields.
pub fn build_reply(
    request: &Message,
    code: u16,
    reason: &str,
    to_tag: Option<&str>,
    extra_headers: &str,
    body: &[u8],
) -> Result<Vec<u8>, ParseError> {
    if !request.is_request() {
        return Err(ParseError::NotARequest);
    }
    let mut out =
        Vec::with_capacity(request.as_bytes().len() / 2 + extra_headers.len() + body.len() + 64);
    out.extend_from_slice(b"SIP/2.0 ");
    out.extend_from_slice(code.to_string().as_bytes());
    out.push(b' ');
    out.extend(
        reason
            .bytes()
            .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");

    let mut vias = request
        .headers
        .iter()
        .filter(|e| e.name == HeaderName::Via)
        .peekable();
    if vias.peek().is_none() {
        return Err(ParseError::MissingHeader("Via"));
    }
    for e in vias {
        copy_line(request, e, true, &mut out);
    }
    let first = |name: HeaderName| {
        request
            .headers
            .iter()
            .find(|e| e.name == name)
            .ok_or(ParseError::MissingHeader(name.as_str()))
    };
    copy_line(request, first(HeaderName::From)?, false, &mut out);
    let to = first(HeaderName::To)?;
    let to_has_tag = request.to().map(|t| t.tag().is_some());
    match (to_tag, to_has_tag) {
        (Some(tag), Ok(false)) => {
            out.extend_from_slice(request.text(to.raw_name).as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(request.text(to.value).as_bytes());
            out.extend_from_slice(b";tag=");
            out.extend(tag.bytes().filter(|&b| is_token(b)));
            out.extend_from_slice(b"\r\n");
        }
        _ => copy_line(request, to, false, &mut out),
    }
    copy_line(request, first(HeaderName::CallId)?, false, &mut out);
    copy_line(request, first(HeaderName::CSeq)?, false, &mut out);
    if !extra_headers.is_empty() {
        out.extend_from_slice(extra_headers.as_bytes());
        if !extra_headers.ends_with('\n') {
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"Content-Length: ");
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body);
    Ok(out)
}

/// Copies a header field as received (optionally with the edits inside it),
/// making sure it ends with a line end.
fn copy_line(msg: &Message, e: &HeaderEntry, with_edits: bool, out: &mut Vec<u8>) {
    let (s, t) = (e.line.start as usize, e.line.end as usize);
    if with_edits {
        msg.write_range(s, t, out);
    } else {
        out.extend_from_slice(msg.buf.get(s..t).unwrap_or_default());
    }
    if !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
}

/// For a request that [`Message::parse`] refused: a response (usually 400)
/// built from whatever could be salvaged, or `None` if the input is not a
/// request or lacks what a response needs (Via, From, To, Call-ID, CSeq,
/// with a parseable top Via). The transport sends it, or drops the input
/// silently on `None` (RFC 3261 16.3, RFC 4475 3.1.2).
pub fn reply_to_unparsable(buf: &[u8], code: u16, reason: &str) -> Option<Vec<u8>> {
    reply_to_unparsable_with(buf, code, reason, "")
}

/// [`reply_to_unparsable`] with `extra_headers` (complete lines, e.g. the
/// proxy's Server line).
pub fn reply_to_unparsable_with(
    buf: &[u8],
    code: u16,
    reason: &str,
    extra_headers: &str,
) -> Option<Vec<u8>> {
    let msg = salvage_request(buf)?;
    msg.top_via().ok()?;
    build_reply(&msg, code, reason, None, extra_headers, b"").ok()
}

/// True if `buf` starts like a request line (`TOKEN SP ...`), the condition
/// for answering a malformed message rather than dropping it.
pub fn looks_like_request(buf: &[u8]) -> bool {
    let lead = buf
        .iter()
        .take_while(|&&c| c == b'\r' || c == b'\n')
        .count();
    let b = buf.get(lead..).unwrap_or_default();
    let method = b.iter().take_while(|&&c| is_token(c)).count();
    method > 0
        && b.get(method) == Some(&b' ')
        && !b.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
}

/// A lenient parse for answering: method token, any first line, a header
/// index, no body.
fn salvage_request(buf: &[u8]) -> Option<Message> {
    if buf.len() > MAX_MESSAGE_SIZE || !looks_like_request(buf) {
        return None;
    }
    let lead = buf
        .iter()
        .take_while(|&&c| c == b'\r' || c == b'\n')
        .count();
    let b = buf.get(lead..)?;
    let nl = memchr::memchr(b'\n', b)?;
    let method_len = b.iter().take_while(|&&c| is_token(c)).count();
    let idx = index_headers(b, nl + 1).ok()?;
    std::str::from_utf8(b.get(..idx.headers_end)?).ok()?;
    let method = std::str::from_utf8(b.get(..method_len)?).ok()?;
    let end = idx.headers_end;
    Some(Message {
        buf: bytes::Bytes::copy_from_slice(b.get(..end)?),
        start: StartLine::Request {
            method: Method::from_token(method),
            method_span: Span::new(0, method_len),
            uri: Span::new(0, 0),
        },
        version: Span::new(0, 0),
        headers_start: off(nl + 1),
        headers: idx.headers,
        headers_end: off(end),
        body: Span::new(end, end),
        has_empty_line: false,
        edits: Vec::new(),
    })
}
