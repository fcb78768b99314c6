//! UDP: `children` threads per listening socket, each blocking in
//! `recv_from` on a clone of the same socket. The kernel hands each datagram
//! to one waiting thread, which parses, routes and answers it from that
//! socket, so a message never changes threads.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use crate::router::{Network, Outbound, Proto, ReplyPath, Router};
use crate::stats::WorkerStats;
use crate::worker::{handle_message, Shutdown, Source};

/// Larger than any UDP payload (65,507 bytes over IPv4), so a datagram is
/// never cut short by our buffer.
pub const MAX_DATAGRAM: usize = 65_536;

/// The receive buffer asked for on UDP sockets.
pub const UDP_RCVBUF: usize = 4 << 20;

/// How long a blocked receive waits before checking for shutdown.
pub const RECV_TIMEOUT: Duration = Duration::from_millis(200);

/// What a worker does with one datagram.
pub fn on_datagram(
    router: &mut dyn Router,
    bytes: &[u8],
    src: SocketAddr,
    local: SocketAddr,
    socket: &UdpSocket,
    net: &Network,
    stats: &WorkerStats,
) {
    // Empty datagrams and bare CRLFs are NAT keepalives: nothing to answer.
    if bytes.iter().all(|b| matches!(b, b'\r' | b'\n' | b' ' | 0)) {
        return;
    }
    let out = Outbound::new(ReplyPath::Udp { socket, to: src }, net, stats);
    let from = Source {
        proto: Proto::Udp,
        src,
        local,
    };
    handle_message(router, bytes, from, &out);
}

/// The receive loop of one UDP worker thread; returns at shutdown. The
/// socket must have a read timeout so shutdown is noticed.
pub fn run_worker(
    socket: &UdpSocket,
    local: SocketAddr,
    router: &mut dyn Router,
    net: &Network,
    stats: &WorkerStats,
    shutdown: &Shutdown,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    while !shutdown.is_set() {
        match socket.recv_from(&mut buf) {
            Ok((n, src)) => {
                let bytes = buf.get(..n).unwrap_or(&[]);
                on_datagram(router, bytes, src, local, socket, net, stats);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => {
                // ICMP errors from earlier sends land here (ECONNREFUSED...):
                // the socket itself is fine, keep listening.
                tracing::debug!(%local, "UDP receive error: {e}");
                WorkerStats::inc(&stats.dropped);
            }
        }
    }
}

/// Binds a UDP socket for `addr` and sets what the workers need (IPv6-only
/// for IPv6 addresses, so `[::]` and `0.0.0.0` can both be listened on).
pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    // Bursts outrun a busy worker for a moment; a deeper queue (as
    // Kamailio grows its own) absorbs them instead of dropping datagrams.
    // The kernel caps it at net.core.rmem_max; a refusal is not fatal.
    let _ = socket.set_recv_buffer_size(UDP_RCVBUF);
    socket.bind(&addr.into())?;
    let socket: UdpSocket = socket.into();
    socket.set_read_timeout(Some(RECV_TIMEOUT))?;
    Ok(socket)
}
