//! The bundled examples (examples/kamailio.cfg, examples/stateless/) pass
//! `-c` as shipped and behave as documented when run on a free port.

mod common;

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn compiled_in(modules: &[&str]) -> bool {
    let ok = modules
        .iter()
        .all(|m| kemi_proxy::module_table::find(m).is_some());
    if !ok {
        eprintln!("skipped: needs modules {modules:?} compiled in");
    }
    ok
}

fn check(cfg: &Path) {
    let out = Command::new(BIN)
        .arg("-c")
        .arg("-f")
        .arg(cfg)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        cfg.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a copy of an example whose 5060 listen is moved to a free port and
/// whose script is `script` (a copy, possibly edited).
fn run_copy(cfg: &Path, script: &str) -> Proxy {
    let text = std::fs::read_to_string(cfg).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port("127.0.0.1");
    let script_path = cfg_path(dir.path(), "kamailio.lua", script);
    let text = text
        .replace("127.0.0.1:5060", &format!("127.0.0.1:{port}"))
        .replace(
            "\"load\", \"kamailio.lua\"",
            &format!("\"load\", \"{}\"", script_path.display()),
        );
    let cfg = cfg_path(dir.path(), "kamailio.cfg", &text);
    let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
    let child = Command::new(BIN)
        .arg("-f")
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Proxy { child, dir, port }
}

#[test]
fn stateless_example_answers_as_documented() {
    if !compiled_in(&["sl", "maxfwd", "pv", "sanity", "xlog"]) {
        return;
    }
    let cfg = examples().join("stateless/kamailio.cfg");
    check(&cfg);
    let script = std::fs::read_to_string(examples().join("stateless/kamailio.lua")).unwrap();
    let mut proxy = run_copy(&cfg, &script);
    proxy.wait_udp(proxy.addr());
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap().to_string();
    let wait = Duration::from_secs(5);
    let reply = udp_exchange(
        &sock,
        proxy.addr(),
        request("INVITE", "UDP", &me, "x1").as_bytes(),
        wait,
    );
    assert!(reply.unwrap_or_default().starts_with("SIP/2.0 404 "));
    let mf0 = request("OPTIONS", "UDP", &me, "x2").replace("Max-Forwards: 70", "Max-Forwards: 0");
    let reply = udp_exchange(&sock, proxy.addr(), mf0.as_bytes(), wait);
    assert!(reply.unwrap_or_default().starts_with("SIP/2.0 483 "));
    let insane = request("OPTIONS", "UDP", &me, "x3").replace("CSeq: 1 OPTIONS", "CSeq: 1 BYE");
    let reply = udp_exchange(&sock, proxy.addr(), insane.as_bytes(), wait).unwrap_or_default();
    assert!(
        reply.starts_with("SIP/2.0 400 CSeq method does not match request method\r\n"),
        "{reply}"
    );
    proxy.assert_alive();
}

#[test]
fn main_example_relays_to_its_next_hop_and_back() {
    if !compiled_in(&["sl", "maxfwd", "sanity", "siputils", "corex", "xlog", "pv"]) {
        return;
    }
    let cfg = examples().join("kamailio.cfg");
    check(&cfg);
    // The next hop is a socket of this test instead of 127.0.0.1:5080.
    let uas = UdpSocket::bind("127.0.0.1:0").unwrap();
    uas.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let uas_addr = uas.local_addr().unwrap();
    let script = std::fs::read_to_string(examples().join("kamailio.lua"))
        .unwrap()
        .replace("sip:127.0.0.1:5080", &format!("sip:{uas_addr}"));
    let mut proxy = run_copy(&cfg, &script);
    let client = udp_socket(proxy.addr());
    let me = client.local_addr().unwrap().to_string();
    // The proxy answers nothing itself, so wait for it by relaying.
    let mut buf = vec![0u8; 65536];
    let mut relayed = None;
    for i in 0..50 {
        let req = request("OPTIONS", "UDP", &me, &format!("relay-{i}"));
        client.send_to(req.as_bytes(), proxy.addr()).unwrap();
        uas.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        if let Ok((n, from)) = uas.recv_from(&mut buf) {
            relayed = Some((String::from_utf8_lossy(&buf[..n]).into_owned(), from));
            break;
        }
    }
    let (req, from) = relayed.unwrap_or_else(|| panic!("nothing relayed:\n{}", proxy.log()));
    assert!(req.starts_with("OPTIONS "), "{req}");
    assert!(req.contains("Max-Forwards: 69"), "{req}");
    // Answer it as a UAS would: the proxy relays the reply to the client.
    let mut reply = String::from("SIP/2.0 200 OK\r\n");
    for line in req.lines().skip(1) {
        let l = line.to_ascii_lowercase();
        if ["via:", "from:", "to:", "call-id:", "cseq:"]
            .iter()
            .any(|h| l.starts_with(h))
        {
            reply.push_str(line);
            reply.push_str("\r\n");
        }
    }
    reply.push_str("Content-Length: 0\r\n\r\n");
    uas.send_to(reply.as_bytes(), from).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // Earlier relayed attempts may be answered by nobody; the one we
    // answered comes back.
    let (n, _) = client
        .recv_from(&mut buf)
        .unwrap_or_else(|e| panic!("reply not relayed back ({e}):\n{}", proxy.log()));
    let back = String::from_utf8_lossy(&buf[..n]);
    assert!(back.starts_with("SIP/2.0 200 OK"), "{back}");
    assert_eq!(back.matches("Via:").count(), 1, "{back}");
    proxy.assert_alive();
}

/// A request to the running main example: `edit` changes the default
/// OPTIONS; the reply, if any.
fn ask(proxy: &Proxy, call_id: &str, edit: impl Fn(String) -> String) -> String {
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap().to_string();
    let req = edit(request("OPTIONS", "UDP", &me, call_id));
    udp_exchange(&sock, proxy.addr(), req.as_bytes(), Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no reply to {call_id}; log:\n{}", proxy.log()))
}

#[test]
fn main_example_answers_its_initial_checks() {
    if !compiled_in(&["sl", "maxfwd", "sanity", "siputils", "corex", "xlog", "pv"]) {
        return;
    }
    let cfg = examples().join("kamailio.cfg");
    check(&cfg);
    let script = std::fs::read_to_string(examples().join("kamailio.lua")).unwrap();
    let mut proxy = run_copy(&cfg, &script);
    let port = proxy.port;
    // Keepalive OPTIONS to the proxy itself (no user): answered, which
    // also tells the proxy is up.
    let keepalive = move |r: String| {
        r.replace(
            "OPTIONS sip:proxy@127.0.0.1 ",
            &format!("OPTIONS sip:127.0.0.1:{port} "),
        )
        .replace(
            "Max-Forwards: 70\r\n",
            "Max-Forwards: 70\r\nUser-Agent: lua-examples-test\r\n",
        )
    };
    let start = std::time::Instant::now();
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap().to_string();
    let ready = loop {
        let req = keepalive(request("OPTIONS", "UDP", &me, "keepalive"));
        if let Some(r) = udp_exchange(
            &sock,
            proxy.addr(),
            req.as_bytes(),
            Duration::from_millis(200),
        ) {
            break r;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "never answered:\n{}",
            proxy.log()
        );
    };
    assert!(ready.starts_with("SIP/2.0 200 Keepalive\r\n"), "{ready}");
    // Out of hops: 483.
    let reply = ask(&proxy, "hops", |r| {
        r.replace("Max-Forwards: 70", "Max-Forwards: 0")
    });
    assert!(
        reply.starts_with("SIP/2.0 483 Too Many Hops\r\n"),
        "{reply}"
    );
    // Malformed (CSeq method is not the request's): sanity's 400.
    let reply = ask(&proxy, "insane", |r| {
        r.replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE")
    });
    assert!(
        reply.starts_with("SIP/2.0 400 CSeq method does not match request method\r\n"),
        "{reply}"
    );
    // The logging: KSR.info for every request, xlog with pseudo-variables.
    let start = std::time::Instant::now();
    loop {
        let log = proxy.log();
        if log.contains("===== request - from kamailio lua script")
            && log.contains("OPTIONS from 127.0.0.1:")
            && log.contains("by lua-examples-test")
            && log.contains("malformed SIP request from 127.0.0.1:")
        {
            break;
        }
        assert!(start.elapsed() < DEADLINE, "log lines missing:\n{log}");
        std::thread::sleep(Duration::from_millis(20));
    }
    proxy.assert_alive();
}
