//! The real binary routed by Ruby (`cfgengine "ruby"`) against sipp: a
//! few thousand OPTIONS answered by tests/ruby/stateless.rb, the Ruby
//! example relaying statelessly to a sipp UAS (OPTIONS, and INVITE calls
//! with ACK and BYE) and, by default statefully through tm, a reload while sipp traffic flows (a good script,
//! then a broken one that leaves the previous code running), script errors
//! survived, and SIGTERM/SIGINT stopping the proxy with exit code 0
//! although Ruby traps those signals itself. No timing assertions. Fails
//! when sipp is not installed (`scripts/setup` installs it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::sipp::{self, Sipp};
use common::*;

/// The tests driving sipp traffic take turns: in parallel they would
/// compete for this machine's cores, and the one routing thread of a Ruby
/// proxy could fall behind the rates.
static SIPP_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn sipp_turn() -> std::sync::MutexGuard<'static, ()> {
    SIPP_TURN.lock().unwrap_or_else(|e| e.into_inner())
}

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn compiled_in() -> bool {
    let ok = ["sl", "maxfwd", "app_ruby", "jsonrpcs"]
        .iter()
        .all(|m| kemi_proxy::module_table::find(m).is_some());
    if !ok {
        eprintln!("skipped: needs sl, maxfwd, app_ruby and jsonrpcs compiled in");
    }
    ok
}

/// A config routing with `script` through app_ruby, the RPC socket at `rpc`.
fn ruby_cfg(script: &Path, rpc: &Path) -> String {
    format!(
        "debug=2\nchildren=2\nlisten=udp:127.0.0.1:PORT\ndisable_tcp=yes\n\
         loadmodule \"sl.so\"\nloadmodule \"maxfwd.so\"\nloadmodule \"app_ruby.so\"\n\
         loadmodule \"jsonrpcs.so\"\n\
         modparam(\"app_ruby\", \"load\", \"{}\")\n\
         modparam(\"jsonrpcs\", \"socket\", \"{}\")\n\
         cfgengine \"ruby\"\n",
        script.display(),
        rpc.display()
    )
}

/// The test script with OPTIONS answered by `reason`.
fn stateless_script(reason: &str) -> String {
    std::fs::read_to_string(tests_dir().join("ruby/stateless.rb"))
        .unwrap()
        .replace("\"OK\"", &format!("{reason:?}"))
}

/// A proxy running `script` (written into its own directory), with its
/// RPC socket up.
struct RubyProxy {
    proxy: Proxy,
    script: PathBuf,
    rpc: PathBuf,
    _dir: tempfile::TempDir,
}

fn start_ruby(script_text: &str) -> RubyProxy {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("route.rb");
    let rpc = dir.path().join("rpc.sock");
    rewrite(&script, script_text);
    let proxy = Proxy::start(&ruby_cfg(&script, &rpc));
    proxy.wait_rpc_socket(&rpc);
    RubyProxy {
        proxy,
        script,
        rpc,
        _dir: dir,
    }
}

/// One OPTIONS to the proxy; the status line of its reply.
fn status(proxy: &Proxy, call_id: &str) -> String {
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap();
    let req = options("UDP", &me, call_id);
    let reply = udp_exchange(&sock, proxy.addr(), req.as_bytes(), DEADLINE)
        .unwrap_or_else(|| panic!("no reply to {call_id}; log:\n{}", proxy.log()));
    reply.lines().next().unwrap_or_default().to_string()
}

#[test]
fn sipp_options_and_reload_while_traffic_flows() {
    sipp::require();
    if !compiled_in() {
        return;
    }
    let _turn = sipp_turn();
    let mut rp = start_ruby(&stateless_script("v1"));
    let to = rp.proxy.addr();

    // 3,000 OPTIONS with retransmission handling, all answered.
    Sipp::uac("options_retrans.xml", 3_000, 1_000)
        .run(to)
        .assert_ok(&mut rp.proxy);
    Sipp::uac("options_max_forwards_0.xml", 100, 100)
        .run(to)
        .assert_ok(&mut rp.proxy);
    assert_eq!(status(&rp.proxy, "before-reload"), "SIP/2.0 200 v1");

    // Reloads while sipp runs: at 500 calls/s, 4,000 calls last at least
    // 8 s, far longer than writing a file and two RPC calls.
    let traffic = Sipp::uac("options_retrans.xml", 4_000, 500).spawn(Some(to));
    rewrite(&rp.script, &stateless_script("v2"));
    let out = rpc(&rp.rpc, "app_ruby.reload");
    assert!(out.contains("\"new\": 1"), "{out}");
    rp.proxy.wait_logged("Ruby scripts reloaded", 1);
    assert_eq!(status(&rp.proxy, "after-reload"), "SIP/2.0 200 v2");

    // A broken script: reported, and v2 keeps answering.
    rewrite(&rp.script, "def ksr_request_route(\n  this is not ruby\n");
    let out = rpc(&rp.rpc, "app_ruby.reload");
    assert!(out.contains("\"new\": 2"), "{out}");
    rp.proxy
        .wait_logged("Ruby reload failed, the previous code keeps running", 1);
    assert_eq!(status(&rp.proxy, "after-bad-reload"), "SIP/2.0 200 v2");
    let log = rp.proxy.log();
    let line = log
        .lines()
        .find(|l| l.contains("Ruby reload failed"))
        .unwrap();
    assert!(line.contains("route.rb"), "the file is named: {line}");

    traffic.wait().assert_ok(&mut rp.proxy);
    assert!(rp.proxy.terminate().success(), "{}", rp.proxy.log());
}

#[test]
fn api_list_and_script_errors() {
    if !compiled_in() {
        return;
    }
    let mut rp = start_ruby(&stateless_script("OK"));
    let list: serde_json::Value = serde_json::from_str(&rpc(&rp.rpc, "app_ruby.api_list")).unwrap();
    let methods = list["methods"].as_array().unwrap();
    assert_eq!(list["msize"], serde_json::json!(methods.len()));
    assert!(methods
        .iter()
        .any(|m| m["func"]["module"] == "sl" && m["func"]["name"] == "send_reply"));

    // A Ruby exception in the script: logged once with the backtrace, no
    // reply, and the next request is served.
    let sock = udp_socket(rp.proxy.addr());
    let me = sock.local_addr().unwrap();
    let crash = options("UDP", &me, "crash-1").replace(
        "Max-Forwards: 70\r\n",
        "Max-Forwards: 70\r\nX-Crash: yes\r\n",
    );
    let reply = udp_exchange(
        &sock,
        rp.proxy.addr(),
        crash.as_bytes(),
        Duration::from_millis(500),
    );
    assert_eq!(reply, None);
    rp.proxy.wait_logged("crash requested by the test", 1);
    let log = rp.proxy.log();
    let line = log
        .lines()
        .find(|l| l.contains("crash requested by the test"))
        .unwrap();
    assert!(line.contains("Call-ID crash-1"), "{line}");
    assert!(line.contains("route.rb:19:in `ksr_request_route'"), "{log}");
    assert_eq!(
        log.matches("crash requested by the test").count(),
        1,
        "{log}"
    );
    assert_eq!(status(&rp.proxy, "after-crash"), "SIP/2.0 200 OK");
    rp.proxy.assert_alive();
    assert!(rp.proxy.terminate().success());
}

#[test]
fn sigterm_and_sigint_stop_the_proxy_with_exit_code_0() {
    if !compiled_in() {
        return;
    }
    let mut rp = start_ruby(&stateless_script("OK"));
    assert_eq!(status(&rp.proxy, "before-term"), "SIP/2.0 200 OK");
    let code = rp.proxy.terminate();
    assert_eq!(code.code(), Some(0), "{}", rp.proxy.log());
    assert!(
        rp.proxy.log().contains("kemi-proxy stopped"),
        "{}",
        rp.proxy.log()
    );

    let mut rp = start_ruby(&stateless_script("OK"));
    let pid = libc::pid_t::try_from(rp.proxy.child.id()).unwrap();
    unsafe { libc::kill(pid, libc::SIGINT) };
    let code = wait_exit(&mut rp.proxy.child);
    assert_eq!(code.code(), Some(0), "{}", rp.proxy.log());
}

#[test]
fn a_broken_script_fails_the_check_with_its_location() {
    if !compiled_in() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = cfg_path(
        dir.path(),
        "broken.rb",
        "def ksr_request_route\n  KSR::SL.send_reply(200, 'OK')\nend\nraise 'broken at line 4'\n",
    );
    let cfg = cfg_path(
        dir.path(),
        "kamailio.cfg",
        &ruby_cfg(&script, &dir.path().join("rpc.sock")).replace("PORT", "5060"),
    );
    let out = Command::new(BIN)
        .arg("-c")
        .arg("-f")
        .arg(&cfg)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("broken.rb:4:in `<main>': broken at line 4 (RuntimeError)"),
        "{stderr}"
    );
}

/// The example, its next hop moved to `next_hop`, run with `args`.
fn run_example(next_hop: &str, args: &[&str]) -> Proxy {
    Proxy::example("ruby", "rb", 2, next_hop, args)
}

#[test]
fn the_example_relays_statelessly_to_a_sipp_uas() {
    let needed = [
        "sl", "maxfwd", "sanity", "siputils", "corex", "xlog", "pv", "app_ruby",
    ];
    if !needed
        .iter()
        .all(|m| kemi_proxy::module_table::find(m).is_some())
    {
        eprintln!("skipped: needs {needed:?} compiled in");
        return;
    }
    sipp::require();
    let _turn = sipp_turn();
    let uas_port = free_port("127.0.0.1");
    let mut proxy = run_example(&format!("sip:127.0.0.1:{uas_port}"), &["-A", "STATELESS"]);
    let mf0 = options("UDP", &"127.0.0.1:9".parse().unwrap(), "mf0")
        .replace("Max-Forwards: 70", "Max-Forwards: 0");
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap().to_string();
    let mf0 = mf0.replace("127.0.0.1:9", &me);
    let reply = udp_exchange(&sock, proxy.addr(), mf0.as_bytes(), DEADLINE).unwrap_or_default();
    assert!(
        reply.starts_with("SIP/2.0 483 Too Many Hops\r\n"),
        "{reply}"
    );

    let to = proxy.addr();
    // OPTIONS relayed to the UAS and its 200s relayed back.
    let uas = Sipp::new("../ruby/uas_options.xml", uas_port)
        .calls(1_000)
        .rate(1_000)
        .spawn(None);
    Sipp::uac("options_retrans.xml", 1_000, 500)
        .run(to)
        .assert_ok(&mut proxy);
    uas.wait().assert_ok(&mut proxy);

    // Whole calls: INVITE, 180, 200, ACK, BYE, 200, every message relayed.
    let uas = Sipp::new("uas", uas_port).calls(200).rate(100).spawn(None);
    Sipp::new("uac", 0)
        .calls(200)
        .rate(100)
        .run(to)
        .assert_ok(&mut proxy);
    uas.wait().assert_ok(&mut proxy);
    proxy.assert_alive();
    assert!(proxy.terminate().success());
}

#[test]
fn the_example_with_tm_relays_calls_statefully() {
    let needed = [
        "tm", "sl", "maxfwd", "sanity", "siputils", "corex", "xlog", "pv", "app_ruby",
    ];
    if !needed
        .iter()
        .all(|m| kemi_proxy::module_table::find(m).is_some())
    {
        eprintln!("skipped: needs {needed:?} compiled in");
        return;
    }
    sipp::require();
    let _turn = sipp_turn();
    let uas_port = free_port("127.0.0.1");
    let mut proxy = run_example(&format!("sip:127.0.0.1:{uas_port}"), &[]);
    let uas = Sipp::new("uas", uas_port).calls(100).rate(50).spawn(None);
    Sipp::new("uac", 0)
        .calls(100)
        .rate(50)
        .run(proxy.addr())
        .assert_ok(&mut proxy);
    uas.wait().assert_ok(&mut proxy);
    // tm ran the script's transaction callbacks by name.
    let log = proxy.log();
    assert!(
        log.contains("===== branch route - from kamailio ruby script"),
        "{log}"
    );
    assert!(
        log.contains("===== onreply route - from kamailio ruby script"),
        "{log}"
    );
    proxy.assert_alive();
    assert!(proxy.terminate().success());
}
