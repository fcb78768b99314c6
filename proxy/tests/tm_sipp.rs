//! Stateful proxying (tm) end to end: sipp calls through the real binary
//! running the relay example (examples/relay/kamailio.cfg + relay.lua) to
//! sipp callees, all on loopback, each test on its own ports. The
//! scenarios are in tests/scenarios/. Every test checks sipp's exit status
//! and call counters, tm.stats over the RPC socket, that the transaction
//! table empties once the calls are over, and that the proxy still runs.
//! No timing assertions: deadlines only bound waiting for a condition.
//! Fails when sipp is not installed (`scripts/setup` installs it).

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::sipp::{self, Sipp};
use common::*;
use serde_json::Value;

/// The relay example on a free port, with the RPC on a Unix socket of its
/// own (so tests can run side by side).
struct Relay {
    proxy: Proxy,
    rpc_socket: PathBuf,
}

impl Relay {
    /// Starts the example with `defines` (`-A NAME=VALUE`) and waits until
    /// it answers.
    fn start(defines: &[(&str, &str)]) -> Relay {
        Relay::start_with(defines, "")
    }

    /// As `start`, with `extra` lines appended to the config.
    fn start_with(defines: &[(&str, &str)], extra: &str) -> Relay {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/relay");
        let cfg = std::fs::read_to_string(example.join("kamailio.cfg")).unwrap();
        let script = example.join("relay.lua");
        assert!(
            cfg.contains("\"load\", \"relay.lua\""),
            "the relay example no longer loads relay.lua: update this test"
        );
        let dir = tempfile::tempdir().unwrap();
        let rpc_socket = dir.path().join("rpc.sock");
        // The example as shipped; only the script path is made absolute
        // (the config is copied) and the RPC gets a private socket.
        let cfg = cfg.replace(
            "\"load\", \"relay.lua\"",
            &format!("\"load\", \"{}\"", script.display()),
        ) + &format!(
            "\nloadmodule \"jsonrpcs.so\"\nmodparam(\"jsonrpcs\", \"transport\", 4)\n\
             modparam(\"jsonrpcs\", \"socket\", \"{}\")\n{extra}\n",
            rpc_socket.display()
        );
        let path = cfg_path(dir.path(), "kamailio.cfg", &cfg);
        let port = free_port("127.0.0.1");
        let mut args = vec![
            "-f".to_string(),
            path.display().to_string(),
            "-A".to_string(),
            format!("LISTEN=udp:127.0.0.1:{port}"),
        ];
        for (name, value) in defines {
            args.push("-A".into());
            args.push(format!("{name}={value}"));
        }
        let log = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
        let child = Command::new(BIN)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let relay = Relay {
            proxy: Proxy { child, dir, port },
            rpc_socket,
        };
        relay.wait_answering();
        relay
    }

    fn addr(&self) -> SocketAddr {
        self.proxy.addr()
    }

    /// Waits until the script answers: an OPTIONS with Max-Forwards 0 gets
    /// its 483 without being relayed anywhere.
    fn wait_answering(&self) {
        let sock = udp_socket(self.addr());
        let me = sock.local_addr().unwrap().to_string();
        let start = Instant::now();
        while start.elapsed() < DEADLINE {
            let probe = request("OPTIONS", "UDP", &me, "ready")
                .replace("Max-Forwards: 70", "Max-Forwards: 0");
            let reply = udp_exchange(
                &sock,
                self.addr(),
                probe.as_bytes(),
                Duration::from_millis(200),
            );
            if reply.is_some_and(|r| r.starts_with("SIP/2.0 483 ")) {
                return;
            }
        }
        panic!("the relay never answered; log:\n{}", self.proxy.log());
    }

    /// tm.stats through `kemi-proxy rpc`.
    fn stats(&self) -> Value {
        let out = Command::new(BIN)
            .arg("rpc")
            .arg("-s")
            .arg(&self.rpc_socket)
            .arg("tm.stats")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kemi-proxy rpc tm.stats: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn stat(&self, name: &str) -> u64 {
        self.stats()[name]
            .as_u64()
            .unwrap_or_else(|| panic!("tm.stats has no {name}: {}", self.stats()))
    }

    /// Polls tm.stats until no transaction is left (they go after their
    /// wait timer), then returns the stats.
    fn wait_table_empty(&self) -> Value {
        let start = Instant::now();
        loop {
            let stats = self.stats();
            if stats["current"] == 0 {
                return stats;
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "transactions left: {stats}\n{}",
                self.context()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The end of the proxy's log, for assertion messages.
    fn context(&self) -> String {
        let log = self.proxy.log();
        let tail: Vec<&str> = log.lines().rev().take(60).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!("--- proxy log (end) ---\n{}", tail.join("\n"))
    }

    /// The transaction table empties, tm.stats has the expected counters,
    /// and the proxy still runs.
    fn assert_finished(&mut self, expected: &[(&str, u64)]) {
        let stats = self.wait_table_empty();
        for (name, value) in expected {
            assert_eq!(
                stats[*name].as_u64(),
                Some(*value),
                "tm.stats {name}: {stats}\n{}",
                self.context()
            );
        }
        self.proxy.assert_alive();
    }
}

/// Asserts that every sipp run (callers and callees of one test) exited 0
/// with `calls` successful calls and none failed; the message has all
/// their reports and the proxy's log.
fn assert_calls(runs: &[&sipp::Finished], calls: u32, relay: &Relay) {
    let ok = |r: &&sipp::Finished| {
        r.code == Some(0) && r.successful() == u64::from(calls) && r.failed() == 0
    };
    if !runs.iter().all(ok) {
        let reports: Vec<String> = runs.iter().map(|r| r.report()).collect();
        panic!(
            "expected {calls} successful calls and none failed on every side\n{}\n{}",
            reports.join("\n"),
            relay.context()
        );
    }
}

fn local(port: u16) -> String {
    format!("sip:127.0.0.1:{port}")
}

fn callee(scenario: &str, calls: u32) -> (u16, Sipp) {
    let port = free_port("127.0.0.1");
    (port, Sipp::new(scenario, port).calls(calls))
}

fn caller(scenario: &str, calls: u32, rate: u32) -> Sipp {
    Sipp::new(scenario, free_port("127.0.0.1"))
        .calls(calls)
        .rate(rate)
}

/// 5,000 calls (INVITE, 100, 180, 200, ACK, BYE, 200) from sipp's
/// built-in uac to its built-in uas: all complete on both sides, every
/// INVITE and BYE is one transaction with a 2xx, and the table empties.
#[test]
fn five_thousand_calls_relayed_and_the_table_empties() {
    sipp::require();
    const CALLS: u32 = 5_000;
    let (uas_port, uas) = callee("uas", CALLS);
    let uas = uas.timeout(Duration::from_secs(120)).spawn(None);
    let mut relay = Relay::start(&[("NEXT_HOP", &local(uas_port))]);
    assert_eq!(relay.stat("created"), 0);
    // -d: the pause between ACK and BYE, so a busy proxy's workers do
    // not overtake the ACK with the BYE (sipp's uas fails such a call).
    let uac = caller("uac", CALLS, 500)
        .args(&["-d", "100"])
        .timeout(Duration::from_secs(120))
        .run(relay.addr());
    let uas = uas.wait();
    assert_calls(&[&uac, &uas], CALLS, &relay);
    let transactions = 2 * u64::from(CALLS);
    relay.assert_finished(&[
        ("created", transactions),
        ("relayed_total", transactions),
        ("2xx", transactions),
        ("4xx", 0),
        ("5xx", 0),
        ("6xx", 0),
        ("total_local", 0),
    ]);
}

/// With sipp dropping 10% of the messages on both sides, every call still
/// completes: retransmissions by the caller, the callee and the proxy make
/// up for the losses, and retransmitted requests are absorbed by their
/// transactions (one per INVITE and BYE).
///
/// The proxy keeps finished transactions for RFC 3261's 64*T1 (timer J,
/// 32 s) instead of the example's wt_timer (5 s, Kamailio's default): the
/// caller retransmits a BYE whose 200 it lost for up to 32 s, and after
/// 5 s the proxy would relay it again as a new request, which the callee
/// (sipp) takes for an unexpected BYE: with 300 calls and 10% loss, one
/// run in four failed that way. The callee scenario lingers as long
/// (uas_lossy.xml).
#[test]
fn calls_complete_through_retransmissions_with_ten_percent_loss() {
    sipp::require();
    const CALLS: u32 = 300;
    let (uas_port, uas) = callee("uas_lossy.xml", CALLS);
    let uas = uas
        .args(&["-lost", "10"])
        .timeout(Duration::from_secs(120))
        .spawn(None);
    let mut relay = Relay::start_with(
        &[("NEXT_HOP", &local(uas_port))],
        "modparam(\"tm\", \"wt_timer\", 32000)",
    );
    let uac = caller("uac_rr.xml", CALLS, 50)
        .args(&["-lost", "10", "-d", "100"])
        .timeout(Duration::from_secs(120))
        .run(relay.addr());
    let uas = uas.wait();
    assert_calls(&[&uac, &uas], CALLS, &relay);
    let transactions = 2 * u64::from(CALLS);
    relay.assert_finished(&[
        ("created", transactions),
        ("2xx", transactions),
        ("4xx", 0),
        ("5xx", 0),
    ]);
}

/// The first callee is busy (486): the failure route relays to
/// FAILOVER_HOP, whose 200 reaches the caller; the ACK and BYE then reach
/// that second callee through the Record-Route (NEXT_HOP is the busy one,
/// so only loose_route gets them there).
#[test]
fn busy_callee_fails_over_to_the_second_hop() {
    sipp::require();
    const CALLS: u32 = 20;
    let (busy_port, busy) = callee("uas_486.xml", CALLS);
    let busy = busy.spawn(None);
    let (ok_port, answering) = callee("uas_rr.xml", CALLS);
    let answering = answering.spawn(None);
    let mut relay = Relay::start(&[
        ("NEXT_HOP", &local(busy_port)),
        ("FAILOVER_HOP", &local(ok_port)),
    ]);
    let uac = caller("uac_rr.xml", CALLS, 20)
        .args(&["-d", "100"])
        .run(relay.addr());
    let (busy, answering) = (busy.wait(), answering.wait());
    assert_calls(&[&uac, &busy, &answering], CALLS, &relay);
    let calls = u64::from(CALLS);
    relay.assert_finished(&[
        // INVITE and BYE; the INVITE has two branches.
        ("created", 2 * calls),
        ("relayed_total", 3 * calls),
        ("2xx", 2 * calls),
        // The 486 stays between the proxy and the busy callee.
        ("4xx", 0),
    ]);
}

/// A callee that never answers: the caller gets 100 Trying, then 408 when
/// fr_timer (2 s here) runs out; the INVITE did reach the callee.
#[test]
fn silent_callee_gets_the_caller_a_408() {
    sipp::require();
    const CALLS: u32 = 3;
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_uri = local(silent.local_addr().unwrap().port());
    let mut relay = Relay::start(&[("NEXT_HOP", &silent_uri), ("FR_TIMER", "2000")]);
    let uac = caller("uac_timeout.xml", CALLS, 10).run(relay.addr());
    assert_calls(&[&uac], CALLS, &relay);
    // Every call's INVITE arrived (and was not answered).
    silent
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut call_ids = std::collections::BTreeSet::new();
    let mut buf = vec![0u8; 65536];
    while let Ok((n, _)) = silent.recv_from(&mut buf) {
        let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
        if msg.starts_with("INVITE ") {
            let call_id = msg
                .lines()
                .find(|l| l.starts_with("Call-ID:"))
                .map(str::to_string);
            call_ids.extend(call_id);
        }
    }
    assert_eq!(
        call_ids.len(),
        CALLS as usize,
        "{call_ids:?}\n{}",
        relay.context()
    );
    let calls = u64::from(CALLS);
    relay.assert_finished(&[("created", calls), ("4xx", calls), ("2xx", 0)]);
}

/// The caller cancels while the callee rings: the caller gets 200 for the
/// CANCEL and 487 for the INVITE; the callee gets the CANCEL, answers it
/// and the INVITE (487), and gets the proxy's ACK.
#[test]
fn cancel_before_the_answer_reaches_the_callee() {
    sipp::require();
    const CALLS: u32 = 10;
    let (uas_port, uas) = callee("uas_cancel.xml", CALLS);
    let uas = uas.spawn(None);
    let mut relay = Relay::start(&[("NEXT_HOP", &local(uas_port))]);
    let uac = caller("uac_cancel.xml", CALLS, 10).run(relay.addr());
    let uas = uas.wait();
    assert_calls(&[&uac, &uas], CALLS, &relay);
    let calls = u64::from(CALLS);
    relay.assert_finished(&[("4xx", calls), ("2xx", 0)]);
}

/// Record-routing: the INVITE reaches the callee with the proxy's
/// Record-Route, the caller's 200 carries it back, and the ACK and BYE
/// sent with that route set (Route header, R-URI the callee's Contact)
/// are routed by loose_route to the callee, which answers the BYE.
#[test]
fn bye_follows_the_record_route() {
    sipp::require();
    const CALLS: u32 = 10;
    let (uas_port, uas) = callee("uas_rr.xml", CALLS);
    let uas = uas.spawn(None);
    let mut relay = Relay::start(&[("NEXT_HOP", &local(uas_port))]);
    let uac = caller("uac_rr.xml", CALLS, 10)
        .args(&["-d", "100"])
        .run(relay.addr());
    let uas = uas.wait();
    assert_calls(&[&uac, &uas], CALLS, &relay);
    let calls = u64::from(CALLS);
    relay.assert_finished(&[("created", 2 * calls), ("2xx", 2 * calls)]);
}

/// A next hop that does not resolve: t_relay fails, the script answers
/// 500 (statefully: the transaction exists), and the caller gets that
/// final reply instead of silence.
#[test]
fn unresolvable_next_hop_gets_an_error_reply() {
    sipp::require();
    const CALLS: u32 = 3;
    let mut relay = Relay::start(&[("NEXT_HOP", "sip:no-such-host.invalid")]);
    let uac = caller("uac_rejected.xml", CALLS, 10).run(relay.addr());
    assert_calls(&[&uac], CALLS, &relay);
    let calls = u64::from(CALLS);
    relay.assert_finished(&[("5xx", calls), ("total_local", calls), ("relayed_total", 0)]);
}
