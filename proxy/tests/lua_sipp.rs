//! sipp against the real binary routed by a Lua script that answers
//! statelessly (tests/lua/stateless.lua): 10,000 OPTIONS and 10,000
//! INVITEs at 2,000/s, all answered; Max-Forwards 0 gets 483. No timing
//! assertions. Skipped where sipp is not installed (`scripts/setup`).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

const SIPP: &str = "/usr/bin/sipp";

fn lua_cfg() -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lua/stateless.lua");
    format!(
        "children=2\nlisten=udp:127.0.0.1:PORT\ndisable_tcp=yes\n\
         loadmodule \"sl.so\"\nloadmodule \"maxfwd.so\"\nloadmodule \"app_lua.so\"\n\
         modparam(\"app_lua\", \"load\", \"{script}\")\ncfgengine \"lua\"\n"
    )
}

/// Runs one sipp UAC scenario against the proxy; fails the test with
/// sipp's summary and the proxy's log when any call failed.
fn sipp(proxy: &mut Proxy, scenario: &str, calls: u32, rate: u32) {
    let scenario = format!("{}/tests/sipp/{scenario}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(SIPP)
        .args(["-sf", &scenario, "-m", &calls.to_string()])
        .args(["-r", &rate.to_string(), "-i", "127.0.0.1", "-p", "0"])
        .args(["-timeout", "60s", "-timeout_error", "-nostdin"])
        .arg(proxy.addr().to_string())
        .current_dir(proxy.dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let tail: String = stdout.lines().rev().take(40).collect::<Vec<_>>().join("\n");
    assert_eq!(
        out.status.code(),
        Some(0),
        "sipp {scenario}: failures:\n{tail}\n{}\nproxy log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        proxy.log()
    );
    proxy.assert_alive();
}

#[test]
fn sipp_against_lua_script() {
    if !Path::new(SIPP).exists() {
        eprintln!("skipped: {SIPP} not installed (scripts/setup installs sip-tester)");
        return;
    }
    if kemi_proxy::module_table::find("sl").is_none() {
        eprintln!("skipped: the sl module is not compiled in");
        return;
    }
    let mut proxy = Proxy::start(&lua_cfg());
    // One proxy, scenarios one after the other: in parallel they would
    // compete for this machine's cores and the rate could not be held.
    sipp(&mut proxy, "options_retrans.xml", 10_000, 2_000);
    sipp(&mut proxy, "invite_rejected.xml", 10_000, 2_000);
    sipp(&mut proxy, "options_max_forwards_0.xml", 200, 200);
}
