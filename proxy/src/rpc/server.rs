//! The RPC thread: one mio poll loop over the Unix and HTTP listeners.
//! Each accepted connection is served to the end on this thread, with
//! short timeouts, one request per connection: RPC traffic is a few
//! operator commands, so this is simpler than a pool and cannot disturb
//! routing.
//!
//! HTTP is a minimal hand-rolled HTTP/1.1 server for `POST` only (fixed
//! Content-Length, `Expect: 100-continue`, `Connection: close`): that is
//! all a JSON-RPC endpoint needs, and it keeps the proxy free of an HTTP
//! stack with threads and features of its own.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use mio::{Events, Interest, Poll, Token, Waker};
use serde::Deserialize;
use serde_json::Value;

use super::dispatch::{parse_error, Dispatcher};
use super::{default_socket_paths, RpcSettings};

/// Largest request accepted, body or JSON value.
pub const MAX_REQUEST: u64 = 1 << 20;
/// Largest HTTP request head.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request or read the reply.
const IO_TIMEOUT: Duration = Duration::from_secs(3);

const WAKE: Token = Token(0);
const UNIX: Token = Token(1);
const HTTP: Token = Token(2);

/// The running RPC thread; dropping it stops the thread and removes the
/// socket file.
pub struct RpcServer {
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
    thread: Option<JoinHandle<()>>,
    socket: Option<PathBuf>,
    http: Option<SocketAddr>,
}

impl RpcServer {
    /// Binds what `settings` asks for and starts the thread. A listener
    /// that cannot be bound is logged and skipped; it is an error only
    /// when nothing at all could be bound.
    pub fn start(settings: &RpcSettings, dispatcher: Dispatcher) -> io::Result<RpcServer> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
        let mut unix = None;
        let mut socket = None;
        if settings.socket_enabled {
            match bind_socket(settings.socket.as_deref()) {
                Ok((path, listener)) => {
                    tracing::info!("RPC on unix:{}", path.display());
                    listener.set_nonblocking(true)?;
                    let mut l = mio::net::UnixListener::from_std(listener);
                    poll.registry().register(&mut l, UNIX, Interest::READABLE)?;
                    unix = Some(l);
                    socket = Some(path);
                }
                Err(e) => tracing::warn!("RPC Unix socket not available: {e}"),
            }
        }
        let mut http = None;
        let mut http_addr = None;
        if let Some(addr) = settings.http {
            match TcpListener::bind(addr) {
                Ok(listener) => {
                    let local = listener.local_addr()?;
                    if !local.ip().is_loopback() {
                        tracing::warn!("RPC over HTTP on {local}: reachable from other hosts");
                    }
                    tracing::info!("RPC on http://{local}/");
                    listener.set_nonblocking(true)?;
                    let mut l = mio::net::TcpListener::from_std(listener);
                    poll.registry().register(&mut l, HTTP, Interest::READABLE)?;
                    http = Some(l);
                    http_addr = Some(local);
                }
                Err(e) => tracing::warn!("RPC over HTTP not available on {addr}: {e}"),
            }
        }
        if unix.is_none() && http.is_none() {
            return Err(io::Error::other("no RPC listener could be opened"));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("rpc".into())
                .spawn(move || serve(poll, unix, http, &dispatcher, &stop))?
        };
        Ok(RpcServer {
            stop,
            waker,
            thread: Some(thread),
            socket,
            http: http_addr,
        })
    }

    /// The Unix socket served, if any.
    pub fn socket(&self) -> Option<&Path> {
        self.socket.as_deref()
    }

    /// The HTTP address served (port resolved), if any.
    pub fn http(&self) -> Option<SocketAddr> {
        self.http
    }
}

impl Drop for RpcServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.waker.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(path) = &self.socket {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Binds `explicit`, or the first default path that works.
fn bind_socket(explicit: Option<&Path>) -> io::Result<(PathBuf, UnixListener)> {
    let candidates = match explicit {
        Some(p) => vec![p.to_path_buf()],
        None => default_socket_paths(),
    };
    let mut last = io::Error::other("no socket path");
    for path in candidates {
        match bind_one(&path, explicit.is_none()) {
            Ok(l) => return Ok((path, l)),
            // Another proxy serves there: falling back to the next default
            // would leave clients talking to that one. The fallbacks are
            // for directories this user cannot write.
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display())));
            }
            Err(e) => {
                tracing::debug!("RPC socket {}: {e}", path.display());
                last = io::Error::new(e.kind(), format!("{}: {e}", path.display()));
            }
        }
    }
    Err(last)
}

fn bind_one(path: &Path, default_dir: bool) -> io::Result<UnixListener> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::create_dir_all(dir)?;
            // Only the proxy's user may reach a directory we made.
            if default_dir {
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            }
        }
    }
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "exists and is not a socket",
            ));
        }
        // A socket someone answers on belongs to a running proxy; one
        // nobody answers on was left by a proxy that died.
        if UnixStream::connect(path).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                "another process serves this socket",
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    // Like Kamailio's default dgram_mode: owner and group.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}

fn serve(
    mut poll: Poll,
    unix: Option<mio::net::UnixListener>,
    http: Option<mio::net::TcpListener>,
    dispatcher: &Dispatcher,
    stop: &AtomicBool,
) {
    let mut events = Events::with_capacity(16);
    while !stop.load(Ordering::Acquire) {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            tracing::error!("RPC poll failed, RPC stops: {e}");
            return;
        }
        for ev in events.iter() {
            match ev.token() {
                UNIX => {
                    if let Some(l) = &unix {
                        // Edge-triggered: accept until none is left.
                        while let Ok((s, _)) = l.accept() {
                            serve_unix(UnixStream::from(s), dispatcher);
                        }
                    }
                }
                HTTP => {
                    if let Some(l) = &http {
                        while let Ok((s, peer)) = l.accept() {
                            serve_http(TcpStream::from(s), peer, dispatcher);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// One JSON value in, one JSON value and a newline out.
fn serve_unix(stream: UnixStream, dispatcher: &Dispatcher) {
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(Some(IO_TIMEOUT)).is_err()
        || stream.set_write_timeout(Some(IO_TIMEOUT)).is_err()
    {
        return;
    }
    let reader = BufReader::new((&stream).take(MAX_REQUEST));
    let mut de = serde_json::Deserializer::from_reader(reader);
    let reply = match Value::deserialize(&mut de) {
        Ok(v) => dispatcher.handle_value(v),
        // Connected and closed without a byte: nothing to answer.
        Err(e) if e.is_eof() && e.line() == 1 && e.column() == 0 => return,
        Err(_) => Some(parse_error()),
    };
    if let Some(reply) = reply {
        let mut out = dispatcher.encode(&reply);
        out.push(b'\n');
        let _ = (&stream).write_all(&out);
    }
}

fn serve_http(stream: TcpStream, peer: SocketAddr, dispatcher: &Dispatcher) {
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(Some(IO_TIMEOUT)).is_err()
        || stream.set_write_timeout(Some(IO_TIMEOUT)).is_err()
    {
        return;
    }
    let mut w = &stream;
    let (status, body) = match read_http(&stream, &mut w, dispatcher) {
        Ok(reply) => reply,
        Err(HttpError(status, why)) => {
            tracing::debug!("RPC HTTP request from {peer} refused: {status} {why}");
            (status, format!("{why}\n").into_bytes())
        }
    };
    let (reason, ctype) = match status {
        200 => ("OK", "application/json"),
        204 => ("No Content", "application/json"),
        400 => ("Bad Request", "text/plain"),
        403 => ("Forbidden", "text/plain"),
        405 => ("Method Not Allowed", "text/plain"),
        411 => ("Length Required", "text/plain"),
        413 => ("Payload Too Large", "text/plain"),
        _ => ("Not Implemented", "text/plain"),
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if status == 405 {
        head.push_str("Allow: POST\r\n");
    }
    head.push_str("\r\n");
    let _ = w.write_all(head.as_bytes());
    let _ = w.write_all(&body);
}

struct HttpError(u16, &'static str);

fn head_line(
    r: &mut impl BufRead,
    line: &mut String,
    head_len: &mut usize,
) -> Result<(), HttpError> {
    line.clear();
    let n = r
        .read_line(line)
        .map_err(|_| HttpError(400, "bad request"))?;
    *head_len += n;
    if n == 0 || *head_len > MAX_HEAD {
        return Err(HttpError(400, "bad request"));
    }
    Ok(())
}

/// Reads one request; returns the status and body to answer with.
fn read_http(
    stream: &TcpStream,
    w: &mut &TcpStream,
    dispatcher: &Dispatcher,
) -> Result<(u16, Vec<u8>), HttpError> {
    let mut r = BufReader::new(stream.take(MAX_HEAD as u64 + MAX_REQUEST));
    let mut head_len = 0usize;
    let mut line = String::new();
    head_line(&mut r, &mut line, &mut head_len)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    if !parts.next().is_some_and(|p| p.starts_with('/')) {
        return Err(HttpError(400, "bad request line"));
    }
    let mut length: Option<u64> = None;
    let mut expect_continue = false;
    let mut origin = false;
    let mut chunked = false;
    loop {
        head_line(&mut r, &mut line, &mut head_len)?;
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            break;
        }
        let Some((name, value)) = l.split_once(':') else {
            return Err(HttpError(400, "bad header"));
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                length = Some(
                    value
                        .parse()
                        .map_err(|_| HttpError(400, "bad Content-Length"))?,
                )
            }
            "expect" => expect_continue = value.eq_ignore_ascii_case("100-continue"),
            "origin" => origin = true,
            "transfer-encoding" => chunked = true,
            _ => {}
        }
    }
    // Browsers send Origin on cross-site (and DNS-rebound) POSTs; a
    // command-line client never does. Refusing it keeps web pages out.
    if origin {
        return Err(HttpError(403, "requests with an Origin header are refused"));
    }
    if method != "POST" {
        return Err(HttpError(405, "only POST is served"));
    }
    if chunked {
        return Err(HttpError(501, "chunked bodies are not supported"));
    }
    let Some(length) = length else {
        return Err(HttpError(411, "Content-Length required"));
    };
    if length > MAX_REQUEST {
        return Err(HttpError(413, "request too large"));
    }
    if expect_continue {
        let _ = w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let mut body = Vec::new();
    let read = r
        .take(length)
        .read_to_end(&mut body)
        .map_err(|_| HttpError(400, "body not received"))?;
    if u64::try_from(read).ok() != Some(length) {
        return Err(HttpError(400, "body shorter than Content-Length"));
    }
    Ok(match dispatcher.handle_bytes(&body) {
        Some(reply) => (200, reply),
        None => (204, Vec::new()),
    })
}
