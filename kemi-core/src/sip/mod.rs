//! The SIP message: a lazy, zero-copy parser over the received bytes and a
//! list of edits applied when the message is serialised.
//!
//! - [`Message::parse`] indexes the first line and the header fields in one
//!   pass (names classified into [`HeaderName`], compact forms included) and
//!   frames the body by Content-Length. Nothing else is parsed then.
//! - Typed values ([`Message::vias`], [`Message::from`], [`Message::cseq`],
//!   [`Message::contacts`]...) are parsed from the index when asked, borrow
//!   from the message, and return errors instead of panicking.
//! - Edits ([`Message::add_header`], [`Message::set_request_uri`],
//!   [`Message::set_body`]...) are recorded; [`Message::serialize`] applies
//!   them and copies every untouched byte verbatim. Reads always see the
//!   message as received, as in Kamailio.
//! - [`frame_len`] frames messages on stream transports; [`build_reply`] and
//!   [`via_receive_params`] serve the stateless reply path.
//!
//! See `docs/sip-parser.md` for the design and why this is not rsip.

mod edit;
mod error;
mod fields;
mod framing;
mod header;
mod message;
mod method;
mod name_addr;
mod params;
mod reply;
pub mod scan;
mod uri;
mod via;

pub use edit::{Edit, HeaderPos};
pub use error::{EditError, ParseError};
pub use fields::{check_date, CSeq, MediaType, MAX_CSEQ};
pub use framing::{frame_len, keepalive, KeepAlive, StreamFramer};
pub use header::{Header, HeaderName};
pub use message::Message;
pub use method::Method;
pub use name_addr::{Contacts, NameAddr};
pub use params::{Param, Params};
pub use reply::{
    build_reply, looks_like_request, reply_to_unparsable, reply_to_unparsable_with,
    via_receive_params, Signature,
};
pub use uri::{percent_decode, Scheme, Uri};
pub use via::Via;

/// Largest message accepted, in bytes (datagram or stream frame).
pub const MAX_MESSAGE_SIZE: usize = 65535;

/// Most header fields accepted in one message.
pub const MAX_HEADERS: usize = 256;
