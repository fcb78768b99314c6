//! The proxy's narrow view of `kemi_core::sip`: what transports need to
//! frame, parse and refuse messages, with every failure reduced to "can a
//! 400 be sent back, and why not".

use std::net::SocketAddr;
use std::sync::OnceLock;

use kemi_core::sip::{
    self, looks_like_request, reply_to_unparsable_with, Message, ParseError, Signature,
    StreamFramer,
};

/// Why a message could not be used, and whether the sender can be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadMessage {
    /// A request (not an ACK) whose Via, From, To, Call-ID and CSeq are
    /// present: a 400 can be built and sent back.
    pub answerable: bool,
    pub reason: String,
}

impl BadMessage {
    fn of(buf: &[u8], e: &ParseError) -> Self {
        BadMessage {
            answerable: looks_like_request(buf) && !is_ack(buf),
            reason: e.to_string(),
        }
    }
}

/// ACKs are never answered, not even with 400 (RFC 3261 17.2.1).
fn is_ack(buf: &[u8]) -> bool {
    let lead = buf
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    buf.get(lead..).is_some_and(|b| b.starts_with(b"ACK "))
}

/// For stream transports: the length of the first frame in `buf` (a
/// message, or a CRLF keepalive; see [`sip::keepalive`]), `None` while more
/// bytes are needed, found by the stream's `framer` (which remembers how
/// far it got). An error means the stream cannot be framed any more.
pub fn next_frame(framer: &mut StreamFramer, buf: &[u8]) -> Result<Option<usize>, BadMessage> {
    framer.next_frame(buf).map_err(|e| BadMessage::of(buf, &e))
}

/// Parses one whole message (a datagram, or one framed stream message).
/// Requests must carry what a reply needs, so the router can always answer.
pub fn parse(buf: &[u8]) -> Result<Message, BadMessage> {
    let msg = Message::parse(buf.to_vec()).map_err(|e| BadMessage::of(buf, &e))?;
    if msg.is_request() {
        // A lazy parse checks no header value; these five are what every
        // reply copies, so a request whose own are broken is refused here.
        let needed = msg
            .top_via()
            .and_then(|_| msg.from())
            .and_then(|_| msg.to())
            .and_then(|_| msg.call_id())
            .and_then(|_| msg.cseq());
        if let Err(e) = needed {
            return Err(BadMessage::of(buf, &e));
        }
    }
    Ok(msg)
}

/// Adds `received`/`rport` to the top Via of a received request (RFC 3261
/// 18.2.1, RFC 3581).
pub fn set_via_received(
    msg: &mut Message,
    src: SocketAddr,
    force_rport: bool,
) -> Result<(), BadMessage> {
    msg.add_via_receive_params(src.ip(), src.port(), force_rport)
        .map(|_| ())
        .map_err(|e| BadMessage::of(msg.as_bytes(), &e))
}

/// A 400 for a request that could not be parsed fully but whose header
/// block still has what a reply needs.
pub fn bad_request_reply(buf: &[u8]) -> Option<Vec<u8>> {
    reply_to_unparsable_with(buf, 400, "Bad Request", server_header())
}

/// The config's Server line (see [`set_server_header`]).
static SERVER_HEADER: OnceLock<String> = OnceLock::new();

/// Sets the Server line (with CRLF, or empty for `server_signature=no`)
/// of the replies the proxy builds without a script: the runtime's
/// [`Signature`]. Set once at start-up; later calls change nothing.
pub fn set_server_header(line: &str) {
    let _ = SERVER_HEADER.set(line.to_string());
}

/// The Server line; before [`set_server_header`], the default one.
pub fn server_header() -> &'static str {
    SERVER_HEADER.get_or_init(|| Signature::new(true, None, None).server)
}

/// A stateless reply to `request` with the proxy's Server header.
pub fn build_reply(request: &Message, code: u16, reason: &str, to_tag: &str) -> Option<Vec<u8>> {
    sip::build_reply(request, code, reason, Some(to_tag), server_header(), b"").ok()
}
