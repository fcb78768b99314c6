//! The per-message routing context: what a script's KSR calls read and change
//! while one message is routed (flags, destination URI, send options, drop and
//! exit marks), plus a handle on the process-wide [`Runtime`].

use std::sync::Arc;

use crate::runtime::Runtime;

/// Branches a request may fork to (Kamailio's default `max_branches`).
pub const MAX_BRANCHES: usize = 12;

/// Which callback the script is running in. Some KSR calls behave
/// differently per route (`set_drop` has no effect in the request route).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RouteKind {
    #[default]
    Request,
    Reply,
    OnSend,
    Branch,
    OnReply,
    Failure,
    BranchFailure,
    Event,
}

/// Options for how the message (or its replies) is sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendOptions {
    /// Close the TCP connection after sending.
    pub close: bool,
    /// Only reuse an existing connection, never open one.
    pub no_connect: bool,
}

/// Per-message state. One is built for every message a worker routes.
#[derive(Debug)]
pub struct Context {
    runtime: Arc<Runtime>,
    pub route: RouteKind,
    /// Message flags (0..31), kept with the transaction.
    pub flags: u32,
    /// Script flags (0..31), reset for every callback.
    pub sflags: u32,
    /// Branch flags (0..31) per branch index.
    pub bflags: [u32; MAX_BRANCHES],
    /// `$du`: the destination URI that overrides the R-URI for forwarding.
    pub dst_uri: Option<String>,
    /// Reply to the source port and add `rport` (RFC 3581) to the top Via.
    pub force_rport: bool,
    /// Add `rport` to the Via this proxy inserts.
    pub add_local_rport: bool,
    pub forward_send: SendOptions,
    pub reply_send: SendOptions,
    /// Set by `KSR.set_drop()` outside the request route: do not send.
    pub drop: bool,
    /// Set by `KSR.x.exit()`/`drop()`: the callback stops here.
    pub exit: bool,
}

impl Context {
    pub fn new(runtime: Arc<Runtime>) -> Self {
        Context {
            runtime,
            route: RouteKind::Request,
            flags: 0,
            sflags: 0,
            bflags: [0; MAX_BRANCHES],
            dst_uri: None,
            force_rport: false,
            add_local_rport: false,
            forward_send: SendOptions::default(),
            reply_send: SendOptions::default(),
            drop: false,
            exit: false,
        }
    }

    /// The process-wide state this message is routed under.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }
}

/// A flag number checked against the 0..31 range flags live in.
pub(crate) fn flag_bit(flag: i32) -> Option<u32> {
    u32::try_from(flag)
        .ok()
        .filter(|f| *f < 32)
        .map(|f| 1u32 << f)
}
