//! The real `kemi-proxy` binary on real loopback sockets: well-formed,
//! malformed, truncated and oversized datagrams and streams; afterwards the
//! proxy must still answer.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use common::*;

const CFG: &str = "\
debug=3
children=2
listen=udp:127.0.0.1:PORT
listen=tcp:127.0.0.1:PORT
";

fn still_answers_udp(proxy: &Proxy) {
    let sock = udp_socket(proxy.addr());
    let req = options("UDP", &sock.local_addr().unwrap(), "after");
    let reply = udp_exchange(&sock, proxy.addr(), req.as_bytes(), Duration::from_secs(5));
    assert!(
        reply
            .as_deref()
            .is_some_and(|r| r.starts_with("SIP/2.0 200 OK")),
        "no 200 after bad input: {reply:?}\nlog:\n{}",
        proxy.log()
    );
}

fn still_answers_tcp(proxy: &Proxy) {
    let mut s = tcp_connect(proxy.addr());
    let req = options("TCP", &s.local_addr().unwrap(), "after-tcp");
    tcp_send(&mut s, req.as_bytes());
    let reply = read_message(&mut s, &mut Vec::new());
    assert!(
        reply
            .as_deref()
            .is_some_and(|r| r.starts_with("SIP/2.0 200 OK")),
        "no 200 over TCP after bad input: {reply:?}\nlog:\n{}",
        proxy.log()
    );
}

#[test]
fn udp_options_gets_200_with_received_and_rport() {
    let proxy = Proxy::start(CFG);
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap();
    // The Via claims another host, so `received` must be added; `rport`
    // must be filled with the real source port.
    let req = request("OPTIONS", "UDP", "192.0.2.7:5099", "udp-ok");
    let reply = udp_exchange(&sock, proxy.addr(), req.as_bytes(), Duration::from_secs(5)).unwrap();
    assert!(reply.starts_with("SIP/2.0 200 OK\r\n"), "{reply}");
    let via = top_via(&reply);
    assert!(via.contains("received=127.0.0.1"), "{via}");
    assert!(via.contains(&format!("rport={}", me.port())), "{via}");
    assert!(via.contains("branch=z9hG4bK-udp-ok"), "{via}");
    assert!(reply.contains("Call-ID: udp-ok\r\n"), "{reply}");
    assert!(reply.contains("CSeq: 1 OPTIONS\r\n"), "{reply}");
}

#[test]
fn other_requests_get_501_and_ack_gets_nothing() {
    let proxy = Proxy::start(CFG);
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap().to_string();
    let invite = request("INVITE", "UDP", &me, "inv");
    let reply = udp_exchange(
        &sock,
        proxy.addr(),
        invite.as_bytes(),
        Duration::from_secs(5),
    )
    .unwrap();
    assert!(reply.starts_with("SIP/2.0 501 "), "{reply}");
    let ack = request("ACK", "UDP", &me, "inv");
    assert_eq!(
        udp_exchange(
            &sock,
            proxy.addr(),
            ack.as_bytes(),
            Duration::from_millis(500)
        ),
        None
    );
}

#[test]
fn malformed_but_answerable_gets_400() {
    let proxy = Proxy::start(CFG);
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap().to_string();
    let bad = request("OPTIONS", "UDP", &me, "bad-cl")
        .replace("Content-Length: 0", "Content-Length: abc");
    let reply = udp_exchange(&sock, proxy.addr(), bad.as_bytes(), Duration::from_secs(5)).unwrap();
    assert!(reply.starts_with("SIP/2.0 400 "), "{reply}");
    assert!(reply.contains("Call-ID: bad-cl\r\n"), "{reply}");
    still_answers_udp(&proxy);
}

#[test]
fn garbage_truncated_and_oversized_datagrams_are_dropped() {
    // One UDP worker: datagrams are handled in the order sent, so a reply
    // to one of them would arrive before the reply to any later one.
    let mut proxy = RpcProxy::start(&CFG.replace("children=2", "children=1"));
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap().to_string();
    let good = request("OPTIONS", "UDP", &me, "trunc");
    let mut junk: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\r\n\r\n".to_vec(),
        b"hello world".to_vec(),
        vec![0xff; 1000],
        (0..=255u8).cycle().take(4000).collect(),
        b"SIP/2.0 200 OK\r\n\r\n".to_vec(),
        b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP [::1:5060\r\n\r\n".to_vec(),
        b"INVITE\r\n\r\n".to_vec(),
    ];
    // Truncated at every interesting point of a good request.
    for cut in [1, 8, 30, good.len() / 2, good.len() - 3] {
        junk.push(good.as_bytes()[..cut].to_vec());
    }
    // Oversized: near the largest UDP payload, as garbage and as a request
    // with a huge header (which is answered: it is still a valid request).
    junk.push(vec![b'x'; 65_000]);
    let big = good.replace(
        "Max-Forwards: 70\r\n",
        &format!("X-Big: {}\r\n", "y".repeat(64_000)),
    );
    junk.push(big.into_bytes());
    for j in &junk {
        sock.send_to(j, proxy.addr()).unwrap();
    }
    // Whatever comes back before the marker's reply (400 at most, the big
    // request's 200), the proxy must not die.
    let replies = exchange_until_marker(&sock, proxy.addr(), "marker-1");
    for reply in &replies {
        assert!(
            reply.starts_with("SIP/2.0 400") || reply.starts_with("SIP/2.0 200"),
            "{reply}"
        );
    }
    // A request without a Via cannot be answered: the next reply is the
    // marker's.
    let no_via: String = good
        .lines()
        .filter(|l| !l.starts_with("Via:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    sock.send_to(no_via.as_bytes(), proxy.addr()).unwrap();
    let replies = exchange_until_marker(&sock, proxy.addr(), "marker-2");
    assert!(
        replies.is_empty(),
        "a request without Via answered: {replies:?}"
    );
    proxy.proxy.assert_alive();
    still_answers_udp(&proxy.proxy);
    still_answers_tcp(&proxy.proxy);
    // The drops were counted.
    let malformed = proxy.counter("core", "malformed");
    assert!(malformed >= 10, "malformed not counted: {malformed}");
    assert_eq!(proxy.tcp_counter("malformed"), 0);
}

/// Sends a good OPTIONS with Call-ID `marker` and returns every reply that
/// arrived before the marker's own.
fn exchange_until_marker(sock: &UdpSocket, to: SocketAddr, marker: &str) -> Vec<String> {
    let me = sock.local_addr().unwrap();
    sock.send_to(options("UDP", &me, marker).as_bytes(), to)
        .unwrap();
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut before = Vec::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, _) = sock.recv_from(&mut buf).expect("no reply to the marker");
        let reply = String::from_utf8_lossy(&buf[..n]).into_owned();
        if reply.contains(&format!("Call-ID: {marker}\r\n")) {
            assert!(reply.starts_with("SIP/2.0 200 OK"), "{reply}");
            return before;
        }
        before.push(reply);
    }
}

/// A proxy with its RPC socket in its temp dir, for reading counters.
struct RpcProxy {
    proxy: Proxy,
    sock: std::path::PathBuf,
}

impl RpcProxy {
    fn start(cfg: &str) -> RpcProxy {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("rpc.sock");
        let cfg = format!(
            "{cfg}loadmodule \"jsonrpcs.so\"\n\
             modparam(\"jsonrpcs\", \"transport\", 4)\n\
             modparam(\"jsonrpcs\", \"socket\", \"{}\")\n",
            sock.display()
        );
        let proxy = Proxy::spawn_in(dir, &cfg, &[]);
        proxy.wait_udp(proxy.addr());
        proxy.wait_rpc_socket(&sock);
        RpcProxy { proxy, sock }
    }

    fn addr(&self) -> SocketAddr {
        self.proxy.addr()
    }

    /// `stats.get_statistics` as (group, counter, value).
    fn statistics(&self) -> Vec<(String, String, u64)> {
        let out = rpc(&self.sock, "stats.get_statistics");
        let lines: Vec<String> = serde_json::from_str(&out).unwrap();
        lines
            .iter()
            .filter_map(|l| {
                let (key, value) = l.split_once(" = ")?;
                let (group, name) = key.split_once(':')?;
                Some((group.to_string(), name.to_string(), value.parse().ok()?))
            })
            .collect()
    }

    /// One counter of the `core` group (totals of every worker).
    fn counter(&self, group: &str, name: &str) -> u64 {
        self.statistics()
            .into_iter()
            .find(|(g, n, _)| g == group && n == name)
            .map_or(0, |(_, _, v)| v)
    }

    /// A counter summed over the TCP workers (`worker:tcp#N.name`).
    fn tcp_counter(&self, name: &str) -> u64 {
        self.statistics()
            .into_iter()
            .filter(|(g, n, _)| {
                g == "worker"
                    && n.strip_prefix("tcp#")
                        .and_then(|rest| rest.split_once('.'))
                        .is_some_and(|(_, counter)| counter == name)
            })
            .map(|(_, _, v)| v)
            .sum()
    }
}

#[test]
fn tcp_options_gets_200_with_received_and_rport() {
    let proxy = Proxy::start(CFG);
    let mut s = tcp_connect(proxy.addr());
    let me = s.local_addr().unwrap();
    let req = request("OPTIONS", "TCP", "192.0.2.7:5099", "tcp-ok");
    tcp_send(&mut s, req.as_bytes());
    let reply = read_message(&mut s, &mut Vec::new()).unwrap();
    assert!(reply.starts_with("SIP/2.0 200 OK\r\n"), "{reply}");
    let via = top_via(&reply);
    assert!(via.contains("received=127.0.0.1"), "{via}");
    assert!(via.contains(&format!("rport={}", me.port())), "{via}");
}

#[test]
fn tcp_pipelined_messages_and_split_message() {
    let proxy = Proxy::start(CFG);
    let mut s = tcp_connect(proxy.addr());
    let me = s.local_addr().unwrap();
    let mut pending = Vec::new();

    // Three messages in one write, the middle one with a body.
    let with_body = request("OPTIONS", "TCP", &me.to_string(), "p2").replace(
        "Content-Length: 0\r\n\r\n",
        "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
    );
    let burst = format!(
        "{}{}{}",
        options("TCP", &me, "p1"),
        with_body,
        options("TCP", &me, "p3")
    );
    tcp_send(&mut s, burst.as_bytes());
    for id in ["p1", "p2", "p3"] {
        let reply = read_message(&mut s, &mut pending).unwrap();
        assert!(reply.starts_with("SIP/2.0 200 OK"), "{reply}");
        assert!(reply.contains(&format!("Call-ID: {id}\r\n")), "{reply}");
    }

    // One message split across writes, including inside the body.
    let split = request("OPTIONS", "TCP", &me.to_string(), "split").replace(
        "Content-Length: 0\r\n\r\n",
        "Content-Length: 10\r\n\r\n0123456789",
    );
    let bytes = split.as_bytes();
    for chunk in [
        &bytes[..10],
        &bytes[10..60],
        &bytes[60..bytes.len() - 4],
        &bytes[bytes.len() - 4..],
    ] {
        tcp_send(&mut s, chunk);
        std::thread::sleep(Duration::from_millis(30));
    }
    let reply = read_message(&mut s, &mut pending).unwrap();
    assert!(reply.contains("Call-ID: split\r\n"), "{reply}");

    // A CRLF keepalive ping gets a pong and leaves the connection usable.
    tcp_send(&mut s, b"\r\n\r\n");
    tcp_send(&mut s, options("TCP", &me, "after-ping").as_bytes());
    let reply = read_message(&mut s, &mut pending).unwrap();
    assert!(reply.trim_start().starts_with("SIP/2.0 200"), "{reply:?}");
}

#[test]
fn tcp_without_content_length_gets_400_and_close() {
    // Refusing is the default, and what tcp_accept_no_cl=no asks for.
    for cfg in [CFG.to_string(), format!("{CFG}tcp_accept_no_cl=no\n")] {
        let proxy = Proxy::start(&cfg);
        let mut s = tcp_connect(proxy.addr());
        let me = s.local_addr().unwrap().to_string();
        let req = request("OPTIONS", "TCP", &me, "no-cl").replace("Content-Length: 0\r\n", "");
        tcp_send(&mut s, req.as_bytes());
        let reply = read_message(&mut s, &mut Vec::new()).unwrap();
        assert!(reply.starts_with("SIP/2.0 400 "), "{reply}");
        assert!(closed_by_peer(&mut s));
        still_answers_tcp(&proxy);
    }
}

#[test]
fn tcp_accept_no_cl_takes_a_message_without_content_length_as_bodiless() {
    let proxy = Proxy::start(&format!("{CFG}tcp_accept_no_cl=yes\n"));
    let mut s = tcp_connect(proxy.addr());
    let me = s.local_addr().unwrap().to_string();
    let no_cl = |id: &str| request("OPTIONS", "TCP", &me, id).replace("Content-Length: 0\r\n", "");
    // Two in one write, then one with a Content-Length: each is framed on
    // its own and answered, on the same connection.
    let burst = format!(
        "{}{}{}",
        no_cl("no-cl-1"),
        no_cl("no-cl-2"),
        request("OPTIONS", "TCP", &me, "with-cl")
    );
    tcp_send(&mut s, burst.as_bytes());
    let mut pending = Vec::new();
    for id in ["no-cl-1", "no-cl-2", "with-cl"] {
        let reply = read_message(&mut s, &mut pending).unwrap();
        assert!(reply.starts_with("SIP/2.0 200 OK"), "{reply}");
        assert!(reply.contains(&format!("Call-ID: {id}\r\n")), "{reply}");
    }
}

#[test]
fn tcp_drops_are_counted() {
    let proxy = RpcProxy::start(CFG);
    assert_eq!(proxy.tcp_counter("malformed"), 0);

    // Malformed: garbage with an end of headers, so unframeable.
    let mut s = tcp_connect(proxy.addr());
    tcp_send(&mut s, b"\x00\x01garbage\xff\r\n\r\n");
    assert!(closed_by_peer(&mut s), "garbage stream left open");

    // Truncated: half a message, then the client closes its side. The
    // proxy closes its own once it has seen the end (and counted it).
    let mut s = tcp_connect(proxy.addr());
    let req = options("TCP", &s.local_addr().unwrap(), "half");
    tcp_send(&mut s, &req.as_bytes()[..req.len() / 2]);
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(closed_by_peer(&mut s), "half-closed stream left open");

    // Oversized: a header section that never ends.
    let mut s = tcp_connect(proxy.addr());
    let chunk = vec![b'a'; 16 * 1024];
    for _ in 0..8 {
        if std::io::Write::write_all(&mut s, &chunk).is_err() {
            break;
        }
    }
    assert!(closed_by_peer(&mut s), "oversized stream left open");

    // Oversized: a Content-Length beyond the limit (answered with 400).
    let mut s = tcp_connect(proxy.addr());
    let me = s.local_addr().unwrap().to_string();
    let huge = request("OPTIONS", "TCP", &me, "huge")
        .replace("Content-Length: 0", "Content-Length: 10000000");
    tcp_send(&mut s, huge.as_bytes());
    assert!(closed_by_peer(&mut s), "stream with a huge body left open");

    // A whole message then a clean close is neither.
    let mut s = tcp_connect(proxy.addr());
    let req = options("TCP", &s.local_addr().unwrap(), "whole");
    tcp_send(&mut s, req.as_bytes());
    assert!(read_message(&mut s, &mut Vec::new()).is_some());
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(closed_by_peer(&mut s), "half-closed stream left open");

    assert_eq!(proxy.tcp_counter("malformed"), 4);
    assert_eq!(proxy.tcp_counter("dropped"), 4);
    assert_eq!(proxy.tcp_counter("received"), 1);
    assert_eq!(proxy.counter("core", "malformed"), 4);
}

#[test]
fn bad_tcp_streams_are_closed_and_the_listener_lives() {
    let mut proxy = Proxy::start(CFG);
    // Garbage with an end of headers: unframeable, closed.
    let mut s = tcp_connect(proxy.addr());
    tcp_send(&mut s, b"\x00\x01garbage\xff\r\n\r\n");
    assert!(closed_by_peer(&mut s), "garbage stream left open");

    // Oversized: headers that never end.
    let mut s = tcp_connect(proxy.addr());
    let chunk = vec![b'a'; 16 * 1024];
    for _ in 0..8 {
        // The proxy may close mid-way; later writes then fail, which is fine.
        if std::io::Write::write_all(&mut s, &chunk).is_err() {
            break;
        }
    }
    assert!(closed_by_peer(&mut s), "oversized stream left open");

    // Oversized: a Content-Length far beyond the limit.
    let mut s = tcp_connect(proxy.addr());
    let me = s.local_addr().unwrap().to_string();
    let huge = request("OPTIONS", "TCP", &me, "huge")
        .replace("Content-Length: 0", "Content-Length: 10000000");
    tcp_send(&mut s, huge.as_bytes());
    for _ in 0..8 {
        if std::io::Write::write_all(&mut s, &chunk).is_err() {
            break;
        }
    }
    assert!(closed_by_peer(&mut s), "stream with a huge body left open");

    // Truncated: half a message, then the client goes away.
    let mut s = tcp_connect(proxy.addr());
    let req = options("TCP", &s.local_addr().unwrap(), "half");
    tcp_send(&mut s, &req.as_bytes()[..req.len() / 2]);
    drop(s);

    // Many connections opened and dropped at once.
    let conns: Vec<_> = (0..50).map(|_| tcp_connect(proxy.addr())).collect();
    drop(conns);

    proxy.assert_alive();
    still_answers_tcp(&proxy);
    still_answers_udp(&proxy);
}

#[test]
fn idle_tcp_connections_are_closed() {
    let cfg = format!("{CFG}tcp_connection_lifetime=1\n");
    let proxy = Proxy::start(&cfg);
    let mut s = tcp_connect(proxy.addr());
    let req = options("TCP", &s.local_addr().unwrap(), "idle");
    tcp_send(&mut s, req.as_bytes());
    assert!(read_message(&mut s, &mut Vec::new()).is_some());
    assert!(closed_by_peer(&mut s), "idle connection not closed");
}

#[test]
fn ipv6_listeners() {
    if !has_ipv6() {
        eprintln!("skipped: no IPv6 loopback here");
        return;
    }
    let cfg = format!("{CFG}listen=[::1]:PORT\n");
    let proxy = Proxy::start(&cfg);
    let addr: SocketAddr = format!("[::1]:{}", proxy.port).parse().unwrap();
    let sock = udp_socket(addr);
    let me = sock.local_addr().unwrap();
    let reply = udp_exchange(
        &sock,
        addr,
        options("UDP", &me, "v6").as_bytes(),
        Duration::from_secs(5),
    )
    .unwrap();
    assert!(reply.starts_with("SIP/2.0 200 OK"), "{reply}");
    let via = top_via(&reply);
    assert!(via.contains(&format!("rport={}", me.port())), "{via}");

    let mut s = tcp_connect(addr);
    let me = s.local_addr().unwrap();
    tcp_send(
        &mut s,
        request("OPTIONS", "TCP", "[2001:db8::1]:5060", "v6tcp").as_bytes(),
    );
    let reply = read_message(&mut s, &mut Vec::new()).unwrap();
    let via = top_via(&reply);
    assert!(
        via.contains("received=::1") || via.contains("received=[::1]"),
        "{via}"
    );
    assert!(via.contains(&format!("rport={}", me.port())), "{via}");
}

#[test]
fn disable_tcp_listens_on_udp_only() {
    let cfg = format!("{CFG}disable_tcp=yes\n");
    let proxy = Proxy::start(&cfg);
    assert!(std::net::TcpStream::connect_timeout(&proxy.addr(), Duration::from_secs(2)).is_err());
}

#[test]
fn sigterm_stops_cleanly_with_status_0() {
    let mut proxy = Proxy::start(CFG);
    // An open connection must not keep the process alive.
    let _conn = tcp_connect(proxy.addr());
    let status = proxy.terminate();
    assert_eq!(status.code(), Some(0), "log:\n{}", proxy.log());
    assert!(proxy.log().contains("stopping"), "{}", proxy.log());
}

#[test]
fn tcp_max_connections_is_enforced() {
    let cfg = format!("{CFG}tcp_max_connections=2\n");
    let proxy = Proxy::start(&cfg);
    let mut open = Vec::new();
    for i in 0..2 {
        let mut s = tcp_connect(proxy.addr());
        let req = options("TCP", &s.local_addr().unwrap(), &format!("max{i}"));
        tcp_send(&mut s, req.as_bytes());
        assert!(read_message(&mut s, &mut Vec::new()).is_some());
        open.push(s);
    }
    let mut third = tcp_connect(proxy.addr());
    assert!(closed_by_peer(&mut third), "third connection accepted");
    drop(open);
    // Once the proxy has seen the two close, connections are accepted again.
    let start = std::time::Instant::now();
    loop {
        let mut s = tcp_connect(proxy.addr());
        let req = options("TCP", &s.local_addr().unwrap(), "max-again");
        tcp_send(&mut s, req.as_bytes());
        if read_message(&mut s, &mut Vec::new()).is_some() {
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "no connection accepted after closing"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Routing for the connection option tests: the Request-URI's user picks
/// what the script does before sending.
const FLAGS_SCRIPT: &str = r#"
function ksr_request_route()
  local case = KSR.pv.get("$rU") or ""
  if case == "proxy" then
    KSR.sl.send_reply(200, "OK")
  elseif case == "fwdclose" then
    KSR.set_forward_close()
    KSR.forward()
  elseif case == "fwdnc" then
    KSR.set_forward_no_connect()
    if KSR.forward() > 0 then
      KSR.sl.send_reply(202, "Sent")
    else
      KSR.sl.send_reply(503, "No Connection")
    end
  elseif case == "replyclose" then
    KSR.set_reply_close()
    KSR.sl.send_reply(200, "OK")
  elseif case == "alias" then
    if KSR.add_tcp_alias_via() ~= 1 then
      KSR.sl.send_reply(500, "No Alias")
      return
    end
    KSR.forward()
  elseif case == "tmnc" then
    KSR.set_forward_no_connect()
    KSR.tm.t_relay()
  elseif case == "tmclose" then
    KSR.set_forward_close()
    KSR.set_reply_close()
    KSR.tm.t_relay()
  else
    KSR.forward()
  end
end

function ksr_reply_route()
  if string.sub(KSR.pv.get("$ci") or "", 1, 2) == "nc" then
    KSR.set_reply_no_connect()
  end
end
"#;

/// A proxy (one worker of each kind) routed by [`FLAGS_SCRIPT`].
fn flags_proxy() -> Proxy {
    let dir = tempfile::tempdir().unwrap();
    let script = cfg_path(dir.path(), "flags.lua", FLAGS_SCRIPT);
    let cfg = format!(
        "{}tcp_children=1\nloadmodule \"sl.so\"\nloadmodule \"tm.so\"\n\
         loadmodule \"app_lua.so\"\nmodparam(\"app_lua\", \"load\", \"{}\")\n\
         cfgengine \"lua\"\n",
        CFG.replace("children=2", "children=1"),
        script.display()
    );
    let proxy = Proxy::spawn_in(dir, &cfg, &[]);
    proxy.wait_udp(proxy.addr());
    proxy
}

/// An OPTIONS over TCP for `case` (the R-URI user) to the UAS at `uas`,
/// whose Via names `sent_by` (without rport: replies go there).
fn tcp_request(case: &str, call_id: &str, sent_by: SocketAddr, uas: SocketAddr) -> String {
    format!(
        "OPTIONS sip:{case}@{uas};transport=tcp SIP/2.0\r\n\
         Via: SIP/2.0/TCP {sent_by};branch=z9hG4bK-{call_id}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:test@example.com>;tag=t-{call_id}\r\n\
         To: <sip:{case}@example.org>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// A 200 to `request`, as a UAS sends it: its Vias, From, To (tagged),
/// Call-ID and CSeq.
fn ok_to(request: &str) -> String {
    let mut out = String::from("SIP/2.0 200 OK\r\n");
    for line in request.lines() {
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        match name.as_str() {
            "via" | "from" | "call-id" | "cseq" => out.push_str(&format!("{line}\r\n")),
            "to" => out.push_str(&format!("{line};tag=uas\r\n")),
            _ => {}
        }
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out
}

fn call_id(msg: &str) -> &str {
    msg.lines()
        .find_map(|l| l.strip_prefix("Call-ID: "))
        .unwrap_or("")
}

/// A listener on the loopback standing for a UAS or a client's own port.
fn listener() -> (std::net::TcpListener, SocketAddr) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let addr = l.local_addr().unwrap();
    (l, addr)
}

/// The next connection to `l`; fails the test after [`DEADLINE`].
fn accept(l: &std::net::TcpListener) -> std::net::TcpStream {
    let start = std::time::Instant::now();
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                return s;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(start.elapsed() < DEADLINE, "no connection came");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

#[test]
fn forward_close_and_no_connect_over_tcp() {
    let proxy = flags_proxy();
    let (uas, uas_addr) = listener();
    let mut c = tcp_connect(proxy.addr());
    let me = c.local_addr().unwrap();
    let mut from_proxy = Vec::new();

    // No connection to the UAS yet: no-connect refuses to open one.
    tcp_send(
        &mut c,
        tcp_request("fwdnc", "fwdnc-1", me, uas_addr).as_bytes(),
    );
    let reply = read_message(&mut c, &mut from_proxy).unwrap();
    assert!(reply.starts_with("SIP/2.0 503 No Connection"), "{reply}");

    // A plain forward opens one; the first thing on it is that request.
    tcp_send(&mut c, tcp_request("fwd", "fwd-1", me, uas_addr).as_bytes());
    let mut a = accept(&uas);
    let mut at_uas = Vec::new();
    let req = read_message(&mut a, &mut at_uas).unwrap();
    assert_eq!(call_id(&req), "fwd-1", "{req}");

    // Now no-connect sends over it.
    tcp_send(
        &mut c,
        tcp_request("fwdnc", "fwdnc-2", me, uas_addr).as_bytes(),
    );
    let reply = read_message(&mut c, &mut from_proxy).unwrap();
    assert!(reply.starts_with("SIP/2.0 202 Sent"), "{reply}");
    let req = read_message(&mut a, &mut at_uas).unwrap();
    assert_eq!(call_id(&req), "fwdnc-2", "{req}");

    // Close-after-send: the request, then the end of the connection.
    tcp_send(
        &mut c,
        tcp_request("fwdclose", "fwdclose-1", me, uas_addr).as_bytes(),
    );
    let req = read_message(&mut a, &mut at_uas).unwrap();
    assert_eq!(call_id(&req), "fwdclose-1", "{req}");
    assert!(
        closed_by_peer(&mut a),
        "connection left open after set_forward_close"
    );

    // The next forward opens a new connection.
    tcp_send(&mut c, tcp_request("fwd", "fwd-2", me, uas_addr).as_bytes());
    let mut b = accept(&uas);
    let req = read_message(&mut b, &mut Vec::new()).unwrap();
    assert_eq!(call_id(&req), "fwd-2", "{req}");
}

#[test]
fn reply_close_no_connect_and_tcp_alias() {
    let proxy = flags_proxy();
    let (uas, uas_addr) = listener();
    // Where the client says replies go (its Via sent-by).
    let (home, home_addr) = listener();

    // Reply no-connect: the relayed 200 has no connection to go on.
    let mut c1 = tcp_connect(proxy.addr());
    tcp_send(
        &mut c1,
        tcp_request("nc", "nc-1", home_addr, uas_addr).as_bytes(),
    );
    let mut a = accept(&uas);
    let mut at_uas = Vec::new();
    let req = read_message(&mut a, &mut at_uas).unwrap();
    assert_eq!(call_id(&req), "nc-1", "{req}");
    tcp_send(&mut a, ok_to(&req).as_bytes());
    // Without it, the proxy connects to the sent-by: the first reply
    // there is this one, not the one before.
    tcp_send(
        &mut c1,
        tcp_request("plain", "plain-1", home_addr, uas_addr).as_bytes(),
    );
    let req = read_message(&mut a, &mut at_uas).unwrap();
    assert_eq!(call_id(&req), "plain-1", "{req}");
    tcp_send(&mut a, ok_to(&req).as_bytes());
    let mut h = accept(&home);
    let reply = read_message(&mut h, &mut Vec::new()).unwrap();
    assert!(reply.starts_with("SIP/2.0 200 OK"), "{reply}");
    assert_eq!(call_id(&reply), "plain-1", "{reply}");

    // An alias for the Via's port: the reply comes back on the client's
    // own connection instead of a new one to the sent-by.
    let (_home2, home2_addr) = listener();
    let mut c2 = tcp_connect(proxy.addr());
    tcp_send(
        &mut c2,
        tcp_request("alias", "alias-1", home2_addr, uas_addr).as_bytes(),
    );
    let req = read_message(&mut a, &mut at_uas).unwrap();
    assert_eq!(call_id(&req), "alias-1", "{req}");
    tcp_send(&mut a, ok_to(&req).as_bytes());
    let reply = read_message(&mut c2, &mut Vec::new()).unwrap();
    assert!(reply.starts_with("SIP/2.0 200 OK"), "{reply}");
    assert_eq!(call_id(&reply), "alias-1", "{reply}");

    // Reply close: the reply, then the end of the connection.
    let mut c3 = tcp_connect(proxy.addr());
    let me = c3.local_addr().unwrap();
    tcp_send(
        &mut c3,
        tcp_request("replyclose", "rc-1", me, uas_addr).as_bytes(),
    );
    let reply = read_message(&mut c3, &mut Vec::new()).unwrap();
    assert!(reply.starts_with("SIP/2.0 200 OK"), "{reply}");
    assert!(
        closed_by_peer(&mut c3),
        "connection left open after set_reply_close"
    );
}

#[test]
fn tm_relay_honours_the_connection_options() {
    let proxy = flags_proxy();
    let (uas, uas_addr) = listener();
    let mut c = tcp_connect(proxy.addr());
    let me = c.local_addr().unwrap();
    let mut from_proxy = Vec::new();

    // No connection to the UAS and no-connect: the branch fails, the
    // transaction answers with a 5xx.
    tcp_send(
        &mut c,
        tcp_request("tmnc", "tmnc-1", me, uas_addr).as_bytes(),
    );
    let reply = read_message(&mut c, &mut from_proxy).unwrap();
    assert!(reply.starts_with("SIP/2.0 5"), "{reply}");
    assert_eq!(call_id(&reply), "tmnc-1", "{reply}");

    // Forward close: the UAS gets the request, then the end of the
    // connection, and answers on a connection of its own to the proxy's
    // Via; reply close: the client gets the 200, then the end.
    tcp_send(
        &mut c,
        tcp_request("tmclose", "tmclose-1", me, uas_addr).as_bytes(),
    );
    let mut a = accept(&uas);
    let req = read_message(&mut a, &mut Vec::new()).unwrap();
    assert_eq!(call_id(&req), "tmclose-1", "{req}");
    assert!(closed_by_peer(&mut a), "branch connection left open");
    let mut d = tcp_connect(proxy.addr());
    tcp_send(&mut d, ok_to(&req).as_bytes());
    let reply = read_message(&mut c, &mut from_proxy).unwrap();
    assert!(reply.starts_with("SIP/2.0 200 OK"), "{reply}");
    assert_eq!(call_id(&reply), "tmclose-1", "{reply}");
    assert!(closed_by_peer(&mut c), "client connection left open");
}
