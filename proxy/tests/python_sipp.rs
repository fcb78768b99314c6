//! The real binary routed by Python scripts (`cfgengine "python"`), both
//! styles (app_python3's handler object, app_python3s's module functions),
//! against sipp: thousands of OPTIONS answered by a stateless script, the
//! examples relaying calls through to a sipp UAS, and a reload while
//! traffic flows. No timing assertions. Skipped where sipp is not
//! installed (`scripts/setup`).

mod common;

use std::net::UdpSocket;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const SIPP: &str = "/usr/bin/sipp";

/// The two Python modules, with the test script written for each.
const STYLES: [(&str, &str); 2] = [
    ("app_python3", "stateless.py"),
    ("app_python3s", "stateless3s.py"),
];

fn sipp_installed() -> bool {
    let ok = Path::new(SIPP).exists();
    if !ok {
        eprintln!("skipped: {SIPP} not installed (scripts/setup installs sip-tester)");
    }
    ok
}

fn test_script(name: &str) -> String {
    format!("{}/tests/python/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A config routing with `script` through `module`; `extra` is appended
/// before `cfgengine`.
fn cfg(module: &str, script: &str, extra: &str) -> String {
    format!(
        "children=2\nlisten=udp:127.0.0.1:PORT\ndisable_tcp=yes\n\
         loadmodule \"sl.so\"\nloadmodule \"maxfwd.so\"\nloadmodule \"{module}.so\"\n\
         modparam(\"{module}\", \"load\", \"{script}\")\n{extra}cfgengine \"python\"\n"
    )
}

/// sipp as a UAC against `target`: scenario file (under tests/sipp/) or
/// built-in name, number of calls, calls per second.
fn sipp_uac(dir: &Path, target: &str, scenario: &str, calls: u32, rate: u32) -> Command {
    let mut cmd = Command::new(SIPP);
    if scenario.ends_with(".xml") {
        cmd.arg("-sf").arg(format!(
            "{}/tests/sipp/{scenario}",
            env!("CARGO_MANIFEST_DIR")
        ));
    } else {
        cmd.args(["-sn", scenario]);
    }
    cmd.args(["-m", &calls.to_string(), "-r", &rate.to_string()])
        .args(["-i", "127.0.0.1", "-p", "0"])
        .args(["-timeout", "60s", "-timeout_error", "-nostdin"])
        .arg(target)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Waits for sipp and fails the test with its summary and the proxy's log
/// unless every call succeeded.
fn assert_sipp_ok(child: Child, what: &str, proxy: &mut Proxy) {
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let tail: String = stdout.lines().rev().take(40).collect::<Vec<_>>().join("\n");
    assert_eq!(
        out.status.code(),
        Some(0),
        "sipp {what}: failures:\n{tail}\n{}\nproxy log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        proxy.log()
    );
    proxy.assert_alive();
}

fn run_sipp(proxy: &mut Proxy, scenario: &str, calls: u32, rate: u32) {
    let child = sipp_uac(
        proxy.dir.path(),
        &proxy.addr().to_string(),
        scenario,
        calls,
        rate,
    )
    .spawn()
    .unwrap();
    assert_sipp_ok(child, scenario, proxy);
}

/// Waits until the log contains `text` `times` times.
fn wait_logged(proxy: &Proxy, text: &str, times: usize) {
    let start = Instant::now();
    while proxy.log().matches(text).count() < times {
        assert!(
            start.elapsed() < DEADLINE,
            "{text:?} not logged {times} times:\n{}",
            proxy.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sipp_options_against_both_styles() {
    if !sipp_installed() {
        return;
    }
    for (module, script) in STYLES {
        let mut proxy = Proxy::start(&cfg(module, &test_script(script), ""));
        if module == "app_python3" {
            // child_init ran once per worker (two UDP workers).
            wait_logged(&proxy, "child_init(", 2);
        }
        run_sipp(&mut proxy, "options_retrans.xml", 3_000, 1_000);
        run_sipp(&mut proxy, "options_max_forwards_0.xml", 100, 100);

        // A script exception is logged with its traceback; the worker
        // goes on answering.
        let sock = udp_socket(proxy.addr());
        let me = sock.local_addr().unwrap().to_string();
        let crash = request("OPTIONS", "UDP", &me, "crash").replace(
            "Max-Forwards: 70\r\n",
            "Max-Forwards: 70\r\nX-Crash: yes\r\n",
        );
        sock.send_to(crash.as_bytes(), proxy.addr()).unwrap();
        wait_logged(&proxy, "RuntimeError: crash requested by the test", 1);
        let log = proxy.log();
        assert!(log.contains("Traceback (most recent call last):"), "{log}");
        assert!(log.contains("Call-ID crash"), "{log}");
        assert!(log.contains(&format!("{script}\", line")), "{log}");
        run_sipp(&mut proxy, "options.xml", 200, 200);
    }
}

/// A free UDP port on 127.0.0.1.
fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// Starts a copy of an example (examples/<dir>/) on a free port, with its
/// next hop moved to `next_hop`, and `defines` (`-A NAME`).
fn run_example(dir: &str, next_hop: &str, defines: &[&str]) -> Proxy {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(dir);
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port("127.0.0.1");
    let script = std::fs::read_to_string(examples.join("kamailio.py"))
        .unwrap()
        .replace("sip:127.0.0.1:5080", next_hop);
    cfg_path(tmp.path(), "kamailio.py", &script);
    let text = std::fs::read_to_string(examples.join("kamailio.cfg"))
        .unwrap()
        .replace("127.0.0.1:5060", &format!("127.0.0.1:{port}"))
        // One worker: two relaying back-to-back messages side by side (the
        // UAS's 180 and 200) may deliver them out of order, which a
        // stateless relay does not correct and sipp's built-in UAC counts
        // as a failed call.
        .replace("children=2", "children=1");
    let cfg = cfg_path(tmp.path(), "kamailio.cfg", &text);
    // The original passes -c as shipped.
    let check = Command::new(BIN)
        .arg("-c")
        .arg("-f")
        .arg(examples.join("kamailio.cfg"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{dir}: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let log = std::fs::File::create(tmp.path().join("stderr.log")).unwrap();
    let child = Command::new(BIN)
        .arg("-f")
        .arg(&cfg)
        .args(defines.iter().flat_map(|d| ["-A", d]))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Proxy {
        child,
        dir: tmp,
        port,
    }
}

/// Waits until the example answers a keepalive OPTIONS (to the proxy
/// itself, no user in the R-URI) with its 200, which it sends itself.
fn wait_keepalive(proxy: &Proxy) {
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap().to_string();
    let port = proxy.port;
    let start = Instant::now();
    loop {
        let req = request("OPTIONS", "UDP", &me, "keepalive").replace(
            "OPTIONS sip:proxy@127.0.0.1 ",
            &format!("OPTIONS sip:127.0.0.1:{port} "),
        );
        let reply = udp_exchange(
            &sock,
            proxy.addr(),
            req.as_bytes(),
            Duration::from_millis(200),
        );
        if let Some(reply) = reply {
            assert!(reply.starts_with("SIP/2.0 200 Keepalive\r\n"), "{reply}");
            return;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "never answered:\n{}",
            proxy.log()
        );
    }
}

#[test]
fn examples_relay_calls_through_to_a_sipp_uas() {
    if !sipp_installed() {
        return;
    }
    const CALLS: u32 = 300;
    // Stateless (KSR.forward) and, with WITH_TM, through tm with the
    // script's branch and onreply callbacks.
    for (example, defines) in [
        ("python", &[][..]),
        ("python3s", &[][..]),
        ("python", &["WITH_TM"][..]),
        ("python3s", &["WITH_TM"][..]),
    ] {
        let uas_port = free_udp_port();
        let uas = Command::new(SIPP)
            .args(["-sn", "uas", "-i", "127.0.0.1", "-p", &uas_port.to_string()])
            .args(["-m", &CALLS.to_string(), "-timeout", "60s", "-nostdin"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // sipp has bound its port once ours can no longer take it.
        let start = Instant::now();
        while UdpSocket::bind(("127.0.0.1", uas_port)).is_ok() {
            assert!(
                start.elapsed() < DEADLINE,
                "sipp uas never bound {uas_port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut proxy = run_example(example, &format!("sip:127.0.0.1:{uas_port}"), defines);
        wait_keepalive(&proxy);
        let uac = sipp_uac(
            proxy.dir.path(),
            &proxy.addr().to_string(),
            "uac",
            CALLS,
            100,
        )
        .spawn()
        .unwrap();
        assert_sipp_ok(uac, &format!("uac through examples/{example}"), &mut proxy);
        assert_sipp_ok(uas, &format!("uas behind examples/{example}"), &mut proxy);
        let log = proxy.log();
        assert!(log.contains("from kamailio python"), "{log}");
        if !defines.is_empty() {
            assert!(
                log.contains("===== branch route - from kamailio python"),
                "{log}"
            );
            assert!(
                log.contains("===== onreply route - from kamailio python"),
                "{log}"
            );
        }
        assert!(!log.contains("script error"), "{log}");
    }
}

/// Runs `kemi-proxy rpc -s SOCK METHOD` and returns its output.
fn rpc(sock: &Path, method: &str) -> String {
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

/// Rewrites a script in place (renamed over it, as deploy tools do).
fn rewrite(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Sends OPTIONS until one is answered with `want`.
fn answered_with(proxy: &Proxy, want: &str) {
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap();
    let start = Instant::now();
    for n in 0.. {
        let req = options("UDP", &me, &format!("probe-{n}"));
        let reply = udp_exchange(&sock, proxy.addr(), req.as_bytes(), DEADLINE)
            .unwrap_or_else(|| panic!("no reply to probe {n}; log:\n{}", proxy.log()));
        if reply.starts_with(want) {
            return;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "never answered {want:?}; last {reply}; log:\n{}",
            proxy.log()
        );
    }
}

#[test]
fn reload_while_traffic_flows() {
    if !sipp_installed() {
        return;
    }
    for (module, script, method) in [
        ("app_python3", "stateless.py", "app_python.reload"),
        ("app_python3s", "stateless3s.py", "app_python3s.reload"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let route: PathBuf = dir.path().join("route.py");
        let original = std::fs::read_to_string(test_script(script)).unwrap();
        let version =
            |reason: &str| original.replace("REASON = \"OK\"", &format!("REASON = \"{reason}\""));
        rewrite(&route, &version("One"));
        let rpc_sock = dir.path().join("rpc.sock");
        let extra = format!(
            "loadmodule \"jsonrpcs.so\"\nmodparam(\"jsonrpcs\", \"socket\", \"{}\")\n",
            rpc_sock.display()
        );
        let mut proxy = Proxy::start(&cfg(module, &route.display().to_string(), &extra));
        let start = Instant::now();
        while UnixStream::connect(&rpc_sock).is_err() {
            assert!(
                start.elapsed() < DEADLINE,
                "RPC socket never up:\n{}",
                proxy.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        answered_with(&proxy, "SIP/2.0 200 One\r\n");
        let api = rpc(&rpc_sock, &method.replace("reload", "api_list"));
        assert!(api.contains("\"send_reply\""), "{api}");

        // Traffic throughout: every OPTIONS must be answered 200.
        let traffic = sipp_uac(
            proxy.dir.path(),
            &proxy.addr().to_string(),
            "options.xml",
            3_000,
            500,
        )
        .spawn()
        .unwrap();
        rewrite(&route, &version("Two"));
        let out = rpc(&rpc_sock, method);
        assert!(out.contains("\"new\": 1"), "{out}");
        answered_with(&proxy, "SIP/2.0 200 Two\r\n");
        wait_logged(&proxy, "reloaded", 1);

        // A broken script: reported, the previous code keeps answering.
        rewrite(&route, "def ksr_request_route(:\n");
        let out = rpc(&rpc_sock, method);
        assert!(out.contains("\"new\": 2"), "{out}");
        wait_logged(
            &proxy,
            "Python reload failed, the previous code keeps running",
            1,
        );
        answered_with(&proxy, "SIP/2.0 200 Two\r\n");
        let log = proxy.log();
        let line = log
            .lines()
            .find(|l| l.contains("Python reload failed"))
            .unwrap();
        assert!(line.contains("route.py"), "the file is named: {line}");
        assert_sipp_ok(
            traffic,
            &format!("OPTIONS during reloads ({module})"),
            &mut proxy,
        );
    }
}
