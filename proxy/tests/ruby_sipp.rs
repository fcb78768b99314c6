//! The real binary routed by Ruby (`cfgengine "ruby"`) against sipp: a
//! few thousand OPTIONS answered by tests/ruby/stateless.rb, the Ruby
//! example relaying statelessly to a sipp UAS (OPTIONS, and INVITE calls
//! with ACK and BYE) and, with `-A WITH_TM`, statefully through tm, a reload while sipp traffic flows (a good script,
//! then a broken one that leaves the previous code running), script errors
//! survived, and SIGTERM/SIGINT stopping the proxy with exit code 0
//! although Ruby traps those signals itself. No timing assertions. Skipped
//! where sipp is not installed (`scripts/setup`).

mod common;

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

const SIPP: &str = "/usr/bin/sipp";

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

fn have_sipp() -> bool {
    let ok = Path::new(SIPP).exists();
    if !ok {
        eprintln!("skipped: {SIPP} not installed (scripts/setup installs sip-tester)");
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

/// Rewrites a script in place (a temp file renamed over it, as deploy
/// tools do, so the proxy never reads half a file).
fn write_script(path: &Path, text: &str) {
    let tmp = path.with_extension("rb.new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
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
    write_script(&script, script_text);
    let proxy = Proxy::start(&ruby_cfg(&script, &rpc));
    let start = Instant::now();
    while UnixStream::connect(&rpc).is_err() {
        assert!(
            start.elapsed() < DEADLINE,
            "RPC socket never up:\n{}",
            proxy.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    RubyProxy {
        proxy,
        script,
        rpc,
        _dir: dir,
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

/// A sipp command with the options every run here uses.
fn sipp_cmd(dir: &Path, calls: u32, rate: u32) -> Command {
    let mut cmd = Command::new(SIPP);
    cmd.args(["-m", &calls.to_string(), "-r", &rate.to_string()])
        .args([
            "-i",
            "127.0.0.1",
            "-timeout",
            "60s",
            "-timeout_error",
            "-nostdin",
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A sipp UAC scenario from tests/sipp against `to`.
fn uac(dir: &Path, scenario: &str, calls: u32, rate: u32, to: &str) -> Child {
    let scenario = tests_dir().join("sipp").join(scenario);
    sipp_cmd(dir, calls, rate)
        .arg("-sf")
        .arg(scenario)
        .args(["-p", "0", to])
        .spawn()
        .unwrap()
}

/// Fails the test with sipp's summary and the proxy's log unless sipp
/// exited 0 (every call succeeded).
fn assert_sipp_ok(what: &str, out: Output, proxy: &Proxy) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let tail: String = stdout.lines().rev().take(40).collect::<Vec<_>>().join("\n");
    assert_eq!(
        out.status.code(),
        Some(0),
        "sipp {what}: failures:\n{tail}\n{}\nproxy log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        proxy.log()
    );
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

/// Polls until the proxy's log contains `marker`.
fn wait_logged(proxy: &Proxy, marker: &str) {
    let start = Instant::now();
    while !proxy.log().contains(marker) {
        assert!(
            start.elapsed() < DEADLINE,
            "{marker:?} never logged:\n{}",
            proxy.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sipp_options_and_reload_while_traffic_flows() {
    if !compiled_in() || !have_sipp() {
        return;
    }
    let _turn = sipp_turn();
    let mut rp = start_ruby(&stateless_script("v1"));
    let dir = tempfile::tempdir().unwrap();
    let to = rp.proxy.addr().to_string();

    // 3,000 OPTIONS with retransmission handling, all answered.
    let out = uac(dir.path(), "options_retrans.xml", 3_000, 1_000, &to)
        .wait_with_output()
        .unwrap();
    assert_sipp_ok("options", out, &rp.proxy);
    let out = uac(dir.path(), "options_max_forwards_0.xml", 100, 100, &to)
        .wait_with_output()
        .unwrap();
    assert_sipp_ok("max-forwards 0", out, &rp.proxy);
    assert_eq!(status(&rp.proxy, "before-reload"), "SIP/2.0 200 v1");

    // Reloads while sipp runs: at 500 calls/s, 4,000 calls last at least
    // 8 s, far longer than writing a file and two RPC calls.
    let traffic = uac(dir.path(), "options_retrans.xml", 4_000, 500, &to);
    write_script(&rp.script, &stateless_script("v2"));
    let out = rpc(&rp.rpc, "app_ruby.reload");
    assert!(out.contains("\"new\": 1"), "{out}");
    wait_logged(&rp.proxy, "Ruby scripts reloaded");
    assert_eq!(status(&rp.proxy, "after-reload"), "SIP/2.0 200 v2");

    // A broken script: reported, and v2 keeps answering.
    write_script(&rp.script, "def ksr_request_route(\n  this is not ruby\n");
    let out = rpc(&rp.rpc, "app_ruby.reload");
    assert!(out.contains("\"new\": 2"), "{out}");
    wait_logged(
        &rp.proxy,
        "Ruby reload failed, the previous code keeps running",
    );
    assert_eq!(status(&rp.proxy, "after-bad-reload"), "SIP/2.0 200 v2");
    let log = rp.proxy.log();
    let line = log
        .lines()
        .find(|l| l.contains("Ruby reload failed"))
        .unwrap();
    assert!(line.contains("route.rb"), "the file is named: {line}");

    let out = traffic.wait_with_output().unwrap();
    assert_sipp_ok("options during reloads", out, &rp.proxy);
    rp.proxy.assert_alive();
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
    wait_logged(&rp.proxy, "crash requested by the test");
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

/// The example, with its next hop moved to `next_hop` and its listen port
/// to a free one, run with `args` (`-A WITH_TM`...).
fn run_example(next_hop: &str, args: &[&str]) -> Proxy {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ruby");
    let dir = tempfile::tempdir().unwrap();
    let script = std::fs::read_to_string(examples.join("kamailio.rb"))
        .unwrap()
        .replace("sip:127.0.0.1:5080", next_hop);
    let script_path = cfg_path(dir.path(), "kamailio.rb", &script);
    let port = free_port("127.0.0.1");
    let cfg = std::fs::read_to_string(examples.join("kamailio.cfg"))
        .unwrap()
        .replace("127.0.0.1:5060", &format!("127.0.0.1:{port}"))
        .replace(
            "\"load\", \"kamailio.rb\"",
            &format!("\"load\", \"{}\"", script_path.display()),
        );
    let cfg = cfg_path(dir.path(), "kamailio.cfg", &cfg);
    let check = Command::new(BIN)
        .arg("-c")
        .arg("-f")
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
    let child = Command::new(BIN)
        .arg("-f")
        .arg(&cfg)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Proxy { child, dir, port }
}

/// Waits until the example answers a keepalive OPTIONS to itself (the only
/// request it answers without a next hop).
fn wait_keepalive(proxy: &Proxy) {
    let port = proxy.port;
    let start = Instant::now();
    loop {
        let sock = udp_socket(proxy.addr());
        let me = sock.local_addr().unwrap();
        let req = options("UDP", &me, "keepalive").replace(
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
            break;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "no keepalive answer:\n{}",
            proxy.log()
        );
    }
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
    if !have_sipp() {
        return;
    }
    let _turn = sipp_turn();
    let uas_port = free_port("127.0.0.1");
    let mut proxy = run_example(&format!("sip:127.0.0.1:{uas_port}"), &[]);
    wait_keepalive(&proxy);
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

    let dir = tempfile::tempdir().unwrap();
    let to = proxy.addr().to_string();
    // OPTIONS relayed to the UAS and its 200s relayed back.
    let uas = sipp_cmd(dir.path(), 1_000, 1_000)
        .arg("-sf")
        .arg(tests_dir().join("ruby/uas_options.xml"))
        .args(["-p", &uas_port.to_string()])
        .spawn()
        .unwrap();
    let out = uac(dir.path(), "options_retrans.xml", 1_000, 500, &to)
        .wait_with_output()
        .unwrap();
    assert_sipp_ok("options through the example", out, &proxy);
    assert_sipp_ok("uas", uas.wait_with_output().unwrap(), &proxy);

    // Whole calls: INVITE, 180, 200, ACK, BYE, 200, every message relayed.
    let uas = sipp_cmd(dir.path(), 200, 100)
        .args(["-sn", "uas", "-p", &uas_port.to_string()])
        .spawn()
        .unwrap();
    let out = sipp_cmd(dir.path(), 200, 100)
        .args(["-sn", "uac", "-p", "0", &to])
        .output()
        .unwrap();
    assert_sipp_ok("calls through the example", out, &proxy);
    assert_sipp_ok("uas calls", uas.wait_with_output().unwrap(), &proxy);
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
    if !have_sipp() {
        return;
    }
    let _turn = sipp_turn();
    let uas_port = free_port("127.0.0.1");
    let mut proxy = run_example(&format!("sip:127.0.0.1:{uas_port}"), &["-A", "WITH_TM"]);
    wait_keepalive(&proxy);
    let dir = tempfile::tempdir().unwrap();
    let uas = sipp_cmd(dir.path(), 100, 50)
        .args(["-sn", "uas", "-p", &uas_port.to_string()])
        .spawn()
        .unwrap();
    let out = sipp_cmd(dir.path(), 100, 50)
        .args(["-sn", "uac", "-p", "0", &proxy.addr().to_string()])
        .output()
        .unwrap();
    assert_sipp_ok("calls through the example with tm", out, &proxy);
    assert_sipp_ok("uas calls", uas.wait_with_output().unwrap(), &proxy);
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
