//! The real `kemi-proxy` binary on real loopback sockets: well-formed,
//! malformed, truncated and oversized datagrams and streams; afterwards the
//! proxy must still answer.

mod common;

use std::net::SocketAddr;
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
    let mut proxy = Proxy::start(CFG);
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
    // with a huge header.
    junk.push(vec![b'x'; 65_000]);
    let big = good.replace(
        "Max-Forwards: 70\r\n",
        &format!("X-Big: {}\r\n", "y".repeat(64_000)),
    );
    junk.push(big.into_bytes());
    for j in &junk {
        // Whatever comes back (400 at most), the proxy must not die.
        if let Some(reply) = udp_exchange(&sock, proxy.addr(), j, Duration::from_millis(200)) {
            assert!(
                reply.starts_with("SIP/2.0 400") || reply.starts_with("SIP/2.0 200"),
                "{reply}"
            );
        }
    }
    // A request without a Via cannot be answered: silence.
    let no_via: String = good
        .lines()
        .filter(|l| !l.starts_with("Via:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    assert_eq!(
        udp_exchange(
            &sock,
            proxy.addr(),
            no_via.as_bytes(),
            Duration::from_millis(300)
        ),
        None
    );
    proxy.assert_alive();
    still_answers_udp(&proxy);
    still_answers_tcp(&proxy);
    // The drops were counted (the totals are logged at debug on shutdown).
    assert_eq!(proxy.terminate().code(), Some(0));
    let log = proxy.log();
    let total = log
        .lines()
        .find(|l| l.contains("total: received"))
        .unwrap_or_default();
    let malformed: u64 = total
        .rsplit("malformed ")
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(malformed >= 10, "malformed not counted: {total:?}\n{log}");
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
    let proxy = Proxy::start(CFG);
    let mut s = tcp_connect(proxy.addr());
    let me = s.local_addr().unwrap().to_string();
    let req = request("OPTIONS", "TCP", &me, "no-cl").replace("Content-Length: 0\r\n", "");
    tcp_send(&mut s, req.as_bytes());
    let reply = read_message(&mut s, &mut Vec::new()).unwrap();
    assert!(reply.starts_with("SIP/2.0 400 "), "{reply}");
    assert!(closed_by_peer(&mut s));
    still_answers_tcp(&proxy);
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
