//! tm's message paths driven in-process: a Lua script routes real SIP
//! messages, replies from "downstream" are built from what tm sent, and a
//! capturing transport shows what went where. The sipp tests in
//! proxy/tests cover the same paths over the network.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kemi_core::config;
use kemi_core::context::RouteKind;
use kemi_core::engine::{CallbackNames, ScriptEngine};
use kemi_core::net::{Capture, Proto, RecvInfo, Sent};
use kemi_core::sip::{build_reply, Message};
use kemi_core::{Context, ModuleDef, Registry, Runtime};
use kemi_mod_app_lua::LuaEngine;

const CALLER: &str = "192.0.2.10:5062";
const PROXY: &str = "127.0.0.1:5060";
const CALLEE: &str = "127.0.0.1:5080";
const FAILOVER: &str = "127.0.0.1:5090";

const INVITE: &str = "INVITE sip:bob@example.org SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-caller-1;rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@example.com>;tag=alice-1\r\n\
To: <sip:bob@example.org>\r\n\
Call-ID: tm-flow-1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@192.0.2.10:5062>\r\n\
Content-Length: 0\r\n\r\n";

/// A relay script: everything to the callee, with every route recording
/// that it ran; the failure route fails over once.
const SCRIPT: &str = r#"
function ksr_request_route()
    if KSR.is_CANCEL() then
        if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
        return
    end
    if KSR.is_ACK() then
        if KSR.tm.t_check_trans() == 0 then return end
    end
    KSR.pv.sets("$du", "sip:127.0.0.1:5080")
    KSR.tm.t_on_branch("ksr_branch")
    KSR.tm.t_on_reply("ksr_onreply")
    KSR.tm.t_on_failure("ksr_failure")
    local r = KSR.tm.t_relay()
    KSR.pv.seti("$shv(relay)", r)
    if r < 0 then KSR.sl.send_reply(500, "Server error") end
end
function ksr_branch()
    KSR.pv.seti("$shv(branches)", (KSR.pv.get("$shv(branches)") or 0) + 1)
    KSR.pv.seti("$shv(branch_idx)", KSR.tm.t_get_branch_index())
    if KSR.pv.get("$shv(drop_branch)") == 1 then KSR.x.drop() end
end
function ksr_onreply()
    KSR.pv.seti("$shv(onreply)", KSR.pv.get("$T_reply_code"))
end
function ksr_failure()
    KSR.pv.seti("$shv(failure)", KSR.pv.get("$T_reply_code"))
    KSR.pv.sets("$shv(failure_ci)", KSR.pv.get("$T_req($ci)") or KSR.pv.get("$ci"))
    if KSR.tm.t_is_canceled() > 0 then return end
    if KSR.pv.get("$du") ~= "sip:127.0.0.1:5090" then
        KSR.pv.sets("$du", "sip:127.0.0.1:5090")
        KSR.tm.t_relay()
    end
end
"#;

struct Proxy {
    runtime: Arc<Runtime>,
    capture: Arc<Capture>,
    engine: LuaEngine,
}

fn modules() -> Vec<&'static ModuleDef> {
    vec![
        &kemi_mod_tm::MODULE,
        &kemi_mod_sl::MODULE,
        &kemi_mod_app_lua::MODULE,
    ]
}

fn proxy(script: &str, cfg_extra: &str) -> Proxy {
    proxy_with(script, cfg_extra, &[])
}

/// A proxy running `script` with tm, sl, app_lua and `extra` modules
/// loaded, `cfg_extra` appended to the config.
fn proxy_with(script: &str, cfg_extra: &str, extra: &[&'static ModuleDef]) -> Proxy {
    let mut mods = modules();
    mods.extend_from_slice(extra);
    let loads: String = mods
        .iter()
        .map(|m| format!("loadmodule \"{}.so\"\n", m.name))
        .collect();
    let text = format!("{loads}{cfg_extra}\n");
    let cfg = config::parse_str(&text, "test.cfg", &mods, &[]).unwrap();
    let capture = Arc::new(Capture::default());
    let runtime = Arc::new(Runtime::with_config(cfg, capture.clone()));
    runtime.set_sockets(vec![(Proto::Udp, PROXY.parse().unwrap())]);
    let script_file = tempfile::Builder::new().suffix(".lua").tempfile().unwrap();
    std::fs::write(script_file.path(), script).unwrap();
    let engine = LuaEngine::with_runtime(
        &Registry::new(&mods),
        &[script_file.path().to_path_buf()],
        CallbackNames::default(),
        runtime.clone(),
    )
    .unwrap();
    Proxy {
        runtime,
        capture,
        engine,
    }
}

impl Proxy {
    /// Routes a request from `from` as the proxy's ScriptRouter does.
    fn request(&mut self, bytes: &str, from: &str) -> Context {
        let msg = Message::parse(bytes.as_bytes().to_vec()).unwrap();
        let recv = RecvInfo {
            proto: Proto::Udp,
            src: from.parse().unwrap(),
            local: PROXY.parse().unwrap(),
        };
        let mut ctx = Context::for_message(self.runtime.clone(), msg, recv);
        ctx.route = RouteKind::Request;
        self.engine.request_route(&mut ctx).unwrap();
        kemi_mod_tm::after_route(&mut ctx, &mut self.engine);
        ctx
    }

    /// A reply from downstream to the request tm sent, handled as the
    /// proxy does. True when tm took it.
    fn reply_to(&mut self, sent: &Sent, code: u16, reason: &str) -> bool {
        let bytes = downstream_reply(sent, code, reason);
        self.reply_bytes(bytes, sent.dst)
    }

    fn reply_bytes(&mut self, bytes: Vec<u8>, from: SocketAddr) -> bool {
        let msg = Message::parse(bytes).unwrap();
        let recv = RecvInfo {
            proto: Proto::Udp,
            src: from,
            local: PROXY.parse().unwrap(),
        };
        let mut ctx = Context::for_message(self.runtime.clone(), msg, recv);
        ctx.route = RouteKind::Reply;
        kemi_mod_tm::on_reply(&mut ctx, &mut self.engine)
    }

    fn timers(&mut self) {
        kemi_mod_tm::run_timers(&self.runtime, &mut self.engine);
    }

    fn sent(&self) -> Vec<Sent> {
        self.capture.take()
    }

    fn shv(&self, name: &str) -> Option<String> {
        let ctx = Context::new(self.runtime.clone());
        kemi_core::pv::get_by_name(&ctx, &format!("$shv({name})"))
            .unwrap()
            .map(|v| v.to_string())
    }
}

/// The reply a UAS would send to `sent` (To tag added for non-100).
fn downstream_reply(sent: &Sent, code: u16, reason: &str) -> Vec<u8> {
    let req = Message::parse(sent.bytes.clone()).unwrap();
    let tag = (code > 100).then_some("callee-tag");
    build_reply(&req, code, reason, tag, "", b"").unwrap()
}

fn first_line(s: &Sent) -> String {
    let text = String::from_utf8_lossy(&s.bytes);
    text.lines().next().unwrap_or_default().to_string()
}

fn to(sent: &[Sent], dst: &str) -> Vec<Sent> {
    let dst: SocketAddr = dst.parse().unwrap();
    sent.iter().filter(|s| s.dst == dst).cloned().collect()
}

fn lines(sent: &[Sent]) -> Vec<String> {
    sent.iter().map(first_line).collect()
}

#[test]
fn invite_is_relayed_with_100_and_replies_come_back() {
    let mut p = proxy(SCRIPT, "");
    p.request(INVITE, CALLER);
    let sent = p.sent();
    assert_eq!(lines(&to(&sent, CALLER)), ["SIP/2.0 100 Trying"]);
    let down = to(&sent, CALLEE);
    assert_eq!(lines(&down), ["INVITE sip:bob@example.org SIP/2.0"]);
    let inv = Message::parse(down[0].bytes.clone()).unwrap();
    let vias = inv.vias().unwrap();
    assert_eq!(vias.len(), 2);
    assert!(vias[0].branch().unwrap().starts_with("z9hG4bKt"));
    assert_eq!(p.shv("branches").as_deref(), Some("1"));
    assert_eq!(p.shv("relay").as_deref(), Some("1"));

    // 180 goes up without our Via; the onreply route sees its code.
    assert!(p.reply_to(&down[0], 180, "Ringing"));
    let up = p.sent();
    assert_eq!(lines(&up), ["SIP/2.0 180 Ringing"]);
    assert_eq!(up[0].dst, CALLER.parse().unwrap());
    let r = Message::parse(up[0].bytes.clone()).unwrap();
    assert_eq!(r.vias().unwrap().len(), 1);
    assert_eq!(p.shv("onreply").as_deref(), Some("180"));

    // 200 goes up; no ACK from the proxy (2xx ACK is end to end).
    assert!(p.reply_to(&down[0], 200, "OK"));
    let sent = p.sent();
    assert_eq!(lines(&sent), ["SIP/2.0 200 OK"]);

    // A retransmitted INVITE gets the last reply again, nothing goes down.
    p.request(INVITE, CALLER);
    let sent = p.sent();
    assert_eq!(lines(&sent), ["SIP/2.0 200 OK"]);
    assert_eq!(p.shv("relay").as_deref(), Some("0"));
}

#[test]
fn negative_reply_is_acked_and_failure_route_fails_over() {
    let mut p = proxy(SCRIPT, "");
    p.request(INVITE, CALLER);
    let down = to(&p.sent(), CALLEE);
    assert!(p.reply_to(&down[0], 486, "Busy Here"));
    let sent = p.sent();
    // ACK to the callee, then the failover INVITE; nothing upstream yet.
    let acks = to(&sent, CALLEE);
    assert_eq!(lines(&acks), ["ACK sip:bob@example.org SIP/2.0"]);
    let ack = Message::parse(acks[0].bytes.clone()).unwrap();
    assert_eq!(ack.to().unwrap().tag(), Some("callee-tag"));
    assert_eq!(
        ack.top_via().unwrap().branch(),
        Message::parse(down[0].bytes.clone())
            .unwrap()
            .top_via()
            .unwrap()
            .branch()
    );
    let second = to(&sent, FAILOVER);
    assert_eq!(lines(&second), ["INVITE sip:bob@example.org SIP/2.0"]);
    assert!(to(&sent, CALLER).is_empty());
    assert_eq!(p.shv("failure").as_deref(), Some("486"));
    assert_eq!(p.shv("failure_ci").as_deref(), Some("tm-flow-1"));
    assert_eq!(p.shv("branch_idx").as_deref(), Some("1"));

    // The failover answers 200: it reaches the caller.
    assert!(p.reply_to(&second[0], 200, "OK"));
    assert_eq!(lines(&to(&p.sent(), CALLER)), ["SIP/2.0 200 OK"]);
}

#[test]
fn best_reply_is_relayed_when_no_failure_route_helps() {
    let script = SCRIPT.replace("KSR.tm.t_on_failure(\"ksr_failure\")", "");
    let mut p = proxy(&script, "");
    p.request(INVITE, CALLER);
    let down = to(&p.sent(), CALLEE);
    assert!(p.reply_to(&down[0], 486, "Busy Here"));
    let sent = p.sent();
    assert_eq!(lines(&to(&sent, CALLER)), ["SIP/2.0 486 Busy Here"]);
    assert_eq!(
        lines(&to(&sent, CALLEE)),
        ["ACK sip:bob@example.org SIP/2.0"]
    );

    // The caller's ACK for the 486 is absorbed, not relayed.
    let ack = INVITE
        .replace("INVITE sip", "ACK sip")
        .replace("1 INVITE", "1 ACK")
        .replace(
            "To: <sip:bob@example.org>",
            "To: <sip:bob@example.org>;tag=x",
        );
    p.request(&ack, CALLER);
    assert!(p.sent().is_empty());
}

#[test]
fn cancel_is_answered_and_sent_downstream() {
    let mut p = proxy(SCRIPT, "");
    p.request(INVITE, CALLER);
    let down = to(&p.sent(), CALLEE);
    assert!(p.reply_to(&down[0], 180, "Ringing"));
    p.sent();
    let cancel = INVITE
        .replace("INVITE sip", "CANCEL sip")
        .replace("1 INVITE", "1 CANCEL");
    p.request(&cancel, CALLER);
    let sent = p.sent();
    assert_eq!(lines(&to(&sent, CALLER)), ["SIP/2.0 200 OK"]);
    // What tm builds itself carries the core's signature.
    let ok = Message::parse(to(&sent, CALLER)[0].bytes.clone()).unwrap();
    assert!(ok
        .header_by_name("Server")
        .unwrap()
        .starts_with("kemi-proxy ("));
    let c = to(&sent, CALLEE);
    assert_eq!(lines(&c), ["CANCEL sip:bob@example.org SIP/2.0"]);
    let own_cancel = Message::parse(c[0].bytes.clone()).unwrap();
    assert!(own_cancel
        .header_by_name("User-Agent")
        .unwrap()
        .starts_with("kemi-proxy ("));
    // The CANCEL's answer is absorbed; the 487 goes up (no failover: the
    // failure route sees the cancel) and is ACKed.
    assert!(p.reply_to(&c[0], 200, "OK"));
    assert!(p.sent().is_empty());
    assert!(p.reply_to(&down[0], 487, "Request Terminated"));
    let sent = p.sent();
    assert_eq!(
        lines(&to(&sent, CALLER)),
        ["SIP/2.0 487 Request Terminated"]
    );
    assert_eq!(
        lines(&to(&sent, CALLEE)),
        ["ACK sip:bob@example.org SIP/2.0"]
    );
    let ack = Message::parse(to(&sent, CALLEE)[0].bytes.clone()).unwrap();
    assert!(ack.header_by_name("User-Agent").is_some());
    assert!(to(&sent, FAILOVER).is_empty());
}

#[test]
fn server_signature_off_leaves_the_headers_out() {
    let mut p = proxy(SCRIPT, "server_signature=no");
    p.request(INVITE, CALLER);
    let down = to(&p.sent(), CALLEE);
    assert!(p.reply_to(&down[0], 180, "Ringing"));
    p.sent();
    let cancel = INVITE
        .replace("INVITE sip", "CANCEL sip")
        .replace("1 INVITE", "1 CANCEL");
    p.request(&cancel, CALLER);
    let sent = p.sent();
    let ok = Message::parse(to(&sent, CALLER)[0].bytes.clone()).unwrap();
    assert_eq!(ok.header_by_name("Server"), None);
    let own_cancel = Message::parse(to(&sent, CALLEE)[0].bytes.clone()).unwrap();
    assert_eq!(own_cancel.header_by_name("User-Agent"), None);
}

#[test]
fn timeout_gives_408_after_fr_timer() {
    let script = SCRIPT.replace(
        "KSR.tm.t_on_failure(\"ksr_failure\")",
        "KSR.tm.t_set_fr(0, 50)",
    );
    let mut p = proxy(&script, "");
    p.request(INVITE, CALLER);
    p.sent();
    std::thread::sleep(Duration::from_millis(80));
    p.timers();
    let sent = p.sent();
    assert!(lines(&to(&sent, CALLER)).contains(&"SIP/2.0 408 Request Timeout".to_string()));
}

#[test]
fn udp_requests_are_retransmitted_until_a_reply() {
    let mut p = proxy(SCRIPT, "modparam(\"tm\", \"retr_timer1\", 20)");
    p.request(INVITE, CALLER);
    let down = to(&p.sent(), CALLEE);
    std::thread::sleep(Duration::from_millis(30));
    p.timers();
    let again = to(&p.sent(), CALLEE);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].bytes, down[0].bytes);
    // After a provisional reply, INVITE retransmissions stop.
    assert!(p.reply_to(&down[0], 180, "Ringing"));
    p.sent();
    std::thread::sleep(Duration::from_millis(100));
    p.timers();
    assert!(to(&p.sent(), CALLEE).is_empty());
}

#[test]
fn parallel_branches_and_first_200_wins() {
    let script = SCRIPT.replace(
        "KSR.pv.sets(\"$du\", \"sip:127.0.0.1:5080\")",
        // Before $du is set: a branch takes the $du current when added.
        "KSR.corex.append_branch_uri(\"sip:carol@127.0.0.1:5090\")\n    KSR.pv.sets(\"$du\", \"sip:127.0.0.1:5080\")",
    );
    let mut p = proxy_with(&script, "", &[&kemi_mod_corex::MODULE]);
    p.request(INVITE, CALLER);
    let sent = p.sent();
    let a = to(&sent, CALLEE);
    let b = to(&sent, FAILOVER);
    assert_eq!(lines(&a), ["INVITE sip:bob@example.org SIP/2.0"]);
    assert_eq!(lines(&b), ["INVITE sip:carol@127.0.0.1:5090 SIP/2.0"]);
    assert!(p.reply_to(&b[0], 180, "Ringing"));
    p.sent();
    assert!(p.reply_to(&a[0], 200, "OK"));
    let sent = p.sent();
    assert_eq!(lines(&to(&sent, CALLER)), ["SIP/2.0 200 OK"]);
    // The other branch, which rang, is cancelled.
    assert_eq!(
        lines(&to(&sent, FAILOVER)),
        ["CANCEL sip:carol@127.0.0.1:5090 SIP/2.0"]
    );
}

#[test]
fn dropping_every_branch_answers_500() {
    let mut p = proxy(SCRIPT, "");
    {
        let mut ctx = Context::new(p.runtime.clone());
        kemi_core::pv::set_by_name(
            &mut ctx,
            "$shv(drop_branch)",
            Some(kemi_core::pv::PvValue::Int(1)),
        )
        .unwrap();
    }
    p.request(INVITE, CALLER);
    let sent = p.sent();
    assert!(to(&sent, CALLEE).is_empty());
    assert_eq!(
        lines(&to(&sent, CALLER)),
        ["SIP/2.0 100 Trying", "SIP/2.0 500 Server Internal Error"]
    );
}

#[test]
fn unresolvable_destination_fails_t_relay() {
    let script = SCRIPT.replace("sip:127.0.0.1:5080", "sip:no-such-host.invalid");
    let mut p = proxy(&script, "");
    p.request(INVITE, CALLER);
    let sent = p.sent();
    assert_eq!(p.shv("relay").as_deref(), Some("-1"));
    // The script's send_reply answered through the transaction.
    let up = lines(&to(&sent, CALLER));
    assert!(
        up.contains(&"SIP/2.0 500 Server error".to_string()),
        "{up:?}"
    );
}

#[test]
fn replies_tm_does_not_know_are_left_to_the_stateless_path() {
    let mut p = proxy(SCRIPT, "");
    let reply = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsl0123\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-x\r\n\
From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: other\r\nCSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\r\n";
    assert!(!p.reply_bytes(reply.as_bytes().to_vec(), CALLEE.parse().unwrap()));
}

#[test]
fn local_requests_pass_the_event_callback() {
    let script = r#"
function ksr_request_route()
    KSR.tm.t_uac_send("OPTIONS", "sip:probe@127.0.0.1:5090", "", "", "X-Probe: 1\r\n", "")
end
function ksr_tm_event(evname)
    KSR.pv.sets("$shv(event)", evname)
    KSR.pv.sets("$shv(event_rm)", KSR.pv.get("$rm"))
    KSR.hdr.append("X-Seen: yes\r\n")
end
"#;
    let mut p = proxy(
        script,
        "modparam(\"tm\", \"event_callback\", \"ksr_tm_event\")",
    );
    p.request(INVITE, CALLER);
    let sent = to(&p.sent(), FAILOVER);
    assert_eq!(lines(&sent), ["OPTIONS sip:probe@127.0.0.1:5090 SIP/2.0"]);
    let msg = Message::parse(sent[0].bytes.clone()).unwrap();
    assert_eq!(msg.header_by_name("X-Probe"), Some("1"));
    assert_eq!(msg.header_by_name("X-Seen"), Some("yes"));
    assert!(msg
        .header_by_name("User-Agent")
        .unwrap()
        .starts_with("kemi-proxy ("));
    assert_eq!(p.shv("event").as_deref(), Some("tm:local-request"));
    assert_eq!(p.shv("event_rm").as_deref(), Some("OPTIONS"));
}

#[test]
fn tcp_next_hop_is_used_without_retransmissions() {
    let script = SCRIPT.replace("sip:127.0.0.1:5080", "sip:127.0.0.1:5080;transport=tcp");
    let mut p = proxy(&script, "modparam(\"tm\", \"retr_timer1\", 10)");
    p.request(INVITE, CALLER);
    let down = to(&p.sent(), CALLEE);
    assert_eq!(down.len(), 1);
    assert_eq!(down[0].proto, Proto::Tcp);
    let inv = Message::parse(down[0].bytes.clone()).unwrap();
    assert_eq!(inv.top_via().unwrap().transport, "TCP");
    std::thread::sleep(Duration::from_millis(40));
    p.timers();
    assert!(to(&p.sent(), CALLEE).is_empty());
}

#[test]
fn rpc_stats_and_list_show_the_transactions() {
    let mut p = proxy(SCRIPT, "");
    p.request(INVITE, CALLER);
    let down = to(&p.sent(), CALLEE);
    let runtime = p.runtime.clone();
    let rpc = |name: &str| {
        let method = kemi_mod_tm::MODULE
            .rpc
            .iter()
            .find(|m| m.name == name)
            .unwrap();
        let ctx = kemi_core::rpc::RpcContext {
            runtime: runtime.clone(),
            registry: Registry::new(&modules()),
        };
        (method.handler)(&ctx, &[]).unwrap()
    };
    let stats = rpc("tm.stats");
    assert_eq!(stats["current"], 1, "{stats}");
    assert_eq!(stats["created"], 1, "{stats}");
    assert_eq!(stats["relayed_total"], 1, "{stats}");
    let list = rpc("tm.list");
    let txs = list.as_array().unwrap();
    assert_eq!(txs.len(), 1, "{list}");
    assert_eq!(txs[0]["method"], "INVITE");
    assert_eq!(txs[0]["call_id"], "tm-flow-1");
    assert_eq!(txs[0]["status"], 100);
    assert_eq!(txs[0]["branches"][0]["dst"], CALLEE);
    assert!(p.reply_to(&down[0], 486, "Busy Here"));
    p.sent();
    let stats = rpc("tm.stats");
    // The failure route relayed to the failover: one more branch, no
    // final reply yet.
    assert_eq!(stats["relayed_total"], 2, "{stats}");
    assert_eq!(stats["4xx"], 0, "{stats}");
}

#[test]
fn branches_pass_the_onsend_route_which_may_drop_them() {
    let script = format!(
        "{SCRIPT}\n\
function ksr_onsend_route()\n\
    KSR.pv.sets(\"$shv(onsend)\", KSR.pv.get(\"$du\") .. \" \" .. KSR.pv.get(\"$rm\"))\n\
    if KSR.pv.get(\"$du\") == \"sip:127.0.0.1:5080\" then KSR.set_drop() end\n\
end\n"
    );
    let mut p = proxy(&script, "");
    p.request(INVITE, CALLER);
    let sent = p.sent();
    // Dropped in the onsend route: the branch fails like a send error, the
    // failure route fails over, and that branch goes out.
    assert!(to(&sent, CALLEE).is_empty(), "{:?}", lines(&sent));
    assert_eq!(
        lines(&to(&sent, FAILOVER)),
        ["INVITE sip:bob@example.org SIP/2.0"]
    );
    assert_eq!(
        p.shv("onsend").as_deref(),
        Some("sip:127.0.0.1:5090 INVITE")
    );
    assert_eq!(p.shv("failure").as_deref(), Some("503"));
}

#[test]
fn a_failure_route_relaying_forever_is_stopped() {
    let script = r#"
function ksr_request_route()
    KSR.pv.sets("$du", "sip:127.0.0.1:5080")
    KSR.tm.t_on_failure("ksr_failure")
    KSR.tm.t_relay()
end
function ksr_onsend_route()
    KSR.set_drop()
end
function ksr_failure()
    KSR.pv.seti("$shv(rounds)", (KSR.pv.get("$shv(rounds)") or 0) + 1)
    KSR.tm.t_on_failure("ksr_failure")
    KSR.tm.t_relay()
end
"#;
    let mut p = proxy(script, "");
    p.request(INVITE, CALLER);
    let sent = p.sent();
    // Every branch is dropped (a 503 at once); after 12 rounds the 503
    // goes back instead of another round.
    assert_eq!(p.shv("rounds").as_deref(), Some("11"));
    assert_eq!(
        lines(&to(&sent, CALLER)),
        ["SIP/2.0 100 Trying", "SIP/2.0 503 Service Unavailable"]
    );
}

#[test]
fn t_reply_last_and_t_name_in_the_transaction_routes() {
    let script = r#"
function ksr_request_route()
    -- Outside tm's reply routes there is no last reply.
    KSR.pv.sets("$shv(req_last)", tostring(KSR.pv.get("$T_reply_last")))
    KSR.pv.sets("$du", "sip:127.0.0.1:5080")
    KSR.tm.t_on_reply("ksr_onreply")
    KSR.tm.t_on_failure("ksr_failure")
    KSR.tm.t_relay()
end
function ksr_onreply()
    KSR.pv.seti("$shv(onreply_last)", KSR.pv.get("$T_reply_last"))
    KSR.pv.seti("$shv(onreply_t)", KSR.pv.get("$T(reply_code)"))
end
function ksr_failure()
    KSR.pv.seti("$shv(failure_last)", KSR.pv.get("$T(reply_last)"))
    KSR.pv.sets("$shv(failure_reason)", KSR.pv.get("$T(reply_reason)"))
    KSR.pv.seti("$shv(failure_branch)", KSR.pv.get("$T(branch_index)"))
end
"#;
    let mut p = proxy(script, "");
    p.request(INVITE, CALLER);
    assert_eq!(p.shv("req_last").as_deref(), Some("nil"));
    let down = to(&p.sent(), CALLEE);
    assert!(p.reply_to(&down[0], 183, "Session Progress"));
    assert_eq!(p.shv("onreply_last").as_deref(), Some("183"));
    assert_eq!(p.shv("onreply_t").as_deref(), Some("183"));
    assert!(p.reply_to(&down[0], 603, "Decline"));
    assert_eq!(p.shv("onreply_last").as_deref(), Some("603"));
    assert_eq!(p.shv("failure_last").as_deref(), Some("603"));
    assert_eq!(p.shv("failure_reason").as_deref(), Some("Decline"));
    assert_eq!(p.shv("failure_branch").as_deref(), Some("0"));
}
