//! Worker threads: what every worker does with a received message, the
//! shutdown signal they watch, and the poll-loop worker that owns TCP
//! connections (and, when routing must stay on one thread, UDP sockets too).

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};

use crate::router::{Incoming, Network, Outbound, Proto, Router};
use crate::sipmsg;
use crate::stats::WorkerStats;
use crate::transport::tcp::{Handoff, Stream};
use crate::transport::udp::MAX_DATAGRAM;

/// Asks every thread to stop: a flag that blocking loops check between
/// timeouts, plus the wakers of the poll loops so they notice at once.
#[derive(Default)]
pub struct Shutdown {
    flag: AtomicBool,
    wakers: Mutex<Vec<Arc<Waker>>>,
    cond: Condvar,
    // The condvar's mutex; the state itself is `flag`.
    gate: Mutex<()>,
}

impl Shutdown {
    pub fn new() -> Arc<Self> {
        Arc::new(Shutdown::default())
    }

    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    pub fn add_waker(&self, waker: Arc<Waker>) {
        self.wakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(waker);
    }

    pub fn trigger(&self) {
        self.flag.store(true, Ordering::Release);
        for w in self
            .wakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            // A failed wake only delays that loop until its next timeout.
            let _ = w.wake();
        }
        let _gate = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
        self.cond.notify_all();
    }

    /// Blocks until `trigger` is called.
    pub fn wait(&self) {
        let mut gate = self.gate.lock().unwrap_or_else(PoisonError::into_inner);
        while !self.is_set() {
            gate = self
                .cond
                .wait_timeout(gate, Duration::from_millis(500))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }
}

/// Where a message came from.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    pub proto: Proto,
    /// The sender's address (where replies go).
    pub src: SocketAddr,
    /// The local socket address it arrived on.
    pub local: SocketAddr,
}

/// One received message (a datagram or one framed stream message): parse,
/// apply the Via received/rport edit, route. Unparseable requests that can
/// still be answered get a 400; everything else unusable is dropped.
/// Every path is counted.
pub fn handle_message(router: &mut dyn Router, bytes: &[u8], from: Source, out: &Outbound<'_>) {
    let Source { proto, src, local } = from;
    let stats = out.stats();
    let mut msg = match sipmsg::parse(bytes) {
        Ok(msg) => msg,
        Err(bad) => {
            reject(bytes, &bad, from, out);
            return;
        }
    };
    if msg.is_request() {
        if let Err(bad) = sipmsg::set_via_received(&mut msg, src, false) {
            reject(bytes, &bad, from, out);
            return;
        }
    }
    WorkerStats::inc(&stats.received);
    let incoming = Incoming {
        msg,
        proto,
        src,
        local,
    };
    crate::server::guard("routing a message", || router.handle(incoming, out));
}

/// Counts a malformed message and answers it with 400 when it is a request
/// whose reply can be built.
pub fn reject(bytes: &[u8], bad: &sipmsg::BadMessage, from: Source, out: &Outbound<'_>) {
    let Source { proto, src, .. } = from;
    let stats = out.stats();
    WorkerStats::inc(&stats.malformed);
    WorkerStats::inc(&stats.dropped);
    tracing::debug!(%src, %proto, len = bytes.len(), "malformed message dropped: {}", bad.reason);
    if !bad.answerable {
        return;
    }
    if let Some(reply) = sipmsg::bad_request_reply(bytes) {
        if let Err(e) = out.reply(&reply) {
            tracing::debug!(%src, "sending 400 failed: {e}");
        }
    }
}

/// How often a poll loop wakes with nothing to do, to expire idle
/// connections and check for shutdown.
const TICK: Duration = Duration::from_millis(500);

const WAKER: Token = Token(0);
/// Tokens below this are UDP sockets (index + 1); connections are above.
const FIRST_CONN: usize = 1 << 20;

/// A UDP socket handed to a poll worker: the mio handle it is polled
/// through and a clone of the same socket that replies are sent from.
pub struct PolledUdp {
    pub socket: mio::net::UdpSocket,
    pub send: Arc<UdpSocket>,
    pub local: SocketAddr,
}

/// A worker built around one mio poll: it owns TCP connections handed to it
/// (accepted, or opened for sending) and, in single-thread routing, the UDP
/// sockets as well. Everything it receives is routed on this thread.
pub struct PollWorker {
    pub poll: Poll,
    pub handoff: Receiver<Handoff>,
    pub udp: Vec<PolledUdp>,
    pub idle_timeout: Duration,
    /// Call the router's timer at this interval (single-thread routing).
    pub timer: Option<Duration>,
}

impl PollWorker {
    /// Runs until shutdown. Errors on one socket or connection are logged
    /// and only ever close that connection.
    pub fn run(
        mut self,
        router: &mut dyn Router,
        net: &Network,
        stats: &WorkerStats,
        shutdown: &Shutdown,
    ) {
        let mut events = Events::with_capacity(256);
        let mut streams: HashMap<Token, Stream> = HashMap::new();
        let mut next_token = FIRST_CONN;
        let mut buf = vec![0u8; MAX_DATAGRAM];
        for (i, udp) in self.udp.iter_mut().enumerate() {
            if let Err(e) =
                self.poll
                    .registry()
                    .register(&mut udp.socket, Token(i + 1), Interest::READABLE)
            {
                tracing::error!(local = %udp.local, "cannot poll UDP socket: {e}");
            }
        }
        let mut last_sweep = Instant::now();
        let mut last_timer = Instant::now();
        let wait = self.timer.map_or(TICK, |t| t.min(TICK));
        while !shutdown.is_set() {
            if let Some(tick) = self.timer {
                if last_timer.elapsed() >= tick {
                    last_timer = Instant::now();
                    crate::server::guard("running timers", || router.timer());
                }
            }
            if let Err(e) = self.poll.poll(&mut events, Some(wait)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    tracing::error!("poll failed: {e}");
                    std::thread::sleep(Duration::from_millis(50));
                }
                continue;
            }
            for event in events.iter() {
                let token = event.token();
                if token == WAKER {
                    self.adopt_handoffs(&mut streams, &mut next_token);
                } else if token.0 < FIRST_CONN {
                    if let Some(udp) = self.udp.get(token.0 - 1) {
                        drain_udp(udp, &mut buf, router, net, stats);
                    }
                } else if let Some(stream) = streams.get_mut(&token) {
                    let keep = stream.on_readable(&mut buf, router, net, stats);
                    if !keep {
                        if let Some(mut s) = streams.remove(&token) {
                            s.close(self.poll.registry(), net);
                        }
                    }
                }
            }
            if last_sweep.elapsed() >= TICK {
                last_sweep = Instant::now();
                self.sweep(&mut streams, net);
            }
        }
        for (_, mut s) in streams.drain() {
            s.close(self.poll.registry(), net);
        }
    }

    /// Registers the connections other threads handed over.
    fn adopt_handoffs(&mut self, streams: &mut HashMap<Token, Stream>, next_token: &mut usize) {
        while let Ok(handoff) = self.handoff.try_recv() {
            let token = Token(*next_token);
            *next_token = next_token.wrapping_add(1).max(FIRST_CONN);
            match Stream::register(handoff, self.poll.registry(), token) {
                Ok(stream) => {
                    streams.insert(token, stream);
                }
                Err(e) => tracing::warn!("cannot poll new TCP connection: {e}"),
            }
        }
    }

    /// Closes connections idle for longer than the idle timeout, and those
    /// another thread marked closed (a failed write).
    fn sweep(&mut self, streams: &mut HashMap<Token, Stream>, net: &Network) {
        let expired: Vec<Token> = streams
            .iter()
            .filter(|(_, s)| s.conn.is_closed() || s.conn.idle_for() > self.idle_timeout)
            .map(|(t, _)| *t)
            .collect();
        for token in expired {
            if let Some(mut s) = streams.remove(&token) {
                tracing::debug!(peer = %s.conn.peer, "closing idle TCP connection");
                s.close(self.poll.registry(), net);
            }
        }
    }
}

/// Reads every datagram waiting on a polled (non-blocking) UDP socket.
fn drain_udp(
    udp: &PolledUdp,
    buf: &mut [u8],
    router: &mut dyn Router,
    net: &Network,
    stats: &WorkerStats,
) {
    // A pending ICMP error is reported once and cleared, so keep reading
    // after one; the bound only guards against a socket that keeps failing.
    let mut errors = 0;
    loop {
        match udp.socket.recv_from(buf) {
            Ok((n, src)) => {
                let bytes = &buf[..n];
                crate::transport::udp::on_datagram(
                    router, bytes, src, udp.local, &udp.send, net, stats,
                );
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // ICMP errors from earlier sends surface here; the socket is fine.
                tracing::debug!(local = %udp.local, "UDP receive error: {e}");
                errors += 1;
                if errors > 16 {
                    return;
                }
            }
        }
    }
}
