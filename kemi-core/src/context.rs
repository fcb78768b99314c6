//! The per-message routing context: what a script's KSR calls read and change
//! while one message is routed (flags, destination URI, send options, drop and
//! exit marks), plus the message itself, how it arrived, and a handle on
//! the process-wide [`Runtime`].

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use std::net::SocketAddr;

use crate::net::{Proto, RecvInfo};
use crate::runtime::Runtime;
use crate::sip::Message;

/// The message a context holds when there is no real one (script start-up,
/// tools): KSR calls then work on it instead of failing, as Kamailio's
/// Python engine does with its "faked" message.
const FAKED_MESSAGE: &[u8] = b"OPTIONS sip:you@kamailio.org SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1\r\n\
From: <sip:you@kamailio.org>;tag=notag\r\n\
To: <sip:you@kamailio.org>;tag=notag\r\n\
Call-ID: faked-message\r\n\
CSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n";

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

pub use crate::net::SendOptions;

/// A local socket picked by the script (`KSR.corex.set_send_socket`...):
/// the protocol and address it is bound to, and its `name` from the config
/// if it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketRef {
    pub proto: Proto,
    pub addr: SocketAddr,
    pub name: Option<String>,
}

impl SocketRef {
    /// Kamailio's socket string: `proto:ip:port`, IPv6 in brackets.
    pub fn to_socket_string(&self) -> String {
        format!("{}:{}", self.proto.name(), self.addr)
    }
}

/// One extra destination of the request (Kamailio's destination set),
/// added by `KSR.corex.append_branch*` and forked to by tm alongside the
/// R-URI.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Branch {
    /// The branch's Request-URI.
    pub uri: String,
    /// Where to send it instead of the URI's host (the branch's `$du`).
    pub dst_uri: Option<String>,
    /// Path vector (RFC 3327) to turn into Route headers.
    pub path: Option<String>,
    /// q-value in thousandths (0..=1000); `None` when unspecified.
    pub q: Option<u16>,
    /// Branch flags.
    pub flags: u32,
    /// The local socket to send the branch from.
    pub socket: Option<SocketRef>,
}

/// Per-message requests about the Via headers the proxy writes (corex's
/// `via_add_srvid`, `via_add_xavp_params`...), honoured by
/// [`crate::forward`] when it builds a request's Via (stateless forward,
/// tm branches) and by [`Context::reply_to`] for local replies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ViaOptions {
    /// Add the `srvid` parameter (the server id).
    pub add_srvid: bool,
    /// Add the fields of the xavp named by the `xavp_via_params` core
    /// parameter as Via parameters.
    pub add_xavp_params: bool,
    /// Take the Via's `address` and `port` from the xavp named by the
    /// `xavp_via_fields` core parameter.
    pub use_xavp_fields: bool,
    /// Add the fields of the xavp named by the `xavp_via_reply_params`
    /// core parameter to the top Via of local replies.
    pub reply_add_xavp_params: bool,
}

/// Per-message state. One is built for every message a worker routes.
#[derive(Debug)]
pub struct Context {
    runtime: Arc<Runtime>,
    /// The message being routed, as received; changes to it are recorded
    /// as edits and applied when it is sent.
    pub msg: Message,
    /// True for the stand-in message of [`Context::new`].
    pub faked: bool,
    /// How the message arrived.
    pub recv: RecvInfo,
    /// The new Request-URI (`$ru` after `KSR.seturi()`...); reads of the
    /// R-URI see it, the received first line is unchanged until sending.
    pub new_uri: Option<String>,
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
    /// How requests forwarded for this message are sent
    /// (`KSR.set_forward_close()`, `KSR.set_forward_no_connect()`).
    pub forward_send: SendOptions,
    /// How replies to this message are sent (`KSR.set_reply_close()`,
    /// `KSR.set_reply_no_connect()`).
    pub reply_send: SendOptions,
    /// Set by `KSR.set_drop()` outside the request route: do not send.
    pub drop: bool,
    /// Set by `KSR.x.exit()`/`drop()`: the callback stops here.
    pub exit: bool,
    /// `KSR.set_advertised_address()`: the host put in this proxy's Via
    /// (and Record-Route) for this message instead of the socket address.
    pub advertised_address: Option<String>,
    /// `KSR.set_advertised_port()`: the port advertised with it.
    pub advertised_port: Option<String>,
    /// `KSR.add_tcp_alias*()`: the port the sender's stream connection
    /// was made to stand for too (RFC 5923 style connection reuse); the
    /// transport has the alias itself.
    pub tcp_alias_port: Option<u16>,
    /// The reply a module chose when a check failed (code, reason), for
    /// functions that send it later (`KSR.sanity.sanity_reply()`).
    pub error_reply: Option<(u16, String)>,
    /// Per-message pseudo-variable stores: `$avp`, `$xavp`, `$xavu`,
    /// `$xavi`, `$ruid`.
    pub pv: crate::pv::PvState,
    /// Header lines (each ending in CRLF) that `KSR.hdr.append_to_reply`
    /// queued for the replies this proxy builds for the message.
    pub reply_headers: String,
    /// The body for the replies this proxy builds for the message
    /// (`KSR.textops.set_reply_body`); its Content-Type line is queued in
    /// [`Context::reply_headers`].
    pub reply_body: Option<Vec<u8>>,
    /// Destinations added besides the R-URI (`append_branch`), in order.
    pub branches: Vec<Branch>,
    /// Extended flags (0..63), `KSR.corex.setxflag`.
    pub xflags: u64,
    /// The local socket to send the message from (`$fs`), if forced.
    pub send_socket: Option<SocketRef>,
    pub via_options: ViaOptions,
    /// Header lines to send with `error_reply` (420's `Unsupported`).
    pub error_reply_headers: String,
    /// Replies sent to the message's sender through [`Context::reply`] /
    /// [`Context::reply_to`] (`KSR.sl.send_reply`...), for the caller's
    /// statistics.
    pub replies_sent: u64,
    /// Set by the caller before routing when sends must wait for the onsend
    /// route: [`crate::forward::forward`] then records the request in
    /// [`Context::outgoing`] instead of sending it. Off by default: without
    /// it, forwarding sends at once.
    pub defer_sends: bool,
    /// Requests forwarded while [`Context::defer_sends`] was set, in order,
    /// for the caller to pass through the onsend route and send.
    pub outgoing: Vec<Outgoing>,
    /// State modules keep for this one message (what `rr` queued or
    /// matched...), one value per type; see [`Extensions`].
    pub ext: Extensions,
    /// What the transaction layer tells routes it runs (`$T_*`).
    pub tm: TmView,
    /// The Record-Route rr added, for a second one (double Record-Route)
    /// when the request leaves on another transport or socket than it
    /// came in on; see [`DoubleRecordRoute`].
    pub double_rr: Option<DoubleRecordRoute>,
}

/// A Record-Route to double when the request leaves on another socket:
/// the sending path then marks the added one with `;r2=on` and puts a
/// second one, for the outgoing socket with the same parameters, above
/// it. Then each side of the proxy sees the address it can reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoubleRecordRoute {
    /// The Record-Route value as added (`<sip:addr;lr...>`).
    pub value: String,
    /// Its parameters after the address (`;lr;ftag=...`).
    pub params: String,
}

/// The transaction facts a route sees through `$T_*` pseudo-variables,
/// filled by tm when it runs a branch, onreply or failure route.
#[derive(Clone, Debug, Default)]
pub struct TmView {
    /// `$T_branch_idx`: the branch the route runs for (0 otherwise).
    pub branch_index: i32,
    /// `$T_reply_code`: the reply's status code (0 when none).
    pub reply_code: u16,
    /// `$T_reply_reason`.
    pub reply_reason: String,
    /// The transaction's request, for `$T_req(...)` outside the request
    /// route.
    pub request: Option<Message>,
    /// The winning (failure route) or current (onreply) reply, for
    /// `$T_rpl(...)`.
    pub reply: Option<Message>,
}

/// Replies to the message through its transaction, when it has one:
/// `Some(code)` with the KEMI result, `None` when there is no transaction
/// (the caller then replies statelessly). Installed by tm.
pub type TransactionReply = fn(&mut Context, u16, &str) -> Option<i32>;

/// The installed [`TransactionReply`]; unset while no transaction exists.
/// `KSR.sl.send_reply` and friends use it to answer statefully.
pub static TRANSACTION_REPLY: std::sync::OnceLock<TransactionReply> = std::sync::OnceLock::new();

/// Per-message values owned by modules, keyed by their type: a module
/// defines a private type and finds it again on later calls for the same
/// message. Dropped with the context.
#[derive(Default)]
pub struct Extensions(HashMap<TypeId, Box<dyn Any + Send + Sync>>);

impl Extensions {
    /// The value of type `T`, if one was stored for this message.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.0
            .get(&TypeId::of::<T>())
            .and_then(|b| b.downcast_ref::<T>())
    }

    /// Takes the value of type `T` out (`T::default()` when there is
    /// none); [`Extensions::put`] stores it back.
    pub fn take<T: Any + Send + Sync + Default>(&mut self) -> T {
        self.0
            .remove(&TypeId::of::<T>())
            .and_then(|b| b.downcast::<T>().ok())
            .map(|b| *b)
            .unwrap_or_default()
    }

    /// Stores the value of type `T`, replacing any earlier one.
    pub fn put<T: Any + Send + Sync>(&mut self, value: T) {
        self.0.insert(TypeId::of::<T>(), Box::new(value));
    }
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Extensions({} values)", self.0.len())
    }
}

/// A message built and ready to leave, recorded instead of sent while
/// sends are deferred (see [`Context::defer_sends`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub proto: Proto,
    /// The local socket to send from.
    pub from: Option<SocketAddr>,
    pub dst: SocketAddr,
    pub bytes: Vec<u8>,
    /// The URI it was forwarded to (explicit, `$du` or the R-URI).
    pub target: String,
    /// `$du` when it was forwarded.
    pub dst_uri: Option<String>,
    /// The new R-URI (`$ru` if rewritten) when it was forwarded.
    pub new_uri: Option<String>,
    /// The forward send options when it was forwarded.
    pub opts: SendOptions,
}

impl Outgoing {
    /// Sends it through the runtime's transport.
    pub fn send(&self, runtime: &Runtime) -> std::io::Result<()> {
        runtime
            .transport()
            .send_with(self.proto, self.from, self.dst, &self.bytes, self.opts)
    }
}

impl Context {
    /// A context for `msg`, received as `recv`.
    pub fn for_message(runtime: Arc<Runtime>, msg: Message, recv: RecvInfo) -> Self {
        Context {
            runtime,
            msg,
            faked: false,
            recv,
            new_uri: None,
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
            advertised_address: None,
            advertised_port: None,
            tcp_alias_port: None,
            error_reply: None,
            pv: crate::pv::PvState::default(),
            reply_headers: String::new(),
            reply_body: None,
            branches: Vec::new(),
            xflags: 0,
            send_socket: None,
            via_options: ViaOptions::default(),
            error_reply_headers: String::new(),
            replies_sent: 0,
            defer_sends: false,
            outgoing: Vec::new(),
            ext: Extensions::default(),
            tm: TmView::default(),
            double_rr: None,
        }
    }

    /// A copy of the routing state (message with its edits, URIs, flags,
    /// AVPs, send options) for later routes of the same request: tm keeps
    /// one with the transaction for its branch and failure routes. Module
    /// extensions, queued sends and counters start empty.
    pub fn fork(&self) -> Context {
        Context {
            runtime: Arc::clone(&self.runtime),
            msg: self.msg.clone(),
            faked: self.faked,
            recv: self.recv,
            new_uri: self.new_uri.clone(),
            route: self.route,
            flags: self.flags,
            sflags: 0,
            bflags: self.bflags,
            dst_uri: self.dst_uri.clone(),
            force_rport: self.force_rport,
            add_local_rport: self.add_local_rport,
            forward_send: self.forward_send,
            reply_send: self.reply_send,
            drop: false,
            exit: false,
            advertised_address: self.advertised_address.clone(),
            advertised_port: self.advertised_port.clone(),
            tcp_alias_port: self.tcp_alias_port,
            error_reply: self.error_reply.clone(),
            pv: self.pv.clone(),
            reply_headers: self.reply_headers.clone(),
            reply_body: self.reply_body.clone(),
            branches: self.branches.clone(),
            xflags: self.xflags,
            send_socket: self.send_socket.clone(),
            via_options: self.via_options,
            error_reply_headers: self.error_reply_headers.clone(),
            replies_sent: 0,
            defer_sends: self.defer_sends,
            outgoing: Vec::new(),
            ext: Extensions::default(),
            tm: self.tm.clone(),
            double_rr: self.double_rr.clone(),
        }
    }

    /// A context holding a stand-in OPTIONS request, for KSR calls made
    /// outside any message (script start-up, tools, tests).
    pub fn new(runtime: Arc<Runtime>) -> Self {
        let msg = match Message::parse(FAKED_MESSAGE) {
            Ok(msg) => msg,
            // The stand-in is a constant the parser's tests cover.
            Err(e) => unreachable!("the faked message does not parse: {e}"),
        };
        let mut ctx = Context::for_message(runtime, msg, RecvInfo::default());
        ctx.faked = true;
        ctx
    }

    /// The Request-URI as the script sees it: the new one if set, else the
    /// received one (empty for replies).
    pub fn ruri(&self) -> &str {
        match &self.new_uri {
            Some(uri) => uri,
            None => self.msg.request_uri().unwrap_or(""),
        }
    }

    /// Sends `bytes` back to the sender of the message, from the socket it
    /// arrived on, and counts it in [`Context::replies_sent`].
    pub fn reply(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let src = self.recv.src;
        self.reply_to(src, bytes)
    }

    /// Sends a reply to `dst` (the sender's address, or the Via port for
    /// UDP without rport) from the socket the message arrived on, with the
    /// reply send options, and counts it in [`Context::replies_sent`].
    pub fn reply_to(&mut self, dst: SocketAddr, bytes: &[u8]) -> std::io::Result<()> {
        // `KSR.corex.via_reply_add_xavp_params(1)`: the xavp's fields go
        // on the reply's top Via.
        let with_params = crate::forward::reply_via_params(self)
            .and_then(|params| crate::forward::with_top_via_params(bytes, &params));
        let bytes = with_params.as_deref().unwrap_or(bytes);
        self.runtime.transport().send_with(
            self.recv.proto,
            Some(self.recv.local),
            dst,
            bytes,
            self.reply_send,
        )?;
        self.replies_sent += 1;
        Ok(())
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
