//! The basic KEMI Lua example of Kamailio's documentation, as a user brings
//! it: its kamailio.cfg (the seed-lua.cfg fixture) and its Lua script
//! (tests/lua/seed.lua), both unchanged but for the addresses, relay sipp
//! calls through tm with the script's branch and onreply callbacks.

mod common;

use common::sipp::{self, Sipp};
use common::*;
use std::path::Path;

const CALLS: u32 = 200;

#[test]
fn kamailio_docs_lua_example_relays_calls_statefully() {
    sipp::require();
    let uas_port = free_port("127.0.0.1");
    let dir = tempfile::tempdir().unwrap();
    let script =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lua/seed.lua"))
            .unwrap()
            .replace("sip:127.0.0.1:5080", &format!("sip:127.0.0.1:{uas_port}"));
    let script = cfg_path(dir.path(), "kamailio.lua", &script);
    let seed_cfg =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../kemi-core/tests/data/config/seed-lua.cfg");
    let rpc_socket = dir.path().join("rpc.sock");
    let cfg = std::fs::read_to_string(seed_cfg)
        .unwrap()
        .replace("127.0.0.1:5060", "127.0.0.1:PORT")
        .replace("/etc/kamailio/kamailio.lua", &script.display().to_string())
        // Its own RPC endpoints, so tests running side by side don't meet.
        + &format!(
            "modparam(\"jsonrpcs\", \"socket\", \"{}\")\n\
             modparam(\"jsonrpcs\", \"http_listen\", \"127.0.0.1:{}\")\n",
            rpc_socket.display(),
            free_port("127.0.0.1")
        );
    let uas = Sipp::new("uas", uas_port).calls(CALLS).spawn(None);
    let mut proxy = Proxy::spawn_in(dir, &cfg, &[]);
    proxy.wait_logged("listening on udp:", 1);
    // Calls last 100 ms: with no pause the ACK and the BYE leave sipp
    // together and two workers relaying them side by side may swap them,
    // which sipp's UAS counts as a failed call (Kamailio alike).
    Sipp::new("uac", 0)
        .calls(CALLS)
        .rate(100)
        .args(&["-d", "100"])
        .run(proxy.addr())
        .assert_ok(&mut proxy);
    uas.wait().assert_ok(&mut proxy);
    let log = proxy.log();
    for callback in ["request", "branch route", "onreply route"] {
        assert!(
            log.contains(&format!("===== {callback} - from kamailio lua script")),
            "{callback} callback ran:\n{log}"
        );
    }
    let stats = rpc(&rpc_socket, "tm.stats");
    assert!(stats.contains("\"created\""), "{stats}");
    proxy.assert_alive();
}
