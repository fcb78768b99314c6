//! The routing seam between transports and script engines.
//!
//! A [`Router`] decides what happens to one message. Engines implement it
//! (one script interpreter inside), and because no engine state is `Send`,
//! a router is created *on* the worker thread that will use it, by a
//! `Send + Sync` [`RouterFactory`]. A worker receives, routes and answers a
//! message on its own thread: no per-message hop between threads.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, OnceLock};

use kemi_core::net::{Proto as NetProto, SendOptions, Transport};
use kemi_core::sip::Message;

use crate::sipmsg;
use crate::stats::WorkerStats;
use crate::transport::tcp::{TcpConn, TcpNet};

/// A transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    Udp,
    Tcp,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Udp => "udp",
            Proto::Tcp => "tcp",
        }
    }
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which worker a router belongs to (for logs and per-worker state).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerId {
    /// Stable index across all workers of the process, 0-based.
    pub index: usize,
    /// e.g. `udp:127.0.0.1:5060#2`, `tcp#0`, `main`.
    pub name: String,
}

/// One received message, parsed, with the Via received/rport edit applied.
pub struct Incoming {
    pub msg: Message,
    pub proto: Proto,
    /// Where it came from (the address replies go to).
    pub src: SocketAddr,
    /// The local socket address it arrived on.
    pub local: SocketAddr,
}

/// How routers send: replies back the way the message came, requests
/// anywhere.
pub struct Outbound<'a> {
    reply_path: ReplyPath<'a>,
    net: &'a Network,
    stats: &'a WorkerStats,
}

/// The way back to the sender of the message being routed.
pub enum ReplyPath<'a> {
    /// The socket the datagram arrived on, and its source address.
    Udp {
        socket: &'a UdpSocket,
        to: SocketAddr,
    },
    /// The connection the message arrived on.
    Tcp(&'a Arc<TcpConn>),
}

impl<'a> Outbound<'a> {
    pub fn new(reply_path: ReplyPath<'a>, net: &'a Network, stats: &'a WorkerStats) -> Self {
        Outbound {
            reply_path,
            net,
            stats,
        }
    }

    /// Sends a reply to the sender of the message being routed, from the
    /// socket (or over the connection) it arrived on.
    pub fn reply(&self, bytes: &[u8]) -> io::Result<()> {
        match &self.reply_path {
            ReplyPath::Udp { socket, to } => socket.send_to(bytes, to).map(|_| ()),
            ReplyPath::Tcp(conn) => conn.send(bytes),
        }?;
        WorkerStats::inc(&self.stats.replied);
        Ok(())
    }

    /// Sends bytes to `dst` over `proto`: UDP from a listening socket of the
    /// same address family, TCP over an existing connection to `dst` when
    /// there is one, else a new one.
    pub fn send(&self, proto: Proto, dst: SocketAddr, bytes: &[u8]) -> io::Result<()> {
        self.net.send(proto, dst, bytes)
    }

    pub fn network(&self) -> &Network {
        self.net
    }

    /// The counters of the worker routing this message.
    pub fn stats(&self) -> &WorkerStats {
        self.stats
    }
}

/// The sockets every worker may send from, shared by all threads.
pub struct Network {
    /// Bound UDP sockets (local address, socket), in `listen` order.
    pub udp: Vec<(SocketAddr, Arc<UdpSocket>)>,
    /// The TCP connection table and the workers that own connections;
    /// `None` with `disable_tcp`.
    pub tcp: Option<Arc<TcpNet>>,
}

impl Network {
    pub fn send(&self, proto: Proto, dst: SocketAddr, bytes: &[u8]) -> io::Result<()> {
        self.send_with(proto, dst, bytes, SendOptions::default())
    }

    /// [`Network::send`] with connection options (ignored by UDP).
    pub fn send_with(
        &self,
        proto: Proto,
        dst: SocketAddr,
        bytes: &[u8],
        opts: SendOptions,
    ) -> io::Result<()> {
        match proto {
            Proto::Udp => {
                let socket = self
                    .udp
                    .iter()
                    .find(|(local, _)| local.is_ipv4() == dst.is_ipv4())
                    .map(|(_, s)| s)
                    .ok_or_else(|| no_socket(proto, dst))?;
                socket.send_to(bytes, dst).map(|_| ())
            }
            Proto::Tcp => {
                let tcp = self.tcp.as_ref().ok_or_else(|| no_socket(proto, dst))?;
                tcp.send(dst, bytes, opts)
            }
        }
    }
}

/// Modules send through [`kemi_core::net::Transport`]; this is the proxy's
/// side of that seam. `from` picks the listening socket a reply leaves
/// from (the one the request came in on), so NATs see the address they
/// sent to.
impl Transport for Network {
    fn send(
        &self,
        proto: NetProto,
        from: Option<SocketAddr>,
        dst: SocketAddr,
        bytes: &[u8],
    ) -> io::Result<()> {
        Transport::send_with(self, proto, from, dst, bytes, SendOptions::default())
    }

    fn send_with(
        &self,
        proto: NetProto,
        from: Option<SocketAddr>,
        dst: SocketAddr,
        bytes: &[u8],
        opts: SendOptions,
    ) -> io::Result<()> {
        match proto {
            NetProto::Udp => {
                let chosen = from.and_then(|f| {
                    self.udp
                        .iter()
                        .find(|(local, _)| *local == f)
                        .map(|(_, s)| s)
                });
                match chosen {
                    Some(socket) => socket.send_to(bytes, dst).map(|_| ()),
                    None => Network::send(self, Proto::Udp, dst, bytes),
                }
            }
            NetProto::Tcp => Network::send_with(self, Proto::Tcp, dst, bytes, opts),
            other => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("cannot send to {dst}: {other} is not supported"),
            )),
        }
    }

    fn add_alias(&self, proto: NetProto, peer: SocketAddr, alias: SocketAddr) -> io::Result<()> {
        match (proto, &self.tcp) {
            (NetProto::Tcp, Some(tcp)) => tcp.add_alias(peer, alias),
            _ => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("no {proto} connections to alias"),
            )),
        }
    }
}

/// The transport handed to the [`Runtime`](kemi_core::Runtime) before any
/// socket exists: the runtime is built first (scripts are checked before
/// binding), the [`Network`] once the sockets are bound, and the server
/// attaches it here before any worker starts.
#[derive(Default)]
pub struct ProxyTransport {
    net: OnceLock<Arc<Network>>,
}

impl ProxyTransport {
    /// Makes `net` the network sends go through. Only the first call counts.
    pub fn attach(&self, net: Arc<Network>) {
        let _ = self.net.set(net);
    }
}

impl ProxyTransport {
    fn network(&self) -> io::Result<&Arc<Network>> {
        self.net.get().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotConnected,
                "the proxy's sockets are not open yet",
            )
        })
    }
}

impl Transport for ProxyTransport {
    fn send(
        &self,
        proto: NetProto,
        from: Option<SocketAddr>,
        dst: SocketAddr,
        bytes: &[u8],
    ) -> io::Result<()> {
        Transport::send_with(self, proto, from, dst, bytes, SendOptions::default())
    }

    fn send_with(
        &self,
        proto: NetProto,
        from: Option<SocketAddr>,
        dst: SocketAddr,
        bytes: &[u8],
        opts: SendOptions,
    ) -> io::Result<()> {
        let net = self
            .network()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot send to {dst}: {e}")))?;
        Transport::send_with(&**net, proto, from, dst, bytes, opts)
    }

    fn add_alias(&self, proto: NetProto, peer: SocketAddr, alias: SocketAddr) -> io::Result<()> {
        Transport::add_alias(&**self.network()?, proto, peer, alias)
    }
}

impl Proto {
    /// The same protocol in `kemi_core`'s terms.
    pub fn to_net(self) -> NetProto {
        match self {
            Proto::Udp => NetProto::Udp,
            Proto::Tcp => NetProto::Tcp,
        }
    }
}

fn no_socket(proto: Proto, dst: SocketAddr) -> io::Error {
    io::Error::new(
        io::ErrorKind::AddrNotAvailable,
        format!("no {proto} socket to send to {dst}"),
    )
}

/// Routing logic for one worker thread. Not `Send`: it lives and dies on
/// the thread that created it.
pub trait Router {
    fn handle(&mut self, msg: Incoming, out: &Outbound<'_>);

    /// Called periodically (every [`RouterFactory::timer`]) on the router
    /// that runs timers: retransmissions and timeouts of transactions.
    fn timer(&mut self) {}
}

pub use kemi_core::engine::Threading;

/// Builds a worker's router on the worker's own thread.
pub type MakeRouter = dyn Fn(&WorkerId) -> Result<Box<dyn Router>, String> + Send + Sync;

/// How to make routers, and where they may run.
#[derive(Clone)]
pub struct RouterFactory {
    pub threading: Threading,
    pub make: Arc<MakeRouter>,
    /// When set, one router gets [`Router::timer`] calls at this interval
    /// (its own thread with per-worker routers, the routing thread
    /// otherwise).
    pub timer: Option<std::time::Duration>,
}

impl RouterFactory {
    /// The built-in router used while no script engine is configured.
    pub fn native() -> Self {
        RouterFactory {
            threading: Threading::PerWorker,
            make: Arc::new(|_| Ok(Box::new(NativeRouter) as Box<dyn Router>)),
            timer: None,
        }
    }
}

/// The router used when no script engine is configured: it makes the proxy
/// observable without routing anything.
///
/// - `OPTIONS` -> `200 OK` (keepalive probes and monitoring see a live node);
/// - `ACK` -> nothing (ACKs are never answered);
/// - any other request -> `501 Not Implemented` (no routing logic is
///   loaded, so the proxy cannot do what was asked);
/// - replies -> dropped (nothing was forwarded, so nothing awaits them).
pub struct NativeRouter;

/// The To tag of stateless replies: constant, like Kamailio's sl module uses
/// one per process, so retransmitted requests get identical replies.
pub const NATIVE_TO_TAG: &str = "kemi-proxy-sl";

impl Router for NativeRouter {
    fn handle(&mut self, incoming: Incoming, out: &Outbound<'_>) {
        let msg = &incoming.msg;
        if !msg.is_request() {
            return;
        }
        let (code, reason) = match msg.method_str() {
            "ACK" => return,
            "OPTIONS" => (200, "OK"),
            _ => (501, "Not Implemented"),
        };
        let Some(reply) = sipmsg::build_reply(msg, code, reason, NATIVE_TO_TAG) else {
            return;
        };
        if let Err(e) = out.reply(&reply) {
            tracing::debug!(src = %incoming.src, "sending reply failed: {e}");
        }
    }
}
