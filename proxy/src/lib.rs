//! The `kemi-proxy` library side: the table of compiled-in modules,
//! transports, workers and server startup; `main.rs` is only the CLI.
//!
//! # Threads and the path of one message
//!
//! No script engine's state is `Send`, and a hop between threads costs
//! more than routing itself, so a message is received, routed and answered
//! on one thread, by the [`router::Router`] that thread created for itself
//! (through a `Send + Sync` [`router::RouterFactory`]).
//!
//! - UDP: `children` threads per socket block in `recv_from` on the same
//!   socket; the kernel wakes one per datagram ([`transport::udp`]).
//! - TCP: one acceptor thread hands connections round robin to
//!   `tcp_children` poll-loop workers ([`worker::PollWorker`]) that frame by
//!   Content-Length and route in place ([`transport::tcp`]). A table keyed
//!   by peer address lets any thread reuse a connection; writes take a
//!   per-connection lock.
//! - Each message: parse ([`sipmsg`]), Via `received`/`rport` for requests,
//!   then `Router::handle`; bad input is counted ([`stats`]) and answered
//!   with 400 when it is a request that can be answered, else dropped.
//!
//! # Engines that must stay on one thread
//!
//! A factory says where its routers may live ([`router::Threading`]).
//! `PerWorker` (native, Lua, JS; Python with each worker staying attached)
//! gives every worker its own router. `CallerThread` (Ruby, whose VM only
//! works on the thread that initialised it) makes the thread that calls
//! [`server::Server::run`] the only router: it polls every UDP socket and
//! owns every TCP connection itself, so nothing reaches Ruby from another
//! thread; only accepting runs elsewhere.

pub mod compat;
pub mod config;
pub mod engine;
pub mod logging;
pub mod module_table;
pub mod router;
pub mod rpc;
pub mod server;
pub mod settings;
pub mod sipmsg;
pub mod stats;
pub mod transport;
pub mod worker;
