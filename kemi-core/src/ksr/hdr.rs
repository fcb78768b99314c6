//! `KSR.hdr.*`: reading and editing header fields of the current message.
//! The functions arrive with the routing context's SIP message.

#[crate::kemi_module(name = "hdr")]
pub mod kemi {
    //! Header fields: test, read, add and remove headers of the message.
}

pub use kemi::SUBMODULE;
