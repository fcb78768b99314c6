//! The SIP message: a lazy, zero-copy parser over the received bytes and a
//! list of edits applied when the message is serialised.
