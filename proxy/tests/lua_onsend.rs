//! The real binary with a Lua script's onsend route (`ksr_onsend_route`):
//! requests the script forwards pass through it before they leave, and
//! a drop there keeps them from being sent; the core event callback
//! (`kemi.event_route_callback`) runs `core:worker-one-init` once.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Starts the proxy (UDP only, `children` workers) with `script`, which
/// answers OPTIONS with Call-ID `ready` itself (for `wait_udp`), and
/// `cfg_extra` in the config.
fn start(script: &str, cfg_extra: &str, children: u32) -> Option<Proxy> {
    if kemi_proxy::module_table::find("sl").is_none() {
        eprintln!("skipped: the sl module is not compiled in");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port("127.0.0.1");
    let ready = "function ksr_ready()\n\
                 \x20   if KSR.pv.get(\"$ci\") == \"ready\" then\n\
                 \x20       KSR.sl.send_reply(200, \"OK\")\n\
                 \x20       return true\n\
                 \x20   end\n\
                 \x20   return false\n\
                 end\n";
    let script_path = cfg_path(dir.path(), "route.lua", &format!("{ready}{script}"));
    let cfg = format!(
        "debug=3\nchildren={children}\ndisable_tcp=yes\n\
         listen=udp:127.0.0.1:{port}\n\
         loadmodule \"sl.so\"\nloadmodule \"app_lua.so\"\n\
         modparam(\"app_lua\", \"load\", \"{}\")\n{cfg_extra}\ncfgengine \"lua\"\n",
        script_path.display()
    );
    let cfg = cfg_path(dir.path(), "kamailio.cfg", &cfg);
    let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
    let child = Command::new(BIN)
        .arg("-f")
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let proxy = Proxy { child, dir, port };
    proxy.wait_udp(proxy.addr());
    Some(proxy)
}

/// A socket standing in for a next hop.
fn next_hop() -> (UdpSocket, SocketAddr) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    let addr = sock.local_addr().unwrap();
    (sock, addr)
}

/// The next datagram on `sock`, waiting at most [`DEADLINE`].
fn recv(sock: &UdpSocket, proxy: &Proxy) -> String {
    let mut buf = vec![0u8; 65536];
    let (n, _) = sock
        .recv_from(&mut buf)
        .unwrap_or_else(|e| panic!("nothing forwarded ({e}); log:\n{}", proxy.log()));
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn call_id(msg: &str) -> &str {
    msg.lines()
        .find_map(|l| l.strip_prefix("Call-ID: "))
        .unwrap_or_default()
}

/// Polls the proxy's log until `pred` holds, at most [`DEADLINE`].
fn wait_log(proxy: &Proxy, pred: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let log = proxy.log();
        if pred(&log) || start.elapsed() > DEADLINE {
            return log;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn onsend_route_drops_requests_to_one_destination() {
    let (a, a_addr) = next_hop();
    let (b, b_addr) = next_hop();
    // Every MESSAGE goes to A and then to B; the onsend route drops the
    // copy for A unless the Call-ID starts with "pass".
    let script = format!(
        "function ksr_request_route()\n\
         \x20   if ksr_ready() then return end\n\
         \x20   KSR.pv.sets(\"$du\", \"sip:{a_addr}\")\n\
         \x20   KSR.forward()\n\
         \x20   KSR.pv.sets(\"$du\", \"sip:{b_addr}\")\n\
         \x20   KSR.forward()\n\
         end\n\
         function ksr_onsend_route()\n\
         \x20   local ci = KSR.pv.get(\"$ci\")\n\
         \x20   if KSR.pv.get(\"$du\") == \"sip:{a_addr}\" and ci:sub(1, 4) ~= \"pass\" then\n\
         \x20       KSR.info(\"onsend dropping \" .. ci .. \"\\n\")\n\
         \x20       KSR.set_drop()\n\
         \x20   end\n\
         end\n"
    );
    let Some(mut proxy) = start(&script, "", 1) else {
        return;
    };
    let client = udp_socket(proxy.addr());
    let me = client.local_addr().unwrap().to_string();

    for id in ["drop-1", "drop-2"] {
        let req = request("MESSAGE", "UDP", &me, id);
        client.send_to(req.as_bytes(), proxy.addr()).unwrap();
        let got = recv(&b, &proxy);
        assert_eq!(call_id(&got), id, "{got}");
        assert!(got.starts_with("MESSAGE sip:proxy@127.0.0.1 SIP/2.0\r\n"));
        // Our Via on top of the client's.
        let vias: Vec<&str> = got.lines().filter(|l| l.starts_with("Via: ")).collect();
        assert_eq!(vias.len(), 2, "{got}");
        assert!(vias[0].contains(&proxy.addr().to_string()), "{got}");
    }
    // One worker sends in order: the first thing A gets is the request
    // that was let through, so the dropped ones never went out.
    let req = request("MESSAGE", "UDP", &me, "pass-1");
    client.send_to(req.as_bytes(), proxy.addr()).unwrap();
    let got = recv(&a, &proxy);
    assert_eq!(call_id(&got), "pass-1", "A got a dropped request:\n{got}");
    assert_eq!(call_id(&recv(&b, &proxy)), "pass-1");

    proxy.assert_alive();
    assert!(proxy.terminate().success());
    let log = proxy.log();
    for id in ["drop-1", "drop-2"] {
        assert_eq!(
            log.matches(&format!("onsend dropping {id}\n")).count(),
            1,
            "{log}"
        );
    }
    assert!(!log.contains("onsend dropping pass-1"), "{log}");
}

#[test]
fn onsend_route_sees_du_and_ru_of_each_forward() {
    let (a, a_addr) = next_hop();
    let (b, b_addr) = next_hop();
    let script = format!(
        "function ksr_request_route()\n\
         \x20   if ksr_ready() then return end\n\
         \x20   KSR.seturi(\"sip:carol@example.net\")\n\
         \x20   KSR.pv.sets(\"$du\", \"sip:{a_addr}\")\n\
         \x20   KSR.forward()\n\
         \x20   KSR.seturi(\"sip:dave@example.org\")\n\
         \x20   KSR.pv.sets(\"$du\", \"sip:{b_addr};transport=udp\")\n\
         \x20   KSR.forward()\n\
         \x20   KSR.pv.sets(\"$du\", \"sip:after@192.0.2.1\")\n\
         end\n\
         function ksr_onsend_route()\n\
         \x20   KSR.info(\"onsend du=\" .. tostring(KSR.pv.get(\"$du\")) ..\n\
         \x20       \" ru=\" .. tostring(KSR.pv.get(\"$ru\")) .. \"\\n\")\n\
         \x20   KSR.x.exit()\n\
         end\n"
    );
    let Some(mut proxy) = start(&script, "", 1) else {
        return;
    };
    let client = udp_socket(proxy.addr());
    let me = client.local_addr().unwrap().to_string();
    let req = request("MESSAGE", "UDP", &me, "log-1");
    client.send_to(req.as_bytes(), proxy.addr()).unwrap();
    let to_a = recv(&a, &proxy);
    assert!(
        to_a.starts_with("MESSAGE sip:carol@example.net SIP/2.0\r\n"),
        "{to_a}"
    );
    let to_b = recv(&b, &proxy);
    assert!(
        to_b.starts_with("MESSAGE sip:dave@example.org SIP/2.0\r\n"),
        "{to_b}"
    );

    let first = format!("onsend du=sip:{a_addr} ru=sip:carol@example.net\n");
    let second = format!("onsend du=sip:{b_addr};transport=udp ru=sip:dave@example.org\n");
    let log = wait_log(&proxy, |l| l.contains(&second));
    let (i, j) = (log.find(&first), log.find(&second));
    assert!(i.is_some() && j.is_some() && i < j, "{log}");
    assert_eq!(log.matches("onsend du=").count(), 2, "{log}");
    proxy.assert_alive();
}

#[test]
fn onsend_route_for_replies_only_with_onsend_route_reply() {
    let script = "function ksr_request_route()\n\
                  \x20   ksr_ready()\n\
                  end\n\
                  function ksr_onsend_route()\n\
                  \x20   if KSR.pv.get(\"$rs\") == 486 then KSR.x.drop() end\n\
                  end\n";
    let Some(mut proxy) = start(script, "onsend_route_reply=yes", 1) else {
        return;
    };
    let proxy_addr = proxy.addr();
    let client = udp_socket(proxy_addr);
    let client_addr = client.local_addr().unwrap();
    let peer = udp_socket(proxy_addr);
    let reply = |code: &str, id: &str| {
        format!(
            "SIP/2.0 {code}\r\n\
             Via: SIP/2.0/UDP {proxy_addr};branch=z9hG4bK-ours\r\n\
             Via: SIP/2.0/UDP {client_addr};branch=z9hG4bK-client;rport\r\n\
             From: <sip:a@example.com>;tag=a\r\n\
             To: <sip:b@example.com>;tag=b\r\n\
             Call-ID: {id}\r\n\
             CSeq: 1 INVITE\r\n\
             Content-Length: 0\r\n\r\n"
        )
    };
    peer.send_to(reply("486 Busy Here", "busy-1").as_bytes(), proxy_addr)
        .unwrap();
    peer.send_to(reply("404 Not Found", "nf-1").as_bytes(), proxy_addr)
        .unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut buf = vec![0u8; 65536];
    let (n, _) = client.recv_from(&mut buf).expect("reply not relayed");
    let relayed = String::from_utf8_lossy(&buf[..n]).into_owned();
    // The 486 was routed first by the one worker and dropped.
    assert!(
        relayed.starts_with("SIP/2.0 404 Not Found\r\n"),
        "{relayed}"
    );
    proxy.assert_alive();
}

#[test]
fn worker_one_init_event_runs_once_with_its_name() {
    let script = "function ksr_request_route()\n\
                  \x20   ksr_ready()\n\
                  end\n\
                  function ksr_event(evname)\n\
                  \x20   KSR.info(\"event callback ran: \" .. evname .. \"\\n\")\n\
                  end\n";
    let Some(mut proxy) = start(script, "kemi.event_route_callback=\"ksr_event\"", 2) else {
        return;
    };
    // Every worker built its engine before the proxy answered.
    assert!(proxy.terminate().success());
    let log = proxy.log();
    assert!(log.contains("serving with 2 workers"), "{log}");
    assert_eq!(
        log.matches("event callback ran: core:worker-one-init\n")
            .count(),
        1,
        "{log}"
    );
    assert_eq!(log.matches("event callback ran").count(), 1, "{log}");
}
