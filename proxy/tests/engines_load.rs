//! Every engine under load, through the real binary and sipp: 10,000
//! stateless OPTIONS answered by examples/stateless/ in the engine's
//! language, and 2,000 calls (INVITE ... BYE) relayed statefully (tm) by
//! the engine's example in examples/, to a sipp callee. 0 failed calls.
//! Also: `<engine>.api_list` over RPC is exactly the loaded registry.
//! The engines take turns (one proxy and its sipp peers at a time), so the
//! machine's two cores are not shared between two loaded proxies.

mod common;

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use common::sipp::{self, Sipp};
use common::*;

/// One engine: its cfgengine and module, the stateless script, and the
/// example directory with its script.
struct Engine {
    cfgengine: &'static str,
    module: &'static str,
    stateless: &'static str,
    example: &'static str,
    script: &'static str,
}

const LUA: Engine = Engine {
    cfgengine: "lua",
    module: "app_lua",
    stateless: "kamailio.lua",
    example: "",
    script: "kamailio.lua",
};
const PYTHON: Engine = Engine {
    cfgengine: "python",
    module: "app_python3",
    stateless: "kamailio.py",
    example: "python",
    script: "kamailio.py",
};
const PYTHON3S: Engine = Engine {
    cfgengine: "python",
    module: "app_python3s",
    stateless: "kamailio3s.py",
    example: "python3s",
    script: "kamailio.py",
};
const JSDT: Engine = Engine {
    cfgengine: "jsdt",
    module: "app_jsdt",
    stateless: "kamailio.js",
    example: "jsdt",
    script: "kamailio.js",
};
const RUBY: Engine = Engine {
    cfgengine: "ruby",
    module: "app_ruby",
    stateless: "kamailio.rb",
    example: "ruby",
    script: "kamailio.rb",
};

/// One loaded proxy at a time in this binary.
static TURN: Mutex<()> = Mutex::new(());

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

fn assert_all_ok(run: &sipp::Finished, calls: u64, proxy: &mut Proxy) {
    assert_eq!(run.code, Some(0), "{}\n{}", run.report(), proxy.log());
    assert_eq!(run.successful(), calls, "{}", run.report());
    assert_eq!(run.failed(), 0, "{}", run.report());
    proxy.assert_alive();
}

/// The engine's RPC name prefix (app_python3's is Kamailio's `app_python`).
fn rpc_prefix(engine: &Engine) -> &'static str {
    match engine.module {
        "app_python3" => "app_python",
        other => other,
    }
}

/// `<engine>.api_list` over the proxy's RPC socket is the registry of the
/// modules the config loads, exactly.
fn api_list_matches_registry(engine: &Engine, cfg_file: &Path, rpc_socket: &Path) {
    let out = std::process::Command::new(BIN)
        .args(["rpc", "-s"])
        .arg(rpc_socket)
        .arg(format!("{}.api_list", rpc_prefix(engine)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let config = kemi_core::config::load(cfg_file, kemi_proxy::module_table::MODULES, &[]).unwrap();
    let want = kemi_core::Registry::new(&config.module_defs()).api_list();
    assert_eq!(got, want);
}

/// 10,000 OPTIONS at 2,000/s, answered by the engine's stateless script.
fn stateless_options(engine: &Engine) {
    let dir = examples().join("stateless");
    let cfg = std::fs::read_to_string(dir.join("kamailio.cfg"))
        .unwrap()
        .replace("127.0.0.1:5060", "127.0.0.1:PORT")
        .replace("app_lua", engine.module)
        .replace(
            "\"load\", \"kamailio.lua\"",
            &format!("\"load\", \"{}\"", dir.join(engine.stateless).display()),
        )
        .replace(
            "cfgengine \"lua\"",
            &format!("cfgengine \"{}\"", engine.cfgengine),
        );
    // The RPC on a socket of this proxy's own.
    let rpc_dir = tempfile::tempdir().unwrap();
    let rpc_socket = rpc_dir.path().join("rpc.sock");
    let cfg = format!(
        "{cfg}\nloadmodule \"jsonrpcs.so\"\nmodparam(\"jsonrpcs\", \"transport\", 4)\n\
         modparam(\"jsonrpcs\", \"socket\", \"{}\")\n",
        rpc_socket.display()
    );
    let mut proxy = Proxy::start(&cfg);
    api_list_matches_registry(engine, &proxy.dir.path().join("kamailio.cfg"), &rpc_socket);
    let calls = 10_000;
    let run = Sipp::new("../sipp/options_retrans.xml", free_port("127.0.0.1"))
        .calls(calls)
        .rate(2000)
        .timeout(Duration::from_secs(90))
        .run(proxy.addr());
    assert_all_ok(&run, u64::from(calls), &mut proxy);
}

/// 2,000 calls through the engine's example with tm (its default).
fn relayed_calls(engine: &Engine) {
    let src = examples().join(engine.example);
    let tmp = tempfile::tempdir().unwrap();
    let uas_port = free_port("127.0.0.1");
    let next_hop = format!("sip:127.0.0.1:{uas_port}");
    let script = std::fs::read_to_string(src.join(engine.script))
        .unwrap()
        .replace("sip:127.0.0.1:5080", &next_hop);
    assert!(script.contains(&next_hop), "the example's next hop moved");
    let script_path = cfg_path(tmp.path(), engine.script, &script);
    let cfg = std::fs::read_to_string(src.join("kamailio.cfg"))
        .unwrap()
        .replace("127.0.0.1:5060", "127.0.0.1:PORT")
        .replace(
            &format!("\"load\", \"{}\"", engine.script),
            &format!("\"load\", \"{}\"", script_path.display()),
        );
    let calls = 2_000;
    // A retransmitted 2xx (the callee resends it until the ACK arrives)
    // is relayed and ACKed again, end to end as RFC 3261 wants; sipp's
    // built-in callee would abort the call on that second ACK.
    let uas = Sipp::new("uas", uas_port)
        .args(&["-default_behaviors", "all,-abortunexp"])
        .calls(calls)
        .timeout(Duration::from_secs(90))
        .spawn(None);
    let mut proxy = Proxy::spawn(&cfg, &[]);
    proxy.wait_keepalive();
    let uac = Sipp::new("uac", free_port("127.0.0.1"))
        .calls(calls)
        .rate(250)
        .timeout(Duration::from_secs(90))
        .run(proxy.addr());
    assert_all_ok(&uac, u64::from(calls), &mut proxy);
    let uas = uas.wait();
    assert_eq!(uas.failed(), 0, "{}", uas.report());
    assert!(!proxy.log().contains("script error"), "{}", proxy.log());
}

fn engine_under_load(engine: &Engine) {
    sipp::require();
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    stateless_options(engine);
    relayed_calls(engine);
}

#[test]
fn lua_under_load() {
    engine_under_load(&LUA);
}

#[test]
fn python_under_load() {
    engine_under_load(&PYTHON);
}

#[test]
fn python3s_under_load() {
    engine_under_load(&PYTHON3S);
}

#[test]
fn jsdt_under_load() {
    engine_under_load(&JSDT);
}

#[test]
fn ruby_under_load() {
    engine_under_load(&RUBY);
}
