//! Helpers for tests that run the real `kemi-proxy` binary against real
//! sockets on the loopback addresses.

#![allow(dead_code)]

pub mod sipp;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_kemi-proxy");

/// How long anything may take before a test gives up. Generous: CI
/// machines are small and busy.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A port free for both UDP and TCP on `ip` right now.
pub fn free_port(ip: &str) -> u16 {
    for _ in 0..100 {
        let Ok(udp) = UdpSocket::bind((ip, 0)) else {
            continue;
        };
        let Ok(addr) = udp.local_addr() else { continue };
        if TcpListener::bind((ip, addr.port())).is_ok() {
            return addr.port();
        }
    }
    panic!("no free port on {ip}");
}

/// Whether this machine has a usable IPv6 loopback.
pub fn has_ipv6() -> bool {
    UdpSocket::bind("[::1]:0").is_ok()
}

/// A running proxy, killed when dropped.
pub struct Proxy {
    pub child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Proxy {
    /// Starts the proxy with `cfg` (where `PORT` is replaced by a free
    /// port) and waits until it answers OPTIONS over UDP on 127.0.0.1.
    pub fn start(cfg: &str) -> Proxy {
        let proxy = Proxy::spawn(cfg, &[]);
        let addr: SocketAddr = format!("127.0.0.1:{}", proxy.port).parse().unwrap();
        proxy.wait_udp(addr);
        proxy
    }

    /// Starts the proxy without waiting for it.
    pub fn spawn(cfg: &str, args: &[&str]) -> Proxy {
        Proxy::spawn_in(tempfile::tempdir().unwrap(), cfg, args)
    }

    /// Starts the proxy with its config and log in `dir` (where a test may
    /// have put the scripts) without waiting for it.
    pub fn spawn_in(dir: tempfile::TempDir, cfg: &str, args: &[&str]) -> Proxy {
        let port = free_port("127.0.0.1");
        let path = dir.path().join("kamailio.cfg");
        std::fs::write(&path, cfg.replace("PORT", &port.to_string())).unwrap();
        let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
        let child = Command::new(BIN)
            .arg("-f")
            .arg(&path)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Proxy { child, dir, port }
    }

    pub fn addr(&self) -> SocketAddr {
        format!("127.0.0.1:{}", self.port).parse().unwrap()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Polls with OPTIONS until the proxy answers on `addr` over UDP.
    pub fn wait_udp(&self, addr: SocketAddr) {
        let start = Instant::now();
        let sock = udp_socket(addr);
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut buf = vec![0u8; 65536];
        while start.elapsed() < DEADLINE {
            let req = options("UDP", &sock.local_addr().unwrap(), "ready");
            let _ = sock.send_to(req.as_bytes(), addr);
            if let Ok((n, _)) = sock.recv_from(&mut buf) {
                if String::from_utf8_lossy(&buf[..n]).starts_with("SIP/2.0 200") {
                    return;
                }
            }
        }
        panic!("proxy never answered on udp:{addr}; log:\n{}", self.log());
    }

    /// Starts a copy of the example in `examples/<name>/` (kamailio.cfg and
    /// its script `kamailio.<extension>`) on a free port with `children`
    /// workers, its next hop moved to `next_hop`, with `args` (`-A
    /// STATELESS`...), once the shipped example passed `-c`; waits until it
    /// answers a keepalive OPTIONS.
    pub fn example(
        name: &str,
        extension: &str,
        children: u32,
        next_hop: &str,
        args: &[&str],
    ) -> Proxy {
        let example = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples")
            .join(name);
        let check = Command::new(BIN)
            .arg("-c")
            .arg("-f")
            .arg(example.join("kamailio.cfg"))
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "examples/{name}: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let dir = tempfile::tempdir().unwrap();
        let script_name = format!("kamailio.{extension}");
        let script = std::fs::read_to_string(example.join(&script_name))
            .unwrap()
            .replace("sip:127.0.0.1:5080", next_hop);
        let script = cfg_path(dir.path(), &script_name, &script);
        let cfg = std::fs::read_to_string(example.join("kamailio.cfg"))
            .unwrap()
            .replace("127.0.0.1:5060", "127.0.0.1:PORT")
            .replace("children=2", &format!("children={children}"))
            .replace(
                &format!("\"load\", \"{script_name}\""),
                &format!("\"load\", \"{}\"", script.display()),
            );
        let proxy = Proxy::spawn_in(dir, &cfg, args);
        proxy.wait_keepalive();
        proxy
    }

    /// Polls with keepalive OPTIONS (to the proxy itself: no user in the
    /// R-URI) until one is answered; the answer must be the examples'
    /// `200 Keepalive`.
    pub fn wait_keepalive(&self) {
        let sock = udp_socket(self.addr());
        let me = sock.local_addr().unwrap().to_string();
        let start = Instant::now();
        loop {
            let req = request("OPTIONS", "UDP", &me, "keepalive").replace(
                "OPTIONS sip:proxy@127.0.0.1 ",
                &format!("OPTIONS sip:127.0.0.1:{} ", self.port),
            );
            let reply = udp_exchange(
                &sock,
                self.addr(),
                req.as_bytes(),
                Duration::from_millis(200),
            );
            if let Some(reply) = reply {
                assert!(reply.starts_with("SIP/2.0 200 Keepalive\r\n"), "{reply}");
                return;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "no keepalive answer:\n{}",
                self.log()
            );
        }
    }

    /// Waits until the log contains `text` `times` times.
    pub fn wait_logged(&self, text: &str, times: usize) {
        let start = Instant::now();
        while self.log().matches(text).count() < times {
            assert!(
                start.elapsed() < DEADLINE,
                "{text:?} not logged {times} times:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the RPC socket at `sock` accepts connections.
    pub fn wait_rpc_socket(&self, sock: &Path) {
        let start = Instant::now();
        while UnixStream::connect(sock).is_err() {
            assert!(
                start.elapsed() < DEADLINE,
                "RPC socket never up:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        unsafe { libc::kill(pid, libc::SIGTERM) };
        wait_exit(&mut self.child)
    }

    /// Asserts the proxy is still running.
    pub fn assert_alive(&mut self) {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "proxy exited; log:\n{}",
            self.log()
        );
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for a child to exit, at most [`DEADLINE`].
pub fn wait_exit(child: &mut Child) -> ExitStatus {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("process did not exit");
}

/// A UDP socket of the same family as `peer`, on its loopback.
pub fn udp_socket(peer: SocketAddr) -> UdpSocket {
    let local = if peer.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    };
    let sock = UdpSocket::bind(local).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock
}

/// An OPTIONS request whose Via names `via_host` (not necessarily where it
/// really comes from) and asks for rport.
pub fn options(transport: &str, via_host: &SocketAddr, call_id: &str) -> String {
    request("OPTIONS", transport, &via_host.to_string(), call_id)
}

pub fn request(method: &str, transport: &str, sent_by: &str, call_id: &str) -> String {
    format!(
        "{method} sip:proxy@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/{transport} {sent_by};branch=z9hG4bK-{call_id};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:test@example.com>;tag=t-{call_id}\r\n\
         To: <sip:proxy@127.0.0.1>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 {method}\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// Sends a datagram and returns the reply, or `None` after a short wait.
pub fn udp_exchange(
    sock: &UdpSocket,
    to: SocketAddr,
    data: &[u8],
    wait: Duration,
) -> Option<String> {
    sock.set_read_timeout(Some(wait)).unwrap();
    sock.send_to(data, to).unwrap();
    let mut buf = vec![0u8; 65536];
    match sock.recv_from(&mut buf) {
        Ok((n, _)) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        Err(_) => None,
    }
}

/// Reads one whole SIP message (framed by Content-Length) from a stream, or
/// `None` at EOF or timeout.
pub fn read_message(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Option<String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    loop {
        if let Some(end) = find(pending, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
            let len = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.trim()
                        .eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            let total = end + 4 + len;
            if pending.len() >= total {
                let msg = String::from_utf8_lossy(&pending[..total]).into_owned();
                pending.drain(..total);
                return Some(msg);
            }
        }
        let mut buf = [0u8; 4096];
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads until the peer closes the connection (true) or the deadline.
pub fn closed_by_peer(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while start.elapsed() < DEADLINE {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}

pub fn tcp_connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

pub fn tcp_send(stream: &mut TcpStream, data: &[u8]) {
    stream.write_all(data).unwrap();
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The top Via line of a message.
pub fn top_via(msg: &str) -> String {
    msg.lines()
        .find(|l| l.to_ascii_lowercase().starts_with("via:") || l.starts_with("v:"))
        .unwrap_or("")
        .to_string()
}

pub fn cfg_path(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `kemi-proxy rpc -s SOCK METHOD` and returns its output; fails the
/// test when the call fails.
pub fn rpc(sock: &Path, method: &str) -> String {
    let out = Command::new(BIN)
        .args(["rpc", "-s"])
        .arg(sock)
        .arg(method)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{method} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Rewrites a script in place: a temporary file renamed over it, as
/// editors and deploy tools do, so the proxy never reads half a file.
pub fn rewrite(path: &Path, text: &str) {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}
