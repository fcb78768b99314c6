//! The functions the core exports to every script, with no module loaded:
//! `KSR.*` ([`core`]), `KSR.pv.*` ([`pv`]) and `KSR.hdr.*` ([`hdr`]).

pub mod core;
pub mod hdr;
pub mod pv;
