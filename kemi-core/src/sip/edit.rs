//! Recorded edits ("lumps" in Kamailio): changes are kept as a list and
//! applied when the message is serialised, so every byte nobody touched is
//! copied verbatim. Reads of the message keep seeing the original.
//!
//! At serialisation each edit becomes a splice of the original bytes
//! (`start..end` replaced by some text). Splices are applied in offset order
//! (see `Lump::order` for ties), and a splice that falls inside a range
//! another one already replaced is dropped (a header that was removed stays
//! removed, whatever else was recorded for it).

use bytes::Bytes;
use std::borrow::Cow;

use super::error::EditError;
use super::header::HeaderName;
use super::message::{Message, StartLine};
use super::scan::is_token_str;

/// Where a new header field goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderPos {
    /// Before the first header field.
    First,
    /// After the last header field.
    Last,
    /// Before the header field at this index.
    Before(usize),
    /// After the header field at this index.
    After(usize),
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Add `name: value` at `pos`.
    AddHeader {
        pos: HeaderPos,
        name: String,
        value: String,
    },
    /// Remove the header field at this index.
    RemoveHeader(usize),
    /// Replace the value of the header field at this index (the name and
    /// the white space around the colon are kept).
    ReplaceValue { index: usize, value: String },
    /// A new Request-URI.
    SetRequestUri(String),
    /// A new body; Content-Length is set to its length (the first
    /// Content-Length field is rewritten, others removed, or one is added).
    SetBody(Bytes),
    /// Replace the bytes `start..end` of the message by `text` (`start ==
    /// end` inserts). Used for in-value changes such as Via
    /// `received`/`rport` and for textops' regex replacements, which may
    /// touch the first line, the header section or the body, but never both
    /// sides of the body start. Splices inside the body are applied to it
    /// and Content-Length follows; a `SetBody` overrides them.
    Splice {
        start: usize,
        end: usize,
        text: String,
    },
}

struct Lump<'a> {
    start: usize,
    end: usize,
    text: Cow<'a, [u8]>,
    /// New header lines: start them on a new line if the output does not
    /// end with one (a datagram whose last header line had no CRLF).
    line: bool,
    /// Order among lumps at the same offset: 0 changes inside a line (a
    /// value, the Request-URI, a Via parameter), 1 new header lines, 2
    /// removed header lines, 3 the body. So a value that ends where a new
    /// header goes is written first, a header added before a removed one
    /// survives, and the body comes after every header.
    order: u8,
}

impl<'a> Lump<'a> {
    fn inline(start: usize, end: usize, text: Cow<'a, [u8]>) -> Self {
        Lump {
            start,
            end,
            text,
            line: false,
            order: 0,
        }
    }

    fn header(at: usize, text: Vec<u8>) -> Self {
        Lump {
            start: at,
            end: at,
            text: Cow::Owned(text),
            line: true,
            order: 1,
        }
    }

    fn remove(start: usize, end: usize) -> Self {
        Lump {
            start,
            end,
            text: Cow::Borrowed(&[]),
            line: false,
            order: 2,
        }
    }
}

fn check_value(v: &str) -> Result<(), EditError> {
    if v.contains(['\r', '\n']) {
        Err(EditError::BadHeaderValue)
    } else {
        Ok(())
    }
}

impl Message {
    /// Records an edit after checking it against the message.
    /// A later `ReplaceValue` of the same field, `SetRequestUri` or `SetBody`
    /// replaces an earlier one.
    pub fn edit(&mut self, edit: Edit) -> Result<(), EditError> {
        let n = self.headers.len();
        let check_index = |i: usize| {
            if i < n {
                Ok(())
            } else {
                Err(EditError::NoSuchHeader(i))
            }
        };
        match &edit {
            Edit::AddHeader { pos, name, value } => {
                if let HeaderPos::Before(i) | HeaderPos::After(i) = pos {
                    check_index(*i)?;
                }
                if !is_token_str(name) {
                    return Err(EditError::BadHeaderName(name.clone()));
                }
                check_value(value)?;
            }
            Edit::RemoveHeader(i) => check_index(*i)?,
            Edit::ReplaceValue { index, value } => {
                check_index(*index)?;
                check_value(value)?;
                self.edits
                    .retain(|e| !matches!(e, Edit::ReplaceValue { index: j, .. } if j == index));
            }
            Edit::SetRequestUri(uri) => {
                if !self.is_request() {
                    return Err(EditError::NotARequest);
                }
                if uri.is_empty() || uri.bytes().any(|b| b <= b' ' || b == 0x7f) {
                    return Err(EditError::BadRequestUri(uri.clone()));
                }
                self.edits.retain(|e| !matches!(e, Edit::SetRequestUri(_)));
            }
            Edit::SetBody(_) => self.edits.retain(|e| !matches!(e, Edit::SetBody(_))),
            Edit::Splice { start, end, .. } => {
                let body = self.body.range();
                let in_head = *end <= body.start;
                let in_body = body.start <= *start && *end <= body.end;
                if start > end || !(in_head || in_body) {
                    return Err(EditError::BadOffset(*start));
                }
            }
        }
        self.edits.push(edit);
        Ok(())
    }

    /// Adds a header field `name: value` at `pos`.
    pub fn add_header(&mut self, pos: HeaderPos, name: &str, value: &str) -> Result<(), EditError> {
        self.edit(Edit::AddHeader {
            pos,
            name: name.to_owned(),
            value: value.to_owned(),
        })
    }

    /// Removes the header field at `index`.
    pub fn remove_header(&mut self, index: usize) -> Result<(), EditError> {
        self.edit(Edit::RemoveHeader(index))
    }

    /// Removes every field with this (known) name; returns how many.
    pub fn remove_headers(&mut self, name: HeaderName) -> usize {
        let found: Vec<usize> = self.headers_of(name).map(|h| h.index).collect();
        self.edits
            .extend(found.iter().map(|&i| Edit::RemoveHeader(i)));
        found.len()
    }

    /// Removes every field with this name (case-insensitive); returns how many.
    pub fn remove_headers_named(&mut self, name: &str) -> usize {
        let found: Vec<usize> = self.headers_named(name).map(|h| h.index).collect();
        self.edits
            .extend(found.iter().map(|&i| Edit::RemoveHeader(i)));
        found.len()
    }

    /// Replaces the value of the header field at `index`.
    pub fn replace_header_value(&mut self, index: usize, value: &str) -> Result<(), EditError> {
        self.edit(Edit::ReplaceValue {
            index,
            value: value.to_owned(),
        })
    }

    /// Sets a new Request-URI (requests only).
    pub fn set_request_uri(&mut self, uri: &str) -> Result<(), EditError> {
        self.edit(Edit::SetRequestUri(uri.to_owned()))
    }

    /// Sets a new body and Content-Length.
    pub fn set_body(&mut self, body: impl Into<Bytes>) {
        self.edits.retain(|e| !matches!(e, Edit::SetBody(_)));
        self.edits.push(Edit::SetBody(body.into()));
    }

    /// Adds `Content-Length` if the message has none (a datagram forwarded
    /// over a stream transport needs one). Returns true if one was added.
    pub fn ensure_content_length(&mut self) -> bool {
        if self.header_count(HeaderName::ContentLength) > 0
            || self.edits.iter().any(|e| matches!(e, Edit::SetBody(_)))
        {
            return false;
        }
        // Re-setting the body to itself adds Content-Length, and a later
        // `set_body` replaces this edit.
        let body = self.body_bytes();
        self.edits.push(Edit::SetBody(body));
        true
    }

    /// The recorded edits, in order.
    pub fn edits(&self) -> &[Edit] {
        &self.edits
    }

    /// Drops every recorded edit.
    pub fn clear_edits(&mut self) {
        self.edits.clear();
    }

    /// True if edits are recorded.
    pub fn is_modified(&self) -> bool {
        !self.edits.is_empty()
    }

    /// The message with its edits applied.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buf.len() + 128);
        self.write_to(&mut out);
        out
    }

    /// Appends the message with its edits applied to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        if self.edits.is_empty() {
            out.extend_from_slice(&self.buf);
            return;
        }
        self.write_range(0, self.buf.len(), out);
    }

    /// Writes the original bytes `from..to` with the edits that fall
    /// strictly inside that range applied (used to copy a header field with
    /// in-value changes, e.g. a Via with `received`, into a reply).
    pub(crate) fn write_range(&self, from: usize, to: usize, out: &mut Vec<u8>) {
        let whole = from == 0 && to == self.buf.len();
        let mut lumps = self.lumps();
        if !whole {
            lumps.retain(|l| l.start > from && l.end < to);
        }
        lumps.sort_by_key(|l| (l.start, l.order));
        let mut cursor = from;
        let mut removed_to = None;
        for l in &lumps {
            // Inside a replaced range, or a change inside a line that was
            // removed (at its very end when it had no line end): dropped.
            if l.start < cursor || (l.order == 0 && removed_to == Some(l.start)) {
                continue;
            }
            removed_to = (l.order == 2).then_some(l.end);
            out.extend_from_slice(self.buf.get(cursor..l.start).unwrap_or_default());
            if l.line && !out.is_empty() && !out.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(&l.text);
            cursor = l.end.max(l.start);
        }
        out.extend_from_slice(self.buf.get(cursor..to).unwrap_or_default());
    }

    fn pos_offset(&self, pos: HeaderPos) -> usize {
        let line = |i: usize| self.headers.get(i).map(|e| e.line);
        match pos {
            HeaderPos::First => self.headers_start as usize,
            HeaderPos::Last => self.headers_end as usize,
            HeaderPos::Before(i) => line(i).map_or(self.headers_end as usize, |l| l.start as usize),
            HeaderPos::After(i) => line(i).map_or(self.headers_end as usize, |l| l.end as usize),
        }
    }

    /// A new header line.
    fn header_line(name: &str, value: &str) -> Vec<u8> {
        let mut t = Vec::with_capacity(name.len() + value.len() + 6);
        t.extend_from_slice(name.as_bytes());
        t.extend_from_slice(b": ");
        t.extend_from_slice(value.as_bytes());
        t.extend_from_slice(b"\r\n");
        t
    }

    /// True for a splice inside the body (an insertion at the very body
    /// start counts as body when the message has a body section).
    fn in_body(&self, start: usize, end: usize) -> bool {
        let body = self.body.range();
        self.has_empty_line && body.start <= start && end <= body.end
    }

    /// The body with the splices recorded inside it applied (in offset
    /// order, overlapping ones dropped), or `None` if there are none.
    fn spliced_body(&self) -> Option<Bytes> {
        let base = self.body.start as usize;
        let mut cuts: Vec<(usize, usize, &str)> = self
            .edits
            .iter()
            .filter_map(|e| match e {
                Edit::Splice { start, end, text } if self.in_body(*start, *end) => {
                    Some((*start - base, *end - base, text.as_str()))
                }
                _ => None,
            })
            .collect();
        if cuts.is_empty() {
            return None;
        }
        cuts.sort_by_key(|c| c.0);
        let body = self.body();
        let mut out = Vec::with_capacity(body.len() + 64);
        let mut cursor = 0;
        for (start, end, text) in cuts {
            if start < cursor {
                continue;
            }
            out.extend_from_slice(body.get(cursor..start).unwrap_or_default());
            out.extend_from_slice(text.as_bytes());
            cursor = end;
        }
        out.extend_from_slice(body.get(cursor..).unwrap_or_default());
        Some(Bytes::from(out))
    }

    fn lumps(&self) -> Vec<Lump<'_>> {
        let mut lumps = Vec::with_capacity(self.edits.len() + 2);
        // The body first, so that its Content-Length wins over a
        // ReplaceValue of the same field. Splices inside the body become a
        // new body, so Content-Length is rewritten for them too.
        let spliced;
        let new_body = match self.edits.iter().rev().find_map(|e| match e {
            Edit::SetBody(b) => Some(b),
            _ => None,
        }) {
            Some(b) => Some(b),
            None => {
                spliced = self.spliced_body();
                spliced.as_ref()
            }
        };
        if let Some(body) = new_body {
            let len = body.len().to_string();
            let mut cls = self.headers_of(HeaderName::ContentLength).map(|h| h.index);
            match cls.next().and_then(|i| self.headers.get(i)) {
                Some(e) => lumps.push(Lump::inline(
                    e.value.start as usize,
                    e.value.end as usize,
                    Cow::Owned(len.into_bytes()),
                )),
                None => lumps.push(Lump::header(
                    self.headers_end as usize,
                    Self::header_line("Content-Length", &len),
                )),
            }
            for e in cls.filter_map(|i| self.headers.get(i)) {
                lumps.push(Lump::remove(e.line.start as usize, e.line.end as usize));
            }
            let mut text = Vec::with_capacity(body.len() + 2);
            if !self.has_empty_line {
                text.extend_from_slice(b"\r\n");
            }
            text.extend_from_slice(body);
            lumps.push(Lump {
                start: self.body.start as usize,
                end: self.body.end as usize,
                text: Cow::Owned(text),
                line: !self.has_empty_line,
                order: 3,
            });
        }
        for e in &self.edits {
            match e {
                Edit::AddHeader { pos, name, value } => {
                    lumps.push(Lump::header(
                        self.pos_offset(*pos),
                        Self::header_line(name, value),
                    ));
                }
                Edit::RemoveHeader(i) => {
                    if let Some(h) = self.headers.get(*i) {
                        lumps.push(Lump::remove(h.line.start as usize, h.line.end as usize));
                    }
                }
                Edit::ReplaceValue { index, value } => {
                    if let Some(h) = self.headers.get(*index) {
                        lumps.push(Lump::inline(
                            h.value.start as usize,
                            h.value.end as usize,
                            Cow::Borrowed(value.as_bytes()),
                        ));
                    }
                }
                Edit::SetRequestUri(uri) => {
                    if let StartLine::Request { uri: span, .. } = &self.start {
                        lumps.push(Lump::inline(
                            span.start as usize,
                            span.end as usize,
                            Cow::Borrowed(uri.as_bytes()),
                        ));
                    }
                }
                Edit::SetBody(_) => {}
                Edit::Splice { start, end, text } => {
                    if !self.in_body(*start, *end) {
                        lumps.push(Lump::inline(*start, *end, Cow::Borrowed(text.as_bytes())))
                    }
                }
            }
        }
        lumps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"MESSAGE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
Content-Length: 11\r\n\
\r\n\
hello world";

    fn splice(m: &mut Message, start: usize, end: usize, text: &str) -> Result<(), EditError> {
        m.edit(Edit::Splice {
            start,
            end,
            text: text.to_owned(),
        })
    }

    #[test]
    fn splices_anywhere_and_body_length_follows() {
        let mut m = Message::parse(MSG).unwrap();
        let s = std::str::from_utf8(MSG).unwrap();
        let uri = s.find("bob").unwrap();
        let body = s.find("hello").unwrap();
        splice(&mut m, uri, uri + 3, "carol").unwrap();
        splice(&mut m, body + 6, body + 11, "there, friend").unwrap();
        splice(&mut m, body, body, ">").unwrap();
        assert_eq!(
            m.serialize(),
            b"MESSAGE sip:carol@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
Content-Length: 20\r\n\
\r\n\
>hello there, friend"
                .to_vec()
        );
    }

    #[test]
    fn splice_across_body_start_is_refused_and_set_body_wins() {
        let mut m = Message::parse(MSG).unwrap();
        let body = MSG.len() - 11;
        assert!(splice(&mut m, body - 2, body + 1, "x").is_err());
        assert!(splice(&mut m, body + 3, body + 2, "x").is_err());
        assert!(splice(&mut m, body, MSG.len() + 1, "x").is_err());
        splice(&mut m, body, body + 5, "bye").unwrap();
        m.set_body(&b"new"[..]);
        assert!(m.serialize().ends_with(b"Content-Length: 3\r\n\r\nnew"));
    }
}
