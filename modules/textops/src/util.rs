//! Helpers shared by textops and textopsx: bounded regex compilation,
//! sed-like substitutions, message offsets, the pending body and
//! Content-Type, multipart parsing and hex decoding.

use bytes::Bytes;
use kemi_core::sip::{Edit, Header, HeaderName, HeaderPos, Message};
use regex::bytes::{Regex, RegexBuilder};

/// Largest compiled regex accepted: scripts are trusted but a typo must not
/// eat the worker's memory.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Boundary used when a multipart body is made without one (Kamailio's).
pub const DEFAULT_BOUNDARY: &str = "unique-boundary-1";

/// How a regex treats line ends.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// POSIX `REG_NEWLINE`: `.` stops at line ends, `^`/`$` match at them
    /// (what search/replace use).
    Newline,
    /// No `REG_NEWLINE`: `.` matches line ends, `^`/`$` only at the ends of
    /// the text (sed-like `subst` without the `s` flag).
    Whole,
}

/// Compiles a script regex with byte semantics (the message may hold any
/// octet), or logs why it cannot and returns `None`.
pub fn compile(re: &str, icase: bool, lines: Lines) -> Option<Regex> {
    let newline = lines == Lines::Newline;
    match RegexBuilder::new(re)
        .case_insensitive(icase)
        .multi_line(newline)
        .crlf(newline)
        .dot_matches_new_line(!newline)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
    {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::error!("textops: bad regular expression {re:?}: {e}");
            None
        }
    }
}

/// Compiles a regex the way textops' search functions do (extended,
/// case-insensitive, newline-sensitive).
pub fn compile_search(re: &str) -> Option<Regex> {
    compile(re, true, Lines::Newline)
}

/// A parsed sed-like substitution `/re/repl/flags`.
pub struct Subst {
    pub re: Regex,
    pub repl: Vec<ReplPiece>,
    pub global: bool,
}

/// One piece of a replacement: literal bytes or a capture group.
#[derive(Debug, PartialEq, Eq)]
pub enum ReplPiece {
    Text(Vec<u8>),
    Group(usize),
}

/// Parses `/re/repl/flags` (any first character is the separator;
/// `\<sep>` stands for it inside both parts). Flags: `i` ignore case, `g`
/// every match, `s` newline-sensitive matching (POSIX `REG_NEWLINE`). In the
/// replacement `\0`..`\9` are groups, `\n` `\r` `\t` `\\` escapes.
pub fn parse_subst(expr: &str) -> Option<Subst> {
    let mut chars = expr.chars();
    let sep = chars.next()?;
    if sep == '\\' || sep.is_alphanumeric() {
        tracing::error!("textops: bad separator in substitution {expr:?}");
        return None;
    }
    let rest: &str = chars.as_str();
    let (re_part, after) = split_at_sep(rest, sep)?;
    let (repl_part, flags) = match split_at_sep(after, sep) {
        Some(v) => v,
        None => {
            tracing::error!("textops: substitution {expr:?} is not /re/repl/flags");
            return None;
        }
    };
    let (mut icase, mut global, mut lines) = (false, false, Lines::Whole);
    for f in flags.chars() {
        match f {
            'i' => icase = true,
            'g' => global = true,
            's' => lines = Lines::Newline,
            _ => {
                tracing::error!("textops: unknown substitution flag {f:?} in {expr:?}");
                return None;
            }
        }
    }
    let re = compile(&re_part, icase, lines)?;
    let repl = parse_repl(&repl_part, re.captures_len())?;
    Some(Subst { re, repl, global })
}

/// Splits at the first unescaped `sep`; `\<sep>` becomes `<sep>`, other
/// escapes are kept for the next stage.
fn split_at_sep(s: &str, sep: char) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut it = s.char_indices();
    while let Some((i, c)) = it.next() {
        if c == '\\' {
            match it.next() {
                Some((_, n)) if n == sep => out.push(sep),
                Some((_, n)) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else if c == sep {
            return Some((out, s.get(i + c.len_utf8()..).unwrap_or_default()));
        } else {
            out.push(c);
        }
    }
    None
}

fn parse_repl(s: &str, groups: usize) -> Option<Vec<ReplPiece>> {
    let mut pieces = Vec::new();
    let mut text = Vec::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            let mut b = [0; 4];
            text.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            continue;
        }
        match it.next() {
            Some(d @ '0'..='9') => {
                let n = d as usize - '0' as usize;
                if n >= groups {
                    tracing::error!("textops: replacement refers to missing group \\{n}");
                    return None;
                }
                if !text.is_empty() {
                    pieces.push(ReplPiece::Text(std::mem::take(&mut text)));
                }
                pieces.push(ReplPiece::Group(n));
            }
            Some('n') => text.push(b'\n'),
            Some('r') => text.push(b'\r'),
            Some('t') => text.push(b'\t'),
            Some(o) => {
                let mut b = [0; 4];
                text.extend_from_slice(o.encode_utf8(&mut b).as_bytes());
            }
            None => text.push(b'\\'),
        }
    }
    if !text.is_empty() {
        pieces.push(ReplPiece::Text(text));
    }
    Some(pieces)
}

impl Subst {
    /// The replacements over `hay`: `(start, end, new bytes)`, the first
    /// match only unless the `g` flag was given.
    pub fn matches(&self, hay: &[u8]) -> Vec<(usize, usize, Vec<u8>)> {
        let mut out = Vec::new();
        for caps in self.re.captures_iter(hay) {
            let Some(m) = caps.get(0) else { continue };
            let mut text = Vec::new();
            for p in &self.repl {
                match p {
                    ReplPiece::Text(t) => text.extend_from_slice(t),
                    ReplPiece::Group(n) => {
                        if let Some(g) = caps.get(*n) {
                            text.extend_from_slice(g.as_bytes());
                        }
                    }
                }
            }
            out.push((m.start(), m.end(), text));
            if !self.global {
                break;
            }
        }
        out
    }

    /// `hay` with the substitution applied, or `None` if nothing matched.
    pub fn apply(&self, hay: &[u8]) -> Option<Vec<u8>> {
        let m = self.matches(hay);
        if m.is_empty() {
            return None;
        }
        Some(splice_bytes(hay, &m))
    }
}

/// `hay` with the sorted, non-overlapping `(start, end, text)` applied.
pub fn splice_bytes(hay: &[u8], cuts: &[(usize, usize, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len() + 32);
    let mut cursor = 0;
    for (s, e, t) in cuts {
        if *s < cursor {
            continue;
        }
        out.extend_from_slice(hay.get(cursor..*s).unwrap_or_default());
        out.extend_from_slice(t);
        cursor = *e;
    }
    out.extend_from_slice(hay.get(cursor..).unwrap_or_default());
    out
}

/// Records a replacement of the message bytes `start..end`. Fails (with a
/// log) when the text is not UTF-8 or the range crosses the body start.
pub fn splice(msg: &mut Message, start: usize, end: usize, text: Vec<u8>) -> bool {
    let text = match String::from_utf8(text) {
        Ok(t) => t,
        Err(_) => {
            tracing::error!("textops: replacement text is not UTF-8");
            return false;
        }
    };
    match msg.edit(Edit::Splice { start, end, text }) {
        Ok(()) => true,
        Err(e) => {
            tracing::error!("textops: cannot change bytes {start}..{end}: {e}");
            false
        }
    }
}

/// Offset of a slice borrowed from the message's bytes.
pub fn offset_in(msg: &Message, s: &str) -> Option<usize> {
    let base = msg.as_bytes().as_ptr() as usize;
    let off = (s.as_ptr() as usize).checked_sub(base)?;
    (off + s.len() <= msg.as_bytes().len()).then_some(off)
}

/// Offset of the body in the message.
pub fn body_offset(msg: &Message) -> usize {
    msg.as_bytes().len() - msg.body().len()
}

/// Offset where the header fields end (where the empty line is).
pub fn headers_end(msg: &Message) -> usize {
    match msg.headers().last() {
        Some(h) => line_span(msg, &h).1,
        None => msg.first_line().len(),
    }
}

/// The whole line(s) of a header field: from its name to past its line end.
pub fn line_span(msg: &Message, h: &Header<'_>) -> (usize, usize) {
    let b = msg.as_bytes();
    let start = offset_in(msg, h.raw_name).unwrap_or(0);
    let vend = offset_in(msg, h.value).map_or(start, |o| o + h.value.len());
    let end = b
        .get(vend..)
        .and_then(|r| r.iter().position(|&c| c == b'\n'))
        .map_or(b.len(), |p| vend + p + 1);
    (start, end)
}

/// The value range of a header field in the message.
pub fn value_span(msg: &Message, h: &Header<'_>) -> Option<(usize, usize)> {
    offset_in(msg, h.value).map(|o| (o, o + h.value.len()))
}

/// Records the removal of the header field at `index`, logging failures.
pub fn remove_header(msg: &mut Message, index: usize) -> bool {
    match msg.remove_header(index) {
        Ok(()) => true,
        Err(e) => {
            tracing::error!("textops: cannot remove header #{index}: {e}");
            false
        }
    }
}

/// The body as it will be sent: the last body set by a script, else the
/// received one (textops' body functions build on each other this way, as
/// Kamailio's multipart helpers do through their message flags).
pub fn pending_body(msg: &Message) -> Bytes {
    msg.edits()
        .iter()
        .rev()
        .find_map(|e| match e {
            Edit::SetBody(b) => Some(b.clone()),
            _ => None,
        })
        .unwrap_or_else(|| msg.body_bytes())
}

/// The Content-Type as it will be sent (a pending change first).
pub fn pending_content_type(msg: &Message) -> Option<String> {
    let ct_index = msg
        .headers_of(HeaderName::ContentType)
        .next()
        .map(|h| h.index);
    for e in msg.edits().iter().rev() {
        match e {
            Edit::AddHeader { name, value, .. }
                if HeaderName::parse(name) == HeaderName::ContentType =>
            {
                return Some(value.clone())
            }
            Edit::ReplaceValue { index, value } if Some(*index) == ct_index => {
                return Some(value.clone())
            }
            Edit::RemoveHeader(i) if Some(*i) == ct_index => return None,
            _ => {}
        }
    }
    msg.header(HeaderName::ContentType).map(str::to_owned)
}

/// Sets the Content-Type to `ct` (an empty `ct` removes it): the first
/// field is rewritten, others removed, an earlier pending one replaced.
pub fn set_content_type(msg: &mut Message, ct: &str) -> bool {
    // Forget a Content-Type added earlier by a script.
    if msg.edits().iter().any(is_added_ct) {
        let keep: Vec<Edit> = msg
            .edits()
            .iter()
            .filter(|e| !is_added_ct(e))
            .cloned()
            .collect();
        msg.clear_edits();
        for e in keep {
            if msg.edit(e).is_err() {
                return false;
            }
        }
    }
    let existing: Vec<usize> = msg
        .headers_of(HeaderName::ContentType)
        .map(|h| h.index)
        .collect();
    let mut ok = true;
    match existing.split_first() {
        Some((&first, others)) => {
            ok &= if ct.is_empty() {
                msg.remove_header(first).is_ok()
            } else {
                msg.replace_header_value(first, ct).is_ok()
            };
            for &i in others {
                ok &= msg.remove_header(i).is_ok();
            }
        }
        None if !ct.is_empty() => {
            ok &= msg.add_header(HeaderPos::Last, "Content-Type", ct).is_ok();
        }
        None => {}
    }
    ok
}

fn is_added_ct(e: &Edit) -> bool {
    matches!(e, Edit::AddHeader { name, .. } if HeaderName::parse(name) == HeaderName::ContentType)
}

/// `type/subtype` of a Content-Type value, lower-cased, parameters dropped.
pub fn media_type(ct: &str) -> String {
    ct.split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The `boundary` parameter of a Content-Type value, unquoted.
pub fn boundary_of(ct: &str) -> Option<String> {
    ct.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// True if the media type `have` matches `want` (`type/subtype`, `*`
/// allowed as subtype in `want`).
pub fn type_matches(have: &str, want: &str) -> bool {
    let want = media_type(want);
    let have = media_type(have);
    match want.strip_suffix("/*") {
        Some(t) => have.split('/').next() == Some(t),
        None => have == want,
    }
}

/// One part of a multipart body.
#[derive(Debug, Clone)]
pub struct Part {
    /// From the first byte after the delimiter line to the CRLF before the
    /// next delimiter.
    pub raw: std::ops::Range<usize>,
    /// The part's content (after its empty line).
    pub content: std::ops::Range<usize>,
    /// Its Content-Type ("text/plain" if absent, RFC 2046).
    pub ctype: String,
    /// The whole delimiter-to-delimiter span including the opening
    /// delimiter line: what removing the part removes.
    pub whole: std::ops::Range<usize>,
}

/// Splits a multipart body by `boundary`. `None` if the body has no
/// delimiter line.
pub fn parts(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delim = format!("--{boundary}").into_bytes();
    // Delimiter lines: at the body start or after a line end.
    let mut starts = Vec::new();
    let mut i = 0;
    while let Some(p) = find(body.get(i..)?, &delim) {
        let at = i + p;
        if at == 0 || body.get(at - 1) == Some(&b'\n') {
            starts.push(at);
        }
        i = at + delim.len();
    }
    if starts.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for w in starts.windows(2) {
        let (d, next) = (w[0], w[1]);
        let after = d + delim.len();
        if body.get(after..after + 2) == Some(b"--") {
            break;
        }
        let Some(nl) = body
            .get(after..next)
            .and_then(|r| r.iter().position(|&c| c == b'\n'))
        else {
            continue;
        };
        let raw_start = after + nl + 1;
        // The line end before the next delimiter belongs to the delimiter.
        let mut raw_end = next;
        if raw_end > raw_start && body.get(raw_end - 1) == Some(&b'\n') {
            raw_end -= 1;
            if raw_end > raw_start && body.get(raw_end - 1) == Some(&b'\r') {
                raw_end -= 1;
            }
        }
        let raw = body.get(raw_start..raw_end).unwrap_or_default();
        let (hdr_len, content_start) = match find(raw, b"\r\n\r\n") {
            Some(p) if !raw.starts_with(b"\r\n") => (p, p + 4),
            _ if raw.starts_with(b"\r\n") => (0, 2),
            _ => match find(raw, b"\n\n") {
                Some(p) => (p, p + 2),
                None => (raw.len(), raw.len()),
            },
        };
        let head = String::from_utf8_lossy(raw.get(..hdr_len).unwrap_or_default()).into_owned();
        let ctype = head
            .lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                matches!(HeaderName::parse(n.trim()), HeaderName::ContentType)
                    .then(|| v.trim().to_owned())
            })
            .unwrap_or_else(|| "text/plain".to_owned());
        out.push(Part {
            raw: raw_start..raw_end,
            content: raw_start + content_start.min(raw.len())..raw_end,
            ctype,
            whole: d..next,
        });
    }
    Some(out)
}

/// The parts of the message's pending body, if it is multipart.
pub fn body_parts(msg: &Message) -> Option<(Bytes, String, Vec<Part>)> {
    let ct = pending_content_type(msg)?;
    if !media_type(&ct).starts_with("multipart/") {
        return None;
    }
    let boundary = boundary_of(&ct)?;
    let body = pending_body(msg);
    let p = parts(&body, &boundary)?;
    Some((body, boundary, p))
}

/// First position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Decodes hex text (white space ignored); `None` if malformed.
pub fn hex_decode(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits
        .chunks(2)
        .map(|c| {
            let hi = hex_val(*c.first()?)?;
            let lo = hex_val(*c.get(1)?)?;
            Some((hi << 4) | lo)
        })
        .collect()
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// One multipart part: delimiter line, part headers, empty line, content.
pub fn part_text(boundary: &str, ctype: &str, disposition: &str, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 96);
    out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    if !ctype.is_empty() {
        out.extend_from_slice(format!("Content-Type: {ctype}\r\n").as_bytes());
    }
    if !disposition.is_empty() {
        out.extend_from_slice(format!("Content-Disposition: {disposition}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(content);
    out.extend_from_slice(b"\r\n");
    out
}

/// The closing delimiter line.
pub fn closing(boundary: &str) -> Vec<u8> {
    format!("--{boundary}--\r\n").into_bytes()
}

/// The message's headers whose name is `name` (compact forms included).
pub fn named_indices(msg: &Message, name: &str) -> Vec<usize> {
    msg.headers_named(name.trim()).map(|h| h.index).collect()
}

/// Stores `value` in the pseudo-variable `name` (as a string); false with a
/// log when the name is not a writable PV.
pub fn pv_set(ctx: &mut kemi_core::Context, name: &str, value: &[u8]) -> bool {
    let text = String::from_utf8_lossy(value).into_owned();
    match kemi_core::pv::set_by_name(ctx, name, Some(kemi_core::pv::PvValue::Str(text))) {
        Ok(()) => true,
        Err(e) => {
            tracing::error!("textops: cannot set {name}: {e}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subst_parsing() {
        let s = parse_subst("/a(b+)c/[\\1]/g").unwrap();
        assert_eq!(s.apply(b"abbc-abc").unwrap(), b"[bb]-[b]");
        let s = parse_subst("#x\\#y#z\\\\#i").unwrap();
        assert_eq!(s.apply(b"X#Y").unwrap(), b"z\\");
        assert!(parse_subst("/a/b").is_none());
        assert!(parse_subst("/a/\\3/").is_none());
        assert!(parse_subst("/(/x/").is_none());
        assert!(parse_subst("/a/b/q").is_none());
        assert!(parse_subst("").is_none());
    }

    #[test]
    fn hex() {
        assert_eq!(hex_decode("6869 0a").unwrap(), b"hi\n");
        assert!(hex_decode("6").is_none());
        assert!(hex_decode("zz").is_none());
    }

    #[test]
    fn multipart_split() {
        let body = b"--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n--b1--\r\n";
        let p = parts(body, "b1").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(&body[p[0].content.clone()], b"hello");
        assert_eq!(&body[p[1].content.clone()], b"v=0\r\n");
        assert_eq!(p[1].ctype, "application/sdp");
    }
}
