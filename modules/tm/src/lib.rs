//! `tm`: SIP transactions (RFC 3261 §17) and stateful proxying (§16):
//! `KSR.tm.*`.
//!
//! A transaction is created by `t_newtran`, `t_relay` or `t_reply`; it
//! absorbs request retransmissions (re-sending the last reply), sends
//! 100 Trying for INVITEs, forwards to one or more branches (R-URI/`$du`
//! plus `append_branch` destinations), retransmits on UDP (timers A/E),
//! times branches out (`fr_timer`, `fr_inv_timer`: 408), ACKs non-2xx
//! replies hop by hop, passes 2xx on end to end, answers and forwards
//! CANCEL, picks the best final reply, and runs the script's branch,
//! onreply and failure routes. See `table.rs` for how the table is shared
//! without a global lock and `flow.rs` for the message paths.
//!
//! Differences from Kamailio worth knowing:
//! - Branches are sent when the route that called `t_relay` returns (the
//!   interpreter is never re-entered from a KSR call); `t_relay` returns 1
//!   once the destinations resolve, so a send error is seen as a 503
//!   branch reply, not as t_relay's return value.
//! - Each branch passes the onsend route after it is built; replies tm
//!   relays and the CANCELs and ACKs it makes do not.
//! - Next hops by name go through NAPTR/SRV/A (RFC 3263), but only the
//!   best SRV target is tried (no DNS failover); no async suspend
//!   (`t_suspend`/`t_continue` fail).

mod flow;
mod rpc;
mod settings;
mod table;
mod transaction;

use kemi_core::context::RouteKind;
use kemi_core::net::Proto;
use kemi_core::{kemi_module, Context, ModuleDef};

pub use flow::{after_route, on_reply, run_timers, CurrentTx};
pub use settings::Settings;
pub use table::Tm;

use flow::{current, PendingRoutes, RelayTo};
use table::lock;
use transaction::Timers;

/// Which `t_on_*` route a name is for.
#[derive(Clone, Copy)]
enum RouteSlot {
    Branch,
    Reply,
    Failure,
    BranchFailure,
}

fn set_route(ctx: &mut Context, slot: RouteSlot, name: &str) -> i32 {
    let value = (!name.is_empty()).then(|| std::sync::Arc::<str>::from(name));
    let apply = |routes: &mut transaction::Routes| {
        let field = match slot {
            RouteSlot::Branch => &mut routes.branch,
            RouteSlot::Reply => &mut routes.reply,
            RouteSlot::Failure => &mut routes.failure,
            RouteSlot::BranchFailure => &mut routes.branch_failure,
        };
        *field = value.clone();
    };
    let mut pending = ctx.ext.take::<PendingRoutes>();
    apply(&mut pending.0);
    ctx.ext.put(pending);
    if let Some(tx) = current(ctx) {
        apply(&mut lock(&tx).routes);
    }
    1
}

/// Applies `f` to the timers of the current transaction, or of the one the
/// message will create.
fn with_timers(ctx: &mut Context, f: impl Fn(&mut Timers, &Settings)) -> i32 {
    let tm = Tm::of(ctx.runtime());
    match current(ctx) {
        Some(tx) => f(&mut lock(&tx).timers, tm.settings()),
        None => {
            let mut t = ctx
                .ext
                .take::<PendingTimers>()
                .0
                .unwrap_or_else(|| Timers::from_settings(tm.settings()));
            f(&mut t, tm.settings());
            ctx.ext.put(PendingTimers(Some(t)));
        }
    }
    1
}

/// Timer values set before the transaction exists.
#[derive(Default)]
pub(crate) struct PendingTimers(pub Option<Timers>);

fn ms(v: i32) -> Option<std::time::Duration> {
    u64::try_from(v)
        .ok()
        .filter(|v| *v > 0)
        .map(std::time::Duration::from_millis)
}

/// Per-transaction switches set with `t_set_*`.
fn with_tx(ctx: &Context, f: impl FnOnce(&mut transaction::Tx)) -> i32 {
    match current(ctx) {
        Some(tx) => {
            f(&mut lock(&tx));
            1
        }
        None => -1,
    }
}

fn int(b: bool) -> i32 {
    if b {
        1
    } else {
        -1
    }
}

/// `proto:host:port` (or `host:port`, `host`) as a SIP URI to relay to.
fn proxy_uri(sproxy: &str) -> Option<String> {
    let s = sproxy.trim();
    if s.is_empty() {
        return None;
    }
    if s.starts_with("sip:") || s.starts_with("sips:") {
        return Some(s.to_string());
    }
    let (proto, rest) = match s.split_once(':') {
        Some((p, rest)) if Proto::parse(p).is_some() => (Proto::parse(p), rest),
        _ => (None, s),
    };
    Some(match proto {
        Some(p) => format!("sip:{rest};transport={}", p.name()),
        None => format!("sip:{rest}"),
    })
}

/// The status code the routes see: the reply's in onreply/failure routes,
/// the last sent in the request route.
fn status_code(ctx: &Context) -> i32 {
    match ctx.route {
        RouteKind::OnReply | RouteKind::Failure | RouteKind::BranchFailure => {
            i32::from(ctx.tm.reply_code)
        }
        _ if ctx.msg.is_response() => i32::from(ctx.msg.status_code().unwrap_or(0)),
        _ => match current(ctx) {
            Some(tx) => i32::from(lock(&tx).status),
            None => -1,
        },
    }
}

/// Stateful processing.
#[kemi_module(name = "tm")]
pub mod kemi {
    use super::*;

    /// Relays the request statefully to `$du` or the R-URI, plus every
    /// destination added with `append_branch`, creating the transaction.
    /// 1 when relayed (branches leave when the route returns), 0 for a
    /// retransmission or an absorbed ACK (stop), -1 when no destination
    /// resolves.
    #[kemi_export]
    pub fn t_relay(ctx: &mut Context) -> i32 {
        flow::relay(ctx, RelayTo::default())
    }

    /// Names the script function run for each branch before it is sent
    /// (empty name: none). It may change the branch or drop it. Always 1.
    #[kemi_export]
    pub fn t_on_branch(ctx: &mut Context, rname: &str) -> i32 {
        set_route(ctx, RouteSlot::Branch, rname)
    }

    /// Names the script function run when the transaction ends with a
    /// negative final reply; it runs with the request and may relay again.
    #[kemi_export]
    pub fn t_on_failure(ctx: &mut Context, rname: &str) -> i32 {
        set_route(ctx, RouteSlot::Failure, rname)
    }

    /// Names the script function run for each branch that gets a negative
    /// final reply (called with the event name `tm:branch-failure:<name>`).
    #[kemi_export]
    pub fn t_on_branch_failure(ctx: &mut Context, rname: &str) -> i32 {
        set_route(ctx, RouteSlot::BranchFailure, rname)
    }

    /// Names the script function run for each reply of the transaction; it
    /// may drop provisional replies.
    #[kemi_export]
    pub fn t_on_reply(ctx: &mut Context, rname: &str) -> i32 {
        set_route(ctx, RouteSlot::Reply, rname)
    }

    /// Replies `code reason` through the request's transaction, which
    /// must exist (t_newtran, t_relay, or a lookup found it).
    #[kemi_export]
    pub fn t_reply(ctx: &mut Context, code: i32, reason: &str) -> i32 {
        let Ok(code) = u16::try_from(code) else {
            return -1;
        };
        if !(100..=699).contains(&code) {
            return -1;
        }
        if current(ctx).is_none() {
            return -1;
        }
        flow::reply(ctx, code, reason, "")
    }

    /// Replies statefully with the error a module recorded (500 when none).
    #[kemi_export]
    pub fn t_reply_error(ctx: &mut Context) -> i32 {
        let (code, reason) = ctx
            .error_reply
            .clone()
            .unwrap_or((500, "Server Internal Error".into()));
        if current(ctx).is_none() && flow::new_tran(ctx) != 1 {
            return -1;
        }
        let headers = ctx.error_reply_headers.clone();
        flow::reply(ctx, code, &reason, &headers)
    }

    /// Creates the transaction if needed and replies `code reason` through it.
    #[kemi_export]
    pub fn t_send_reply(ctx: &mut Context, code: i32, reason: &str) -> i32 {
        let Ok(code) = u16::try_from(code) else {
            return -1;
        };
        if !(100..=699).contains(&code) {
            return -1;
        }
        flow::reply(ctx, code, reason, "")
    }

    /// Looks the message up: replies 1 when they belong to a transaction;
    /// CANCEL 1 when its INVITE's exists; an ACK to a negative reply is
    /// absorbed (0); a retransmitted request gets the last reply again (0).
    /// -1 when nothing matches. 0 means: stop the script.
    #[kemi_export]
    pub fn t_check_trans(ctx: &mut Context) -> i32 {
        flow::check_trans(ctx)
    }

    /// 1 when the transaction (of this request or this CANCEL's INVITE)
    /// was cancelled, -1 otherwise.
    #[kemi_export]
    pub fn t_is_canceled(ctx: &mut Context) -> i32 {
        match current(ctx) {
            Some(tx) => int(lock(&tx).canceled),
            None => -1,
        }
    }

    /// Creates the transaction: 1 when created, 0 for a retransmission of
    /// an existing one (its last reply is re-sent; stop the script) or an
    /// absorbed ACK, -1 on error.
    #[kemi_export]
    pub fn t_newtran(ctx: &mut Context) -> i32 {
        flow::new_tran(ctx)
    }

    /// Lets the transaction go: it is removed after the wait timer.
    #[kemi_export]
    pub fn t_release(ctx: &mut Context) -> i32 {
        let tm = Tm::of(ctx.runtime());
        with_tx(ctx, |t| t.schedule_removal(&tm, tm.settings().wait))
    }

    /// Sends a copy of the request to `suri`, statelessly (replies to the
    /// copy are not relayed). 1 when sent.
    #[kemi_export]
    pub fn t_replicate(ctx: &mut Context, suri: &str) -> i32 {
        match kemi_core::forward::forward(ctx, Some(suri)) {
            Ok(_) => 1,
            Err(e) => {
                tracing::info!("tm: t_replicate to {suri}: {e}");
                -1
            }
        }
    }

    /// 1 when the route named by `target` (`branch_route`, `failure_route`,
    /// `onreply_route`, `branch_failure_route`) is set, -1 otherwise.
    #[kemi_export]
    pub fn t_is_set(ctx: &mut Context, target: &str) -> i32 {
        let routes = match current(ctx) {
            Some(tx) => lock(&tx).routes.clone(),
            None => ctx
                .ext
                .get::<PendingRoutes>()
                .map(|p| p.0.clone())
                .unwrap_or_default(),
        };
        let set = match target {
            "branch_route" => routes.branch.is_some(),
            "failure_route" => routes.failure.is_some(),
            "onreply_route" => routes.reply.is_some(),
            "branch_failure_route" => routes.branch_failure.is_some(),
            _ => false,
        };
        int(set)
    }

    /// 1 when the request already has a transaction.
    #[kemi_export]
    pub fn t_lookup_request(ctx: &mut Context) -> i32 {
        flow::lookup_request(ctx)
    }

    /// 1 when this CANCEL's INVITE transaction exists.
    #[kemi_export]
    pub fn t_lookup_cancel(ctx: &mut Context) -> i32 {
        flow::lookup_cancel(ctx)
    }

    /// `t_lookup_cancel`; the flags (copying the INVITE's message flags)
    /// have nothing to act on here.
    #[kemi_export]
    pub fn t_lookup_cancel_flags(ctx: &mut Context, flags: i32) -> i32 {
        let _ = flags;
        flow::lookup_cancel(ctx)
    }

    /// Sends the transaction's last reply again. 1 when there was one.
    #[kemi_export]
    pub fn t_retransmit_reply(ctx: &mut Context) -> i32 {
        match current(ctx) {
            Some(tx) => {
                let t = lock(&tx);
                match &t.last_reply {
                    Some(bytes) => {
                        t.send_upstream(bytes);
                        1
                    }
                    None => -1,
                }
            }
            None => -1,
        }
    }

    /// Sets fr_inv_timer (ms) for the transaction.
    #[kemi_export]
    pub fn t_set_fr_inv(ctx: &mut Context, fr_inv: i32) -> i32 {
        with_timers(ctx, |t, _| {
            if let Some(d) = ms(fr_inv) {
                t.fr_inv = d;
            }
        })
    }

    /// Sets fr_inv_timer and fr_timer (ms; 0 leaves one unchanged).
    #[kemi_export]
    pub fn t_set_fr(ctx: &mut Context, fr_inv: i32, fr: i32) -> i32 {
        with_timers(ctx, |t, _| {
            if let Some(d) = ms(fr_inv) {
                t.fr_inv = d;
            }
            if let Some(d) = ms(fr) {
                t.fr = d;
            }
        })
    }

    /// Back to the module's fr_timer and fr_inv_timer.
    #[kemi_export]
    pub fn t_reset_fr(ctx: &mut Context) -> i32 {
        with_timers(ctx, |t, s| {
            t.fr = s.fr;
            t.fr_inv = s.fr_inv;
        })
    }

    /// Sets the longest life of an INVITE (`t1`) or other (`t2`)
    /// transaction, in ms.
    #[kemi_export]
    pub fn t_set_max_lifetime(ctx: &mut Context, t1: i32, t2: i32) -> i32 {
        with_timers(ctx, |t, _| {
            if let Some(d) = ms(t1) {
                t.lifetime_inv = d;
            }
            if let Some(d) = ms(t2) {
                t.lifetime_noninv = d;
            }
        })
    }

    /// Back to the module's lifetimes.
    #[kemi_export]
    pub fn t_reset_max_lifetime(ctx: &mut Context) -> i32 {
        with_timers(ctx, |t, s| {
            t.lifetime_inv = s.max_inv_lifetime;
            t.lifetime_noninv = s.max_noninv_lifetime;
        })
    }

    /// Sets T1 and T2 (ms) for the transaction's retransmissions.
    #[kemi_export]
    pub fn t_set_retr(ctx: &mut Context, t1: i32, t2: i32) -> i32 {
        with_timers(ctx, |t, _| {
            if let Some(d) = ms(t1) {
                t.t1 = d;
            }
            if let Some(d) = ms(t2) {
                t.t2 = d;
            }
        })
    }

    /// Back to the module's retr_timer1 and retr_timer2.
    #[kemi_export]
    pub fn t_reset_retr(ctx: &mut Context) -> i32 {
        with_timers(ctx, |t, s| {
            t.t1 = s.t1;
            t.t2 = s.t2;
        })
    }

    /// Sends a request of this proxy's own: `method` to `ruri` through
    /// `nexthop` (empty: the R-URI), with extra header lines `hdrs` (which
    /// may set From, To, Call-ID, CSeq) and `body`. `ssock` is not used.
    /// Replies to it are not tracked. 1 when sent.
    #[kemi_export]
    pub fn t_uac_send(
        ctx: &mut Context,
        method: &str,
        ruri: &str,
        nexthop: &str,
        ssock: &str,
        hdrs: &str,
        body: &str,
    ) -> i32 {
        let _ = ssock;
        flow::uac_send(ctx, method, ruri, nexthop, hdrs, body)
    }

    /// Orders the R-URI and the added branches by q-value for serial
    /// forking: the highest group is taken by `t_next_contacts`.
    #[kemi_export]
    pub fn t_load_contacts(ctx: &mut Context) -> i32 {
        flow::load_contacts(ctx)
    }

    /// `t_load_contacts`; the mode (instance-aware flows) changes nothing
    /// here.
    #[kemi_export(name = "ki_t_load_contacts_mode")]
    pub fn t_load_contacts_mode(ctx: &mut Context, mode: i32) -> i32 {
        let _ = mode;
        flow::load_contacts(ctx)
    }

    /// Takes the next q-value group of contacts loaded by
    /// `t_load_contacts` into the R-URI and branches. -1 when none is left.
    #[kemi_export]
    pub fn t_next_contacts(ctx: &mut Context) -> i32 {
        flow::next_contacts(ctx)
    }

    /// `t_next_contacts` one contact at a time.
    #[kemi_export]
    pub fn t_next_contact_flow(ctx: &mut Context) -> i32 {
        flow::next_contacts(ctx)
    }

    /// In the failure route: forget every reply received so far, so none is
    /// relayed as the best one.
    #[kemi_export]
    pub fn t_drop_replies_all(ctx: &mut Context) -> i32 {
        with_tx(ctx, |t| t.replies_from = t.branches.len())
    }

    /// In the failure route: forget replies (`a`: all, `l`: of the last
    /// round, `n`: none).
    #[kemi_export]
    pub fn t_drop_replies(ctx: &mut Context, mode: &str) -> i32 {
        with_tx(ctx, |t| match mode {
            "n" => {}
            "l" => {
                let round = t.round;
                t.replies_from = t
                    .branches
                    .iter()
                    .position(|b| b.round == round)
                    .map(|_| t.branches.len())
                    .unwrap_or(t.replies_from);
            }
            _ => t.replies_from = t.branches.len(),
        })
    }

    /// Accepted: CANCEL and ACK are always built from the request as sent.
    #[kemi_export]
    pub fn t_use_uac_headers(ctx: &mut Context) -> i32 {
        let _ = ctx;
        1
    }

    /// Accepted: the request's changes are always kept with the transaction
    /// when it is relayed.
    #[kemi_export]
    pub fn t_save_lumps(ctx: &mut Context) -> i32 {
        let _ = ctx;
        1
    }

    /// 1 when the transaction outlived its maximum lifetime.
    #[kemi_export]
    pub fn t_is_expired(ctx: &mut Context) -> i32 {
        match current(ctx) {
            Some(tx) => {
                let t = lock(&tx);
                int(t.created.elapsed() >= t.lifetime())
            }
            None => -1,
        }
    }

    /// 1 when the status code (of the reply in reply and failure routes,
    /// else of the last reply sent) matches the regular expression `sexp`.
    #[kemi_export]
    pub fn t_check_status(ctx: &mut Context, sexp: &str) -> i32 {
        let code = status_code(ctx);
        if code <= 0 {
            return -1;
        }
        match regex::Regex::new(sexp) {
            Ok(re) => int(re.is_match(&code.to_string())),
            Err(e) => {
                tracing::warn!("tm: t_check_status: bad expression {sexp:?}: {e}");
                -1
            }
        }
    }

    /// 1 when some branch ended with final reply `code` (received, or 408
    /// on timeout).
    #[kemi_export]
    pub fn t_grep_status(ctx: &mut Context, code: i32) -> i32 {
        match current(ctx) {
            Some(tx) => int(lock(&tx)
                .branches
                .iter()
                .any(|b| b.done && i32::from(b.code) == code)),
            None => -1,
        }
    }

    /// Always -1: replies are never processed asynchronously here.
    #[kemi_export]
    pub fn t_is_retr_async_reply(ctx: &mut Context) -> i32 {
        let _ = ctx;
        -1
    }

    /// 1 when some branch received a reply.
    #[kemi_export]
    pub fn t_any_replied(ctx: &mut Context) -> i32 {
        match current(ctx) {
            Some(tx) => int(lock(&tx)
                .branches
                .iter()
                .any(|b| b.code > 0 && !b.timed_out)),
            None => -1,
        }
    }

    /// 1 when some branch timed out.
    #[kemi_export]
    pub fn t_any_timeout(ctx: &mut Context) -> i32 {
        match current(ctx) {
            Some(tx) => int(lock(&tx).branches.iter().any(|b| b.timed_out)),
            None => -1,
        }
    }

    /// In the failure route: 1 when the failed branch had received a reply
    /// before it ended.
    #[kemi_export]
    pub fn t_branch_replied(ctx: &mut Context) -> i32 {
        let i = usize::try_from(ctx.tm.branch_index).unwrap_or(0);
        match current(ctx) {
            Some(tx) => int(lock(&tx)
                .branches
                .get(i)
                .is_some_and(|b| b.code > 0 && (!b.timed_out || b.reply.is_some()))),
            None => -1,
        }
    }

    /// In the failure route: 1 when the failed branch timed out.
    #[kemi_export]
    pub fn t_branch_timeout(ctx: &mut Context) -> i32 {
        let i = usize::try_from(ctx.tm.branch_index).unwrap_or(0);
        match current(ctx) {
            Some(tx) => int(lock(&tx).branches.get(i).is_some_and(|b| b.timed_out)),
            None => -1,
        }
    }

    /// Turns the automatic 100 Trying for this INVITE on (1) or off (0).
    #[kemi_export]
    pub fn t_set_auto_inv_100(ctx: &mut Context, state: i32) -> i32 {
        with_tx(ctx, |t| t.auto_inv_100 = state != 0)
    }

    /// Turns the special handling of 6xx replies (cancel the other
    /// branches) off (1) or on (0).
    #[kemi_export]
    pub fn t_set_disable_6xx(ctx: &mut Context, state: i32) -> i32 {
        with_tx(ctx, |t| t.disable_6xx = state != 0)
    }

    /// Accepted: there is no DNS failover to turn off.
    #[kemi_export]
    pub fn t_set_disable_failover(ctx: &mut Context, state: i32) -> i32 {
        let _ = (ctx, state);
        1
    }

    /// Accepted: CANCELs tm sends carry no Reason header either way.
    #[kemi_export]
    pub fn t_set_no_e2e_cancel_reason(ctx: &mut Context, state: i32) -> i32 {
        let _ = (ctx, state);
        1
    }

    /// Turns tm's own error replies (when relaying fails) off (1) or on (0).
    #[kemi_export]
    pub fn t_set_disable_internal_reply(ctx: &mut Context, state: i32) -> i32 {
        with_tx(ctx, |t| t.disable_internal_reply = state != 0)
    }

    /// Accepted: tm sends no INVITEs of its own that would need an ACK.
    #[kemi_export]
    pub fn t_set_no_auto_ack(ctx: &mut Context, state: i32) -> i32 {
        let _ = (ctx, state);
        1
    }

    /// `t_relay` to `sproxy` (`[proto:]host[:port]` or a SIP URI).
    #[kemi_export]
    pub fn t_relay_to_proxy(ctx: &mut Context, sproxy: &str) -> i32 {
        match proxy_uri(sproxy) {
            Some(uri) => flow::relay(
                ctx,
                RelayTo {
                    target: Some(&uri),
                    ..RelayTo::default()
                },
            ),
            None => -1,
        }
    }

    /// `t_relay` with flags: 0x1 no automatic 100 Trying, 0x2 no internal
    /// error reply.
    #[kemi_export]
    pub fn t_relay_to_flags(ctx: &mut Context, rflags: i32) -> i32 {
        relay_flags(ctx, rflags, RelayTo::default())
    }

    /// `t_relay_to_proxy` with flags.
    #[kemi_export]
    pub fn t_relay_to_proxy_flags(ctx: &mut Context, sproxy: &str, rflags: i32) -> i32 {
        match proxy_uri(sproxy) {
            Some(uri) => relay_flags(
                ctx,
                rflags,
                RelayTo {
                    target: Some(&uri),
                    ..RelayTo::default()
                },
            ),
            None => -1,
        }
    }

    /// `t_relay` over transport `sproto` (udp, tcp...).
    #[kemi_export]
    pub fn t_relay_to_proto(ctx: &mut Context, sproto: &str) -> i32 {
        match Proto::parse(sproto) {
            Some(p) => flow::relay(
                ctx,
                RelayTo {
                    proto: Some(p),
                    ..RelayTo::default()
                },
            ),
            None => -1,
        }
    }

    /// `t_relay` to `host:port` over `sproto`.
    #[kemi_export]
    pub fn t_relay_to_proto_addr(ctx: &mut Context, sproto: &str, host: &str, port: i32) -> i32 {
        let (Some(p), Ok(port)) = (Proto::parse(sproto), u16::try_from(port)) else {
            return -1;
        };
        let uri = format!("sip:{host}:{port};transport={}", p.name());
        flow::relay(
            ctx,
            RelayTo {
                target: Some(&uri),
                proto: Some(p),
                flags: 0,
            },
        )
    }

    /// The status code of the reply being handled (onreply and failure
    /// routes) or of the last reply sent; -1 when none.
    #[kemi_export]
    pub fn t_get_status_code(ctx: &mut Context) -> i32 {
        status_code(ctx)
    }

    /// The branch index in branch, onreply and failure routes; -1 elsewhere.
    #[kemi_export]
    pub fn t_get_branch_index(ctx: &mut Context) -> i32 {
        match ctx.route {
            RouteKind::Branch
            | RouteKind::OnReply
            | RouteKind::Failure
            | RouteKind::BranchFailure => ctx.tm.branch_index,
            _ => -1,
        }
    }

    /// Forgets the transaction this message found or created (the
    /// transaction itself stays). Always 1.
    #[kemi_export]
    pub fn t_clean(ctx: &mut Context) -> i32 {
        flow::clear_current(ctx);
        1
    }

    /// 1 when the message has a transaction (found or created).
    #[kemi_export]
    pub fn t_exists(ctx: &mut Context) -> i32 {
        int(current(ctx).is_some())
    }
}

fn relay_flags(ctx: &mut Context, rflags: i32, to: RelayTo<'_>) -> i32 {
    flow::relay(
        ctx,
        RelayTo {
            flags: rflags,
            ..to
        },
    )
}

/// The `loadmodule "tm.so"` entry.
pub static MODULE: ModuleDef = ModuleDef {
    name: "tm",
    summary: "SIP transactions and stateful proxying",
    kemi: Some(&kemi::SUBMODULE),
    params: settings::PARAMS,
    rpc: rpc::METHODS,
};

/// Public helpers for modules building on tm (tmx).
pub mod api {
    pub use crate::flow::{cancel_branches, current, find_by_callid, new_tran};
    pub use crate::table::lock;
    pub use crate::transaction::Tx;

    /// Replies `code reason` through the message's transaction.
    pub fn reply(ctx: &mut kemi_core::Context, code: u16, reason: &str) -> i32 {
        crate::flow::reply(ctx, code, reason, "")
    }
}
