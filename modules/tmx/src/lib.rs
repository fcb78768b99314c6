//! `tmx`: helpers around tm's transactions (`KSR.tmx.*`): which route is
//! running, cancelling or answering a transaction found by Call-ID and
//! CSeq, flushing flags into a transaction, dropping one.
//!
//! Not available: suspending and continuing a transaction
//! (`t_suspend`/`t_continue`), re-using a failed branch
//! (`t_reuse_branch`) and ACKing a local INVITE (`t_uac_ack_local`), which
//! need asynchronous processing or local INVITE transactions that tm does
//! not have; they log why and return -1.

use kemi_core::context::RouteKind;
use kemi_core::{kemi_module, Context, ModuleDef};
use kemi_mod_tm::api;

fn int(b: bool) -> i32 {
    if b {
        1
    } else {
        -1
    }
}

fn unavailable(what: &str) -> i32 {
    tracing::warn!("tmx: {what} is not available in kemi-proxy (no asynchronous transactions)");
    -1
}

/// Transaction helpers.
#[kemi_module(name = "tmx")]
pub mod kemi {
    use super::*;

    /// 1 when a transaction already exists for this request (it is being
    /// handled: call `t_check_trans()` and stop), -1 otherwise.
    #[kemi_export]
    pub fn t_precheck_trans(ctx: &mut Context) -> i32 {
        if !ctx.msg.is_request() || ctx.msg.method_str() == "ACK" {
            return -1;
        }
        kemi_mod_tm::kemi::t_lookup_request(ctx)
    }

    /// 1 in the request route.
    #[kemi_export]
    pub fn t_is_request_route(ctx: &mut Context) -> i32 {
        int(ctx.route == RouteKind::Request)
    }

    /// 1 in a transaction's onreply route.
    #[kemi_export]
    pub fn t_is_reply_route(ctx: &mut Context) -> i32 {
        int(ctx.route == RouteKind::OnReply)
    }

    /// 1 in a failure route.
    #[kemi_export]
    pub fn t_is_failure_route(ctx: &mut Context) -> i32 {
        int(ctx.route == RouteKind::Failure)
    }

    /// 1 in a branch route.
    #[kemi_export]
    pub fn t_is_branch_route(ctx: &mut Context) -> i32 {
        int(ctx.route == RouteKind::Branch)
    }

    /// Not available here (no asynchronous processing): -1.
    #[kemi_export]
    pub fn t_suspend(ctx: &mut Context) -> i32 {
        let _ = ctx;
        unavailable("t_suspend")
    }

    /// Not available here (no asynchronous processing): -1.
    #[kemi_export]
    pub fn t_continue(ctx: &mut Context, tindex: i32, tlabel: i32, cbname: &str) -> i32 {
        let _ = (ctx, tindex, tlabel, cbname);
        unavailable("t_continue")
    }

    /// Copies the message flags into the transaction, so its failure and
    /// branch routes see them.
    #[kemi_export]
    pub fn t_flush_flags(ctx: &mut Context) -> i32 {
        let flags = ctx.flags;
        match api::current(ctx) {
            Some(tx) => {
                api::lock(&tx).request.flags = flags;
                1
            }
            None => -1,
        }
    }

    /// Copies the extended flags into the transaction.
    #[kemi_export]
    pub fn t_flush_xflags(ctx: &mut Context) -> i32 {
        let xflags = ctx.xflags;
        match api::current(ctx) {
            Some(tx) => {
                api::lock(&tx).request.xflags = xflags;
                1
            }
            None => -1,
        }
    }

    /// Cancels branches of the transaction: `all`, `others` (than the
    /// current one) or `this`.
    #[kemi_export]
    pub fn t_cancel_branches(ctx: &mut Context, mode: &str) -> i32 {
        if !matches!(mode, "all" | "others" | "this") {
            tracing::warn!("tmx: t_cancel_branches: unknown mode {mode:?} (all, others, this)");
            return -1;
        }
        api::cancel_branches(ctx, mode)
    }

    /// Not available here: -1.
    #[kemi_export]
    pub fn t_reuse_branch(ctx: &mut Context) -> i32 {
        let _ = ctx;
        unavailable("t_reuse_branch")
    }

    /// Cancels the pending branches of the INVITE transaction with this
    /// Call-ID and CSeq (`fl` is not used).
    #[kemi_export]
    pub fn t_cancel_callid(ctx: &mut Context, callid_s: &str, cseq_s: &str, fl: i32) -> i32 {
        let _ = fl;
        cancel_callid(ctx, callid_s, cseq_s)
    }

    /// `t_cancel_callid`; the reason code is not sent (no Reason header).
    #[kemi_export]
    pub fn t_cancel_callid_reason(
        ctx: &mut Context,
        callid_s: &str,
        cseq_s: &str,
        fl: i32,
        rcode: i32,
    ) -> i32 {
        let _ = (fl, rcode);
        cancel_callid(ctx, callid_s, cseq_s)
    }

    /// Not available here (tm sends no INVITEs of its own): -1.
    #[kemi_export]
    pub fn t_uac_ack_local(
        ctx: &mut Context,
        callid: &str,
        cseq: &str,
        hdrs: &str,
        body: &str,
    ) -> i32 {
        let _ = (ctx, callid, cseq, hdrs, body);
        unavailable("t_uac_ack_local")
    }

    /// Replies `code status_s` through the INVITE transaction with this
    /// Call-ID and CSeq.
    #[kemi_export]
    pub fn t_reply_callid(
        ctx: &mut Context,
        callid_s: &str,
        cseq_s: &str,
        code: i32,
        status_s: &str,
    ) -> i32 {
        let Some(code) = u16::try_from(code).ok().filter(|c| (100..=699).contains(c)) else {
            return -1;
        };
        let Some(tx) = api::find_by_callid(ctx.runtime(), callid_s, cseq_s) else {
            return -1;
        };
        let mut tctx = api::lock(&tx).request.fork();
        tctx.ext.put(kemi_mod_tm::CurrentTx(Some(tx)));
        api::reply(&mut tctx, code, status_s)
    }

    /// Ends the transaction without replying (its 500 is never sent).
    #[kemi_export]
    pub fn t_drop(ctx: &mut Context) -> i32 {
        drop_tx(ctx, 500)
    }

    /// `t_drop`, recording `rcode` as the transaction's final status.
    #[kemi_export]
    pub fn t_drop_rcode(ctx: &mut Context, rcode: i32) -> i32 {
        drop_tx(ctx, u16::try_from(rcode).unwrap_or(500))
    }
}

fn cancel_callid(ctx: &Context, call_id: &str, cseq: &str) -> i32 {
    let Some(tx) = api::find_by_callid(ctx.runtime(), call_id, cseq) else {
        return -1;
    };
    let mut tctx = api::lock(&tx).request.fork();
    tctx.ext.put(kemi_mod_tm::CurrentTx(Some(tx)));
    api::cancel_branches(&tctx, "all")
}

fn drop_tx(ctx: &Context, code: u16) -> i32 {
    match api::current(ctx) {
        Some(tx) => {
            let mut t = api::lock(&tx);
            t.final_sent = true;
            t.status = code;
            1
        }
        None => -1,
    }
}

/// The `loadmodule "tmx.so"` entry.
pub static MODULE: ModuleDef = ModuleDef {
    name: "tmx",
    summary: "transaction helpers on top of tm",
    kemi: Some(&kemi::SUBMODULE),
    params: &[],
    rpc: &[],
};
