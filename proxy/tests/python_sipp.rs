//! The real binary routed by Python scripts (`cfgengine "python"`), both
//! styles (app_python3's handler object, app_python3s's module functions),
//! against sipp: thousands of OPTIONS answered by a stateless script, the
//! examples relaying calls through to a sipp UAS, and a reload while
//! traffic flows. No timing assertions. Fails when sipp is not
//! installed (`scripts/setup` installs it).

mod common;

use std::path::PathBuf;
use std::time::Instant;

use common::sipp::{self, Sipp};
use common::*;

/// The two Python modules, with the test script written for each.
const STYLES: [(&str, &str); 2] = [
    ("app_python3", "stateless.py"),
    ("app_python3s", "stateless3s.py"),
];

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

#[test]
fn sipp_options_against_both_styles() {
    sipp::require();
    for (module, script) in STYLES {
        let mut proxy = Proxy::start(&cfg(module, &test_script(script), ""));
        if module == "app_python3" {
            // child_init ran once per worker (two UDP workers).
            proxy.wait_logged("child_init(", 2);
        }
        Sipp::uac("options_retrans.xml", 3_000, 1_000)
            .run(proxy.addr())
            .assert_ok(&mut proxy);
        Sipp::uac("options_max_forwards_0.xml", 100, 100)
            .run(proxy.addr())
            .assert_ok(&mut proxy);

        // A script exception is logged with its traceback; the worker
        // goes on answering.
        let sock = udp_socket(proxy.addr());
        let me = sock.local_addr().unwrap().to_string();
        let crash = request("OPTIONS", "UDP", &me, "crash").replace(
            "Max-Forwards: 70\r\n",
            "Max-Forwards: 70\r\nX-Crash: yes\r\n",
        );
        sock.send_to(crash.as_bytes(), proxy.addr()).unwrap();
        proxy.wait_logged("RuntimeError: crash requested by the test", 1);
        let log = proxy.log();
        assert!(log.contains("Traceback (most recent call last):"), "{log}");
        assert!(log.contains("Call-ID crash"), "{log}");
        assert!(log.contains(&format!("{script}\", line")), "{log}");
        Sipp::uac("options.xml", 200, 200)
            .run(proxy.addr())
            .assert_ok(&mut proxy);
    }
}

#[test]
fn examples_relay_calls_through_to_a_sipp_uas() {
    sipp::require();
    const CALLS: u32 = 300;
    // Through tm with the script's branch and onreply callbacks (the
    // default) and, with STATELESS, by KSR.forward.
    for (example, args) in [
        ("python", &[][..]),
        ("python3s", &[][..]),
        ("python", &["-A", "STATELESS"][..]),
        ("python3s", &["-A", "STATELESS"][..]),
    ] {
        let uas_port = free_port("127.0.0.1");
        let uas = Sipp::new("uas", uas_port).calls(CALLS).spawn(None);
        // One worker: two relaying back-to-back messages side by side (the
        // UAS's 180 and 200) may deliver them out of order, which a
        // stateless relay does not correct and sipp's built-in UAC counts
        // as a failed call.
        let next_hop = format!("sip:127.0.0.1:{uas_port}");
        let mut proxy = Proxy::example(example, "py", 1, &next_hop, args);
        Sipp::new("uac", 0)
            .calls(CALLS)
            .rate(100)
            .run(proxy.addr())
            .assert_ok(&mut proxy);
        uas.wait().assert_ok(&mut proxy);
        let log = proxy.log();
        assert!(log.contains("from kamailio python"), "{log}");
        if args.is_empty() {
            // Through tm: the callbacks the script armed ran.
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
    sipp::require();
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
        proxy.wait_rpc_socket(&rpc_sock);
        answered_with(&proxy, "SIP/2.0 200 One\r\n");
        let api = rpc(&rpc_sock, &method.replace("reload", "api_list"));
        assert!(api.contains("\"send_reply\""), "{api}");

        // Traffic throughout: every OPTIONS must be answered 200.
        let traffic = Sipp::uac("options.xml", 3_000, 500).spawn(Some(proxy.addr()));
        rewrite(&route, &version("Two"));
        let out = rpc(&rpc_sock, method);
        assert!(out.contains("\"new\": 1"), "{out}");
        answered_with(&proxy, "SIP/2.0 200 Two\r\n");
        proxy.wait_logged("reloaded", 1);

        // A broken script: reported, the previous code keeps answering.
        rewrite(&route, "def ksr_request_route(:\n");
        let out = rpc(&rpc_sock, method);
        assert!(out.contains("\"new\": 2"), "{out}");
        proxy.wait_logged("Python reload failed, the previous code keeps running", 1);
        answered_with(&proxy, "SIP/2.0 200 Two\r\n");
        let log = proxy.log();
        let line = log
            .lines()
            .find(|l| l.contains("Python reload failed"))
            .unwrap();
        assert!(line.contains("route.py"), "the file is named: {line}");
        traffic.wait().assert_ok(&mut proxy);
    }
}
