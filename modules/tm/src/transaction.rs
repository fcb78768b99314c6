//! One transaction: the server side (the request received, the replies
//! sent back) and its client branches (the requests sent on, their
//! replies). Nothing here runs script code; `flow.rs` does that.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kemi_core::forward::NextHop;
use kemi_core::net::{Proto, SendOptions, Transport};
use kemi_core::sip::{build_reply, HeaderName, Message, Method};
use kemi_core::Context;

use crate::settings::Settings;
use crate::table::{Timer, TimerKind, Tm};

/// The script functions set with `t_on_*` for a transaction.
#[derive(Clone, Debug, Default)]
pub struct Routes {
    pub branch: Option<Arc<str>>,
    pub reply: Option<Arc<str>>,
    pub failure: Option<Arc<str>>,
    pub branch_failure: Option<Arc<str>>,
}

/// Per-transaction timer values (`t_set_fr`, `t_set_retr`...).
#[derive(Clone, Copy, Debug)]
pub struct Timers {
    pub fr: Duration,
    pub fr_inv: Duration,
    pub t1: Duration,
    pub t2: Duration,
    pub lifetime_inv: Duration,
    pub lifetime_noninv: Duration,
}

impl Timers {
    pub fn from_settings(s: &Settings) -> Self {
        Timers {
            fr: s.fr,
            fr_inv: s.fr_inv,
            t1: s.t1,
            t2: s.t2,
            lifetime_inv: s.max_inv_lifetime,
            lifetime_noninv: s.max_noninv_lifetime,
        }
    }
}

/// One request sent on (a branch of the transaction).
#[derive(Debug)]
pub struct UacBranch {
    /// The branch's Request-URI.
    pub uri: String,
    /// `$du` of the branch, if set.
    pub dst_uri: Option<String>,
    pub hop: NextHop,
    pub local: SocketAddr,
    /// The request as sent (for retransmissions and CANCEL/ACK building).
    pub request: Vec<u8>,
    /// Highest status code received (or 408 on timeout); 0 for none.
    pub code: u16,
    /// The final reply received, kept for relaying the best one.
    pub reply: Option<Message>,
    /// A final reply arrived or the branch timed out.
    pub done: bool,
    pub timed_out: bool,
    /// Current retransmission interval.
    pub retransmit: Duration,
    /// When fr_timer (or fr_inv_timer) expires.
    pub fr_deadline: Instant,
    /// The CANCEL for this branch, once one was sent.
    pub cancel: Option<Vec<u8>>,
    /// Cancel wanted before any provisional reply: sent on the first one.
    pub cancel_pending: bool,
    pub cancel_answered: bool,
    pub cancel_interval: Duration,
    /// The relay round (t_relay call) that created the branch.
    pub round: u32,
}

/// A transaction.
pub struct Tx {
    pub id: u64,
    pub key: String,
    pub method: Method,
    pub created: Instant,
    /// The request with the routing state it had when the transaction was
    /// created or last relayed: branch and failure routes run on copies.
    pub request: Context,
    pub transport: Arc<dyn Transport>,
    /// Where replies to the request go.
    pub reply_proto: Proto,
    pub reply_local: SocketAddr,
    pub reply_dst: SocketAddr,
    pub to_tag: String,
    /// The last reply sent upstream (for request retransmissions).
    pub last_reply: Option<Vec<u8>>,
    /// Status of the last reply sent upstream; 0 for none.
    pub status: u16,
    /// A final reply was sent upstream.
    pub final_sent: bool,
    /// The ACK for a non-2xx final reply arrived.
    pub acked: bool,
    pub reply_interval: Duration,
    pub reply_retransmit_until: Option<Instant>,
    pub branches: Vec<UacBranch>,
    pub routes: Routes,
    pub timers: Timers,
    /// A CANCEL for it arrived.
    pub canceled: bool,
    /// The failure route is running (only one at a time).
    pub in_failure: bool,
    /// The failure route ran at least once and its round's first branch.
    pub round: u32,
    /// Replies of branches before this index are ignored (t_drop_replies).
    pub replies_from: usize,
    pub auto_inv_100: bool,
    pub disable_6xx: bool,
    pub disable_internal_reply: bool,
    pub removed: bool,
    /// The lifetime removal timer was scheduled.
    pub lifetime_armed: bool,
    /// Contact groups `t_load_contacts` left for `t_next_contacts`.
    pub contacts: Vec<Vec<kemi_core::context::Branch>>,
}

impl Tx {
    pub fn is_invite(&self) -> bool {
        self.method == Method::Invite
    }

    pub fn lifetime(&self) -> Duration {
        if self.is_invite() {
            self.timers.lifetime_inv
        } else {
            self.timers.lifetime_noninv
        }
    }

    /// True while some branch still waits for its final reply.
    pub fn pending(&self) -> bool {
        self.branches.iter().any(|b| !b.done)
    }

    /// The best final reply among the branches that count (RFC 3261
    /// 16.7.6): a 6xx, else the lowest class, first received wins within
    /// a class. Returns its branch index and code.
    pub fn best_branch(&self, failure_reply_mode: i64) -> Option<(usize, u16)> {
        let from = if failure_reply_mode != 0 && self.round > 0 {
            // Only the branches of the latest round, when it has any.
            self.branches
                .iter()
                .position(|b| b.round == self.round)
                .unwrap_or(self.replies_from)
                .max(self.replies_from)
        } else {
            self.replies_from
        };
        let mut best: Option<(usize, u16)> = None;
        for (i, b) in self.branches.iter().enumerate().skip(from) {
            if !b.done || b.code < 300 {
                continue;
            }
            let better = match best {
                None => true,
                Some((_, c)) if c >= 600 => false,
                Some((_, c)) => b.code >= 600 || b.code / 100 < c / 100,
            };
            if better {
                best = Some((i, b.code));
            }
        }
        best
    }

    /// Builds a reply to the request from this proxy.
    pub fn local_reply(&self, code: u16, reason: &str, headers: &str) -> Option<Vec<u8>> {
        let mut msg = self.request.msg.clone();
        let src = self.request.recv.src;
        msg.add_via_receive_params(src.ip(), src.port(), self.request.force_rport)
            .ok()?;
        let tag = (code > 100).then_some(self.to_tag.as_str());
        let mut extra = String::new();
        extra.push_str(&self.request.reply_headers);
        extra.push_str(headers);
        extra.push_str(&self.request.runtime().signature().server);
        let body = self.request.reply_body.as_deref().unwrap_or_default();
        let reply = build_reply(&msg, code, reason, tag, &extra, body).ok()?;
        // `KSR.corex.via_reply_add_xavp_params(1)`.
        Some(
            kemi_core::forward::reply_via_params(&self.request)
                .and_then(|p| kemi_core::forward::with_top_via_params(&reply, &p))
                .unwrap_or(reply),
        )
    }

    /// Sends bytes to the upstream client, with the request's reply send
    /// options (`KSR.set_reply_close()`...).
    pub fn send_upstream(&self, bytes: &[u8]) {
        if let Err(e) = self.transport.send_with(
            self.reply_proto,
            Some(self.reply_local),
            self.reply_dst,
            bytes,
            self.request.reply_send,
        ) {
            tracing::debug!(dst = %self.reply_dst, "tm: sending a reply: {e}");
        }
    }

    /// Records and sends a reply upstream; schedules what follows a final
    /// one (retransmissions until the ACK, then removal).
    pub fn reply_upstream(&mut self, tm: &Tm, code: u16, bytes: Vec<u8>) {
        self.send_upstream(&bytes);
        self.last_reply = Some(bytes);
        if code >= 200 {
            if !self.final_sent {
                tm.stats.count_final(code);
            }
            self.final_sent = true;
            self.status = code;
            self.after_final(tm);
        } else if !self.final_sent && code > self.status {
            self.status = code;
        }
    }

    /// Timers after the final reply: an INVITE's non-2xx is retransmitted
    /// on UDP until its ACK (timers G/H); everything else waits wt_timer
    /// and goes.
    fn after_final(&mut self, tm: &Tm) {
        let now = Instant::now();
        if self.is_invite() && self.status >= 300 && self.reply_proto == Proto::Udp {
            self.reply_interval = self.timers.t1;
            self.reply_retransmit_until = Some(now + self.timers.t1 * 64);
            tm.schedule(Timer {
                at: now + self.reply_interval,
                id: self.id,
                kind: TimerKind::ReplyRetransmit,
            });
        } else {
            self.schedule_removal(tm, tm.settings().wait);
        }
    }

    pub fn schedule_removal(&self, tm: &Tm, after: Duration) {
        tm.schedule(Timer {
            at: Instant::now() + after,
            id: self.id,
            kind: TimerKind::Remove,
        });
    }

    /// Cancels every branch still waiting: a CANCEL now for those with a
    /// provisional reply, on their first provisional for the others.
    pub fn cancel_pending_branches(&mut self, tm: &Tm) {
        if !self.is_invite() {
            return;
        }
        let id = self.id;
        for (i, b) in self.branches.iter_mut().enumerate() {
            if b.done || b.cancel.is_some() {
                continue;
            }
            if b.code >= 100 {
                send_cancel(tm, &*self.transport, id, i, b);
            } else {
                b.cancel_pending = true;
            }
        }
    }
}

/// Builds and sends the CANCEL for branch `index` (RFC 3261 9.1): the
/// branch's Request-URI, top Via, Call-ID, From, To, CSeq number and
/// Route headers; retransmitted on UDP until answered.
pub fn send_cancel(tm: &Tm, transport: &dyn Transport, id: u64, index: usize, b: &mut UacBranch) {
    b.cancel_pending = false;
    let user_agent = &tm.settings().signature.user_agent;
    let Some(bytes) = hop_request(&b.request, "CANCEL", None, user_agent) else {
        return;
    };
    send(transport, b, &bytes);
    b.cancel_interval = tm.settings().t1;
    b.cancel = Some(bytes);
    if b.hop.proto == Proto::Udp {
        tm.schedule(Timer {
            at: Instant::now() + b.cancel_interval,
            id,
            kind: TimerKind::Cancel(index as u16),
        });
    }
}

/// Builds the ACK for a non-2xx final reply to a branch (RFC 3261
/// 17.1.1.3): as the CANCEL, with the reply's To (and its tag).
pub fn build_ack(request: &[u8], reply: &Message, user_agent: &str) -> Option<Vec<u8>> {
    let to = reply.header(HeaderName::To)?;
    hop_request(request, "ACK", Some(to), user_agent)
}

/// A request for the same hop as `request` (CANCEL or ACK): first line
/// with `method`, the top Via, From, To (or `to`), Call-ID, CSeq with the
/// same number and `method`, Route headers, Max-Forwards, `user_agent` (a
/// whole line or empty), no body.
fn hop_request(
    request: &[u8],
    method: &str,
    to: Option<&str>,
    user_agent: &str,
) -> Option<Vec<u8>> {
    let msg = Message::parse_slice(request).ok()?;
    let ruri = msg.request_uri()?;
    let cseq = msg.cseq().ok()?.number;
    let mut out = format!("{method} {ruri} SIP/2.0\r\n");
    // Only the top Via (ours), even when it shares a line with others.
    let top = msg.top_via().ok()?;
    out.push_str(&format!("Via: {}\r\n", top.raw));
    for h in msg.headers_of(HeaderName::Route) {
        out.push_str(&format!("Route: {}\r\n", h.value));
    }
    out.push_str("Max-Forwards: 70\r\n");
    out.push_str(&format!("From: {}\r\n", msg.header(HeaderName::From)?));
    match to {
        Some(to) => out.push_str(&format!("To: {to}\r\n")),
        None => out.push_str(&format!("To: {}\r\n", msg.header(HeaderName::To)?)),
    }
    out.push_str(&format!("Call-ID: {}\r\n", msg.call_id().ok()?));
    out.push_str(&format!("CSeq: {cseq} {method}\r\n"));
    out.push_str(user_agent);
    out.push_str("Content-Length: 0\r\n\r\n");
    Some(out.into_bytes())
}

/// Sends bytes on a branch's hop.
pub fn send(transport: &dyn Transport, b: &UacBranch, bytes: &[u8]) -> bool {
    send_with(transport, b, bytes, SendOptions::default())
}

/// [`send`] with send options: the branch's request goes with the forward
/// options the script set (`KSR.set_forward_close()`...).
pub fn send_with(
    transport: &dyn Transport,
    b: &UacBranch,
    bytes: &[u8],
    opts: SendOptions,
) -> bool {
    match transport.send_with(b.hop.proto, Some(b.local), b.hop.dst, bytes, opts) {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(dst = %b.hop.dst, "tm: send failed: {e}");
            false
        }
    }
}
