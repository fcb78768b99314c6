//! Errors of the SIP parser and of message edits. Every message names the
//! problem, so that a log line (or the reason phrase of a 400) tells what was
//! wrong with the input.

use thiserror::Error;

/// Why a SIP message (or one of its header values) could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// No bytes, or only CRLF keep-alives.
    #[error("empty message")]
    Empty,
    /// The message is larger than [`MAX_MESSAGE_SIZE`](super::MAX_MESSAGE_SIZE).
    #[error("message of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    /// More header fields than [`MAX_HEADERS`](super::MAX_HEADERS).
    #[error("more than {max} header fields")]
    TooManyHeaders { max: usize },
    /// The first line of a request is malformed.
    #[error("bad request line: {0}")]
    BadRequestLine(&'static str),
    /// The first line of a response is malformed.
    #[error("bad status line: {0}")]
    BadStatusLine(&'static str),
    /// A SIP version other than SIP/2.0.
    #[error("unsupported SIP version {0:?}")]
    UnsupportedVersion(String),
    /// The first line and the header fields must be UTF-8 (RFC 3261 25.1).
    #[error("header section is not valid UTF-8 (at byte {offset})")]
    NotUtf8 { offset: usize },
    /// A header line that is not `name: value`.
    #[error("bad header line {line}: {reason}")]
    BadHeaderLine { line: usize, reason: &'static str },
    /// A header field whose value does not follow its grammar.
    #[error("bad {header} header: {reason}")]
    BadHeader {
        header: &'static str,
        reason: String,
    },
    /// A URI that does not follow RFC 3261 (or RFC 3966) syntax.
    #[error("bad URI {uri:?}: {reason}")]
    BadUri { uri: String, reason: &'static str },
    /// Content-Length is not a non-negative decimal number.
    #[error("bad Content-Length {0:?}: {1}")]
    BadContentLength(String, &'static str),
    /// Content-Length announces more bytes than the datagram holds.
    #[error("Content-Length {declared} larger than the {available} bytes of body")]
    ContentLengthTooLarge { declared: usize, available: usize },
    /// On a stream transport every message needs Content-Length (RFC 3261 18.3).
    #[error("missing Content-Length on a stream transport")]
    MissingContentLength,
    /// Several Content-Length values that disagree (stream framing is ambiguous).
    #[error("conflicting Content-Length values {0} and {1}")]
    ConflictingContentLength(usize, usize),
    /// A header every request or response needs is missing.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// The CSeq method differs from the request method (RFC 3261 8.1.1.5).
    #[error("CSeq method {cseq:?} does not match the request method {method:?}")]
    CSeqMethodMismatch { cseq: String, method: String },
    /// A response was given where a request is needed (e.g. to build a reply).
    #[error("not a request")]
    NotARequest,
    /// The header section is not terminated by an empty line (stream transports).
    #[error("header section not terminated by an empty line")]
    Unterminated,
}

impl ParseError {
    pub(crate) fn header(header: &'static str, reason: impl Into<String>) -> Self {
        ParseError::BadHeader {
            header,
            reason: reason.into(),
        }
    }

    pub(crate) fn uri(uri: &str, reason: &'static str) -> Self {
        // Keep error values small: a 64 KiB URI is not worth copying whole.
        let mut end = uri.len().min(120);
        while !uri.is_char_boundary(end) {
            end -= 1;
        }
        ParseError::BadUri {
            uri: uri.get(..end).unwrap_or_default().to_owned(),
            reason,
        }
    }
}

/// Why an edit could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EditError {
    #[error("no header at index {0}")]
    NoSuchHeader(usize),
    #[error("bad header name {0:?}: must be a non-empty token")]
    BadHeaderName(String),
    #[error("header value must not contain CR or LF")]
    BadHeaderValue,
    #[error("a response has no Request-URI")]
    NotARequest,
    #[error("bad Request-URI {0:?}: must be non-empty without whitespace")]
    BadRequestUri(String),
    #[error("offset {0} is outside the header section")]
    BadOffset(usize),
}
