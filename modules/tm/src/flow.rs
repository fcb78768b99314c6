//! How messages move through transactions, including the script routes tm
//! runs: branch routes before a branch is sent, onreply routes for its
//! replies, failure routes when every branch failed.
//!
//! KSR calls never re-enter the interpreter: `t_relay` resolves and
//! records the branches; the proxy calls [`after_route`] when the route
//! returns, which runs branch routes and sends. Replies and timers come
//! in through [`on_reply`] and [`run_timers`], from the proxy's workers
//! and its timer thread, each with the thread's own engine.

use std::sync::Arc;
use std::time::Instant;

use kemi_core::context::{RouteKind, TmView};
use kemi_core::engine::ScriptEngine;
use kemi_core::forward::{self, NextHop};
use kemi_core::net::Proto;
use kemi_core::sip::{build_reply, Method};
use kemi_core::{Context, Runtime};

use crate::table::{self, lock, parse_branch, server_key, Timer, TimerKind, Tm, TxRef};
use crate::transaction::{self, build_ack, send_cancel, Routes, Timers, Tx, UacBranch};

/// The transaction of the message being routed, once a t_* call found or
/// created it.
#[derive(Default)]
pub struct CurrentTx(pub Option<TxRef>);

/// Route names set with `t_on_*` before the transaction exists.
#[derive(Default)]
pub struct PendingRoutes(pub Routes);

/// A branch `t_relay` recorded, sent by [`after_route`].
pub struct PendingBranch {
    ctx: Context,
    hop: NextHop,
}

#[derive(Default)]
struct Pending(Vec<PendingBranch>);

/// The current transaction of `ctx`, if a t_* call set one.
pub fn current(ctx: &Context) -> Option<TxRef> {
    ctx.ext.get::<CurrentTx>().and_then(|c| c.0.clone())
}

fn set_current(ctx: &mut Context, tx: &TxRef) {
    ctx.ext.put(CurrentTx(Some(Arc::clone(tx))));
}

/// Forgets the message's transaction (`t_clean`).
pub fn clear_current(ctx: &mut Context) {
    ctx.ext.put(CurrentTx(None));
}

/// Installs the hook that lets `KSR.sl.send_reply` answer statefully.
fn install_reply_hook() {
    let _ = kemi_core::context::TRANSACTION_REPLY
        .set(|ctx, code, reason| current(ctx).map(|_| reply(ctx, code, reason, "")));
}

/// The transaction `ctx`'s request belongs to (ACK and CANCEL: the INVITE's
/// when `as_invite`).
fn lookup(ctx: &Context, as_invite: bool) -> Option<TxRef> {
    let key = server_key(&ctx.msg, as_invite)?;
    Tm::of(ctx.runtime()).find_key(&key)
}

/// An ACK for a non-2xx final reply this proxy sent is the end of the
/// INVITE transaction: absorbed. True when it was.
fn absorb_ack(ctx: &mut Context) -> bool {
    let Some(tx) = lookup(ctx, true) else {
        return false;
    };
    let mut t = lock(&tx);
    if t.final_sent && t.status >= 300 {
        if !t.acked {
            t.acked = true;
            t.schedule_removal(&Tm::of(ctx.runtime()), t.timers.t1 * 8);
        }
        return true;
    }
    false
}

/// `t_newtran`: 1 when a transaction was created, 0 for a retransmission
/// (the last reply is sent again) or an absorbed ACK, -1 on error.
pub fn new_tran(ctx: &mut Context) -> i32 {
    if !ctx.msg.is_request() {
        return -1;
    }
    if current(ctx).is_some() {
        return 1;
    }
    if ctx.msg.method() == Method::Ack {
        return if absorb_ack(ctx) { 0 } else { 1 };
    }
    let Some(key) = server_key(&ctx.msg, false) else {
        return -1;
    };
    let tm = Tm::of(ctx.runtime());
    if let Some(existing) = tm.find_key(&key) {
        retransmit_reply(&existing);
        return 0;
    }
    install_reply_hook();
    let id = tm.new_id(&key);
    let tx = new_tx(ctx, &tm, id, key.clone());
    match tm.insert(id, &key, tx) {
        Ok(tx) => {
            set_current(ctx, &tx);
            1
        }
        Err(existing) => {
            retransmit_reply(&existing);
            0
        }
    }
}

fn new_tx(ctx: &Context, tm: &Tm, id: u64, key: String) -> TxRef {
    let settings = tm.settings();
    let routes = ctx
        .ext
        .get::<PendingRoutes>()
        .map(|p| p.0.clone())
        .unwrap_or_default();
    let mut request = ctx.fork();
    request.branches.clear();
    Arc::new(std::sync::Mutex::new(Tx {
        id,
        key,
        method: ctx.msg.method(),
        created: Instant::now(),
        transport: Arc::clone(ctx.runtime().transport()),
        reply_proto: ctx.recv.proto,
        reply_local: ctx.recv.local,
        reply_dst: forward::reply_address(ctx),
        to_tag: kemi_core::forward::stateless_branch(&ctx.msg).replace("z9hG4bKsl", "tm"),
        request,
        last_reply: None,
        status: 0,
        final_sent: false,
        acked: false,
        reply_interval: settings.t1,
        reply_retransmit_until: None,
        branches: Vec::new(),
        routes,
        timers: ctx
            .ext
            .get::<crate::PendingTimers>()
            .and_then(|p| p.0)
            .unwrap_or_else(|| Timers::from_settings(settings)),
        canceled: false,
        in_failure: false,
        round: 0,
        replies_from: 0,
        auto_inv_100: settings.auto_inv_100,
        disable_6xx: false,
        disable_internal_reply: false,
        removed: false,
        lifetime_armed: false,
        contacts: ctx
            .ext
            .get::<Contacts>()
            .map(|c| c.0.clone())
            .unwrap_or_default(),
    }))
}

fn retransmit_reply(tx: &TxRef) {
    let t = lock(tx);
    if let Some(bytes) = &t.last_reply {
        t.send_upstream(bytes);
    }
}

/// `t_check_trans`: for a reply, 1 when it belongs to a transaction; for a
/// CANCEL, 1 when its INVITE's transaction exists; an ACK to a non-2xx
/// reply is absorbed (0); another request: a retransmission gets the last
/// reply again (0), a new one -1.
pub fn check_trans(ctx: &mut Context) -> i32 {
    if ctx.msg.is_response() {
        let found = ctx
            .msg
            .top_via()
            .ok()
            .and_then(|v| v.branch().and_then(parse_branch))
            .and_then(|(id, _)| Tm::of(ctx.runtime()).find_id(id));
        return match found {
            Some(tx) => {
                set_current(ctx, &tx);
                1
            }
            None => -1,
        };
    }
    match ctx.msg.method() {
        Method::Cancel => match lookup(ctx, true) {
            Some(_) => 1,
            None => -1,
        },
        Method::Ack => {
            if absorb_ack(ctx) {
                0
            } else {
                -1
            }
        }
        _ => match lookup(ctx, false) {
            Some(tx) => {
                retransmit_reply(&tx);
                0
            }
            None => -1,
        },
    }
}

/// `t_lookup_cancel`: 1 when the CANCEL's INVITE transaction exists.
pub fn lookup_cancel(ctx: &Context) -> i32 {
    if ctx.msg.method() != Method::Cancel {
        return -1;
    }
    if lookup(ctx, true).is_some() {
        1
    } else {
        -1
    }
}

/// `t_lookup_request`: 1 when the request has a transaction already.
pub fn lookup_request(ctx: &Context) -> i32 {
    if lookup(ctx, false).is_some() {
        1
    } else {
        -1
    }
}

/// Where `t_relay` sends: `target` overrides `$du`/the R-URI as the next
/// hop, `proto` the transport.
#[derive(Default)]
pub struct RelayTo<'a> {
    pub target: Option<&'a str>,
    pub proto: Option<Proto>,
    /// `t_relay_to` flags: 0x1 no automatic 100, 0x2 no internal replies.
    pub flags: i32,
}

/// `t_relay` and its variants: 1 when branches were recorded (sent when
/// the route returns), 0 for a retransmission or absorbed ACK, -1 when
/// nothing can be relayed (no destination resolves, reply already sent).
pub fn relay(ctx: &mut Context, to: RelayTo<'_>) -> i32 {
    if !ctx.msg.is_request() {
        return -1;
    }
    match ctx.msg.method() {
        Method::Ack => {
            if absorb_ack(ctx) {
                return 0;
            }
            // An ACK for a 2xx travels end to end, statelessly.
            return stateless(ctx, to.target);
        }
        Method::Cancel if ctx.route != RouteKind::Failure => return relay_cancel(ctx, to.target),
        _ => {}
    }
    let (tx, created) = match current(ctx) {
        Some(tx) => (tx, false),
        None => match new_tran(ctx) {
            1 => match current(ctx) {
                Some(tx) => (tx, true),
                None => return -1,
            },
            other => return other,
        },
    };
    let failure = ctx.route == RouteKind::Failure;
    {
        let mut t = lock(&tx);
        if t.final_sent {
            return -1;
        }
        if let Some(p) = ctx.ext.get::<PendingRoutes>() {
            merge_routes(&mut t.routes, &p.0);
        }
        if to.flags & 0x1 != 0 {
            t.auto_inv_100 = false;
        }
        if to.flags & 0x2 != 0 {
            t.disable_internal_reply = true;
        }
        if !failure && !created {
            // Branch and failure routes start from the request as it is
            // now (with this route's edits: Record-Route...); a
            // transaction created just now holds that already.
            let mut snapshot = ctx.fork();
            snapshot.branches.clear();
            t.request = snapshot;
        }
        if t.is_invite() && t.auto_inv_100 && t.status == 0 && !failure {
            let tm = Tm::of(ctx.runtime());
            if let Some(bytes) = t.local_reply(100, &tm.settings().auto_inv_100_reason, "") {
                t.reply_upstream(&tm, 100, bytes);
            }
        }
    }
    let mut targets: Vec<(Option<String>, Option<String>)> =
        vec![(ctx.new_uri.clone(), ctx.dst_uri.clone())];
    for b in &ctx.branches {
        targets.push((Some(b.uri.clone()), b.dst_uri.clone()));
    }
    let mut pending = ctx.ext.take::<Pending>();
    let mut added = 0;
    for (new_uri, dst_uri) in targets {
        let mut bctx = ctx.fork();
        bctx.branches.clear();
        bctx.new_uri = new_uri;
        bctx.dst_uri = dst_uri;
        let next = match to.target {
            Some(t) if !t.is_empty() => t.to_string(),
            _ => forward::next_hop_uri(&bctx).to_string(),
        };
        let mut hop = match forward::resolve_uri(&next) {
            Ok(hop) => hop,
            Err(e) => {
                tracing::info!("tm: cannot relay to {next}: {e}");
                continue;
            }
        };
        if let Some(p) = to.proto {
            hop.proto = p;
        }
        pending.0.push(PendingBranch { ctx: bctx, hop });
        added += 1;
    }
    ctx.ext.put(pending);
    ctx.branches.clear();
    if added == 0 {
        ctx.error_reply = Some((478, "Unresolvable destination".into()));
        -1
    } else {
        1
    }
}

fn merge_routes(into: &mut Routes, from: &Routes) {
    if from.branch.is_some() {
        into.branch = from.branch.clone();
    }
    if from.reply.is_some() {
        into.reply = from.reply.clone();
    }
    if from.failure.is_some() {
        into.failure = from.failure.clone();
    }
    if from.branch_failure.is_some() {
        into.branch_failure = from.branch_failure.clone();
    }
}

fn stateless(ctx: &mut Context, target: Option<&str>) -> i32 {
    match forward::forward(ctx, target) {
        Ok(_) => 1,
        Err(e) => {
            tracing::debug!("tm: stateless relay: {e}");
            -1
        }
    }
}

/// A CANCEL: answered with 200 and passed to every pending branch of its
/// INVITE's transaction; without one it goes on statelessly.
fn relay_cancel(ctx: &mut Context, target: Option<&str>) -> i32 {
    let Some(tx) = lookup(ctx, true) else {
        return stateless(ctx, target);
    };
    let tm = Tm::of(ctx.runtime());
    let mut t = lock(&tx);
    let mut msg = ctx.msg.clone();
    let src = ctx.recv.src;
    let _ = msg.add_via_receive_params(src.ip(), src.port(), ctx.force_rport);
    if let Ok(bytes) = build_reply(
        &msg,
        200,
        "OK",
        Some(&t.to_tag),
        &tm.settings().signature.server,
        b"",
    ) {
        let dst = forward::reply_address(ctx);
        if let Err(e) = ctx.reply_to(dst, &bytes) {
            tracing::debug!("tm: 200 to CANCEL: {e}");
        }
    }
    t.canceled = true;
    if !t.final_sent {
        t.cancel_pending_branches(&tm);
    }
    1
}

/// `t_reply`: sends `code reason` through the transaction (created if
/// needed). 1 when sent.
pub fn reply(ctx: &mut Context, code: u16, reason: &str, headers: &str) -> i32 {
    let tx = match current(ctx) {
        Some(tx) => tx,
        None => {
            if ctx.msg.is_response() || new_tran(ctx) != 1 {
                return -1;
            }
            match current(ctx) {
                Some(tx) => tx,
                None => return -1,
            }
        }
    };
    let tm = Tm::of(ctx.runtime());
    let mut t = lock(&tx);
    if t.final_sent && code >= 200 && !(200..300).contains(&code) {
        return -1;
    }
    // The script may have queued reply headers or set reply options
    // since the snapshot.
    t.request.reply_headers = ctx.reply_headers.clone();
    t.request.reply_body = ctx.reply_body.clone();
    t.request.reply_send = ctx.reply_send;
    t.request.via_options = ctx.via_options;
    if ctx.via_options.reply_add_xavp_params {
        t.request.pv.xavps = ctx.pv.xavps.clone();
    }
    let Some(bytes) = t.local_reply(code, reason, headers) else {
        return -1;
    };
    t.reply_upstream(&tm, code, bytes);
    tm.stats
        .local_replies
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if code >= 200 {
        t.cancel_pending_branches(&tm);
    }
    ctx.replies_sent += 1;
    1
}

/// Called by the proxy after a request or failure route returned: runs
/// the branch route on each branch `t_relay` recorded and sends those it
/// kept. Does nothing when there are none.
pub fn after_route(ctx: &mut Context, engine: &mut dyn ScriptEngine) {
    if ctx.ext.get::<PendingLocal>().is_some() {
        send_local_requests(ctx, engine);
    }
    if ctx.ext.get::<Pending>().is_none() {
        arm_lifetime(ctx);
    }
    let Some(pending) = ctx.ext.get::<Pending>() else {
        return;
    };
    if pending.0.is_empty() {
        return;
    }
    let pending = ctx.ext.take::<Pending>();
    let Some(tx) = current(ctx) else {
        return;
    };
    let tm = Tm::of(ctx.runtime());
    send_branches(&tm, &tx, pending.0, engine);
    complete(&tm, &tx, engine);
}

/// A transaction the route created but neither relayed nor answered
/// would stay forever: it goes after its maximum lifetime. (Relayed ones
/// end through their branches' timers, answered ones after wt_timer.)
fn arm_lifetime(ctx: &Context) {
    let Some(tx) = current(ctx) else {
        return;
    };
    let mut t = lock(&tx);
    if !t.final_sent && t.branches.is_empty() && !t.lifetime_armed {
        t.lifetime_armed = true;
        t.schedule_removal(&Tm::of(ctx.runtime()), t.lifetime());
    }
}

fn send_branches(tm: &Tm, tx: &TxRef, pending: Vec<PendingBranch>, engine: &mut dyn ScriptEngine) {
    let (route, id, round) = {
        let mut t = lock(tx);
        t.round += 1;
        (t.routes.branch.clone(), t.id, t.round)
    };
    for PendingBranch { mut ctx, mut hop } in pending {
        let index = lock(tx).branches.len();
        if let Some(name) = &route {
            ctx.route = RouteKind::Branch;
            ctx.tm = TmView {
                branch_index: index as i32,
                ..TmView::default()
            };
            set_current(&mut ctx, tx);
            let (du, ru) = (ctx.dst_uri.clone(), ctx.new_uri.clone());
            run(engine, &mut ctx, name, None);
            if ctx.drop {
                tracing::debug!("tm: branch {index} dropped in the branch route");
                continue;
            }
            if ctx.dst_uri != du || ctx.new_uri != ru {
                match forward::resolve_uri(forward::next_hop_uri(&ctx)) {
                    Ok(h) => hop = h,
                    Err(e) => {
                        tracing::info!("tm: branch {index}: {e}");
                        continue;
                    }
                }
            }
        }
        let local = forward::local_socket(&ctx, &hop);
        let branch = table::branch_param(id, index);
        let request = match forward::build_request_with_branch(&ctx, &hop, local, &branch) {
            Ok(b) => b,
            Err(e) => {
                tracing::info!("tm: cannot build branch {index}: {e}");
                continue;
            }
        };
        // The onsend route sees each branch as it leaves; dropping it
        // there fails the branch, as a send error would.
        let dropped = engine.has_onsend_route() && {
            ctx.route = RouteKind::OnSend;
            ctx.sflags = 0;
            ctx.drop = false;
            if let Err(e) = engine.onsend_route(&mut ctx) {
                tracing::error!("tm: script error in the onsend route: {e}");
            }
            ctx.drop
        };
        let mut t = lock(tx);
        let now = Instant::now();
        let b = UacBranch {
            uri: ctx.ruri().to_string(),
            dst_uri: ctx.dst_uri.clone(),
            hop,
            local,
            request,
            code: 0,
            reply: None,
            done: false,
            timed_out: false,
            retransmit: t.timers.t1,
            fr_deadline: now + t.timers.fr,
            cancel: None,
            cancel_pending: false,
            cancel_answered: false,
            cancel_interval: t.timers.t1,
            round,
        };
        let sent =
            !dropped && transaction::send_with(&*t.transport, &b, &b.request, ctx.forward_send);
        let udp = b.hop.proto == Proto::Udp;
        let at = b.fr_deadline;
        let first_retransmit = now + b.retransmit;
        t.branches.push(b);
        tm.stats
            .relayed_total
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if !sent {
            if let Some(b) = t.branches.last_mut() {
                b.done = true;
                b.code = 503;
            }
            continue;
        }
        if t.canceled {
            if let Some(b) = t.branches.last_mut() {
                b.cancel_pending = true;
            }
        }
        let branch_index = index as u16;
        tm.schedule(Timer {
            at,
            id,
            kind: TimerKind::FinalResponse(branch_index),
        });
        if udp {
            tm.schedule(Timer {
                at: first_retransmit,
                id,
                kind: TimerKind::Retransmit(branch_index),
            });
        }
    }
}

/// Runs a script function, logging a failure (the message is still
/// handled: a broken route must not leave a transaction hanging).
fn run(engine: &mut dyn ScriptEngine, ctx: &mut Context, name: &str, arg: Option<&str>) {
    ctx.sflags = 0;
    ctx.drop = false;
    if let Err(e) = engine.run_callback(ctx, name, arg) {
        let call_id = ctx.msg.call_id().unwrap_or("-").to_string();
        tracing::error!("tm: script error in {name} (Call-ID {call_id}): {e}");
    }
}

/// Called by the proxy for a received reply (after the reply route):
/// true when it belonged to a transaction and was handled; false means
/// no transaction knows it, and it goes on statelessly.
pub fn on_reply(ctx: &mut Context, engine: &mut dyn ScriptEngine) -> bool {
    let Some((id, index)) = ctx
        .msg
        .top_via()
        .ok()
        .and_then(|v| v.branch().and_then(parse_branch))
    else {
        return false;
    };
    let tm = Tm::of(ctx.runtime());
    let Some(tx) = tm.find_id(id) else {
        return false;
    };
    let Some(code) = ctx.msg.status_code() else {
        return true;
    };
    let is_cancel = ctx
        .msg
        .cseq()
        .map(|c| c.method == Method::Cancel)
        .unwrap_or(false);
    let (route, request) = {
        let mut t = lock(&tx);
        let invite = t.is_invite();
        let settings_fr_restart = tm.settings().restart_fr_on_each_reply;
        let transport = Arc::clone(&t.transport);
        let timers = t.timers;
        let Some(b) = t.branches.get_mut(index) else {
            return true;
        };
        if is_cancel {
            b.cancel_answered = true;
            return true;
        }
        if b.done {
            // A retransmitted final reply: 2xx goes on end to end, a
            // non-2xx INVITE reply gets our ACK again.
            if invite && code >= 300 {
                if let Some(ack) =
                    build_ack(&b.request, &ctx.msg, &tm.settings().signature.user_agent)
                {
                    transaction::send(&*transport, b, &ack);
                }
            } else if (200..300).contains(&code) {
                if let Ok(msg) = forward::remove_top_via(&ctx.msg) {
                    t.send_upstream(&msg.serialize());
                }
            }
            return true;
        }
        if code < 200 {
            if invite && (b.code < 100 || settings_fr_restart) {
                b.fr_deadline = Instant::now() + timers.fr_inv;
            }
            if !invite {
                b.retransmit = timers.t2;
            }
            b.code = b.code.max(code);
            if b.cancel_pending {
                send_cancel(&tm, &*transport, id, index, b);
            }
        } else {
            b.done = true;
            b.code = code;
            if invite && code >= 300 {
                if let Some(ack) =
                    build_ack(&b.request, &ctx.msg, &tm.settings().signature.user_agent)
                {
                    transaction::send(&*transport, b, &ack);
                }
            }
            b.reply = Some(ctx.msg.clone());
        }
        let request = t.routes.reply.is_some().then(|| t.request.msg.clone());
        (t.routes.reply.clone(), request)
    };
    if let Some(name) = route {
        ctx.route = RouteKind::OnReply;
        ctx.tm = TmView {
            branch_index: index as i32,
            reply_code: code,
            reply_reason: ctx.msg.reason().unwrap_or_default().to_string(),
            request,
            reply: None,
        };
        set_current(ctx, &tx);
        run(engine, ctx, &name, None);
        if ctx.ext.get::<PendingLocal>().is_some() {
            send_local_requests(ctx, engine);
        }
        if ctx.drop && code < 200 {
            return true;
        }
    }
    let branch_failure = {
        let mut t = lock(&tx);
        if code < 200 {
            if code > 100 && !t.final_sent {
                if let Ok(msg) = forward::remove_top_via(&ctx.msg) {
                    t.reply_upstream(&tm, code, msg.serialize());
                }
            }
            return true;
        }
        if (200..300).contains(&code) {
            if let Ok(msg) = forward::remove_top_via(&ctx.msg) {
                if t.final_sent {
                    t.send_upstream(&msg.serialize());
                } else {
                    t.reply_upstream(&tm, code, msg.serialize());
                }
            }
            t.cancel_pending_branches(&tm);
            return true;
        }
        if code >= 600 && t.is_invite() && !t.disable_6xx {
            t.cancel_pending_branches(&tm);
        }
        t.routes.branch_failure.clone()
    };
    if let Some(name) = branch_failure {
        ctx.route = RouteKind::BranchFailure;
        set_current(ctx, &tx);
        let event = format!("tm:branch-failure:{name}");
        run(engine, ctx, &name, Some(&event));
    }
    complete(&tm, &tx, engine);
    true
}

/// Relay rounds (t_relay calls) a transaction may have: a failure route
/// that relays again and again to destinations failing at once ends here.
const MAX_ROUNDS: u32 = 12;

/// When every branch has its final reply and none was sent upstream: the
/// failure route runs (it may relay again); then, unless it replied or
/// relayed, the best reply goes upstream.
fn complete(tm: &Tm, tx: &TxRef, engine: &mut dyn ScriptEngine) {
    let mode = tm.settings().failure_reply_mode;
    let (best, failure) = {
        let mut t = lock(tx);
        // No branches at all: every one was dropped or could not be
        // built; the 500 below answers the request.
        if t.final_sent || t.pending() || t.in_failure || t.removed {
            return;
        }
        // A branch answered 2xx: the worker handling that reply relays it
        // (it marks the branch done before running the onreply route and
        // relays after), so the transaction has not failed.
        if t.branches
            .iter()
            .any(|b| b.done && (200..300).contains(&b.code))
        {
            return;
        }
        let best = t.best_branch(mode);
        let failure = match (&t.routes.failure, best) {
            (Some(_), Some((_, code))) if code >= 300 && t.round < MAX_ROUNDS => {
                t.routes.failure.take()
            }
            _ => None,
        };
        if failure.is_some() {
            t.in_failure = true;
        }
        (best, failure)
    };
    if let Some(name) = failure {
        let mut fctx = {
            let t = lock(tx);
            let mut fctx = t.request.fork();
            let reply = best
                .and_then(|(i, _)| t.branches.get(i))
                .and_then(|b| b.reply.clone());
            fctx.tm = TmView {
                branch_index: best.map(|(i, _)| i as i32).unwrap_or(0),
                reply_code: best.map(|(_, c)| c).unwrap_or(0),
                reply_reason: reply
                    .as_ref()
                    .and_then(|r| r.reason().map(str::to_string))
                    .unwrap_or_default(),
                request: None,
                reply,
            };
            fctx
        };
        fctx.route = RouteKind::Failure;
        set_current(&mut fctx, tx);
        run(engine, &mut fctx, &name, None);
        if fctx.ext.get::<PendingLocal>().is_some() {
            send_local_requests(&mut fctx, engine);
        }
        // The branches it relayed go out while the transaction still counts
        // as in its failure route, so no other thread can answer it in
        // between; then it is judged again (its failure route may be set
        // again for the new branches).
        let pending = fctx.ext.take::<Pending>();
        let relayed = !pending.0.is_empty();
        if relayed {
            send_branches(tm, tx, pending.0, engine);
        }
        lock(tx).in_failure = false;
        if relayed {
            complete(tm, tx, engine);
            return;
        }
    }
    let mut t = lock(tx);
    if t.final_sent {
        return;
    }
    let best = t.best_branch(mode);
    let chosen = best.and_then(|(i, code)| {
        t.branches
            .get(i)
            .map(|b| (b.reply.clone(), code, b.timed_out))
    });
    let bytes = match chosen {
        Some((Some(reply), code, _)) => forward::remove_top_via(&reply)
            .ok()
            .map(|m| (code, m.serialize())),
        Some((None, code, timed_out)) => {
            let (code, reason) = if t.canceled {
                (487, "Request Terminated")
            } else if timed_out {
                (408, "Request Timeout")
            } else if code == 503 {
                (503, "Service Unavailable")
            } else {
                (500, "Server Internal Error")
            };
            t.local_reply(code, reason, "").map(|b| (code, b))
        }
        None => t
            .local_reply(500, "Server Internal Error", "")
            .map(|b| (500, b)),
    };
    if let Some((code, bytes)) = bytes {
        t.reply_upstream(tm, code, bytes);
    }
}

/// Called by the proxy's timer thread (about every 10 ms) with its own
/// engine: retransmissions, timeouts (which may run failure routes) and
/// removal of finished transactions.
pub fn run_timers(runtime: &Arc<Runtime>, engine: &mut dyn ScriptEngine) {
    let tm = Tm::of(runtime);
    let now = Instant::now();
    for timer in tm.due(now) {
        let Some(tx) = tm.find_id(timer.id) else {
            continue;
        };
        fire(&tm, &tx, timer, now, engine);
    }
}

fn fire(tm: &Tm, tx: &TxRef, timer: Timer, now: Instant, engine: &mut dyn ScriptEngine) {
    let mut t = lock(tx);
    let id = t.id;
    let invite = t.is_invite();
    let timers = t.timers;
    let transport = Arc::clone(&t.transport);
    match timer.kind {
        TimerKind::Retransmit(i) => {
            let Some(b) = t.branches.get_mut(usize::from(i)) else {
                return;
            };
            if b.done || (invite && b.code >= 100) {
                return;
            }
            transaction::send(&*transport, b, &b.request);
            b.retransmit = if invite {
                b.retransmit * 2
            } else {
                (b.retransmit * 2).min(timers.t2)
            };
            tm.schedule(Timer {
                at: now + b.retransmit,
                ..timer
            });
        }
        TimerKind::FinalResponse(i) => {
            let Some(b) = t.branches.get_mut(usize::from(i)) else {
                return;
            };
            if b.done {
                return;
            }
            if now < b.fr_deadline {
                let at = b.fr_deadline;
                tm.schedule(Timer { at, ..timer });
                return;
            }
            let had_provisional = b.code >= 100;
            b.done = true;
            b.timed_out = true;
            b.code = 408;
            if invite && had_provisional && b.cancel.is_none() {
                send_cancel(tm, &*transport, id, usize::from(i), b);
            }
            drop(t);
            complete(tm, tx, engine);
        }
        TimerKind::Cancel(i) => {
            let Some(b) = t.branches.get_mut(usize::from(i)) else {
                return;
            };
            if b.cancel_answered || b.cancel_interval > timers.t1 * 64 {
                return;
            }
            if let Some(cancel) = b.cancel.clone() {
                transaction::send(&*transport, b, &cancel);
            }
            b.cancel_interval = (b.cancel_interval * 2).min(timers.t2);
            let at = now + b.cancel_interval;
            tm.schedule(Timer { at, ..timer });
        }
        TimerKind::ReplyRetransmit => {
            if t.acked || !t.final_sent {
                return;
            }
            if t.reply_retransmit_until.is_some_and(|u| now >= u) {
                t.schedule_removal(tm, std::time::Duration::ZERO);
                return;
            }
            if let Some(bytes) = &t.last_reply {
                t.send_upstream(bytes);
            }
            t.reply_interval = (t.reply_interval * 2).min(timers.t2);
            let at = now + t.reply_interval;
            tm.schedule(Timer { at, ..timer });
        }
        TimerKind::Remove => {
            if t.removed {
                return;
            }
            t.removed = true;
            let key = t.key.clone();
            drop(t);
            tm.remove(id, &key);
        }
    }
}

/// Contacts `t_load_contacts` ordered, highest q-value group first; kept
/// with the transaction for `t_next_contacts` in failure routes.
#[derive(Clone, Default)]
struct Contacts(Vec<Vec<kemi_core::context::Branch>>);

/// `t_load_contacts`: groups the R-URI and the added branches by q-value
/// (highest first) for serial forking. 1 when loaded, -1 when there is
/// nothing to order (one destination only).
pub fn load_contacts(ctx: &mut Context) -> i32 {
    if ctx.branches.is_empty() {
        return 1;
    }
    let mut all = vec![kemi_core::context::Branch {
        uri: ctx.ruri().to_string(),
        dst_uri: ctx.dst_uri.clone(),
        q: None,
        ..Default::default()
    }];
    all.append(&mut ctx.branches);
    // Unspecified q counts as 1.0 (RFC 3261 16.6).
    all.sort_by_key(|b| std::cmp::Reverse(b.q.unwrap_or(1000)));
    let mut groups: Vec<Vec<kemi_core::context::Branch>> = Vec::new();
    for b in all {
        match groups.last_mut() {
            Some(g) if g.first().map(|f| f.q.unwrap_or(1000)) == Some(b.q.unwrap_or(1000)) => {
                g.push(b)
            }
            _ => groups.push(vec![b]),
        }
    }
    store_contacts(ctx, Contacts(groups));
    1
}

fn store_contacts(ctx: &mut Context, contacts: Contacts) {
    if let Some(tx) = current(ctx) {
        lock(&tx).contacts = contacts.0.clone();
    }
    ctx.ext.put(contacts);
}

/// `t_next_contacts`: the next group becomes the R-URI (first) and the
/// branches (rest). -1 when no group is left.
pub fn next_contacts(ctx: &mut Context) -> i32 {
    let mut groups = match ctx.ext.get::<Contacts>() {
        Some(c) => c.0.clone(),
        None => match current(ctx) {
            Some(tx) => lock(&tx).contacts.clone(),
            None => Vec::new(),
        },
    };
    if groups.is_empty() {
        return -1;
    }
    let mut group = groups.remove(0).into_iter();
    let Some(first) = group.next() else {
        return -1;
    };
    ctx.new_uri = Some(first.uri);
    ctx.dst_uri = first.dst_uri;
    ctx.branches = group.collect();
    store_contacts(ctx, Contacts(groups));
    1
}

/// Cancels the pending branches of the message's transaction: `all`, or
/// `others` than the current branch, or `this` one. 1 when it has one.
pub fn cancel_branches(ctx: &Context, mode: &str) -> i32 {
    let Some(tx) = current(ctx) else {
        return -1;
    };
    let tm = Tm::of(ctx.runtime());
    let mut t = lock(&tx);
    let this = usize::try_from(ctx.tm.branch_index).ok();
    let id = t.id;
    let transport = Arc::clone(&t.transport);
    for (i, b) in t.branches.iter_mut().enumerate() {
        let wanted = match mode {
            "others" => Some(i) != this,
            "this" => Some(i) == this,
            _ => true,
        };
        if wanted && !b.done && b.cancel.is_none() {
            if b.code >= 100 {
                send_cancel(&tm, &*transport, id, i, b);
            } else {
                b.cancel_pending = true;
            }
        }
    }
    1
}

/// The first INVITE transaction with this Call-ID and CSeq number.
pub fn find_by_callid(runtime: &Runtime, call_id: &str, cseq: &str) -> Option<TxRef> {
    let number: u32 = cseq.split_whitespace().next()?.parse().ok()?;
    Tm::of(runtime).all().into_iter().find(|tx| {
        let t = lock(tx);
        t.is_invite()
            && t.request.msg.call_id().ok() == Some(call_id)
            && t.request.msg.cseq().map(|c| c.number).ok() == Some(number)
    })
}

/// `t_uac_send`: a request of the proxy's own, sent statelessly.
pub fn uac_send(
    ctx: &mut Context,
    method: &str,
    ruri: &str,
    nexthop: &str,
    hdrs: &str,
    body: &str,
) -> i32 {
    let valid_method = !method.is_empty() && method.bytes().all(|b| b.is_ascii_alphabetic());
    if !valid_method || ruri.is_empty() {
        return -1;
    }
    let target = if nexthop.is_empty() { ruri } else { nexthop };
    let hop = match forward::resolve_uri(target) {
        Ok(h) => h,
        Err(e) => {
            tracing::info!("tm: t_uac_send to {target}: {e}");
            return -1;
        }
    };
    let local = forward::local_socket(ctx, &hop);
    let has = |name: &str| {
        hdrs.lines().any(|l| {
            l.split_once(':')
                .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        })
    };
    let tag = forward::fnv1a(&[
        ruri.as_bytes(),
        &Instant::now().elapsed().as_nanos().to_le_bytes(),
        &std::process::id().to_le_bytes(),
    ]);
    let branch = table::branch_param(tag, 0).replace(table::BRANCH_PREFIX, "z9hG4bKu");
    let mut out = format!("{method} {ruri} SIP/2.0\r\n");
    let transport = forward::via_transport(hop.proto);
    let host = forward::host_literal(local.ip());
    out.push_str(&format!(
        "Via: SIP/2.0/{transport} {host}:{};branch={branch}\r\n",
        local.port()
    ));
    out.push_str("Max-Forwards: 70\r\n");
    if !has("From") {
        out.push_str(&format!("From: <sip:kemi-proxy@{host}>;tag={tag:x}\r\n"));
    }
    if !has("To") {
        out.push_str(&format!("To: <{ruri}>\r\n"));
    }
    if !has("Call-ID") {
        out.push_str(&format!("Call-ID: {tag:x}-uac@{host}\r\n"));
    }
    if !has("CSeq") {
        out.push_str(&format!("CSeq: 10 {method}\r\n"));
    }
    for line in hdrs.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        out.push_str(line);
        out.push_str("\r\n");
    }
    if !has("User-Agent") {
        out.push_str(&ctx.runtime().signature().user_agent);
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let request = LocalRequest {
        bytes: out.into_bytes(),
        hop,
        local,
    };
    if Tm::of(ctx.runtime()).settings().event_callback.is_some() {
        // The `tm:local-request` event runs when the route returns.
        let mut pending = ctx.ext.take::<PendingLocal>();
        pending.0.push(request);
        ctx.ext.put(pending);
        return 1;
    }
    if request.send(ctx.runtime()) {
        1
    } else {
        -1
    }
}

/// A request of the proxy's own (`t_uac_send`).
struct LocalRequest {
    bytes: Vec<u8>,
    hop: NextHop,
    local: std::net::SocketAddr,
}

impl LocalRequest {
    fn send(&self, runtime: &Runtime) -> bool {
        match runtime
            .transport()
            .send(self.hop.proto, Some(self.local), self.hop.dst, &self.bytes)
        {
            Ok(()) => true,
            Err(e) => {
                tracing::info!("tm: local request to {}: {e}", self.hop.dst);
                false
            }
        }
    }
}

/// Local requests waiting for the `tm:local-request` event.
#[derive(Default)]
struct PendingLocal(Vec<LocalRequest>);

/// Runs the `event_callback` function with `tm:local-request` on each
/// local request the route made (it sees the request as the message and
/// may change or drop it), then sends them.
fn send_local_requests(ctx: &mut Context, engine: &mut dyn ScriptEngine) {
    let pending = ctx.ext.take::<PendingLocal>();
    let callback = Tm::of(ctx.runtime()).settings().event_callback.clone();
    for mut request in pending.0 {
        if let Some(name) = &callback {
            let Ok(msg) = kemi_core::sip::Message::parse(request.bytes.clone()) else {
                continue;
            };
            let recv = kemi_core::net::RecvInfo {
                proto: request.hop.proto,
                src: request.local,
                local: request.local,
            };
            let mut lctx = Context::for_message(Arc::clone(ctx.runtime()), msg, recv);
            lctx.route = RouteKind::Event;
            run(engine, &mut lctx, name, Some("tm:local-request"));
            if lctx.drop {
                continue;
            }
            request.bytes = lctx.msg.serialize();
        }
        request.send(ctx.runtime());
    }
}
