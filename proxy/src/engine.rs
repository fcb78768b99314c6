//! Engine selection and the script router: which engine a config's
//! `cfgengine` asks for, and the [`ScriptRouter`] that runs a Kamailio KEMI
//! script in it, the same way for every language.
//!
//! One [`Runtime`] serves the whole process; every worker thread builds its
//! own interpreter on itself (none of them is `Send`) through the engine's
//! [`EngineBuilder`]. Per message the router builds a [`Context`], runs the
//! request or reply callback, and leaves any reply to the script
//! (`KSR.sl.send_reply` sends through the runtime's transport).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use kemi_core::context::RouteKind;
use kemi_core::engine::{EngineBuilder, EngineEntry, ReloadVersion, ScriptEngine, ScriptError};
use kemi_core::forward::ForwardError;
use kemi_core::net::RecvInfo;
use kemi_core::{Context, Runtime};

use crate::router::{Incoming, Outbound, Router, RouterFactory, WorkerId};
use crate::stats::WorkerStats;

/// The engines this build has: `cfgengine` name, the module providing it,
/// its entry point. One line per engine module; several modules may share
/// a name (app_python3 and app_python3s are both "python"), and the one
/// the config loads is used.
const ENGINES: &[(&str, &str, EngineEntry)] = &[
    ("lua", "app_lua", kemi_mod_app_lua::builder),
    ("jsdt", "app_jsdt", kemi_mod_app_jsdt::builder),
    ("ruby", "app_ruby", kemi_mod_app_ruby::builder),
    ("python", "app_python3", kemi_mod_app_python3::builder),
    ("python", "app_python3s", kemi_mod_app_python3::builder_s),
];

/// The router factory the config's `cfgengine` selects. A script engine
/// loads its scripts once here, on the calling thread, so a broken script
/// or a missing callback stops the proxy (and `-c`) with a clear error
/// before any socket is bound.
pub fn factory_for(runtime: &Arc<Runtime>) -> Result<RouterFactory, String> {
    let config = runtime.config();
    let name = match config.engine.as_deref() {
        None | Some("native") => return Ok(RouterFactory::native()),
        Some(name) => name,
    };
    let candidates: Vec<_> = ENGINES.iter().filter(|(n, _, _)| *n == name).collect();
    if candidates.is_empty() {
        let mut known: Vec<String> = ENGINES.iter().map(|(n, _, _)| format!("\"{n}\"")).collect();
        known.dedup();
        return Err(format!(
            "{}: cfgengine \"{name}\" is not available in this build (available: {})",
            config.file,
            known.join(", ")
        ));
    }
    let entry = match candidates
        .iter()
        .find(|(_, m, _)| config.module(m).is_some())
    {
        Some((_, _, entry)) => entry,
        None => {
            let modules: Vec<String> = candidates
                .iter()
                .map(|(_, m, _)| format!("loadmodule \"{m}.so\""))
                .collect();
            return Err(format!(
                "{}: cfgengine \"{name}\" needs {}",
                config.file,
                modules.join(" or ")
            ));
        }
    };
    script_factory(runtime, entry(runtime)?)
}

fn script_factory(runtime: &Arc<Runtime>, engine: EngineBuilder) -> Result<RouterFactory, String> {
    let runtime = Arc::clone(runtime);
    let threading = engine.threading;
    let reload = engine.reload.then(|| runtime.state::<ReloadVersion>());
    let has_event = runtime.config().kemi.event_route.is_some();
    let tm = runtime.config().module("tm").is_some();
    // Set by the first worker that built its engine, which runs the
    // `core:worker-one-init` event.
    let worker_one_init = Arc::new(AtomicBool::new(false));
    Ok(RouterFactory {
        threading,
        make: Arc::new(move |id: &WorkerId| {
            let mut engine = (engine.build)()?;
            if has_event && !worker_one_init.swap(true, Ordering::AcqRel) {
                worker_event(&mut *engine, &runtime, &id.name, "core:worker-one-init");
            }
            Ok(Box::new(ScriptRouter {
                engine,
                runtime: Arc::clone(&runtime),
                reload: reload.clone(),
                worker: id.name.clone(),
                tm,
            }) as Box<dyn Router>)
        }),
        // tm's retransmissions and timeouts.
        timer: tm.then_some(TM_TIMER_TICK),
    })
}

/// How often tm's timers are checked: retransmission intervals start at
/// 500 ms (T1), so 10 ms keeps them within 2 %.
const TM_TIMER_TICK: std::time::Duration = std::time::Duration::from_millis(10);

/// Checks that the config's engine and scripts load (for `-c`).
pub fn check(runtime: &Arc<Runtime>) -> Result<(), String> {
    factory_for(runtime).map(drop)
}

/// One worker's interpreter and what it routes with.
pub struct ScriptRouter {
    engine: Box<dyn ScriptEngine>,
    runtime: Arc<Runtime>,
    reload: Option<Arc<ReloadVersion>>,
    worker: String,
    /// tm is loaded: requests may have branches to send after the route,
    /// replies may belong to transactions.
    tm: bool,
}

impl Router for ScriptRouter {
    fn handle(&mut self, incoming: Incoming, out: &Outbound<'_>) {
        if let Some(reload) = &self.reload {
            let version = reload.current();
            if version != self.engine.version() {
                // The engine logs the outcome; the old code keeps running
                // if the new one fails.
                self.engine.reload_if_changed(version);
            }
        }
        let Incoming {
            msg,
            proto,
            src,
            local,
        } = incoming;
        let request = msg.is_request();
        let recv = RecvInfo {
            proto: proto.to_net(),
            src,
            local,
        };
        let mut ctx = Context::for_message(Arc::clone(&self.runtime), msg, recv);
        // Script flags live for one callback (Kamailio's core resets them
        // per route); the context is fresh, this states it.
        ctx.sflags = 0;
        let has_onsend = self.engine.has_onsend_route();
        // An interpreter is not re-entered from inside a KSR call, so with
        // an onsend route the requests the script forwards are
        // recorded and sent after the request callback returns.
        ctx.defer_sends = request && has_onsend;
        let result = if request {
            ctx.route = RouteKind::Request;
            self.engine.request_route(&mut ctx)
        } else {
            ctx.route = RouteKind::Reply;
            self.engine.reply_route(&mut ctx)
        };
        if let Err(e) = result {
            self.script_error(&ctx, &e, out.stats());
        }
        if self.tm {
            // Branches t_relay recorded, local requests t_uac_send made.
            kemi_mod_tm::after_route(&mut ctx, &mut *self.engine);
        }
        if !ctx.outgoing.is_empty() {
            self.send_outgoing(&mut ctx, out.stats());
        }
        if !request && !ctx.drop {
            if self.tm && kemi_mod_tm::on_reply(&mut ctx, &mut *self.engine) {
                return self.count_replies(&ctx, out);
            }
            let onsend_reply = has_onsend && self.runtime.config().onsend_route_reply;
            if !onsend_reply || self.onsend(&mut ctx, out.stats()) {
                forward_reply(&mut ctx, out.stats());
            }
        }
        self.count_replies(&ctx, out);
    }

    fn timer(&mut self) {
        if self.tm {
            kemi_mod_tm::run_timers(&self.runtime, &mut *self.engine);
        }
    }
}

impl ScriptRouter {
    fn count_replies(&self, ctx: &Context, out: &Outbound<'_>) {
        if ctx.replies_sent > 0 {
            out.stats()
                .replied
                .fetch_add(ctx.replies_sent, Ordering::Relaxed);
        }
    }

    /// Runs the onsend route for each request the script forwarded while
    /// sends were deferred, with `$du` and `$ru` as they were when it was
    /// forwarded, and sends those the route did not drop.
    fn send_outgoing(&mut self, ctx: &mut Context, stats: &WorkerStats) {
        let outgoing = std::mem::take(&mut ctx.outgoing);
        // A forward from inside the onsend route is sent at once.
        ctx.defer_sends = false;
        let (dst_uri, new_uri) = (ctx.dst_uri.take(), ctx.new_uri.take());
        for out in outgoing {
            ctx.dst_uri = out.dst_uri.clone();
            ctx.new_uri = out.new_uri.clone();
            if !self.onsend(ctx, stats) {
                tracing::debug!(dst = %out.dst, "request dropped in the onsend route");
                continue;
            }
            if let Err(e) = out.send(&self.runtime) {
                tracing::warn!(
                    worker = %self.worker,
                    "forwarding to {} {}: {e}", out.proto, out.dst
                );
            }
        }
        ctx.dst_uri = dst_uri;
        ctx.new_uri = new_uri;
        ctx.route = RouteKind::Request;
        ctx.drop = false;
    }

    /// Runs the onsend route on the message in `ctx`; false when the route
    /// dropped it (`KSR.set_drop()`, `KSR.x.drop()`). A script error does
    /// not drop the message, as Kamailio's engines always return 1.
    fn onsend(&mut self, ctx: &mut Context, stats: &WorkerStats) -> bool {
        ctx.route = RouteKind::OnSend;
        ctx.drop = false;
        ctx.sflags = 0;
        if let Err(e) = self.engine.onsend_route(ctx) {
            self.script_error(ctx, &e, stats);
        }
        let send = !ctx.drop;
        ctx.drop = false;
        send
    }

    /// Logs a failed callback once, with what identifies the message, and
    /// counts it.
    fn script_error(&self, ctx: &Context, e: &ScriptError, stats: &WorkerStats) {
        WorkerStats::inc(&stats.script_errors);
        let msg = &ctx.msg;
        let what = if msg.is_request() {
            msg.method_str().to_string()
        } else {
            format!("reply {}", msg.status_code().unwrap_or(0))
        };
        let call_id = msg.call_id().unwrap_or("-");
        tracing::error!(
            worker = %self.worker,
            src = %ctx.recv.src,
            "script error routing {what} (Call-ID {call_id}): {e}"
        );
    }
}

/// Runs the core event callback (`kemi.event_route_callback`) with the
/// event's name, on a context with no real message, as Kamailio runs
/// `event_route[core:worker-one-init]` in the first worker. Errors are
/// logged; the worker starts anyway.
fn worker_event(engine: &mut dyn ScriptEngine, runtime: &Arc<Runtime>, worker: &str, event: &str) {
    let mut ctx = Context::new(Arc::clone(runtime));
    ctx.route = RouteKind::Event;
    ctx.sflags = 0;
    match engine.event_route(&mut ctx, event) {
        Ok(outcome) => tracing::debug!(worker, "event {event}: {outcome:?}"),
        Err(e) => tracing::error!(worker, "script error in event {event}: {e}"),
    }
}

/// Replies are relayed statelessly after the reply route, unless dropped:
/// our Via comes off and the reply goes to the next Via. Replies whose top
/// Via is not ours have nowhere to go and are dropped.
fn forward_reply(ctx: &mut Context, stats: &WorkerStats) {
    match kemi_core::forward::forward_reply(ctx) {
        Ok(_) => {}
        Err(ForwardError::NotForUs) => {
            WorkerStats::inc(&stats.dropped);
            tracing::debug!(src = %ctx.recv.src, "reply not for this proxy dropped");
        }
        Err(e) => {
            WorkerStats::inc(&stats.dropped);
            tracing::debug!(src = %ctx.recv.src, "reply not forwarded: {e}");
        }
    }
}
