//! The real binary routed by Lua scripts: replies sent by the script over
//! UDP and TCP, script errors logged once and counted while the worker
//! goes on, replies relayed statelessly, and scripts that do not load
//! refused by `-c` and at start.

mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

const STATELESS: &str = include_str!("lua/stateless.lua");

/// The modules the stateless script needs (sl, maxfwd), when compiled in.
fn loadmodules() -> String {
    ["sl", "maxfwd"]
        .iter()
        .filter(|m| kemi_proxy::module_table::find(m).is_some())
        .map(|m| format!("loadmodule \"{m}.so\"\n"))
        .collect()
}

/// Tests that need the script to send replies run once `sl` and `maxfwd`
/// are compiled in.
fn can_reply() -> bool {
    let ok = ["sl", "maxfwd"]
        .iter()
        .all(|m| kemi_proxy::module_table::find(m).is_some());
    if !ok {
        eprintln!("skipped: the sl and maxfwd modules are not compiled in");
    }
    ok
}

/// Starts the proxy with `script` as its Lua routing script, `cfg_extra`
/// appended to a config listening on `PORT` (UDP and TCP).
fn spawn_lua(script: &str, cfg_extra: &str, args: &[&str]) -> Proxy {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port("127.0.0.1");
    let script_path = cfg_path(dir.path(), "route.lua", script);
    let cfg = format!(
        "debug=3\nchildren=1\ntcp_children=1\n\
         listen=udp:127.0.0.1:{port}\nlisten=tcp:127.0.0.1:{port}\n\
         {}loadmodule \"app_lua.so\"\n\
         modparam(\"app_lua\", \"load\", \"{}\")\n{cfg_extra}\ncfgengine \"lua\"\n",
        loadmodules(),
        script_path.display()
    );
    let cfg = cfg_path(dir.path(), "kamailio.cfg", &cfg);
    let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
    let child = Command::new(BIN)
        .arg("-f")
        .arg(&cfg)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    Proxy { child, dir, port }
}

fn start_lua(script: &str) -> Proxy {
    let proxy = spawn_lua(script, "", &[]);
    proxy.wait_udp(proxy.addr());
    proxy
}

#[test]
fn script_answers_over_udp_and_tcp() {
    if !can_reply() {
        return;
    }
    let mut proxy = start_lua(STATELESS);
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap();

    let invite = request("INVITE", "UDP", &me.to_string(), "inv-1");
    let reply = udp_exchange(
        &sock,
        proxy.addr(),
        invite.as_bytes(),
        Duration::from_secs(5),
    )
    .expect("no reply to INVITE");
    assert!(reply.starts_with("SIP/2.0 404 Not Found\r\n"), "{reply}");
    assert!(reply.contains("Call-ID: inv-1\r\n"), "{reply}");

    let mut mf0 = request("OPTIONS", "UDP", &me.to_string(), "mf-0");
    mf0 = mf0.replace("Max-Forwards: 70", "Max-Forwards: 0");
    let reply = udp_exchange(&sock, proxy.addr(), mf0.as_bytes(), Duration::from_secs(5))
        .expect("no reply to Max-Forwards 0");
    assert!(reply.starts_with("SIP/2.0 483 "), "{reply}");

    // An ACK is absorbed: nothing comes back.
    let ack = request("ACK", "UDP", &me.to_string(), "ack-1");
    assert_eq!(
        udp_exchange(
            &sock,
            proxy.addr(),
            ack.as_bytes(),
            Duration::from_millis(300)
        ),
        None
    );

    let mut tcp = tcp_connect(proxy.addr());
    let local = tcp.local_addr().unwrap();
    tcp_send(&mut tcp, options("TCP", &local, "tcp-1").as_bytes());
    let mut pending = Vec::new();
    let reply = read_message(&mut tcp, &mut pending).expect("no reply over TCP");
    assert!(reply.starts_with("SIP/2.0 200 OK\r\n"), "{reply}");
    proxy.assert_alive();
}

#[test]
fn script_error_is_logged_once_counted_and_the_worker_goes_on() {
    if !can_reply() {
        return;
    }
    let mut proxy = start_lua(STATELESS);
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap().to_string();
    // The crash is asked for by a header, so requests of any method
    // without it (INFO included) are routed normally.
    let crash = request("OPTIONS", "UDP", &me, "crash-call-1").replace(
        "Max-Forwards: 70\r\n",
        "Max-Forwards: 70\r\nX-Crash: yes\r\n",
    );
    assert_eq!(
        udp_exchange(
            &sock,
            proxy.addr(),
            crash.as_bytes(),
            Duration::from_millis(500)
        ),
        None,
        "a request whose script failed got a reply"
    );
    for i in 0..5 {
        let req = options("UDP", &sock.local_addr().unwrap(), &format!("after-{i}"));
        let reply = udp_exchange(&sock, proxy.addr(), req.as_bytes(), Duration::from_secs(5))
            .expect("no reply after a script error");
        assert!(reply.starts_with("SIP/2.0 200 OK\r\n"), "{reply}");
    }
    let info = request("INFO", "UDP", &me, "plain-info-1");
    let reply = udp_exchange(&sock, proxy.addr(), info.as_bytes(), Duration::from_secs(5))
        .expect("no reply to a plain INFO");
    assert!(reply.starts_with("SIP/2.0 404 Not Found\r\n"), "{reply}");
    assert!(proxy.terminate().success());
    let log = proxy.log();
    assert_eq!(
        log.matches("crash requested by the test").count(),
        1,
        "the error is logged once:\n{log}"
    );
    let line = log
        .lines()
        .find(|l| l.contains("crash requested by the test"))
        .unwrap();
    assert!(line.contains("OPTIONS"), "{line}");
    assert!(line.contains("crash-call-1"), "{line}");
    assert!(
        log.contains("stack traceback"),
        "Lua traceback missing:\n{log}"
    );
    assert!(log.contains("script errors 1"), "not counted:\n{log}");
}

#[test]
fn replies_are_relayed_statelessly_after_the_reply_route() {
    if !can_reply() {
        return;
    }
    let script = format!(
        "{STATELESS}\nfunction ksr_reply_route()\n    KSR.info(\"reply route ran\\n\")\nend\n"
    );
    let mut proxy = start_lua(&script);
    let proxy_addr = proxy.addr();
    let client = udp_socket(proxy_addr);
    let client_addr = client.local_addr().unwrap();
    let peer = udp_socket(proxy_addr);
    // A reply as the next hop would send it: our Via on top, the
    // client's below.
    let reply = format!(
        "SIP/2.0 486 Busy Here\r\n\
         Via: SIP/2.0/UDP {proxy_addr};branch=z9hG4bK-ours\r\n\
         Via: SIP/2.0/UDP {client_addr};branch=z9hG4bK-client;rport\r\n\
         From: <sip:a@example.com>;tag=a\r\n\
         To: <sip:b@example.com>;tag=b\r\n\
         Call-ID: relay-1\r\n\
         CSeq: 1 INVITE\r\n\
         Content-Length: 0\r\n\r\n"
    );
    peer.send_to(reply.as_bytes(), proxy_addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = vec![0u8; 65536];
    let (n, from): (usize, SocketAddr) = client.recv_from(&mut buf).expect("reply not relayed");
    let relayed = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert_eq!(from, proxy_addr);
    assert!(
        relayed.starts_with("SIP/2.0 486 Busy Here\r\n"),
        "{relayed}"
    );
    assert!(
        !relayed.contains("z9hG4bK-ours"),
        "our Via stayed:\n{relayed}"
    );
    assert!(relayed.contains("z9hG4bK-client"), "{relayed}");
    proxy.assert_alive();
    assert!(proxy.terminate().success());
    assert!(proxy.log().contains("reply route ran"), "{}", proxy.log());
}

/// `-c` and a normal start both refuse a script that does not load.
fn assert_refused(script: &str, expect: &[&str]) {
    for args in [&["-c"][..], &[][..]] {
        let mut proxy = spawn_lua(script, "", args);
        let status = wait_exit(&mut proxy.child);
        let log = proxy.log();
        assert!(!status.success(), "{args:?} accepted a bad script:\n{log}");
        for e in expect {
            assert!(log.contains(e), "{args:?}: `{e}` not in:\n{log}");
        }
    }
}

#[test]
fn syntax_error_refused_with_file_and_line() {
    assert_refused(
        "function ksr_request_route()\n  if then\nend\n",
        &["route.lua:2", "error loading Lua script"],
    );
}

#[test]
fn missing_request_route_refused() {
    assert_refused("function something_else() end\n", &["ksr_request_route"]);
}

#[test]
fn error_while_loading_refused() {
    assert_refused("error('broken at load')\n", &["broken at load"]);
}

#[test]
fn renamed_request_callback_is_used() {
    if !can_reply() {
        return;
    }
    let script = STATELESS.replace("function ksr_request_route", "function my_route");
    let mut proxy = spawn_lua(&script, "kemi.request_route_callback=\"my_route\"", &[]);
    proxy.wait_udp(proxy.addr());
    proxy.assert_alive();
}

#[test]
fn check_accepts_a_good_script() {
    if !can_reply() {
        return;
    }
    let mut proxy = spawn_lua(STATELESS, "", &["-c"]);
    let status = wait_exit(&mut proxy.child);
    assert!(status.success(), "{}", proxy.log());
}
