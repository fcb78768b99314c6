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
}
