//! Startup and shutdown: binds the sockets, starts the workers, waits for
//! the stop signal, joins everything.
//!
//! Threads, with `PerWorker` routers (native, Lua, JS, Python):
//! - `children` UDP workers per UDP socket, each blocking in `recv_from`;
//! - `tcp_children` TCP workers, each a mio poll loop owning connections;
//! - one acceptor for all TCP listeners, handing connections to TCP workers;
//! - the calling thread waits for shutdown.
//!
//! With `CallerThread` routing (Ruby) the calling thread is the only
//! router: it polls every UDP socket and owns every TCP connection; the
//! acceptor still runs on its own thread (it never routes).

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use mio::{Poll, Token, Waker};

use crate::router::{Network, Proto, Router, RouterFactory, Threading, WorkerId};
use crate::settings::Settings;
use crate::stats::Stats;
use crate::transport::tcp::{self, Handoff, TcpNet, WorkerHandle};
use crate::transport::udp;
use crate::worker::{PollWorker, PolledUdp, Shutdown};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}")]
    Config(String),
    #[error("cannot listen on {proto}:{addr}: {err}")]
    Bind {
        proto: Proto,
        addr: SocketAddr,
        err: std::io::Error,
    },
    #[error("cannot start {what}: {err}")]
    Start { what: String, err: std::io::Error },
    #[error("worker {worker} could not create its router: {err}")]
    Router { worker: String, err: String },
}

fn start_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServerError {
    let what = what.into();
    move |err| ServerError::Start { what, err }
}

/// The sockets actually bound (port 0 resolved to the real port).
#[derive(Clone, Debug, Default)]
pub struct Bound {
    pub sockets: Vec<(Proto, SocketAddr)>,
}

/// What the server needs besides the settings.
pub struct Server {
    pub settings: Settings,
    pub factory: RouterFactory,
    pub shutdown: Arc<Shutdown>,
    pub stats: Arc<Stats>,
}

/// A worker's router creation result, reported back before serving.
type Ready = Result<(), (String, String)>;

impl Server {
    /// Runs until `shutdown` is triggered. `on_bound` is called once every
    /// socket is bound and every router created, i.e. when the proxy serves.
    pub fn run(self, on_bound: impl FnOnce(&Bound)) -> Result<(), ServerError> {
        self.run_with(|_, _| {}, on_bound)
    }

    /// As [`Server::run`], and `on_network` is called with the network and
    /// the bound sockets before any worker starts, so a script runtime can
    /// send through them (and knows its own addresses) from the first
    /// message on.
    pub fn run_with(
        self,
        on_network: impl FnOnce(&Arc<Network>, &Bound),
        on_bound: impl FnOnce(&Bound),
    ) -> Result<(), ServerError> {
        let Server {
            settings,
            factory,
            shutdown,
            stats,
        } = self;
        let wanted = settings.sockets().map_err(ServerError::Config)?;
        let mut udp_socks: Vec<(SocketAddr, Arc<UdpSocket>)> = Vec::new();
        let mut listeners: Vec<TcpListener> = Vec::new();
        let mut bound = Bound::default();
        for (proto, addr) in wanted {
            let bind_err = |err| ServerError::Bind { proto, addr, err };
            let local = match proto {
                Proto::Udp => {
                    let s = udp::bind(addr).map_err(bind_err)?;
                    let local = s.local_addr().map_err(bind_err)?;
                    udp_socks.push((local, Arc::new(s)));
                    local
                }
                Proto::Tcp => {
                    let l = tcp::bind(addr).map_err(bind_err)?;
                    let local = l.local_addr().map_err(bind_err)?;
                    listeners.push(l);
                    local
                }
            };
            tracing::info!("listening on {proto}:{local}");
            bound.sockets.push((proto, local));
        }

        let single = factory.threading == Threading::CallerThread;
        // Poll loops that own TCP connections: one per TCP worker, or just
        // the caller's in single-thread routing.
        let n_polls = if single {
            1
        } else if settings.disable_tcp {
            0
        } else {
            settings.tcp_children.max(1)
        };
        let mut polls: Vec<(Poll, Receiver<Handoff>)> = Vec::new();
        let mut handles: Vec<WorkerHandle> = Vec::new();
        for _ in 0..n_polls {
            let poll = Poll::new().map_err(start_err("poll"))?;
            let waker =
                Arc::new(Waker::new(poll.registry(), Token(0)).map_err(start_err("waker"))?);
            shutdown.add_waker(Arc::clone(&waker));
            let (tx, rx) = mpsc::channel();
            polls.push((poll, rx));
            handles.push(WorkerHandle { tx, waker });
        }
        let tcp_net = (!settings.disable_tcp).then(|| {
            Arc::new(TcpNet::new(
                handles,
                settings.tcp_max_connections,
                settings.tcp_accept_no_cl,
            ))
        });
        let net = Arc::new(Network {
            udp: udp_socks.clone(),
            tcp: tcp_net.clone(),
        });
        on_network(&net, &bound);

        let mut threads: Vec<JoinHandle<()>> = Vec::new();
        let (ready_tx, ready_rx) = mpsc::channel::<Ready>();
        let mut expected = 0;
        let mut next_index = 0;
        let mut next_id = |name: String| {
            let id = WorkerId {
                index: next_index,
                name,
            };
            next_index += 1;
            id
        };

        let result = (|| -> Result<(), ServerError> {
            if let Some(tcp_net) = &tcp_net {
                if !listeners.is_empty() {
                    let poll = Poll::new().map_err(start_err("poll"))?;
                    let waker =
                        Waker::new(poll.registry(), Token(0)).map_err(start_err("waker"))?;
                    shutdown.add_waker(Arc::new(waker));
                    let (tcp_net, shutdown) = (Arc::clone(tcp_net), Arc::clone(&shutdown));
                    let listeners = std::mem::take(&mut listeners);
                    let t = std::thread::Builder::new()
                        .name("tcp-accept".into())
                        .spawn(move || tcp::run_acceptor(listeners, poll, &tcp_net, &shutdown))
                        .map_err(start_err("TCP acceptor"))?;
                    threads.push(t);
                }
            }
            if single {
                return Ok(());
            }
            for (local, socket) in &udp_socks {
                for i in 0..settings.children.max(1) {
                    let id = next_id(format!("udp:{local}#{i}"));
                    let (socket, local) = (Arc::clone(socket), *local);
                    let (net, shutdown) = (Arc::clone(&net), Arc::clone(&shutdown));
                    let ws = stats.register(id.name.clone());
                    let t = spawn_worker(id, &factory, ready_tx.clone(), move |router| {
                        udp::run_worker(&socket, local, router, &net, &ws, &shutdown)
                    })?;
                    threads.push(t);
                    expected += 1;
                }
            }
            if let Some(tick) = factory.timer {
                let id = next_id("timer".into());
                let shutdown = Arc::clone(&shutdown);
                let t = spawn_worker(id, &factory, ready_tx.clone(), move |router| {
                    while !shutdown.is_set() {
                        crate::server::guard("running timers", || router.timer());
                        std::thread::sleep(tick);
                    }
                })?;
                threads.push(t);
                expected += 1;
            }
            for (i, (poll, rx)) in std::mem::take(&mut polls).into_iter().enumerate() {
                let id = next_id(format!("tcp#{i}"));
                let (net, shutdown) = (Arc::clone(&net), Arc::clone(&shutdown));
                let ws = stats.register(id.name.clone());
                let idle_timeout = settings.tcp_lifetime;
                let t = spawn_worker(id, &factory, ready_tx.clone(), move |router| {
                    let worker = PollWorker {
                        poll,
                        handoff: rx,
                        udp: Vec::new(),
                        idle_timeout,
                        timer: None,
                    };
                    worker.run(router, &net, &ws, &shutdown)
                })?;
                threads.push(t);
                expected += 1;
            }
            Ok(())
        })();
        drop(ready_tx);

        // Every worker must have its router before the proxy counts as up;
        // one failure (a script that does not load) stops them all.
        let mut outcome = result;
        for _ in 0..expected {
            match ready_rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err((worker, err))) => {
                    if outcome.is_ok() {
                        outcome = Err(ServerError::Router { worker, err });
                    }
                }
                Err(_) => break,
            }
        }

        if outcome.is_ok() {
            if single {
                outcome = run_on_caller(
                    &factory,
                    next_id("main".into()),
                    polls,
                    &udp_socks,
                    &settings,
                    &net,
                    &stats,
                    &shutdown,
                    on_bound,
                    &bound,
                );
            } else {
                tracing::info!("kemi-proxy serving with {} workers", expected);
                on_bound(&bound);
                shutdown.wait();
            }
        }
        shutdown.trigger();
        for t in threads {
            if t.join().is_err() {
                tracing::error!("a worker thread panicked");
            }
        }
        for w in stats.workers() {
            let c = w.snapshot();
            tracing::debug!(
                "{}: received {} replied {} dropped {} malformed {}",
                w.name,
                c.received,
                c.replied,
                c.dropped,
                c.malformed
            );
        }
        let t = stats.totals();
        tracing::debug!(
            "total: received {} replied {} dropped {} script errors {} malformed {}",
            t.received,
            t.replied,
            t.dropped,
            t.script_errors,
            t.malformed
        );
        outcome
    }
}

/// Single-thread routing: the calling thread creates the one router and
/// serves every UDP socket and TCP connection itself.
#[allow(clippy::too_many_arguments)]
fn run_on_caller(
    factory: &RouterFactory,
    id: WorkerId,
    polls: Vec<(Poll, Receiver<Handoff>)>,
    udp_socks: &[(SocketAddr, Arc<UdpSocket>)],
    settings: &Settings,
    net: &Network,
    stats: &Stats,
    shutdown: &Shutdown,
    on_bound: impl FnOnce(&Bound),
    bound: &Bound,
) -> Result<(), ServerError> {
    let mut router = (factory.make)(&id).map_err(|err| ServerError::Router {
        worker: id.name.clone(),
        err,
    })?;
    let Some((poll, rx)) = polls.into_iter().next() else {
        return Err(ServerError::Config(
            "no poll loop for the routing thread".into(),
        ));
    };
    let mut udp = Vec::new();
    for (local, socket) in udp_socks {
        let polled = socket
            .try_clone()
            .and_then(|s| s.set_nonblocking(true).map(|()| s))
            .map_err(start_err(format!("udp:{local}")))?;
        udp.push(PolledUdp {
            socket: mio::net::UdpSocket::from_std(polled),
            send: Arc::clone(socket),
            local: *local,
        });
    }
    let ws = stats.register(id.name.clone());
    tracing::info!("kemi-proxy serving on one routing thread");
    on_bound(bound);
    let worker = PollWorker {
        poll,
        handoff: rx,
        udp,
        idle_timeout: settings.tcp_lifetime,
        timer: factory.timer,
    };
    worker.run(&mut *router, net, &ws, shutdown);
    Ok(())
}

/// Starts a worker thread that builds its router on itself, reports the
/// result, and then serves with `body`.
fn spawn_worker(
    id: WorkerId,
    factory: &RouterFactory,
    ready: Sender<Ready>,
    body: impl FnOnce(&mut dyn Router) + Send + 'static,
) -> Result<JoinHandle<()>, ServerError> {
    let make = Arc::clone(&factory.make);
    let name = id.name.clone();
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            let made = catch_unwind(AssertUnwindSafe(|| make(&id)))
                .unwrap_or_else(|_| Err("router creation panicked".to_string()));
            match made {
                Ok(mut router) => {
                    let _ = ready.send(Ok(()));
                    drop(ready);
                    body(&mut *router);
                }
                Err(e) => {
                    let _ = ready.send(Err((id.name.clone(), e)));
                }
            }
        })
        .map_err(start_err(format!("worker {name}")))
}

/// Runs `f`, turning a panic into an error log: a bug in one message's
/// routing must not take the worker (and its listener) down.
pub fn guard<R>(what: &str, f: impl FnOnce() -> R) -> Option<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(_) => {
            tracing::error!("{what} panicked; the worker goes on");
            None
        }
    }
}
