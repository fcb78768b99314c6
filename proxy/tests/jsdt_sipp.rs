//! The JavaScript engine in the real binary, against sipp: the shipped
//! example (examples/jsdt) answering keepalive OPTIONS and relaying calls
//! to a sipp UAS, through tm and (`-A STATELESS`) statelessly, and a reload
//! while sipp's traffic flows.
//! No timing assertions. Fails when sipp is not installed
//! (`scripts/setup` installs it).

mod common;

use std::time::Duration;

use common::sipp::{self, Sipp};
use common::*;

fn runnable(modules: &[&str]) -> bool {
    sipp::require();
    let ok = modules
        .iter()
        .all(|m| kemi_proxy::module_table::find(m).is_some());
    if !ok {
        eprintln!("skipped: needs modules {modules:?} compiled in");
    }
    ok
}

const EXAMPLE_MODULES: &[&str] = &[
    "sl", "pv", "maxfwd", "sanity", "siputils", "corex", "xlog", "app_jsdt",
];

/// Relays use one worker: with two, the 180 and 200 of a call may be
/// relayed by different workers and overtake each other (stateless
/// relaying keeps no order; under load it was seen through tm too), and
/// sipp's uac counts a 180 after the 200 as unexpected.
fn start_example(children: u32, next_hop: &str, args: &[&str]) -> Proxy {
    Proxy::example("jsdt", "js", children, next_hop, args)
}

#[test]
fn jsdt_example_answers_keepalive_options_from_sipp() {
    if !runnable(EXAMPLE_MODULES) {
        return;
    }
    let mut proxy = start_example(2, "sip:127.0.0.1:5080", &[]);
    Sipp::uac("options_keepalive.xml", 3_000, 1_000)
        .run(proxy.addr())
        .assert_ok(&mut proxy);
    // KSR.info and xlog with pseudo-variables ran for these requests.
    let log = proxy.log();
    assert!(
        log.contains("===== request - from kamailio javascript script"),
        "{log}"
    );
    assert!(log.contains("by sipp-keepalive"), "{log}");
}

/// sipp's built-in uac through the proxy (the jsdt example relaying to
/// `next_hop` with `args`) to sipp's built-in uas: every call succeeds.
/// Returns the proxy's log.
fn relay_calls(args: &[&str], calls: u32) -> String {
    let uas_port = free_port("127.0.0.1");
    // Killed when dropped, at the end.
    let _uas = Sipp::new("uas", uas_port).spawn(None);
    let mut proxy = start_example(1, &format!("sip:127.0.0.1:{uas_port}"), args);
    Sipp::new("uac", 0)
        .calls(calls)
        .rate(100)
        .run(proxy.addr())
        .assert_ok(&mut proxy);
    proxy.log()
}

#[test]
fn jsdt_example_relays_calls_statelessly_to_a_sipp_uas() {
    if !runnable(EXAMPLE_MODULES) {
        return;
    }
    // INVITE, 180, 200, ACK, BYE, 200: every request relayed to the UAS by
    // KSR.forward(), every reply relayed back by the proxy.
    let log = relay_calls(&["-A", "STATELESS"], 500);
    assert!(
        log.contains("===== response - from kamailio javascript script"),
        "ksr_reply_route ran:\n{log}"
    );
}

#[test]
fn jsdt_example_with_tm_relays_calls_statefully_to_a_sipp_uas() {
    let mut modules = EXAMPLE_MODULES.to_vec();
    modules.push("tm");
    if !runnable(&modules) {
        return;
    }
    let log = relay_calls(&[], 300);
    // The script's KSR.tm branch ran, with the callbacks it armed.
    for route in ["branch route", "onreply route"] {
        assert!(
            log.contains(&format!("===== {route} - from kamailio javascript script")),
            "{route} ran:\n{log}"
        );
    }
}

/// The routing script of the reload test: OPTIONS answered with 200 and
/// `reason`.
fn reload_script(reason: &str) -> String {
    format!(
        "function ksr_request_route() {{\n\
         \x20   if (KSR.is_OPTIONS()) {{\n\
         \x20       KSR.sl.send_reply(200, \"{reason}\");\n\
         \x20       KSR.x.exit();\n\
         \x20   }}\n\
         \x20   KSR.sl.send_reply(404, \"Not Found\");\n\
         }}\n"
    )
}

#[test]
fn jsdt_reload_while_sipp_traffic_flows() {
    if !runnable(&["sl", "app_jsdt", "jsonrpcs"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let route = dir.path().join("route.js");
    let rpc_sock = dir.path().join("rpc.sock");
    rewrite(&route, &reload_script("v0"));
    let cfg = format!(
        "debug=2\nchildren=2\ndisable_tcp=yes\nlisten=udp:127.0.0.1:PORT\n\
         loadmodule \"sl.so\"\nloadmodule \"app_jsdt.so\"\nloadmodule \"jsonrpcs.so\"\n\
         modparam(\"app_jsdt\", \"load\", \"{}\")\n\
         modparam(\"jsonrpcs\", \"socket\", \"{}\")\n\
         cfgengine \"jsdt\"\n",
        route.display(),
        rpc_sock.display()
    );
    let mut proxy = Proxy::start(&cfg);
    proxy.wait_rpc_socket(&rpc_sock);
    let mut uac = Sipp::uac("options.xml", 4_000, 500).spawn(Some(proxy.addr()));
    // Reload over and over while sipp runs: good scripts and a broken one
    // (reported; the previous code keeps answering).
    let mut reloads = 0;
    let mut version = 0;
    while uac.running() {
        version += 1;
        if version % 3 == 0 {
            rewrite(&route, "function ksr_request_route( {\n");
        } else {
            rewrite(&route, &reload_script(&format!("v{version}")));
        }
        let out = rpc(&rpc_sock, "app_jsdt.reload");
        assert!(out.contains(&format!("\"new\": {version}")), "{out}");
        reloads += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    uac.wait().assert_ok(&mut proxy);
    assert!(reloads >= 3, "only {reloads} reloads while sipp ran");
    let log = proxy.log();
    assert!(log.contains("JavaScript scripts reloaded"), "{log}");
    assert!(
        log.contains("JavaScript reload failed, the previous code keeps running"),
        "{log}"
    );
    // A last good script: every worker answers with it from its next
    // message on.
    rewrite(&route, &reload_script("final"));
    rpc(&rpc_sock, "app_jsdt.reload");
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap();
    for i in 0..20 {
        let req = options("UDP", &me, &format!("after-{i}"));
        let reply = udp_exchange(&sock, proxy.addr(), req.as_bytes(), DEADLINE)
            .unwrap_or_else(|| panic!("no reply; log:\n{}", proxy.log()));
        assert!(reply.starts_with("SIP/2.0 200 final\r\n"), "{reply}");
    }
    // api_list lists the KSR functions of the loaded modules.
    let list = rpc(&rpc_sock, "app_jsdt.api_list");
    assert!(list.contains("\"send_reply\""), "{list}");
    proxy.assert_alive();
}
