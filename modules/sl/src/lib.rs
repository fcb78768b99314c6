//! `sl`: stateless replies (`KSR.sl.*`).
//!
//! A reply is built from the request (RFC 3261 8.2.6): its Vias (the top
//! one with `received`/`rport` as the request arrived), From, To, Call-ID
//! and CSeq. Replies from 180 up get a To tag when the request had none:
//! a per-process prefix plus a hash of the request's Call-ID, From tag and
//! top Via branch, so a retransmitted request gets a byte-identical reply.
//!
//! `send_reply`, `send_reply_mode` and `send_reply_error` answer through
//! the request's transaction when tm created one (`t_newtran`, `t_relay`,
//! or a lookup found it): tm then keeps the reply, sends it again for a
//! retransmitted request and retransmits it on UDP until the ACK. Without
//! a transaction they answer statelessly, as `sl_send_reply` always does.

use kemi_core::context::RouteKind;
use kemi_core::forward::{self, fnv1a};
use kemi_core::sip::build_reply;
use kemi_core::{kemi_module, Context, ModuleDef};

/// The per-process half of the To tags this module hands out.
#[derive(Debug)]
struct TagPrefix(String);

impl Default for TagPrefix {
    fn default() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let seed = fnv1a(&[
            &now.to_le_bytes(),
            &std::process::id().to_le_bytes(),
            b"kemi-sl",
        ]);
        TagPrefix(format!("{seed:016x}"))
    }
}

/// The To tag for replies to this request: identical for retransmissions.
pub fn to_tag(ctx: &Context) -> String {
    let prefix = ctx.runtime().state::<TagPrefix>();
    let msg = &ctx.msg;
    let call_id = msg.call_id().unwrap_or_default();
    let from = msg.from().ok();
    let from_tag = from.as_ref().and_then(|f| f.tag()).unwrap_or_default();
    let via = msg.top_via().ok();
    let branch = via.as_ref().and_then(|v| v.branch()).unwrap_or_default();
    let h = fnv1a(&[call_id.as_bytes(), from_tag.as_bytes(), branch.as_bytes()]);
    format!("{}-{:08x}", prefix.0, h as u32)
}

/// Why a stateless reply was not sent; the KEMI code is -1 for all.
fn refuse(what: &str) -> i32 {
    tracing::debug!("sl: {what}");
    -1
}

/// Sends a stateless reply `code reason` to the request in `ctx`, with
/// `extra_headers` (complete lines) and `body`. 1 when sent; -1 for a
/// reply (or a reply route), an ACK (never answered), a code outside
/// 100..=699, or a request missing what a reply needs.
pub fn send_stateless(
    ctx: &mut Context,
    code: i32,
    reason: &str,
    extra_headers: &str,
    body: &[u8],
) -> i32 {
    if !ctx.msg.is_request() || matches!(ctx.route, RouteKind::Reply | RouteKind::OnReply) {
        return refuse("no stateless reply to a reply");
    }
    if ctx.msg.method_str() == "ACK" {
        return refuse("ACK is never answered");
    }
    let Ok(code) = u16::try_from(code) else {
        return refuse("bad status code");
    };
    if !(100..=699).contains(&code) {
        return refuse("status code out of range");
    }
    let tag = (code >= 180).then(|| to_tag(ctx));
    // The reply's top Via records how the request arrived, as Kamailio
    // adds received/rport when it builds a reply. Deciding again on the
    // message itself replaces the receive path's decision (the script may
    // have asked for rport since), so nothing is copied.
    let src = ctx.recv.src;
    if let Err(e) = ctx
        .msg
        .add_via_receive_params(src.ip(), src.port(), ctx.force_rport)
    {
        return refuse(&format!("top Via: {e}"));
    }
    // Headers queued by `KSR.hdr.append_to_reply` go into every reply,
    // then the caller's, then the Server header: one string, built once.
    let headers = [
        ctx.reply_headers.as_str(),
        extra_headers,
        &ctx.runtime().signature().server,
    ]
    .concat();
    // A body set with `KSR.textops.set_reply_body` goes into every local
    // reply that has none of its own.
    let body = match &ctx.reply_body {
        Some(b) if body.is_empty() => b.as_slice(),
        _ => body,
    };
    let bytes = match build_reply(&ctx.msg, code, reason, tag.as_deref(), &headers, body) {
        Ok(b) => b,
        Err(e) => return refuse(&format!("cannot build the reply: {e}")),
    };
    let dst = forward::reply_address(ctx);
    match ctx.reply_to(dst, &bytes) {
        Ok(()) => 1,
        Err(e) => {
            tracing::warn!("sl: sending {code} to {dst}: {e}");
            -1
        }
    }
}

/// Replies through the request's transaction when tm created one;
/// `None` when there is none.
fn stateful(ctx: &mut Context, code: i32, reason: &str) -> Option<i32> {
    let reply = kemi_core::context::TRANSACTION_REPLY.get()?;
    let code = u16::try_from(code)
        .ok()
        .filter(|c| (100..=699).contains(c))?;
    reply(ctx, code, reason)
}

/// The reply for an internal error: what a module recorded, else a 500.
fn error_reply(ctx: &Context) -> (i32, String) {
    match &ctx.error_reply {
        Some((code, reason)) => (i32::from(*code), reason.clone()),
        None => (500, "Server Internal Error".to_string()),
    }
}

/// `send_reply_mode` flag: do not open a connection for the reply.
const REPLY_NO_CONNECT: i32 = 1;
/// `send_reply_mode` flag: close the connection after the reply.
const REPLY_CLOSE: i32 = 2;

/// Stateless replies.
#[kemi_module(name = "sl")]
pub mod kemi {
    use super::*;

    /// Sends a stateless reply `code reason`. 1 when sent, -1 otherwise
    /// (replies, ACKs, bad codes).
    #[kemi_export]
    pub fn sl_send_reply(ctx: &mut Context, code: i32, reason: &str) -> i32 {
        send_stateless(ctx, code, reason, "", b"")
    }

    /// Sends a reply `code reason`: statefully when the request has a
    /// transaction (tm), else statelessly. -1 for an empty
    /// reason or when nothing could be sent.
    #[kemi_export]
    pub fn send_reply(ctx: &mut Context, code: i32, reason: &str) -> i32 {
        if reason.is_empty() {
            return -1;
        }
        if let Some(done) = stateful(ctx, code, reason) {
            return done;
        }
        send_stateless(ctx, code, reason, "", b"")
    }

    /// `send_reply` with connection flags for the reply: `mode` 1 sends
    /// it only over an existing connection (as `KSR.set_reply_no_connect`),
    /// 2 closes the connection after it (as `KSR.set_reply_close`); 3 both.
    #[kemi_export]
    pub fn send_reply_mode(ctx: &mut Context, code: i32, reason: &str, mode: i32) -> i32 {
        if mode & REPLY_NO_CONNECT != 0 {
            ctx.reply_send.no_connect = true;
        }
        if mode & REPLY_CLOSE != 0 {
            ctx.reply_send.close = true;
        }
        send_reply(ctx, code, reason)
    }

    /// Replies statelessly with the error a module recorded for this
    /// message (its code and reason), or 500 when there is none.
    #[kemi_export]
    pub fn sl_reply_error(ctx: &mut Context) -> i32 {
        let (code, reason) = error_reply(ctx);
        let headers = ctx.error_reply_headers.clone();
        send_stateless(ctx, code, &reason, &headers, b"")
    }

    /// Like `sl_reply_error`, statefully when the request has a
    /// transaction.
    #[kemi_export]
    pub fn send_reply_error(ctx: &mut Context) -> i32 {
        let (code, reason) = error_reply(ctx);
        if let Some(done) = stateful(ctx, code, &reason) {
            return done;
        }
        sl_reply_error(ctx)
    }

    /// Forwards the reply being routed statelessly to the next Via, after
    /// removing this proxy's. A non-empty `code` (three digits, same class
    /// as the received one) and `reason` replace the status line's. 1 when
    /// sent, -1 otherwise (not a reply, not for this proxy, bad code).
    #[kemi_export]
    pub fn sl_forward_reply(ctx: &mut Context, code: &str, reason: &str) -> i32 {
        if !ctx.msg.is_response() {
            return refuse("sl_forward_reply: not a reply");
        }
        let new_code = if code.is_empty() {
            None
        } else {
            let ok = code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit());
            let parsed = code.parse::<u16>().ok().filter(|_| ok);
            let same_class = parsed
                .zip(ctx.msg.status_code())
                .filter(|(n, o)| n / 100 == o / 100);
            match same_class {
                Some((n, _)) => Some(n),
                None => return refuse("sl_forward_reply: code must be 3 digits of the same class"),
            }
        };
        let new_reason = (!reason.is_empty()).then_some(reason);
        match forward::forward_reply_status(ctx, new_code, new_reason) {
            Ok(_) => 1,
            Err(e) => refuse(&format!("sl_forward_reply: {e}")),
        }
    }
}

pub static MODULE: ModuleDef = ModuleDef {
    name: "sl",
    summary: "stateless replies",
    kemi: Some(&kemi::SUBMODULE),
    params: &[],
    rpc: &[],
};
