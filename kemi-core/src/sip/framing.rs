//! Message framing on stream transports (TCP, TLS, WebSocket-less streams):
//! where the first message of a receive buffer ends (RFC 3261 18.3), and the
//! CRLF keep-alives of RFC 5626 3.5.1.

use memchr::memchr;

use super::error::ParseError;
use super::fields::parse_content_length;
use super::header::HeaderName;
use super::scan::token_end;
use super::MAX_MESSAGE_SIZE;

/// A keep-alive frame (RFC 5626 3.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAlive {
    /// `CRLF CRLF`: answer with a single CRLF.
    Ping,
    /// A single `CRLF` (a pong, or a stray line end): nothing to answer.
    Pong,
}

/// Tells whether a frame returned by [`frame_len`] is a keep-alive.
pub fn keepalive(frame: &[u8]) -> Option<KeepAlive> {
    match frame {
        b"\r\n\r\n" => Some(KeepAlive::Ping),
        b"\r\n" | b"\n" => Some(KeepAlive::Pong),
        _ => None,
    }
}

/// Length of the first complete frame in a stream buffer, `None` while it
/// is incomplete.
///
/// A frame is either a keep-alive (the buffer starts with `CRLF CRLF`, or a
/// single `CRLF`; see [`keepalive`]) or a message: header section up to and
/// including the empty line, plus Content-Length bytes of body. On a stream
/// Content-Length is mandatory (RFC 3261 18.3) and several disagreeing
/// values are refused, as is anything over [`MAX_MESSAGE_SIZE`]. Bad
/// framing is fatal for the connection: the caller should close it.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, ParseError> {
    match buf {
        [] | [b'\r'] | [b'\r', b'\n', b'\r'] => return Ok(None),
        [b'\r', b'\n', b'\r', b'\n', ..] => return Ok(Some(4)),
        [b'\r', b'\n', ..] => return Ok(Some(2)),
        [b'\n', ..] => return Ok(Some(1)),
        [b'\r', _, ..] => {
            return Err(ParseError::BadRequestLine("CR not followed by LF"));
        }
        _ => {}
    }
    let mut pos = 0;
    let mut content_length: Option<usize> = None;
    let mut first_line = true;
    loop {
        if pos > MAX_MESSAGE_SIZE {
            return Err(ParseError::TooLarge {
                len: pos,
                max: MAX_MESSAGE_SIZE,
            });
        }
        let Some(off) = buf.get(pos..).and_then(|r| memchr(b'\n', r)) else {
            if buf.len() > MAX_MESSAGE_SIZE {
                return Err(ParseError::TooLarge {
                    len: buf.len(),
                    max: MAX_MESSAGE_SIZE,
                });
            }
            return Ok(None);
        };
        let nl = pos + off;
        let line = buf.get(pos..nl).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() && !first_line {
            let head = nl + 1;
            let cl = content_length.ok_or(ParseError::MissingContentLength)?;
            let total = head.saturating_add(cl);
            if total > MAX_MESSAGE_SIZE {
                return Err(ParseError::TooLarge {
                    len: total,
                    max: MAX_MESSAGE_SIZE,
                });
            }
            return Ok((buf.len() >= total).then_some(total));
        }
        if !first_line && !matches!(line.first(), Some(b' ' | b'\t')) {
            let name_end = token_end(line, 0);
            if HeaderName::classify(line.get(..name_end).unwrap_or_default())
                == HeaderName::ContentLength
            {
                let value = content_length_value(buf, pos + name_end)?;
                let v = parse_content_length(value)?;
                match content_length {
                    Some(old) if old != v => {
                        return Err(ParseError::ConflictingContentLength(old, v))
                    }
                    _ => content_length = Some(v),
                }
            }
        }
        first_line = false;
        pos = nl + 1;
    }
}

/// Frames a stream as its bytes arrive, remembering how far it got: the
/// start of the header line being looked at, where the search for its end
/// resumes, the Content-Length once read and the frame's length once the
/// header section is complete. Each byte is looked at a bounded number of
/// times however the peer splits its writes, where calling [`frame_len`]
/// after every read would rescan the whole pending header each time.
///
/// Frames and errors are those of [`frame_len`] on the same bytes, with
/// two differences: a Content-Length folded over several lines is read
/// once the whole field arrived (not from the first part of it), and
/// `accept_no_cl` (Kamailio's `tcp_accept_no_cl`) frames a message
/// without Content-Length as having no body instead of refusing it.
#[derive(Clone, Debug, Default)]
pub struct StreamFramer {
    accept_no_cl: bool,
    /// Start of the header line being looked at.
    line: usize,
    /// Where the search for that line's end goes on.
    scan: usize,
    content_length: Option<usize>,
    /// Just past the name of a Content-Length field whose value is read
    /// once the field is known to be complete (no more folded lines).
    pending_cl: Option<usize>,
    /// The frame's length, once the header section's end was seen.
    total: Option<usize>,
}

impl StreamFramer {
    /// A framer for a new stream; `accept_no_cl` as described above.
    pub fn new(accept_no_cl: bool) -> Self {
        StreamFramer {
            accept_no_cl,
            ..StreamFramer::default()
        }
    }

    /// The length of the first frame in `buf`, `None` while more bytes are
    /// needed. `buf` must start where the previous frame ended and, until
    /// a frame (or an error) is returned, hold the bytes of the previous
    /// call plus those read since. After a frame or an error the framer
    /// starts over for the next one.
    pub fn next_frame(&mut self, buf: &[u8]) -> Result<Option<usize>, ParseError> {
        let found = self.advance(buf);
        if !matches!(found, Ok(None)) {
            *self = StreamFramer::new(self.accept_no_cl);
        }
        found
    }

    fn advance(&mut self, buf: &[u8]) -> Result<Option<usize>, ParseError> {
        if let Some(total) = self.total {
            return Ok((buf.len() >= total).then_some(total));
        }
        if self.line == 0 {
            // Keep-alives, as frame_len: decided by the first few bytes.
            match buf {
                [] | [b'\r'] | [b'\r', b'\n', b'\r'] => return Ok(None),
                [b'\r', b'\n', b'\r', b'\n', ..] => return Ok(Some(4)),
                [b'\r', b'\n', ..] => return Ok(Some(2)),
                [b'\n', ..] => return Ok(Some(1)),
                [b'\r', _, ..] => {
                    return Err(ParseError::BadRequestLine("CR not followed by LF"));
                }
                _ => {}
            }
        }
        loop {
            if self.line > MAX_MESSAGE_SIZE {
                return Err(ParseError::TooLarge {
                    len: self.line,
                    max: MAX_MESSAGE_SIZE,
                });
            }
            let scan = self.scan.max(self.line);
            let Some(off) = buf.get(scan..).and_then(|r| memchr(b'\n', r)) else {
                self.scan = buf.len();
                if buf.len() > MAX_MESSAGE_SIZE {
                    return Err(ParseError::TooLarge {
                        len: buf.len(),
                        max: MAX_MESSAGE_SIZE,
                    });
                }
                return Ok(None);
            };
            let nl = scan + off;
            let first_line = self.line == 0;
            let line = buf.get(self.line..nl).unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let folded = !first_line && matches!(line.first(), Some(b' ' | b'\t'));
            if !folded {
                // A new field (or the end) starts: a Content-Length before
                // it is complete.
                if let Some(name_end) = self.pending_cl.take() {
                    self.read_content_length(buf, name_end)?;
                }
            }
            if line.is_empty() && !first_line {
                let head = nl + 1;
                let cl = match self.content_length {
                    Some(cl) => cl,
                    None if self.accept_no_cl => 0,
                    None => return Err(ParseError::MissingContentLength),
                };
                let total = head.saturating_add(cl);
                if total > MAX_MESSAGE_SIZE {
                    return Err(ParseError::TooLarge {
                        len: total,
                        max: MAX_MESSAGE_SIZE,
                    });
                }
                self.total = Some(total);
                return Ok((buf.len() >= total).then_some(total));
            }
            if !first_line && !folded {
                let name_end = token_end(line, 0);
                if HeaderName::classify(line.get(..name_end).unwrap_or_default())
                    == HeaderName::ContentLength
                {
                    self.pending_cl = Some(self.line + name_end);
                }
            }
            self.line = nl + 1;
            self.scan = self.line;
        }
    }

    fn read_content_length(&mut self, buf: &[u8], name_end: usize) -> Result<(), ParseError> {
        let v = parse_content_length(content_length_value(buf, name_end)?)?;
        match self.content_length {
            Some(old) if old != v => Err(ParseError::ConflictingContentLength(old, v)),
            _ => {
                self.content_length = Some(v);
                Ok(())
            }
        }
    }
}

/// The value of the Content-Length field whose name ends at `i`, folded
/// continuation lines included (the field is complete: the empty line was
/// not reached yet, but its first line end was).
fn content_length_value(buf: &[u8], i: usize) -> Result<&str, ParseError> {
    let mut j = i;
    while matches!(buf.get(j), Some(b' ' | b'\t')) {
        j += 1;
    }
    if buf.get(j) != Some(&b':') {
        return Err(ParseError::BadContentLength(String::new(), "missing ':'"));
    }
    let start = j + 1;
    let mut end = start;
    loop {
        match buf.get(end..).and_then(|r| memchr(b'\n', r)) {
            Some(off) if matches!(buf.get(end + off + 1), Some(b' ' | b'\t')) => end += off + 1,
            Some(off) => {
                end += off;
                break;
            }
            None => {
                end = buf.len();
                break;
            }
        }
    }
    std::str::from_utf8(buf.get(start..end).unwrap_or_default())
        .map_err(|_| ParseError::BadContentLength(String::new(), "not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] =
        b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nl: 5\r\n\r\nhello";

    #[test]
    fn frames() {
        assert_eq!(frame_len(MSG).unwrap(), Some(MSG.len()));
        for cut in 0..MSG.len() {
            assert_eq!(frame_len(&MSG[..cut]).unwrap(), None, "cut at {cut}");
        }
        let mut two = MSG.to_vec();
        two.extend_from_slice(MSG);
        assert_eq!(frame_len(&two).unwrap(), Some(MSG.len()));
    }

    #[test]
    fn keepalives() {
        assert_eq!(frame_len(b"\r\n\r\nINVITE").unwrap(), Some(4));
        assert_eq!(keepalive(b"\r\n\r\n"), Some(KeepAlive::Ping));
        assert_eq!(frame_len(b"\r\nINVITE").unwrap(), Some(2));
        assert_eq!(keepalive(b"\r\n"), Some(KeepAlive::Pong));
        assert_eq!(frame_len(b"\r").unwrap(), None);
        assert_eq!(frame_len(b"\r\n\r").unwrap(), None);
    }

    #[test]
    fn refusals() {
        let no_cl = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n";
        assert_eq!(frame_len(no_cl), Err(ParseError::MissingContentLength));
        let two = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab";
        assert_eq!(
            frame_len(two),
            Err(ParseError::ConflictingContentLength(1, 2))
        );
        let neg = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n";
        assert!(frame_len(neg).is_err());
        let big = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999999\r\n\r\n";
        assert!(matches!(frame_len(big), Err(ParseError::TooLarge { .. })));
        let folded = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length:\r\n 3\r\n\r\nabc";
        assert_eq!(frame_len(folded).unwrap(), Some(folded.len()));
        let endless = vec![b'a'; MAX_MESSAGE_SIZE + 10];
        assert!(frame_len(&endless).is_err());
    }
    /// Frames `stream` read `chunk` bytes at a time with `frame`, called on
    /// the pending bytes after every read, as a transport does: the frames
    /// found, and the error that ended the stream if any.
    fn frames_by(
        stream: &[u8],
        chunk: usize,
        mut frame: impl FnMut(&[u8]) -> Result<Option<usize>, ParseError>,
    ) -> (Vec<usize>, Option<ParseError>) {
        let mut frames = Vec::new();
        let mut start = 0;
        let mut end = 0;
        while end < stream.len() {
            end = (end + chunk).min(stream.len());
            loop {
                match frame(&stream[start..end]) {
                    Ok(Some(n)) => {
                        frames.push(n);
                        start += n;
                    }
                    Ok(None) => break,
                    Err(e) => return (frames, Some(e)),
                }
            }
        }
        (frames, None)
    }

    fn one_shot(stream: &[u8], chunk: usize) -> (Vec<usize>, Option<ParseError>) {
        frames_by(stream, chunk, frame_len)
    }

    fn incremental(
        stream: &[u8],
        chunk: usize,
        accept_no_cl: bool,
    ) -> (Vec<usize>, Option<ParseError>) {
        let mut framer = StreamFramer::new(accept_no_cl);
        frames_by(stream, chunk, |b| framer.next_frame(b))
    }

    fn streams() -> Vec<Vec<u8>> {
        let with_body =
            String::from_utf8_lossy(MSG).replace("l: 5", "Content-Length: 11") + " world";
        let big_header = format!(
            "OPTIONS sip:a@b SIP/2.0\r\nX-Big: {}\r\nContent-Length: 2\r\n\r\nok",
            "y".repeat(60_000)
        );
        let mut cases: Vec<Vec<u8>> = vec![
            MSG.to_vec(),
            [MSG, MSG, MSG].concat(),
            [MSG, b"\r\n\r\n", MSG, b"\r\n", MSG].concat(),
            with_body.into_bytes(),
            big_header.into_bytes(),
            // Bare LF line ends, the Content-Length last.
            b"OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/TCP h\nContent-Length: 3\n\nabc".to_vec(),
            // Errors: no Content-Length, conflicting, negative, too large,
            // a stray CR, a header section that never ends.
            b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n".to_vec(),
            b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab".to_vec(),
            b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n".to_vec(),
            b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999999\r\n\r\n".to_vec(),
            b"\rX".to_vec(),
            vec![b'a'; MAX_MESSAGE_SIZE + 10],
            [MSG, b"garbage\r\n\r\n".as_slice()].concat(),
        ];
        // A message cut short: frames what is whole, then waits.
        cases.push([MSG, &MSG[..20]].concat());
        cases
    }

    #[test]
    fn incremental_framing_matches_the_one_shot_result() {
        for stream in streams() {
            for chunk in [stream.len(), 1, 2, 3, 7, 64, 1000] {
                let what = format!(
                    "chunk {chunk} of {:?}",
                    String::from_utf8_lossy(&stream[..stream.len().min(80)])
                );
                if stream.len() <= 4096 {
                    assert_eq!(
                        incremental(&stream, chunk, false),
                        one_shot(&stream, chunk),
                        "{what}"
                    );
                    continue;
                }
                // Rescanning a big stream after every byte is the quadratic
                // cost the framer avoids (minutes in a debug build). These
                // have no keep-alives, so framing the whole buffer at once
                // gives the same frames; a size error then names the whole
                // length, not the length read when it was found.
                let size_blind = |(frames, e): (Vec<usize>, Option<ParseError>)| {
                    let e = e.map(|e| match e {
                        ParseError::TooLarge { max, .. } => ParseError::TooLarge { len: 0, max },
                        other => other,
                    });
                    (frames, e)
                };
                assert_eq!(
                    size_blind(incremental(&stream, chunk, false)),
                    size_blind(one_shot(&stream, stream.len())),
                    "{what}"
                );
            }
        }
    }

    #[test]
    fn a_folded_content_length_is_read_once_complete() {
        let folded = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length:\r\n 3\r\n\r\nabc";
        let whole = (vec![folded.len()], None);
        assert_eq!(one_shot(folded, folded.len()), whole);
        for chunk in [1, 2, 5] {
            assert_eq!(incremental(folded, chunk, false), whole, "chunk {chunk}");
        }
        // Rescanning a prefix reads the value before its folded part came.
        assert!(one_shot(folded, 1).1.is_some());
    }

    #[test]
    fn accept_no_cl_frames_a_message_without_content_length_as_bodiless() {
        let no_cl = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n";
        let two = [no_cl.as_slice(), MSG].concat();
        for chunk in [two.len(), 1, 4] {
            assert_eq!(
                incremental(&two, chunk, true),
                (vec![no_cl.len(), MSG.len()], None),
                "chunk {chunk}"
            );
            assert_eq!(
                incremental(&two, chunk, false),
                (vec![], Some(ParseError::MissingContentLength))
            );
        }
        // A Content-Length present is still honoured.
        assert_eq!(incremental(MSG, 1, true), (vec![MSG.len()], None));
    }
}
