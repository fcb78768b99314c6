//! TCP: listeners, an acceptor thread, and connections owned by poll-loop
//! workers.
//!
//! - The acceptor hands each new connection to a TCP worker (round robin);
//!   the worker reads, frames (Content-Length, RFC 3261 18.3), routes and
//!   answers on its own thread.
//! - A shared table keyed by peer address lets any thread reuse an open
//!   connection for replies and requests to that peer. Writes go through a
//!   per-connection lock, so messages from different threads never
//!   interleave on the wire.
//! - Idle connections are closed after `tcp_connection_lifetime`; a
//!   connection that buffers more than [`MAX_BUFFERED`] bytes without a
//!   whole message, or sends something unframeable, is closed (after a 400
//!   when the request can be answered).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown as NetShutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Registry, Token, Waker};

use crate::router::{Network, Outbound, Proto, ReplyPath, Router};
use kemi_core::net::SendOptions;
use kemi_core::sip::{self, KeepAlive, StreamFramer};

use crate::sipmsg;
use crate::stats::WorkerStats;
use crate::worker::{handle_message, reject, Shutdown, Source};

/// The most a connection may buffer without holding one whole message
/// (Kamailio's TCP read buffer is 64 KiB too).
pub const MAX_BUFFERED: usize = 65_536;

/// How long a writer waits for a full send buffer to drain before giving
/// up on the connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long opening a connection to a peer may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The shared half of a connection: what any thread needs to write to it.
pub struct TcpConn {
    pub id: u64,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    /// A clone of the worker's socket (same open file), used only for
    /// writing, under this lock.
    writer: Mutex<TcpStream>,
    closed: AtomicBool,
    /// Milliseconds since `epoch` of the last read or write.
    last_active: AtomicU64,
    epoch: Instant,
}

impl TcpConn {
    fn new(id: u64, stream: &TcpStream, epoch: Instant) -> io::Result<Self> {
        let conn = TcpConn {
            id,
            peer: stream.peer_addr()?,
            local: stream.local_addr()?,
            writer: Mutex::new(stream.try_clone()?),
            closed: AtomicBool::new(false),
            last_active: AtomicU64::new(0),
            epoch,
        };
        conn.touch();
        Ok(conn)
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_active.store(ms, Ordering::Relaxed);
    }

    pub fn idle_for(&self) -> Duration {
        let now = self.epoch.elapsed();
        now.saturating_sub(Duration::from_millis(
            self.last_active.load(Ordering::Relaxed),
        ))
    }

    /// Writes a whole message. The socket is non-blocking (the owning
    /// worker polls it), so a full send buffer is waited out here, under
    /// the lock, for at most `WRITE_TIMEOUT` (5 s); then the connection is
    /// given up.
    pub fn send(&self, mut bytes: &[u8]) -> io::Result<()> {
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if self.is_closed() {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "connection closed",
            ));
        }
        let deadline = Instant::now() + WRITE_TIMEOUT;
        while !bytes.is_empty() {
            match writer.write(bytes) {
                Ok(0) => return Err(self.fail(&writer, io::ErrorKind::WriteZero.into())),
                Ok(n) => bytes = bytes.get(n..).unwrap_or(&[]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() || !wait_writable(&writer, left) {
                        return Err(self.fail(&writer, io::ErrorKind::TimedOut.into()));
                    }
                }
                Err(e) => return Err(self.fail(&writer, e)),
            }
        }
        self.touch();
        Ok(())
    }

    /// Marks the connection closed and shuts the socket down; the owning
    /// worker drops it on its next sweep.
    fn fail(&self, writer: &TcpStream, e: io::Error) -> io::Error {
        self.closed.store(true, Ordering::Release);
        let _ = writer.shutdown(NetShutdown::Both);
        e
    }

    /// Ends the connection after what was written: the peer gets it all,
    /// then the end of the stream. Nobody sends on it any more; the owning
    /// worker closes the socket when the peer closes its side, or at its
    /// next sweep.
    fn close_after_send(&self) {
        let writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        self.closed.store(true, Ordering::Release);
        let _ = writer.shutdown(NetShutdown::Write);
    }

    /// Closes for both directions, from the owning worker.
    fn close(&self) {
        let writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        self.closed.store(true, Ordering::Release);
        // Shut down explicitly: the worker's handle and this clone share the
        // socket, which dropping one of them would not close.
        let _ = writer.shutdown(NetShutdown::Both);
    }
}

/// Waits until `stream` can be written to, at most `timeout`.
fn wait_writable(stream: &TcpStream, timeout: Duration) -> bool {
    let mut pfd = libc::pollfd {
        fd: stream.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd, owned by this frame, for the whole call.
    let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
    rc > 0 && pfd.revents & libc::POLLOUT != 0
}

/// A connection handed to a TCP worker to own and read from.
pub struct Handoff {
    pub stream: TcpStream,
    pub conn: Arc<TcpConn>,
    /// `tcp_accept_no_cl`: frame messages without Content-Length as
    /// bodiless instead of refusing them.
    pub accept_no_cl: bool,
}

/// A TCP worker's way in: the channel it takes connections from and the
/// waker that makes its poll loop look.
pub struct WorkerHandle {
    pub tx: Sender<Handoff>,
    pub waker: Arc<Waker>,
}

/// The most aliases one connection may have (Kamailio's limit too).
pub const MAX_ALIASES: usize = 4;

/// Open connections by peer address, and the other addresses
/// (`KSR.add_tcp_alias()`) some of them stand for.
#[derive(Default)]
struct Table {
    by_peer: HashMap<SocketAddr, Arc<TcpConn>>,
    by_alias: HashMap<SocketAddr, Arc<TcpConn>>,
}

/// Shared TCP state: the connection table and the workers that own
/// connections.
pub struct TcpNet {
    conns: Mutex<Table>,
    /// One lock per peer being connected to, so that threads sending to
    /// the same new peer at once open one connection, while a slow
    /// connect to one peer does not hold up others.
    connecting: Mutex<HashMap<SocketAddr, Arc<Mutex<()>>>>,
    workers: Vec<WorkerHandle>,
    /// `tcp_max_connections`: beyond this, new connections are refused.
    max_conns: usize,
    /// `tcp_accept_no_cl`, for every connection's framing.
    accept_no_cl: bool,
    next_worker: AtomicUsize,
    next_id: AtomicU64,
    epoch: Instant,
}

impl TcpNet {
    pub fn new(workers: Vec<WorkerHandle>, max_conns: usize, accept_no_cl: bool) -> Self {
        TcpNet {
            accept_no_cl,
            conns: Mutex::new(Table::default()),
            connecting: Mutex::new(HashMap::new()),
            workers,
            max_conns,
            next_worker: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            epoch: Instant::now(),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.conns.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The open connection to `peer`, if any: one whose peer it is, else
    /// one that has it as an alias.
    pub fn get(&self, peer: SocketAddr) -> Option<Arc<TcpConn>> {
        let table = self.table();
        let open = |c: &&Arc<TcpConn>| !c.is_closed();
        table
            .by_peer
            .get(&peer)
            .filter(open)
            .or_else(|| table.by_alias.get(&peer).filter(open))
            .cloned()
    }

    pub fn len(&self) -> usize {
        self.table().by_peer.len()
    }

    /// Lets the open connection from `peer` also carry what is sent to
    /// `alias`. Refused when there is no such connection or it already
    /// has [`MAX_ALIASES`] others.
    pub fn add_alias(&self, peer: SocketAddr, alias: SocketAddr) -> io::Result<()> {
        let mut table = self.table();
        let conn = table
            .by_peer
            .get(&peer)
            .filter(|c| !c.is_closed())
            .cloned()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotConnected,
                    format!("no open TCP connection from {peer}"),
                )
            })?;
        if alias == peer || table.by_alias.get(&alias).is_some_and(|c| c.id == conn.id) {
            return Ok(());
        }
        let count = table.by_alias.values().filter(|c| c.id == conn.id).count();
        if count >= MAX_ALIASES {
            return Err(io::Error::other(format!(
                "the TCP connection from {peer} has {MAX_ALIASES} aliases already"
            )));
        }
        table.by_alias.insert(alias, conn);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Enters a new connection (accepted or opened) in the table and gives
    /// it to a worker to read from.
    pub fn adopt(&self, stream: TcpStream) -> io::Result<Arc<TcpConn>> {
        if self.len() >= self.max_conns {
            return Err(io::Error::other(format!(
                "tcp_max_connections ({}) reached",
                self.max_conns
            )));
        }
        stream.set_nonblocking(true)?;
        // SIP messages are small and latency matters more than segment count.
        stream.set_nodelay(true)?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(TcpConn::new(id, &stream, self.epoch)?);
        if self.workers.is_empty() {
            return Err(io::Error::other("no TCP workers"));
        }
        let i = self.next_worker.fetch_add(1, Ordering::Relaxed) % self.workers.len();
        let worker = &self.workers[i];
        self.table().by_peer.insert(conn.peer, Arc::clone(&conn));
        let handoff = Handoff {
            stream,
            conn: Arc::clone(&conn),
            accept_no_cl: self.accept_no_cl,
        };
        if worker.tx.send(handoff).is_err() {
            self.forget(&conn);
            return Err(io::Error::other("TCP worker has stopped"));
        }
        worker.waker.wake()?;
        Ok(conn)
    }

    /// Removes `conn` (and its aliases) from the table unless a newer
    /// connection to the same peer replaced it.
    fn forget(&self, conn: &TcpConn) {
        let mut table = self.table();
        if table
            .by_peer
            .get(&conn.peer)
            .is_some_and(|c| c.id == conn.id)
        {
            table.by_peer.remove(&conn.peer);
        }
        table.by_alias.retain(|_, c| c.id != conn.id);
    }

    /// Sends over the open connection to `dst`, or opens one; as `opts`
    /// ask, only over an open one, and/or closing it afterwards.
    pub fn send(&self, dst: SocketAddr, bytes: &[u8], opts: SendOptions) -> io::Result<()> {
        let mut sent_on = None;
        if let Some(conn) = self.get(dst) {
            match conn.send(bytes) {
                Ok(()) => sent_on = Some(conn),
                // A dead connection: forget it and try a fresh one.
                Err(e) => {
                    tracing::debug!(peer = %dst, "TCP send failed, reconnecting: {e}");
                    self.forget(&conn);
                }
            }
        }
        let conn = match sent_on {
            Some(conn) => conn,
            None if opts.no_connect => {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    format!("no open TCP connection to {dst}, and connecting is not allowed"),
                ))
            }
            None => {
                let conn = self.connect(dst)?;
                conn.send(bytes)?;
                conn
            }
        };
        if opts.close {
            tracing::debug!(peer = %conn.peer, "closing the TCP connection after sending, as asked");
            conn.close_after_send();
            self.forget(&conn);
        }
        Ok(())
    }

    /// The connection to `dst`: the one another thread just opened, or a
    /// new one.
    fn connect(&self, dst: SocketAddr) -> io::Result<Arc<TcpConn>> {
        let gate = {
            let mut connecting = self
                .connecting
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            Arc::clone(connecting.entry(dst).or_default())
        };
        let result = {
            let _one_at_a_time = gate.lock().unwrap_or_else(PoisonError::into_inner);
            match self.get(dst) {
                Some(conn) => Ok(conn),
                None => {
                    TcpStream::connect_timeout(&dst, CONNECT_TIMEOUT).and_then(|s| self.adopt(s))
                }
            }
        };
        let mut connecting = self
            .connecting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // The last one through removes the gate.
        if connecting
            .get(&dst)
            .is_some_and(|g| Arc::strong_count(g) <= 2)
        {
            connecting.remove(&dst);
        }
        result
    }
}

/// A connection as its owning worker sees it: the polled socket, the
/// bytes read but not yet framed into a message, and how far framing got
/// in them.
pub struct Stream {
    socket: mio::net::TcpStream,
    pub conn: Arc<TcpConn>,
    buf: Vec<u8>,
    framer: StreamFramer,
    registered: bool,
}

impl Stream {
    /// Starts polling a handed-over connection.
    pub fn register(handoff: Handoff, registry: &Registry, token: Token) -> io::Result<Stream> {
        let mut socket = mio::net::TcpStream::from_std(handoff.stream);
        registry.register(&mut socket, token, Interest::READABLE)?;
        Ok(Stream {
            socket,
            conn: handoff.conn,
            buf: Vec::new(),
            framer: StreamFramer::new(handoff.accept_no_cl),
            registered: true,
        })
    }

    /// Reads all that is available and routes every whole message in it.
    /// Returns false when the connection must be closed.
    pub fn on_readable(
        &mut self,
        scratch: &mut [u8],
        router: &mut dyn Router,
        net: &Network,
        stats: &WorkerStats,
    ) -> bool {
        loop {
            match self.socket.read(scratch) {
                Ok(0) => {
                    // Peer closed; route what is complete, drop the rest.
                    if self.route_framed(router, net, stats) && is_truncated(&self.buf) {
                        WorkerStats::inc(&stats.dropped);
                        WorkerStats::inc(&stats.malformed);
                        tracing::debug!(
                            peer = %self.conn.peer,
                            len = self.buf.len(),
                            "TCP connection closed in the middle of a message, dropped"
                        );
                    }
                    return false;
                }
                Ok(n) => {
                    self.conn.touch();
                    self.buf.extend_from_slice(scratch.get(..n).unwrap_or(&[]));
                    // Frame as we go so pipelined messages never pile up
                    // past the limit just because they arrived together.
                    if !self.route_framed(router, net, stats) {
                        return false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return !self.conn.is_closed(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::debug!(peer = %self.conn.peer, "TCP read error: {e}");
                    return false;
                }
            }
        }
    }

    /// Routes each whole message at the front of the buffer. Returns false
    /// when the stream cannot go on (unframeable or oversized).
    fn route_framed(
        &mut self,
        router: &mut dyn Router,
        net: &Network,
        stats: &WorkerStats,
    ) -> bool {
        let mut start = 0;
        let keep = loop {
            let pending = self.buf.get(start..).unwrap_or(&[]);
            if pending.is_empty() {
                break true;
            }
            match sipmsg::next_frame(&mut self.framer, pending) {
                Ok(Some(len)) if len <= MAX_BUFFERED => {
                    let msg = pending.get(..len).unwrap_or(pending);
                    start += len.max(1);
                    match sip::keepalive(msg) {
                        // RFC 5626 3.5.1: a double-CRLF ping gets a CRLF pong.
                        Some(KeepAlive::Ping) => {
                            let _ = self.conn.send(b"\r\n");
                            continue;
                        }
                        Some(KeepAlive::Pong) => continue,
                        None => {}
                    }
                    let out = Outbound::new(ReplyPath::Tcp(&self.conn), net, stats);
                    let from = Source {
                        proto: Proto::Tcp,
                        src: self.conn.peer,
                        local: self.conn.local,
                    };
                    handle_message(router, msg, from, &out);
                }
                Ok(_) if pending.len() > MAX_BUFFERED => {
                    WorkerStats::inc(&stats.dropped);
                    WorkerStats::inc(&stats.malformed);
                    tracing::debug!(peer = %self.conn.peer, "no whole TCP message in {MAX_BUFFERED} bytes, closing");
                    break false;
                }
                Ok(_) => break true,
                Err(bad) => {
                    let out = Outbound::new(ReplyPath::Tcp(&self.conn), net, stats);
                    let from = Source {
                        proto: Proto::Tcp,
                        src: self.conn.peer,
                        local: self.conn.local,
                    };
                    reject(pending, &bad, from, &out);
                    break false;
                }
            }
        };
        self.buf.drain(..start.min(self.buf.len()));
        keep
    }

    /// Stops polling, shuts the socket down and leaves the table.
    pub fn close(&mut self, registry: &Registry, net: &Network) {
        if self.registered {
            let _ = registry.deregister(&mut self.socket);
            self.registered = false;
        }
        self.conn.close();
        if let Some(tcp) = &net.tcp {
            tcp.forget(&self.conn);
        }
    }
}

/// True when bytes left unframed at the end of a stream are part of a
/// message, not just line ends between messages.
fn is_truncated(rest: &[u8]) -> bool {
    rest.iter().any(|b| !matches!(b, b'\r' | b'\n'))
}

/// Binds a TCP listener with `SO_REUSEADDR` (restarts must not wait for
/// TIME_WAIT) and IPv6-only for IPv6 addresses.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    let listener: TcpListener = socket.into();
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// The acceptor thread: accepts on every TCP listener and hands each
/// connection to a worker. Accept errors (EMFILE...) are logged and retried;
/// the listeners never stop.
pub fn run_acceptor(
    listeners: Vec<TcpListener>,
    mut poll: Poll,
    tcp: &TcpNet,
    shutdown: &Shutdown,
) {
    let mut listeners: Vec<mio::net::TcpListener> = listeners
        .into_iter()
        .map(mio::net::TcpListener::from_std)
        .collect();
    for (i, l) in listeners.iter_mut().enumerate() {
        if let Err(e) = poll
            .registry()
            .register(l, Token(i + 1), Interest::READABLE)
        {
            tracing::error!("cannot poll TCP listener: {e}");
        }
    }
    let mut events = Events::with_capacity(64);
    // After an accept error, retry soon even without a new event: the
    // failed connection is still queued and edge-triggered polling would
    // not report it again.
    let mut retry = false;
    while !shutdown.is_set() {
        let timeout = if retry {
            Duration::from_millis(100)
        } else {
            Duration::from_millis(500)
        };
        if let Err(e) = poll.poll(&mut events, Some(timeout)) {
            if e.kind() != io::ErrorKind::Interrupted {
                tracing::error!("acceptor poll failed: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
            continue;
        }
        let all = retry;
        retry = false;
        for (i, listener) in listeners.iter().enumerate() {
            let ready = all || events.iter().any(|e| e.token() == Token(i + 1));
            if ready && !accept_all(listener, tcp) {
                retry = true;
            }
        }
    }
}

/// Accepts until the queue is empty; false after an error.
fn accept_all(listener: &mio::net::TcpListener, tcp: &TcpNet) -> bool {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                // Back to std: the owning worker registers it with its own poll.
                let stream = TcpStream::from(std::os::fd::OwnedFd::from(stream));
                tracing::debug!(%peer, "TCP connection accepted");
                if let Err(e) = tcp.adopt(stream) {
                    tracing::warn!(%peer, "dropping TCP connection: {e}");
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                tracing::warn!("TCP accept failed: {e}");
                return false;
            }
        }
    }
}
