//! What the routing context knows about the network: the protocol and
//! addresses a message arrived with, and the [`Transport`] the proxy
//! provides for sending. Keeping it a trait lets modules send without
//! depending on the proxy, and lets tests capture what would be sent.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;

/// A SIP transport protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Proto {
    #[default]
    Udp,
    Tcp,
    Tls,
    Sctp,
    Ws,
    Wss,
}

impl Proto {
    /// Lower-case name, as in `listen=udp:...` and `$pr`.
    pub const fn name(self) -> &'static str {
        match self {
            Proto::Udp => "udp",
            Proto::Tcp => "tcp",
            Proto::Tls => "tls",
            Proto::Sctp => "sctp",
            Proto::Ws => "ws",
            Proto::Wss => "wss",
        }
    }

    /// Kamailio's numeric protocol id (`$proto` as a number, `KSR.kx.get_protoid`).
    pub const fn id(self) -> i32 {
        match self {
            Proto::Udp => 1,
            Proto::Tcp => 2,
            Proto::Tls => 3,
            Proto::Sctp => 4,
            Proto::Ws => 5,
            Proto::Wss => 6,
        }
    }

    /// Parses a `transport=` value or protocol name, case-insensitively.
    pub fn parse(name: &str) -> Option<Proto> {
        Some(match name.to_ascii_lowercase().as_str() {
            "udp" => Proto::Udp,
            "tcp" => Proto::Tcp,
            "tls" => Proto::Tls,
            "sctp" => Proto::Sctp,
            "ws" => Proto::Ws,
            "wss" => Proto::Wss,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How the message being routed arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvInfo {
    pub proto: Proto,
    /// The sender's address: `$si`, `$sp`; replies go there.
    pub src: SocketAddr,
    /// The local socket it arrived on: `$Ri`, `$Rp`.
    pub local: SocketAddr,
}

impl Default for RecvInfo {
    fn default() -> Self {
        let loopback = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5060);
        RecvInfo {
            proto: Proto::Udp,
            src: loopback,
            local: loopback,
        }
    }
}

/// How a message is sent over a connection (TCP and the other stream
/// transports): what the script asked with `KSR.set_forward_close()`,
/// `KSR.set_reply_no_connect()`... Datagram transports have nothing to
/// apply them to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendOptions {
    /// Close the connection once the message is sent.
    pub close: bool,
    /// Send only over a connection already open to the destination; fail
    /// rather than open one.
    pub no_connect: bool,
}

impl SendOptions {
    /// Both sets of options at once (a reply forwarded statelessly honours
    /// the forward and the reply options, as Kamailio does).
    pub fn union(self, other: SendOptions) -> SendOptions {
        SendOptions {
            close: self.close || other.close,
            no_connect: self.no_connect || other.no_connect,
        }
    }
}

/// Sends bytes on the proxy's sockets. The proxy provides one; every
/// worker shares it.
pub trait Transport: Send + Sync {
    /// Sends `bytes` to `dst` over `proto`, from the local socket `from`
    /// when given (replies leave from the socket the request came in on),
    /// else from a socket the transport picks.
    fn send(
        &self,
        proto: Proto,
        from: Option<SocketAddr>,
        dst: SocketAddr,
        bytes: &[u8],
    ) -> io::Result<()>;

    /// [`Transport::send`] with the script's [`SendOptions`]. A transport
    /// without connections has nothing to apply them to: by default they
    /// are ignored.
    fn send_with(
        &self,
        proto: Proto,
        from: Option<SocketAddr>,
        dst: SocketAddr,
        bytes: &[u8],
        opts: SendOptions,
    ) -> io::Result<()> {
        let _ = opts;
        self.send(proto, from, dst, bytes)
    }

    /// Lets the `proto` connection whose peer is `peer` also carry what is
    /// sent to `alias` (`KSR.add_tcp_alias()`; RFC 5923 connection reuse).
    /// An error when there is no such open connection, or the transport
    /// has no connections (the default).
    fn add_alias(&self, proto: Proto, peer: SocketAddr, alias: SocketAddr) -> io::Result<()> {
        let _ = (peer, alias);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("{proto} connections cannot have aliases here"),
        ))
    }
}

/// One message a [`Capture`] transport was asked to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub proto: Proto,
    pub from: Option<SocketAddr>,
    pub dst: SocketAddr,
    pub bytes: Vec<u8>,
    pub opts: SendOptions,
}

/// One alias a [`Capture`] transport was asked to add.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alias {
    pub proto: Proto,
    pub peer: SocketAddr,
    pub alias: SocketAddr,
}

/// A transport that records what it is asked to send instead of sending it:
/// for tests, and for contexts with no network (script start-up).
#[derive(Debug, Default)]
pub struct Capture {
    sent: Mutex<Vec<Sent>>,
    aliases: Mutex<Vec<Alias>>,
}

impl Capture {
    /// Takes everything sent so far.
    pub fn take(&self) -> Vec<Sent> {
        std::mem::take(&mut *self.sent.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Takes every alias added so far.
    pub fn take_aliases(&self) -> Vec<Alias> {
        std::mem::take(&mut *self.aliases.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Transport for Capture {
    fn send(
        &self,
        proto: Proto,
        from: Option<SocketAddr>,
        dst: SocketAddr,
        bytes: &[u8],
    ) -> io::Result<()> {
        self.send_with(proto, from, dst, bytes, SendOptions::default())
    }

    fn send_with(
        &self,
        proto: Proto,
        from: Option<SocketAddr>,
        dst: SocketAddr,
        bytes: &[u8],
        opts: SendOptions,
    ) -> io::Result<()> {
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Sent {
                proto,
                from,
                dst,
                bytes: bytes.to_vec(),
                opts,
            });
        Ok(())
    }

    fn add_alias(&self, proto: Proto, peer: SocketAddr, alias: SocketAddr) -> io::Result<()> {
        self.aliases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Alias { proto, peer, alias });
        Ok(())
    }
}
