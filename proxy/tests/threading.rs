//! In-process: routers are created on the thread that then routes with
//! them, in both threading models; `CallerThread` (Ruby) routes everything
//! on the thread that called `Server::run`.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use common::*;
use kemi_proxy::router::{Incoming, Outbound, Proto, Router, RouterFactory, Threading};
use kemi_proxy::server::{Bound, Server};
use kemi_proxy::settings::{ListenAddr, Settings};
use kemi_proxy::stats::Stats;
use kemi_proxy::worker::Shutdown;

/// Answers 200 and notes whether it ever ran off its creating thread.
struct Probe {
    home: ThreadId,
    wrong_thread: Arc<AtomicBool>,
    handled: Arc<AtomicUsize>,
    threads: Arc<Mutex<Vec<ThreadId>>>,
}

impl Router for Probe {
    fn handle(&mut self, msg: Incoming, out: &Outbound<'_>) {
        let me = std::thread::current().id();
        if me != self.home {
            self.wrong_thread.store(true, Ordering::SeqCst);
        }
        self.threads.lock().unwrap().push(me);
        self.handled.fetch_add(1, Ordering::SeqCst);
        if let Some(reply) = kemi_proxy::sipmsg::build_reply(&msg.msg, 200, "OK", "probe") {
            let _ = out.reply(&reply);
        }
    }
}

struct Run {
    bound: Bound,
    shutdown: Arc<Shutdown>,
    server: std::thread::JoinHandle<(ThreadId, Result<(), String>)>,
    wrong_thread: Arc<AtomicBool>,
    created: Arc<AtomicUsize>,
    threads: Arc<Mutex<Vec<ThreadId>>>,
}

fn start(threading: Threading, children: usize) -> Run {
    let wrong_thread = Arc::new(AtomicBool::new(false));
    let created = Arc::new(AtomicUsize::new(0));
    let threads = Arc::new(Mutex::new(Vec::new()));
    let (w, c, t) = (wrong_thread.clone(), created.clone(), threads.clone());
    let factory = RouterFactory {
        timer: None,
        threading,
        make: Arc::new(move |_id| {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(Box::new(Probe {
                home: std::thread::current().id(),
                wrong_thread: w.clone(),
                handled: Arc::new(AtomicUsize::new(0)),
                threads: t.clone(),
            }) as Box<dyn Router>)
        }),
    };
    let settings = Settings {
        listen: vec![ListenAddr::parse("127.0.0.1").unwrap()],
        port: 0,
        children,
        tcp_children: children,
        ..Settings::default()
    };
    let shutdown = Shutdown::new();
    let (tx, rx) = mpsc::channel();
    let sd = shutdown.clone();
    let server = std::thread::spawn(move || {
        let server = Server {
            settings,
            factory,
            shutdown: sd,
            stats: Arc::new(Stats::default()),
        };
        let r = server.run(|b| tx.send(b.clone()).unwrap());
        (std::thread::current().id(), r.map_err(|e| e.to_string()))
    });
    let bound = rx.recv_timeout(DEADLINE).expect("server did not start");
    Run {
        bound,
        shutdown,
        server,
        wrong_thread,
        created,
        threads,
    }
}

fn exercise(bound: &Bound) {
    for (proto, addr) in &bound.sockets {
        for i in 0..10 {
            match proto {
                Proto::Udp => {
                    let sock = udp_socket(*addr);
                    let req = options("UDP", &sock.local_addr().unwrap(), &format!("u{i}"));
                    let r = udp_exchange(&sock, *addr, req.as_bytes(), Duration::from_secs(5));
                    assert!(r.is_some_and(|r| r.starts_with("SIP/2.0 200")));
                }
                Proto::Tcp => {
                    let mut s = tcp_connect(*addr);
                    let req = options("TCP", &s.local_addr().unwrap(), &format!("t{i}"));
                    tcp_send(&mut s, req.as_bytes());
                    let r = read_message(&mut s, &mut Vec::new());
                    assert!(r.is_some_and(|r| r.starts_with("SIP/2.0 200")));
                }
            }
        }
    }
}

#[test]
fn per_worker_routers_route_on_their_own_thread() {
    let run = start(Threading::PerWorker, 3);
    // Port 0: one UDP and one TCP socket, each on its own real port.
    assert_eq!(run.bound.sockets.len(), 2);
    assert!(run.bound.sockets.iter().all(|(_, a)| a.port() != 0));
    exercise(&run.bound);
    run.shutdown.trigger();
    let (_, result) = run.server.join().unwrap();
    assert_eq!(result, Ok(()));
    // 3 UDP workers + 3 TCP workers, each with its own router.
    assert_eq!(run.created.load(Ordering::SeqCst), 6);
    assert!(!run.wrong_thread.load(Ordering::SeqCst));
}

#[test]
fn caller_thread_routing_uses_only_the_calling_thread() {
    let run = start(Threading::CallerThread, 3);
    exercise(&run.bound);
    run.shutdown.trigger();
    let (server_thread, result) = run.server.join().unwrap();
    assert_eq!(result, Ok(()));
    assert_eq!(run.created.load(Ordering::SeqCst), 1);
    assert!(!run.wrong_thread.load(Ordering::SeqCst));
    let threads = run.threads.lock().unwrap();
    assert_eq!(threads.len(), 20);
    assert!(threads.iter().all(|t| *t == server_thread));
}

#[test]
fn a_router_that_fails_to_load_stops_startup() {
    let factory = RouterFactory {
        timer: None,
        threading: Threading::PerWorker,
        make: Arc::new(|id| Err(format!("script error in {}", id.name))),
    };
    let settings = Settings {
        listen: vec![ListenAddr::parse("127.0.0.1").unwrap()],
        port: 0,
        children: 2,
        tcp_children: 2,
        ..Settings::default()
    };
    let server = Server {
        settings,
        factory,
        shutdown: Shutdown::new(),
        stats: Arc::new(Stats::default()),
    };
    let err = server
        .run(|_| panic!("must not serve"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("script error"), "{err}");
}

/// Forwards every OPTIONS it gets over UDP to `peer` over TCP, twice, and
/// records the replies that come back over TCP.
struct Forwarder {
    peer: std::net::SocketAddr,
    replies: Arc<AtomicUsize>,
}

impl Router for Forwarder {
    fn handle(&mut self, msg: Incoming, out: &Outbound<'_>) {
        if !msg.msg.is_request() {
            self.replies.fetch_add(1, Ordering::SeqCst);
            return;
        }
        if msg.proto == Proto::Udp {
            let req = request("MESSAGE", "TCP", "127.0.0.1:1", "fwd");
            for _ in 0..2 {
                out.send(Proto::Tcp, self.peer, req.as_bytes()).unwrap();
            }
        }
    }
}

#[test]
fn requests_to_a_peer_reuse_one_connection_and_its_replies_are_read() {
    let peer = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let replies = Arc::new(AtomicUsize::new(0));
    let r = replies.clone();
    let factory = RouterFactory {
        timer: None,
        threading: Threading::PerWorker,
        make: Arc::new(move |_| {
            Ok(Box::new(Forwarder {
                peer: peer_addr,
                replies: r.clone(),
            }) as Box<dyn Router>)
        }),
    };
    let settings = Settings {
        listen: vec![ListenAddr::parse("udp:127.0.0.1").unwrap()],
        port: 0,
        children: 2,
        tcp_children: 2,
        ..Settings::default()
    };
    let shutdown = Shutdown::new();
    let (tx, rx) = mpsc::channel();
    let sd = shutdown.clone();
    let server = std::thread::spawn(move || {
        let server = Server {
            settings,
            factory,
            shutdown: sd,
            stats: Arc::new(Stats::default()),
        };
        server
            .run(|b| tx.send(b.clone()).unwrap())
            .map_err(|e| e.to_string())
    });
    let bound = rx.recv_timeout(DEADLINE).unwrap();
    let udp_addr = bound.sockets[0].1;

    // Two OPTIONS -> four forwarded requests, all over one connection.
    let sock = udp_socket(udp_addr);
    for _ in 0..2 {
        sock.send_to(
            options("UDP", &sock.local_addr().unwrap(), "x").as_bytes(),
            udp_addr,
        )
        .unwrap();
    }
    peer.set_nonblocking(false).unwrap();
    let (mut conn, _) = peer.accept().unwrap();
    let mut pending = Vec::new();
    for _ in 0..4 {
        let m = read_message(&mut conn, &mut pending).expect("forwarded request");
        assert!(m.starts_with("MESSAGE "), "{m}");
    }
    peer.set_nonblocking(true).unwrap();
    assert!(peer.accept().is_err(), "a second connection was opened");

    // A reply sent back on that connection reaches a router.
    let reply = "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK-fwd\r\n\
                 From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: fwd\r\n\
                 CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";
    tcp_send(&mut conn, reply.as_bytes());
    let start = std::time::Instant::now();
    while replies.load(Ordering::SeqCst) == 0 && start.elapsed() < DEADLINE {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(replies.load(Ordering::SeqCst), 1);
    shutdown.trigger();
    assert_eq!(server.join().unwrap(), Ok(()));
}
