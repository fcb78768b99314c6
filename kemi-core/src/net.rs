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
}

/// One message a [`Capture`] transport was asked to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub proto: Proto,
    pub from: Option<SocketAddr>,
    pub dst: SocketAddr,
    pub bytes: Vec<u8>,
}

/// A transport that records what it is asked to send instead of sending it:
/// for tests, and for contexts with no network (script start-up).
#[derive(Debug, Default)]
pub struct Capture {
    sent: Mutex<Vec<Sent>>,
}

impl Capture {
    /// Takes everything sent so far.
    pub fn take(&self) -> Vec<Sent> {
        std::mem::take(&mut *self.sent.lock().unwrap_or_else(|e| e.into_inner()))
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
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Sent {
                proto,
                from,
                dst,
                bytes: bytes.to_vec(),
            });
        Ok(())
    }
}
