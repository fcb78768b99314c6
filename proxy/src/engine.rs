//! Engine selection: which [`RouterFactory`] a config asks for, and the
//! Lua router (`cfgengine "lua"`) that runs a Kamailio KEMI script.
//!
//! One [`Runtime`] serves the whole process; every worker thread builds its
//! own [`LuaEngine`] on itself (Lua states are not `Send`) from the same
//! registry and scripts. Per message the router builds a [`Context`], runs
//! the request or reply callback, and leaves any reply to the script
//! (`KSR.sl.send_reply` sends through the runtime's transport).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use kemi_core::context::RouteKind;
use kemi_core::forward::ForwardError;
use kemi_core::net::RecvInfo;
use kemi_core::{Context, Registry, Runtime};
use kemi_mod_app_lua::{AppLuaReload, CallbackNames, LuaEngine, ScriptError};

use crate::router::{Incoming, Outbound, Router, RouterFactory, Threading, WorkerId};
use crate::stats::WorkerStats;

/// The router factory the config's `cfgengine` selects. For a script
/// engine, the scripts are loaded once here, on the calling thread, so a
/// broken script or a missing callback stops the proxy (and `-c`) with a
/// clear error before any socket is bound.
pub fn factory_for(runtime: &Arc<Runtime>) -> Result<RouterFactory, String> {
    let config = runtime.config();
    match config.engine.as_deref() {
        None | Some("native") => Ok(RouterFactory::native()),
        Some("lua") => lua_factory(runtime),
        Some(other) => Err(format!(
            "{}: cfgengine \"{other}\" is not available in this build (\"lua\" is)",
            config.file
        )),
    }
}

/// What every Lua worker is built from.
struct LuaSetup {
    registry: Registry,
    scripts: Vec<PathBuf>,
    callbacks: CallbackNames,
    runtime: Arc<Runtime>,
    /// `None` when `modparam("app_lua", "reload", 0)` turns reloads off.
    reload: Option<Arc<AppLuaReload>>,
    /// Set by the first worker that built its engine, which runs the
    /// `core:worker-one-init` event.
    worker_one_init: AtomicBool,
}

impl LuaSetup {
    fn from_runtime(runtime: &Arc<Runtime>) -> Result<Self, String> {
        let config = runtime.config();
        let Some(app_lua) = config.module("app_lua") else {
            return Err(format!(
                "{}: cfgengine \"lua\" needs loadmodule \"app_lua.so\"",
                config.file
            ));
        };
        let base = Path::new(&config.file).parent().map(Path::to_path_buf);
        let scripts: Vec<PathBuf> = app_lua
            .param_all("load")
            .filter_map(|v| v.as_str())
            .map(|p| resolve_script(p, base.as_deref()))
            .collect();
        if scripts.is_empty() {
            return Err(format!(
                "{}: cfgengine \"lua\" needs a script: modparam(\"app_lua\", \"load\", \"/path/to/script.lua\")",
                config.file
            ));
        }
        let reload_on = app_lua
            .param("reload")
            .and_then(|v| v.as_int())
            .unwrap_or(1)
            != 0;
        let kemi = &config.kemi;
        let callbacks = CallbackNames {
            request: kemi.request_route.as_str().into(),
            reply: kemi.reply_route.as_deref().map(Into::into),
            onsend: kemi.onsend_route.as_deref().map(Into::into),
            event: kemi.event_route.as_deref().map(Into::into),
        };
        Ok(LuaSetup {
            registry: Registry::new(&config.module_defs()),
            scripts,
            callbacks,
            runtime: Arc::clone(runtime),
            reload: reload_on.then(|| runtime.state::<AppLuaReload>()),
            worker_one_init: AtomicBool::new(false),
        })
    }

    fn engine(&self) -> Result<LuaEngine, String> {
        LuaEngine::with_runtime(
            &self.registry,
            &self.scripts,
            self.callbacks.clone(),
            Arc::clone(&self.runtime),
        )
        .map_err(|e| format!("{}: app_lua: {e}", self.runtime.config().file))
    }
}

/// A script path as given, or, when it is relative and not found from the
/// current directory, relative to the config file's directory (so a config
/// and its script can be moved together).
fn resolve_script(path: &str, base: Option<&Path>) -> PathBuf {
    let p = PathBuf::from(path);
    if p.is_absolute() || p.exists() {
        return p;
    }
    match base {
        Some(dir) if dir.join(&p).exists() => dir.join(p),
        _ => p,
    }
}

fn lua_factory(runtime: &Arc<Runtime>) -> Result<RouterFactory, String> {
    let setup = Arc::new(LuaSetup::from_runtime(runtime)?);
    // Load once now: errors surface at start (and with -c), not per worker.
    drop(setup.engine()?);
    Ok(RouterFactory {
        threading: Threading::PerWorker,
        make: Arc::new(move |id: &WorkerId| {
            let mut engine = setup.engine()?;
            if setup.callbacks.event.is_some()
                && !setup.worker_one_init.swap(true, Ordering::AcqRel)
            {
                worker_event(
                    &mut engine,
                    &setup.runtime,
                    &id.name,
                    "core:worker-one-init",
                );
            }
            Ok(Box::new(LuaRouter {
                engine,
                runtime: Arc::clone(&setup.runtime),
                reload: setup.reload.clone(),
                worker: id.name.clone(),
            }) as Box<dyn Router>)
        }),
    })
}

/// Checks that the config's engine and scripts load (for `-c`).
pub fn check(runtime: &Arc<Runtime>) -> Result<(), String> {
    factory_for(runtime).map(drop)
}

/// One worker's Lua state and what it routes with.
pub struct LuaRouter {
    engine: LuaEngine,
    runtime: Arc<Runtime>,
    reload: Option<Arc<AppLuaReload>>,
    worker: String,
}

impl Router for LuaRouter {
    fn handle(&mut self, incoming: Incoming, out: &Outbound<'_>) {
        if let Some(reload) = &self.reload {
            let version = reload.current();
            if version != self.engine.version() {
                // The engine logs the outcome; the old code keeps running
                // if the new one fails.
                let _ = self.engine.reload_if_changed(version);
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
        // The Lua state cannot be re-entered from inside a KSR call, so
        // with an onsend route the requests the script forwards are
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
        if !ctx.outgoing.is_empty() {
            self.send_outgoing(&mut ctx, out.stats());
        }
        if !request && !ctx.drop {
            let onsend_reply = has_onsend && self.runtime.config().onsend_route_reply;
            if !onsend_reply || self.onsend(&mut ctx, out.stats()) {
                forward_reply(&mut ctx, out.stats());
            }
        }
        if ctx.replies_sent > 0 {
            out.stats()
                .replied
                .fetch_add(ctx.replies_sent, Ordering::Relaxed);
        }
    }
}

impl LuaRouter {
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
fn worker_event(engine: &mut LuaEngine, runtime: &Arc<Runtime>, worker: &str, event: &str) {
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
