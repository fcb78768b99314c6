//! Placeholder: the binary arrives with the SIP core.
fn main() {}
