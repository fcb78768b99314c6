//! The transaction table, shared by every worker (a reply may arrive on
//! any of them) and the timer thread.
//!
//! It is split in shards, each with its own lock, its transactions, its
//! index of server keys and its timers: a message locks one shard for a
//! map lookup, then its transaction. No lock covers the whole table, and
//! the timer thread takes one shard at a time.
//!
//! A transaction's id carries its shard in the low bits; the Via branch
//! of every request tm sends carries the id and the branch index, so a
//! reply finds its transaction without any search.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use kemi_core::forward::fnv1a;
use kemi_core::sip::{Message, Method};
use kemi_core::Runtime;

use crate::settings::Settings;
use crate::transaction::Tx;

const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;

/// The prefix of every Via branch tm puts in requests it sends.
pub const BRANCH_PREFIX: &str = "z9hG4bKt";

/// A transaction, shared by the table, timers and the contexts routing
/// its messages.
pub type TxRef = Arc<Mutex<Tx>>;

/// Locks a transaction. A panic while one was locked cannot leave it in
/// a state worse than dropping the message, so poisoning is ignored.
pub fn lock(tx: &TxRef) -> MutexGuard<'_, Tx> {
    tx.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a timer does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimerKind {
    /// Retransmit a branch's request (timers A and E).
    Retransmit(u16),
    /// A branch's final-response timer (fr_timer / fr_inv_timer).
    FinalResponse(u16),
    /// Retransmit a branch's CANCEL until it is answered.
    Cancel(u16),
    /// Retransmit the final reply to an INVITE until its ACK (timer G).
    ReplyRetransmit,
    /// Remove the transaction (wait timer, lifetime).
    Remove,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timer {
    pub at: Instant,
    pub id: u64,
    pub kind: TimerKind,
}

#[derive(Default)]
struct Shard {
    txs: HashMap<u64, TxRef>,
    keys: HashMap<Box<str>, u64>,
    timers: BinaryHeap<Reverse<Timer>>,
}

/// Counters for `tm.stats`.
#[derive(Debug, Default)]
pub struct Stats {
    pub created: AtomicU64,
    pub relayed_total: AtomicU64,
    pub local_replies: AtomicU64,
    /// Final replies sent upstream, by class (index 0 = 1xx unused, 1 =
    /// 2xx ... 5 = 6xx).
    pub replied: [AtomicU64; 6],
}

impl Stats {
    pub fn count_final(&self, code: u16) {
        let class = usize::from(code / 100).clamp(1, 6) - 1;
        if let Some(c) = self.replied.get(class) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The table of one proxy: `runtime.state::<Tm>()`.
pub struct Tm {
    shards: Box<[Mutex<Shard>]>,
    next_label: AtomicU64,
    settings: OnceLock<Settings>,
    pub stats: Stats,
}

impl Default for Tm {
    fn default() -> Self {
        // Labels start at a per-process value so branches differ across
        // restarts and stale replies do not match new transactions.
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        let start = fnv1a(&[&seed.to_le_bytes(), &std::process::id().to_le_bytes()]) >> 24;
        Tm {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            next_label: AtomicU64::new(start),
            settings: OnceLock::new(),
            stats: Stats::default(),
        }
    }
}

impl Tm {
    /// The table of `runtime`, its settings read from the config on first use.
    pub fn of(runtime: &Runtime) -> Arc<Tm> {
        let tm = runtime.state::<Tm>();
        tm.settings
            .get_or_init(|| Settings::from_config(runtime.config()));
        tm
    }

    pub fn settings(&self) -> &Settings {
        self.settings.get_or_init(Settings::default)
    }

    fn shard(&self, i: usize) -> MutexGuard<'_, Shard> {
        self.shards[i % SHARDS]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A new id in the shard of `key`.
    pub fn new_id(&self, key: &str) -> u64 {
        let shard = fnv1a(&[key.as_bytes()]) as usize % SHARDS;
        let label = self.next_label.fetch_add(1, Ordering::Relaxed);
        (label << SHARD_BITS) | shard as u64
    }

    /// Adds a transaction under its key. When another worker added one
    /// for the same key first (a retransmission routed in parallel), that
    /// one is returned instead and `tx` is dropped.
    pub fn insert(&self, id: u64, key: &str, tx: TxRef) -> Result<TxRef, TxRef> {
        let mut shard = self.shard(id as usize);
        if let Some(existing) = shard.keys.get(key).and_then(|i| shard.txs.get(i)) {
            return Err(Arc::clone(existing));
        }
        shard.keys.insert(key.into(), id);
        shard.txs.insert(id, Arc::clone(&tx));
        self.stats.created.fetch_add(1, Ordering::Relaxed);
        Ok(tx)
    }

    /// The transaction whose server key is `key`.
    pub fn find_key(&self, key: &str) -> Option<TxRef> {
        let shard_index = fnv1a(&[key.as_bytes()]) as usize % SHARDS;
        let shard = self.shard(shard_index);
        shard
            .keys
            .get(key)
            .and_then(|id| shard.txs.get(id))
            .cloned()
    }

    pub fn find_id(&self, id: u64) -> Option<TxRef> {
        self.shard(id as usize).txs.get(&id).cloned()
    }

    /// Removes a transaction (its timers fire into nothing).
    pub fn remove(&self, id: u64, key: &str) {
        let mut shard = self.shard(id as usize);
        shard.txs.remove(&id);
        if shard.keys.get(key) == Some(&id) {
            shard.keys.remove(key);
        }
    }

    pub fn schedule(&self, timer: Timer) {
        self.shard(timer.id as usize).timers.push(Reverse(timer));
    }

    /// Takes the timers due at `now`, shard by shard.
    pub fn due(&self, now: Instant) -> Vec<Timer> {
        let mut out = Vec::new();
        for i in 0..SHARDS {
            let mut shard = self.shard(i);
            while shard.timers.peek().is_some_and(|t| t.0.at <= now) {
                if let Some(Reverse(t)) = shard.timers.pop() {
                    out.push(t);
                }
            }
        }
        out
    }

    /// How many transactions exist now.
    pub fn len(&self) -> usize {
        (0..SHARDS).map(|i| self.shard(i).txs.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every transaction, for `tm.list`.
    pub fn all(&self) -> Vec<TxRef> {
        (0..SHARDS)
            .flat_map(|i| self.shard(i).txs.values().cloned().collect::<Vec<_>>())
            .collect()
    }
}

/// The server transaction key of a request (RFC 3261 17.2.3): the top Via
/// branch with its sent-by and the method when the branch is an RFC 3261
/// one, else the RFC 2543 fields. ACK and CANCEL map to the INVITE's key
/// when `as_invite` is set. `None` when the request lacks a Via.
pub fn server_key(msg: &Message, as_invite: bool) -> Option<String> {
    let via = msg.top_via().ok()?;
    let method = match msg.method() {
        Method::Ack => "INVITE",
        Method::Cancel if as_invite => "INVITE",
        _ => msg.method_str(),
    };
    let port = via.port.unwrap_or(0);
    match via.branch() {
        Some(b) if b.starts_with("z9hG4bK") => Some(format!("{b}|{}:{port}|{method}", via.host)),
        _ => {
            let call_id = msg.call_id().ok()?;
            let cseq = msg.cseq().ok()?.number;
            let from = msg.from().ok();
            let from_tag = from.as_ref().and_then(|f| f.tag()).unwrap_or_default();
            let ruri = msg.request_uri().unwrap_or_default();
            Some(format!(
                "2543|{call_id}|{cseq}|{from_tag}|{}|{ruri}|{method}",
                via.raw
            ))
        }
    }
}

/// The Via branch tm uses for branch `index` of transaction `id`.
pub fn branch_param(id: u64, index: usize) -> String {
    format!("{BRANCH_PREFIX}{id:x}.{index}")
}

/// The transaction id and branch index in a Via branch tm made.
pub fn parse_branch(branch: &str) -> Option<(u64, usize)> {
    let rest = branch.strip_prefix(BRANCH_PREFIX)?;
    let (id, index) = rest.split_once('.')?;
    Some((u64::from_str_radix(id, 16).ok()?, index.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_round_trip() {
        let b = branch_param(0xabc123, 7);
        assert_eq!(parse_branch(&b), Some((0xabc123, 7)));
        assert_eq!(parse_branch("z9hG4bK-other"), None);
        assert_eq!(parse_branch("z9hG4bKtzz.1"), None);
    }

    #[test]
    fn ack_and_cancel_share_the_invite_key() {
        let invite = Message::parse(
            &b"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bK1\r\n\
From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n"[..],
        )
        .unwrap();
        let cancel = Message::parse(
            &b"CANCEL sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bK1\r\n\
From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 CANCEL\r\n\r\n"[..],
        )
        .unwrap();
        let k = server_key(&invite, false).unwrap();
        assert_eq!(server_key(&cancel, true).unwrap(), k);
        assert_ne!(server_key(&cancel, false).unwrap(), k);
    }
}
