//! The received message: first line, header index and body range, built in
//! one pass over the bytes; header values are parsed when asked for.

use bytes::Bytes;
use memchr::{memchr, memrchr};

use super::scan::find_lf;

use super::edit::Edit;
use super::error::ParseError;
use super::fields::{
    check_date, is_method_token, parse_call_id, parse_content_length, parse_expires,
    parse_max_forwards, CSeq, MediaType,
};
use super::header::{Header, HeaderName};
use super::method::Method;
use super::name_addr::{parse_list, Contacts, NameAddr};
use super::scan::is_token;
use super::uri::Uri;
use super::via::{parse_vias, Via};
use super::{MAX_HEADERS, MAX_MESSAGE_SIZE};

/// A byte range of the message, as u32 offsets (messages are < 64 KiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub start: u32,
    pub end: u32,
}

/// An offset as u32: offsets are bounded by MAX_MESSAGE_SIZE, checked
/// before indexing, so the saturation never happens.
pub(crate) fn off(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Span {
        Span {
            start: off(start),
            end: off(end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// What the header index remembers about one header field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderEntry {
    pub name: HeaderName,
    pub raw_name: Span,
    pub value: Span,
    /// The whole field: from the name to just past its final line end.
    pub line: Span,
}

#[derive(Debug, Clone)]
pub(crate) enum StartLine {
    Request {
        method: Method,
        method_span: Span,
        uri: Span,
    },
    Response {
        code: u16,
        reason: Span,
    },
}

/// A SIP message over the bytes it was received in.
///
/// `parse` indexes the first line and the header fields; typed values
/// (`vias()`, `from()`, `cseq()`...) are parsed from the index on each call
/// and borrow from the message. Edits (`add_header`, `set_request_uri`...) are
/// recorded and applied by [`Message::serialize`]; every read, typed or raw,
/// sees the message as received, as in Kamailio.
#[derive(Debug, Clone)]
pub struct Message {
    pub(crate) buf: Bytes,
    pub(crate) start: StartLine,
    pub(crate) version: Span,
    /// Offset of the first header field (just past the first line).
    pub(crate) headers_start: u32,
    pub(crate) headers: Vec<HeaderEntry>,
    /// Offset just past the last header field (where the empty line starts).
    pub(crate) headers_end: u32,
    pub(crate) body: Span,
    /// False for a datagram whose header section runs to its end.
    pub(crate) has_empty_line: bool,
    pub(crate) edits: Vec<Edit>,
}

impl Message {
    /// Parses a message received as a datagram (or framed by [`super::frame_len`]).
    ///
    /// Leading CRLFs are skipped (RFC 3261 7.5). The body is what follows the
    /// empty line, cut to Content-Length when that is shorter (the octets after
    /// it are ignored and not part of the message); a Content-Length larger
    /// than what follows is an error. With several Content-Length fields the
    /// first one frames the body.
    pub fn parse(buf: impl Into<Bytes>) -> Result<Message, ParseError> {
        let mut buf: Bytes = buf.into();
        if buf.len() > MAX_MESSAGE_SIZE {
            return Err(ParseError::TooLarge {
                len: buf.len(),
                max: MAX_MESSAGE_SIZE,
            });
        }
        let lead = buf
            .iter()
            .take_while(|&&c| c == b'\r' || c == b'\n')
            .count();
        if lead == buf.len() {
            return Err(ParseError::Empty);
        }
        if lead > 0 {
            buf = buf.slice(lead..);
        }
        let b: &[u8] = &buf;

        // First line.
        let is_response = b.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"));
        let nl = find_lf(b, 0).ok_or(if is_response {
            ParseError::BadStatusLine("not terminated by CRLF")
        } else {
            ParseError::BadRequestLine("not terminated by CRLF")
        })?;
        let line_end = if nl > 0 && b.get(nl - 1) == Some(&b'\r') {
            nl - 1
        } else {
            nl
        };
        let line = b.get(..line_end).unwrap_or_default();
        let (start, version) = if is_response {
            parse_status_line(line)?
        } else {
            parse_request_line(line)?
        };

        let idx = index_headers(b, nl + 1)?;
        if let Err(e) = std::str::from_utf8(b.get(..idx.headers_end).unwrap_or_default()) {
            return Err(ParseError::NotUtf8 {
                offset: e.valid_up_to() + lead,
            });
        }
        let content_length = match idx
            .headers
            .iter()
            .find(|e| e.name == HeaderName::ContentLength)
        {
            Some(e) => {
                let v = b.get(e.value.range()).unwrap_or_default();
                Some(parse_content_length(std::str::from_utf8(v).unwrap_or("?"))?)
            }
            None => None,
        };
        let HeaderIndex {
            headers,
            headers_end,
            body_start,
            has_empty_line,
        } = idx;

        let available = b.len().saturating_sub(body_start);
        let body_end = match content_length {
            Some(declared) if declared > available => {
                return Err(ParseError::ContentLengthTooLarge {
                    declared,
                    available,
                })
            }
            Some(declared) => body_start + declared,
            None => b.len(),
        };
        buf.truncate(body_end);
        Ok(Message {
            buf,
            start,
            version,
            headers_start: off(nl + 1),
            headers,
            headers_end: off(headers_end),
            body: Span::new(body_start.min(body_end), body_end),
            has_empty_line,
            edits: Vec::new(),
        })
    }

    /// [`Message::parse`] of a borrowed buffer (the bytes are copied once).
    pub fn parse_slice(buf: &[u8]) -> Result<Message, ParseError> {
        if buf.len() > MAX_MESSAGE_SIZE {
            return Err(ParseError::TooLarge {
                len: buf.len(),
                max: MAX_MESSAGE_SIZE,
            });
        }
        Message::parse(Bytes::copy_from_slice(buf))
    }

    /// The header section (first line and header fields), validated as UTF-8.
    fn head(&self) -> &str {
        let head = self
            .buf
            .get(..self.headers_end as usize)
            .unwrap_or_default();
        // SAFETY: `parse` checked that these bytes are UTF-8 and `buf` is
        // immutable (`Bytes`); `headers_end` never changes after parsing.
        unsafe { std::str::from_utf8_unchecked(head) }
    }

    /// The text of a span of the header section ("" if out of it).
    pub(crate) fn text(&self, span: Span) -> &str {
        self.head().get(span.range()).unwrap_or_default()
    }

    /// Offset in the message of a string slice borrowed from it.
    pub(crate) fn offset_of(&self, s: &str) -> Option<usize> {
        let base = self.buf.as_ptr() as usize;
        let p = s.as_ptr() as usize;
        let off = p.checked_sub(base)?;
        (off + s.len() <= self.buf.len()).then_some(off)
    }

    // ----- first line -----

    /// The message as received (leading CRLFs and octets past Content-Length
    /// excluded). Edits are not applied: see [`Message::serialize`].
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The received bytes as a cheap, shareable handle.
    pub fn bytes(&self) -> &Bytes {
        &self.buf
    }

    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    pub fn is_response(&self) -> bool {
        !self.is_request()
    }

    /// The request method; for a response, the method of its CSeq
    /// (`Method::Other("")` if the CSeq does not parse).
    pub fn method(&self) -> Method {
        match &self.start {
            StartLine::Request { method, .. } => method.clone(),
            StartLine::Response { .. } => self
                .cseq()
                .map(|c| c.method)
                .unwrap_or_else(|_| Method::Other("".into())),
        }
    }

    /// The method as received; for a response, the CSeq method ("" if none).
    pub fn method_str(&self) -> &str {
        match &self.start {
            StartLine::Request { method_span, .. } => self.text(*method_span),
            StartLine::Response { .. } => self.cseq().map(|c| c.method_str).unwrap_or(""),
        }
    }

    /// The Request-URI as received (`None` for a response).
    pub fn request_uri(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(self.text(*uri)),
            StartLine::Response { .. } => None,
        }
    }

    /// The Request-URI, parsed.
    pub fn parsed_request_uri(&self) -> Result<Uri<'_>, ParseError> {
        let uri = self
            .request_uri()
            .ok_or(ParseError::BadRequestLine("a response has no Request-URI"))?;
        Uri::parse(uri)
    }

    pub fn status_code(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// The reason phrase of a response, as received (may be empty).
    pub fn reason(&self) -> Option<&str> {
        match &self.start {
            StartLine::Response { reason, .. } => Some(self.text(*reason)),
            StartLine::Request { .. } => None,
        }
    }

    /// The SIP-Version as received (`SIP/2.0`, or `sip/2.0`).
    pub fn version(&self) -> &str {
        self.text(self.version)
    }

    /// The first line without its line end.
    pub fn first_line(&self) -> &str {
        let end = self.headers_start as usize;
        self.head()
            .get(..end)
            .unwrap_or_default()
            .trim_end_matches(['\r', '\n'])
    }

    // ----- header fields -----

    /// Every header field, in order.
    pub fn headers(&self) -> impl Iterator<Item = Header<'_>> + '_ {
        (0..self.headers.len()).filter_map(move |i| self.header_at(i))
    }

    /// The header field at `index` (0 = first).
    pub fn header_at(&self, index: usize) -> Option<Header<'_>> {
        let e = self.headers.get(index)?;
        Some(Header {
            index,
            name: e.name,
            raw_name: self.text(e.raw_name),
            value: self.text(e.value),
        })
    }

    /// Number of header fields.
    pub fn header_len(&self) -> usize {
        self.headers.len()
    }

    /// The fields with a known name (compact and full forms alike).
    /// For unknown names use [`Message::headers_named`].
    pub fn headers_of(&self, name: HeaderName) -> impl Iterator<Item = Header<'_>> + '_ {
        self.headers().filter(move |h| h.name == name)
    }

    /// The fields with this name, case-insensitive; `"v"` finds Via fields.
    pub fn headers_named<'s, 'n>(
        &'s self,
        name: &'n str,
    ) -> impl Iterator<Item = Header<'s>> + use<'s, 'n> {
        let known = HeaderName::parse(name);
        self.headers().filter(move |h| match known {
            HeaderName::Other => {
                h.name == HeaderName::Other && h.raw_name.eq_ignore_ascii_case(name)
            }
            k => h.name == k,
        })
    }

    /// The value of the first field with this (known) name. For names
    /// classified as `Other`, use [`Message::header_by_name`].
    pub fn header(&self, name: HeaderName) -> Option<&str> {
        self.headers_of(name).next().map(|h| h.value)
    }

    /// The value of the first field with this name, case-insensitive.
    pub fn header_by_name(&self, name: &str) -> Option<&str> {
        self.headers_named(name).next().map(|h| h.value)
    }

    /// How many fields have this (known) name.
    pub fn header_count(&self, name: HeaderName) -> usize {
        self.headers.iter().filter(|e| e.name == name).count()
    }

    /// How many fields have this name, case-insensitive.
    pub fn header_count_by_name(&self, name: &str) -> usize {
        self.headers_named(name).count()
    }

    /// The body (empty if none).
    pub fn body(&self) -> &[u8] {
        self.buf.get(self.body.range()).unwrap_or_default()
    }

    /// The body as a shareable handle.
    pub fn body_bytes(&self) -> Bytes {
        if self.body.start >= self.body.end {
            return Bytes::new();
        }
        self.buf.slice(self.body.range())
    }

    // ----- typed values, parsed on each call -----

    fn required(&self, name: HeaderName) -> Result<&str, ParseError> {
        self.header(name)
            .ok_or(ParseError::MissingHeader(name.as_str()))
    }

    /// Every via-parm, over all Via fields and comma-joined values, top first.
    pub fn vias(&self) -> Result<Vec<Via<'_>>, ParseError> {
        let mut out = Vec::new();
        for h in self.headers_of(HeaderName::Via) {
            parse_vias(h.value, &mut out)?;
        }
        Ok(out)
    }

    /// The topmost via-parm.
    pub fn top_via(&self) -> Result<Via<'_>, ParseError> {
        let v = self.required(HeaderName::Via)?;
        let first = super::scan::split_commas(v)
            .into_iter()
            .next()
            .unwrap_or_default();
        Via::parse(first)
    }

    /// The From field (the first one, if several).
    pub fn from(&self) -> Result<NameAddr<'_>, ParseError> {
        NameAddr::parse_for(self.required(HeaderName::From)?, "From")
    }

    /// The To field (the first one, if several).
    pub fn to(&self) -> Result<NameAddr<'_>, ParseError> {
        NameAddr::parse_for(self.required(HeaderName::To)?, "To")
    }

    pub fn call_id(&self) -> Result<&str, ParseError> {
        parse_call_id(self.required(HeaderName::CallId)?)
    }

    pub fn cseq(&self) -> Result<CSeq<'_>, ParseError> {
        CSeq::parse(self.required(HeaderName::CSeq)?)
    }

    /// All Contact values; `Star` for `Contact: *`; an empty list if none.
    pub fn contacts(&self) -> Result<Contacts<'_>, ParseError> {
        let mut out = Vec::new();
        for h in self.headers_of(HeaderName::Contact) {
            if h.value == "*" {
                if self.header_count(HeaderName::Contact) == 1 {
                    return Ok(Contacts::Star);
                }
                return Err(ParseError::header(
                    "Contact",
                    "'*' mixed with other contacts",
                ));
            }
            parse_list(h.value, "Contact", &mut out)?;
        }
        Ok(Contacts::List(out))
    }

    /// All Route values, in order.
    pub fn routes(&self) -> Result<Vec<NameAddr<'_>>, ParseError> {
        self.addr_list(HeaderName::Route, "Route")
    }

    /// All Record-Route values, in order.
    pub fn record_routes(&self) -> Result<Vec<NameAddr<'_>>, ParseError> {
        self.addr_list(HeaderName::RecordRoute, "Record-Route")
    }

    /// All values of a name-addr list header (P-Asserted-Identity, Path,
    /// Refer-To...), in order.
    pub fn name_addrs(&self, name: HeaderName) -> Result<Vec<NameAddr<'_>>, ParseError> {
        self.addr_list(name, name.as_str())
    }

    fn addr_list(
        &self,
        name: HeaderName,
        label: &'static str,
    ) -> Result<Vec<NameAddr<'_>>, ParseError> {
        let mut out = Vec::new();
        for h in self.headers_of(name) {
            parse_list(h.value, label, &mut out)?;
        }
        Ok(out)
    }

    pub fn max_forwards(&self) -> Result<Option<u8>, ParseError> {
        self.header(HeaderName::MaxForwards)
            .map(parse_max_forwards)
            .transpose()
    }

    /// The first Content-Length value.
    pub fn content_length(&self) -> Result<Option<usize>, ParseError> {
        self.header(HeaderName::ContentLength)
            .map(parse_content_length)
            .transpose()
    }

    pub fn content_type(&self) -> Result<Option<MediaType<'_>>, ParseError> {
        self.header(HeaderName::ContentType)
            .map(MediaType::parse)
            .transpose()
    }

    /// The Expires header (delta-seconds).
    pub fn expires(&self) -> Result<Option<u32>, ParseError> {
        self.header(HeaderName::Expires)
            .map(parse_expires)
            .transpose()
    }

    /// Parses every header field whose grammar the core knows (Via, From,
    /// To, Call-ID, CSeq, Contact, Route, Record-Route, Max-Forwards,
    /// Content-Length, Content-Type, Expires, Date), the Request-URI, and
    /// checks that a request's CSeq method is its method. Presence and count
    /// of fields are not checked here: that is a module's policy (sanity).
    pub fn validate(&self) -> Result<(), ParseError> {
        if self.is_request() {
            self.parsed_request_uri()?;
        }
        for h in self.headers() {
            match h.name {
                HeaderName::Via => parse_vias(h.value, &mut Vec::new())?,
                HeaderName::From => drop(NameAddr::parse_for(h.value, "From")?),
                HeaderName::To => drop(NameAddr::parse_for(h.value, "To")?),
                HeaderName::CallId => drop(parse_call_id(h.value)?),
                HeaderName::CSeq => {
                    let c = CSeq::parse(h.value)?;
                    if let StartLine::Request { method_span, .. } = &self.start {
                        let m = self.text(*method_span);
                        if c.method_str != m {
                            return Err(ParseError::CSeqMethodMismatch {
                                cseq: c.method_str.to_owned(),
                                method: m.to_owned(),
                            });
                        }
                    }
                }
                HeaderName::Contact if h.value != "*" => {
                    parse_list(h.value, "Contact", &mut Vec::new())?
                }
                HeaderName::Route => parse_list(h.value, "Route", &mut Vec::new())?,
                HeaderName::RecordRoute => parse_list(h.value, "Record-Route", &mut Vec::new())?,
                HeaderName::MaxForwards => drop(parse_max_forwards(h.value)?),
                HeaderName::ContentLength => drop(parse_content_length(h.value)?),
                HeaderName::ContentType => drop(MediaType::parse(h.value)?),
                HeaderName::Expires => drop(parse_expires(h.value)?),
                HeaderName::Date => check_date(h.value)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// `parse` followed by `validate`: what the tests of RFC 4475's
    /// invalid messages use, and what a strict receiver would do.
    pub fn parse_strict(buf: impl Into<Bytes>) -> Result<Message, ParseError> {
        let m = Message::parse(buf)?;
        m.validate()?;
        Ok(m)
    }
}

/// The header index of a message, from the first header field on.
pub(crate) struct HeaderIndex {
    pub headers: Vec<HeaderEntry>,
    pub headers_end: usize,
    pub body_start: usize,
    pub has_empty_line: bool,
}

/// Indexes the header fields starting at `pos`: one pass, a line-end search per
/// line, the name classified, the value's range LWS-trimmed.
pub(crate) fn index_headers(b: &[u8], mut pos: usize) -> Result<HeaderIndex, ParseError> {
    let mut headers = Vec::with_capacity(24);
    let mut line_no = 2;
    let (headers_end, body_start, has_empty_line) = loop {
        match b.get(pos) {
            None => break (pos, pos, false),
            Some(b'\n') => break (pos, pos + 1, true),
            Some(b'\r') if b.get(pos + 1) == Some(&b'\n') => break (pos, pos + 2, true),
            Some(b' ' | b'\t') => {
                return Err(ParseError::BadHeaderLine {
                    line: line_no,
                    reason: "continuation line without a header field before it",
                })
            }
            _ => {}
        }
        if headers.len() >= MAX_HEADERS {
            return Err(ParseError::TooManyHeaders { max: MAX_HEADERS });
        }
        // Scan the name and lower-case it for classification in one pass.
        let mut lower = [0u8; HeaderName::MAX_KNOWN_LEN];
        let mut name_end = pos;
        while let Some(&c) = b.get(name_end) {
            if !is_token(c) {
                break;
            }
            if let Some(d) = lower.get_mut(name_end - pos) {
                *d = c.to_ascii_lowercase();
            }
            name_end += 1;
        }
        if name_end == pos {
            return Err(ParseError::BadHeaderLine {
                line: line_no,
                reason: "header name is not a token",
            });
        }
        let mut colon = name_end;
        while matches!(b.get(colon), Some(b' ' | b'\t')) {
            colon += 1;
        }
        if b.get(colon) != Some(&b':') {
            return Err(ParseError::BadHeaderLine {
                line: line_no,
                reason: "missing ':' after the header name",
            });
        }
        // The field ends at the first line end not followed by SP/HT.
        let mut search = colon + 1;
        let (value_stop, next) = loop {
            match find_lf(b, search) {
                None => break (b.len(), b.len()),
                Some(nl) => {
                    line_no += 1;
                    if matches!(b.get(nl + 1), Some(b' ' | b'\t')) {
                        search = nl + 1;
                    } else {
                        break (nl, nl + 1);
                    }
                }
            }
        };
        let mut vs = colon + 1;
        let mut ve = value_stop;
        while vs < ve && matches!(b.get(vs), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            vs += 1;
        }
        while ve > vs && matches!(b.get(ve - 1), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            ve -= 1;
        }
        headers.push(HeaderEntry {
            name: lower
                .get(..name_end - pos)
                .map_or(HeaderName::Other, HeaderName::from_lower),
            raw_name: Span::new(pos, name_end),
            value: Span::new(vs, ve),
            line: Span::new(pos, next),
        });
        pos = next;
    };
    Ok(HeaderIndex {
        headers,
        headers_end,
        body_start,
        has_empty_line,
    })
}

fn parse_status_line(line: &[u8]) -> Result<(StartLine, Span), ParseError> {
    let sp = memchr(b' ', line).ok_or(ParseError::BadStatusLine("missing status code"))?;
    let version = line.get(..sp).unwrap_or_default();
    check_version(version, ParseError::BadStatusLine("bad SIP version"))?;
    let rest = line.get(sp + 1..).unwrap_or_default();
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits != 3 {
        return Err(ParseError::BadStatusLine("status code must be 3 digits"));
    }
    let code = rest
        .get(..3)
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| d.parse::<u16>().ok())
        .unwrap_or(0);
    if !(100..=699).contains(&code) {
        return Err(ParseError::BadStatusLine(
            "status code out of range 100-699",
        ));
    }
    let reason_start = match rest.get(3) {
        None => sp + 4,
        Some(b' ') => sp + 5,
        Some(_) => {
            return Err(ParseError::BadStatusLine(
                "expected a space after the status code",
            ))
        }
    };
    Ok((
        StartLine::Response {
            code,
            reason: Span::new(reason_start.min(line.len()), line.len()),
        },
        Span::new(0, sp),
    ))
}

fn parse_request_line(line: &[u8]) -> Result<(StartLine, Span), ParseError> {
    let bad = ParseError::BadRequestLine;
    if matches!(line.last(), Some(b' ' | b'\t')) {
        return Err(bad("white space at the end of the line"));
    }
    let sp1 = memchr(b' ', line).ok_or(bad("missing Request-URI"))?;
    let method = line.get(..sp1).unwrap_or_default();
    if !is_method_token(method) {
        return Err(bad("method is not a token"));
    }
    if line.get(sp1 + 1) == Some(&b' ') {
        return Err(bad("multiple spaces before the Request-URI"));
    }
    let sp2 = memrchr(b' ', line).unwrap_or(sp1);
    if sp2 == sp1 {
        return Err(bad("missing SIP version"));
    }
    let uri = line.get(sp1 + 1..sp2).unwrap_or_default();
    if uri.last() == Some(&b' ') {
        return Err(bad("multiple spaces before the SIP version"));
    }
    // One pass over the Request-URI: white space, scheme colon, first '@'
    // and last '?'.
    let (mut colon, mut at, mut last_q) = (None, None, None);
    for (i, &c) in uri.iter().enumerate() {
        match c {
            b' ' | b'\t' => return Err(bad("white space inside the Request-URI")),
            b':' if colon.is_none() => colon = Some(i),
            b'@' if at.is_none() => at = Some(i),
            b'?' => last_q = Some(i),
            _ => {}
        }
    }
    let version = line.get(sp2 + 1..).unwrap_or_default();
    check_version(version, bad("missing SIP version"))?;
    if uri.first() == Some(&b'<') {
        return Err(bad("Request-URI enclosed in <>"));
    }
    let colon = colon.ok_or(bad("Request-URI has no scheme"))?;
    let scheme = uri.get(..colon).unwrap_or_default();
    let scheme_ok = scheme.first().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    if !scheme_ok {
        return Err(bad("Request-URI has no scheme"));
    }
    // RFC 3261 19.1.1: headers are not allowed in a SIP Request-URI. The
    // user part may hold a '?', so only one after the '@' counts.
    let sip = scheme.eq_ignore_ascii_case(b"sip") || scheme.eq_ignore_ascii_case(b"sips");
    if sip && last_q > Some(at.unwrap_or(colon)) {
        return Err(bad("Request-URI must not contain headers"));
    }
    Ok((
        StartLine::Request {
            method: Method::from_token(std::str::from_utf8(method).unwrap_or_default()),
            method_span: Span::new(0, sp1),
            uri: Span::new(sp1 + 1, sp2),
        },
        Span::new(sp2 + 1, line.len()),
    ))
}

/// SIP-Version is case-insensitive (RFC 3261 7.1); only 2.0 is supported.
fn check_version(v: &[u8], otherwise: ParseError) -> Result<(), ParseError> {
    if v.eq_ignore_ascii_case(b"SIP/2.0") {
        return Ok(());
    }
    if v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/")) {
        let shown = String::from_utf8_lossy(v.get(..20).unwrap_or(v)).into_owned();
        return Err(ParseError::UnsupportedVersion(shown));
    }
    Err(otherwise)
}
