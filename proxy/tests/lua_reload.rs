//! Hot reload of the Lua routing script in the real binary: the script
//! file is rewritten, `kemi-proxy rpc app_lua.reload` is run, and every
//! worker answers with the new code; a script that does not compile is
//! reported in the log while the previous code keeps answering.

mod common;

use std::net::UdpSocket;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

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

/// Rewrites the script in place (a temp file renamed over it, as editors
/// and deploy tools do, so no worker can read half a file).
fn write_script(path: &Path, text: &str) {
    let tmp = path.with_extension("lua.new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Runs `kemi-proxy rpc -s SOCK app_lua.reload` and returns its output.
fn rpc_reload(sock: &Path) -> String {
    let out = Command::new(BIN)
        .args(["rpc", "-s"])
        .arg(sock)
        .arg("app_lua.reload")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "app_lua.reload failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
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
    let rpc: PathBuf = dir.path().join("rpc.sock");
    write_script(&route, &script("v1"));
    let cfg = format!(
        "debug=2\nchildren=2\ndisable_tcp=yes\nlisten=udp:127.0.0.1:PORT\n\
         loadmodule \"sl.so\"\nloadmodule \"app_lua.so\"\nloadmodule \"jsonrpcs.so\"\n\
         modparam(\"app_lua\", \"load\", \"{}\")\n\
         modparam(\"jsonrpcs\", \"socket\", \"{}\")\n\
         cfgengine \"lua\"\n",
        route.display(),
        rpc.display()
    );
    let mut proxy = Proxy::start(&cfg);
    let start = Instant::now();
    while UnixStream::connect(&rpc).is_err() {
        assert!(
            start.elapsed() < DEADLINE,
            "RPC socket never up:\n{}",
            proxy.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let sock = udp_socket(proxy.addr());
    let mut n = 0;
    assert_eq!(status(&sock, &proxy, n), "SIP/2.0 200 v1");
    n += 1;

    // v2: every answer after the reload comes from the new script.
    write_script(&route, &script("v2"));
    let out = rpc_reload(&rpc);
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
    write_script(
        &route,
        "function ksr_request_route(\n  this is not lua\nend\n",
    );
    let out = rpc_reload(&rpc);
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
