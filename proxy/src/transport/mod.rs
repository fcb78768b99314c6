//! Sockets: UDP receive loops and TCP connections, listeners and framing.

pub mod tcp;
pub mod udp;
