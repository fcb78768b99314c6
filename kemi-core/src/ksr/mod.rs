//! The functions the core exports to every script, with no module loaded:
//! `KSR.*` ([`core`]), `KSR.pv.*` ([`pv`]) and `KSR.hdr.*` ([`hdr`]); and
//! the list of the engine-provided `KSR.x` functions ([`x`]).

pub mod core;
pub mod hdr;
pub mod pv;
pub mod x;
