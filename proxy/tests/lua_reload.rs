//! Hot reload of the Lua routing script in the real binary: the script
//! file is rewritten, `kemi-proxy rpc app_lua.reload` is run, and every
//! worker answers with the new code; a script that does not compile is
//! reported in the log while the previous code keeps answering.

mod common;

use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::Instant;

use common::*;

/// The routing script answering OPTIONS with 200 and `reason`.
fn script(reason: &str) -> String {
    format!(
        "function ksr_request_route()\n\
         \x20   if KSR.is_OPTIONS() then\n\
         \x20       KSR.sl.send_reply(200, \"{reason}\")\n\
         \x20       return\n\
         \x20   end\n\
         \x20   KSR.sl.send_reply(404, \"Not Found\")\n\
         end\n"
    )
}

fn compiled_in() -> bool {
    let ok = ["sl", "app_lua", "jsonrpcs"]
        .iter()
        .all(|m| kemi_proxy::module_table::find(m).is_some());
    if !ok {
        eprintln!("skipped: needs sl, app_lua and jsonrpcs compiled in");
    }
    ok
}

/// One OPTIONS; its status line.
fn status(sock: &UdpSocket, proxy: &Proxy, n: usize) -> String {
    let me = sock.local_addr().unwrap();
    let req = options("UDP", &me, &format!("reload-{n}"));
    let reply = udp_exchange(sock, proxy.addr(), req.as_bytes(), DEADLINE)
        .unwrap_or_else(|| panic!("no reply to OPTIONS {n}; log:\n{}", proxy.log()));
    reply.lines().next().unwrap_or_default().to_string()
}

/// Sends OPTIONS, each answered with `want`, until the log holds
/// `workers` lines containing `marker` (every worker handled a message
/// after the reload), and at least `min` requests.
fn answers_until_logged(
    sock: &UdpSocket,
    proxy: &Proxy,
    want: &str,
    marker: &str,
    workers: usize,
    next: &mut usize,
) {
    let start = Instant::now();
    let first = *next;
    loop {
        let line = status(sock, proxy, *next);
        assert_eq!(line, want, "request {next}; log:\n{}", proxy.log());
        *next += 1;
        let done = proxy.log().matches(marker).count() >= workers;
        if done && *next - first >= 10 {
            return;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{marker:?} not logged by {workers} workers:\n{}",
            proxy.log()
        );
    }
}

#[test]
fn reload_swaps_the_script_in_every_worker_and_survives_a_bad_one() {
    if !compiled_in() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let route: PathBuf = dir.path().join("route.lua");
    let rpc_sock: PathBuf = dir.path().join("rpc.sock");
    rewrite(&route, &script("v1"));
    let cfg = format!(
        "debug=2\nchildren=2\ndisable_tcp=yes\nlisten=udp:127.0.0.1:PORT\n\
         loadmodule \"sl.so\"\nloadmodule \"app_lua.so\"\nloadmodule \"jsonrpcs.so\"\n\
         modparam(\"app_lua\", \"load\", \"{}\")\n\
         modparam(\"jsonrpcs\", \"socket\", \"{}\")\n\
         cfgengine \"lua\"\n",
        route.display(),
        rpc_sock.display()
    );
    let mut proxy = Proxy::start(&cfg);
    proxy.wait_rpc_socket(&rpc_sock);
    let sock = udp_socket(proxy.addr());
    let mut n = 0;
    assert_eq!(status(&sock, &proxy, n), "SIP/2.0 200 v1");
    n += 1;

    // v2: every answer after the reload comes from the new script.
    rewrite(&route, &script("v2"));
    let out = rpc(&rpc_sock, "app_lua.reload");
    assert!(out.contains("\"new\": 1"), "{out}");
    answers_until_logged(
        &sock,
        &proxy,
        "SIP/2.0 200 v2",
        "Lua scripts reloaded",
        2,
        &mut n,
    );

    // A syntax error: reported, and v2 keeps answering in every worker.
    rewrite(
        &route,
        "function ksr_request_route(\n  this is not lua\nend\n",
    );
    let out = rpc(&rpc_sock, "app_lua.reload");
    assert!(out.contains("\"new\": 2"), "{out}");
    answers_until_logged(
        &sock,
        &proxy,
        "SIP/2.0 200 v2",
        "Lua reload failed, the previous code keeps running",
        2,
        &mut n,
    );
    let log = proxy.log();
    let line = log
        .lines()
        .find(|l| l.contains("Lua reload failed"))
        .unwrap();
    assert!(line.contains("route.lua"), "the file is named: {line}");
    proxy.assert_alive();
}
