//! Memory per transaction: 10,000 INVITEs relayed through tm and left
//! pending (no replies), heap bytes counted by a counting allocator before
//! and after. Run: `cargo bench -p kemi-mod-tm --bench memory`.
//!
//! Each transaction holds the request with its routing state (for failure
//! routes), the request as sent (for retransmissions and CANCEL/ACK), the
//! 100 Trying it sent upstream (for request retransmissions) and its
//! timers.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;

use kemi_core::config;
use kemi_core::context::RouteKind;
use kemi_core::engine::{CallbackNames, ScriptEngine};
use kemi_core::net::{Capture, Proto, RecvInfo};
use kemi_core::sip::Message;
use kemi_core::{Context, ModuleDef, Registry, Runtime};
use kemi_mod_app_lua::LuaEngine;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const N: usize = 10_000;

fn main() {
    let mods: Vec<&'static ModuleDef> = vec![&kemi_mod_tm::MODULE, &kemi_mod_app_lua::MODULE];
    let cfg = config::parse_str(
        "loadmodule \"tm.so\"\nloadmodule \"app_lua.so\"\n",
        "bench.cfg",
        &mods,
        &[],
    )
    .expect("config");
    let capture = Arc::new(Capture::default());
    let runtime = Arc::new(Runtime::with_config(cfg, capture.clone()));
    runtime.set_sockets(vec![(Proto::Udp, "127.0.0.1:5060".parse().expect("addr"))]);
    let script = tempfile::Builder::new()
        .suffix(".lua")
        .tempfile()
        .expect("temp file");
    std::fs::write(
        script.path(),
        "function ksr_request_route()\n  KSR.pv.sets(\"$du\", \"sip:127.0.0.1:5080\")\n  KSR.tm.t_relay()\nend\n",
    )
    .expect("script");
    let mut engine = LuaEngine::with_runtime(
        &Registry::new(&mods),
        &[script.path().to_path_buf()],
        CallbackNames::default(),
        runtime.clone(),
    )
    .expect("engine");
    let recv = RecvInfo {
        proto: Proto::Udp,
        src: "192.0.2.10:5062".parse().expect("addr"),
        local: "127.0.0.1:5060".parse().expect("addr"),
    };
    let route = |engine: &mut LuaEngine, i: usize| {
        let invite = format!(
            "INVITE sip:bob@example.org SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-mem-{i};rport\r\n\
Max-Forwards: 70\r\n\
From: \"Alice\" <sip:alice@example.com>;tag=alice-{i}\r\n\
To: <sip:bob@example.org>\r\n\
Call-ID: mem-{i}@192.0.2.10\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@192.0.2.10:5062>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 116\r\n\r\n\
v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        );
        let msg = Message::parse(invite.into_bytes()).expect("invite");
        let mut ctx = Context::for_message(runtime.clone(), msg, recv);
        ctx.route = RouteKind::Request;
        engine.request_route(&mut ctx).expect("route");
        kemi_mod_tm::after_route(&mut ctx, engine);
    };
    // Warm up: the Lua state, PV cache and table shards allocate once.
    for i in 0..100 {
        route(&mut engine, N + i);
    }
    capture.take();
    let before = LIVE.load(Ordering::Relaxed);
    for i in 0..N {
        route(&mut engine, i);
        if i % 1000 == 0 {
            capture.take();
        }
    }
    capture.take();
    let after = LIVE.load(Ordering::Relaxed);
    let tm = kemi_mod_tm::Tm::of(&runtime);
    let bytes = after - before;
    println!(
        "{N} pending INVITE transactions ({} in the table): {:.1} MiB heap, {} bytes per transaction",
        tm.len(),
        bytes as f64 / (1024.0 * 1024.0),
        bytes / N as isize
    );
}
