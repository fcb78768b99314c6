//! tm's RPC methods: `tm.stats` and `tm.list`.

use std::sync::atomic::Ordering;

use kemi_core::rpc::{RpcContext, RpcError, RpcMethod};
use serde_json::{json, Value};

use crate::table::{lock, Tm};

pub static METHODS: &[RpcMethod] = &[
    RpcMethod {
        name: "tm.stats",
        doc: "Transaction counters: current, total created, relayed branches, local replies, final replies by class.",
        handler: stats,
    },
    RpcMethod {
        name: "tm.list",
        doc: "The transactions in memory: method, Call-ID, CSeq, status, branches.",
        handler: list,
    },
];

fn stats(ctx: &RpcContext, _params: &[Value]) -> Result<Value, RpcError> {
    let tm = Tm::of(&ctx.runtime);
    let s = &tm.stats;
    let class = |i: usize| s.replied[i].load(Ordering::Relaxed);
    Ok(json!({
        "current": tm.len(),
        "created": s.created.load(Ordering::Relaxed),
        "total": s.created.load(Ordering::Relaxed),
        "relayed_total": s.relayed_total.load(Ordering::Relaxed),
        "total_local": s.local_replies.load(Ordering::Relaxed),
        "2xx": class(1),
        "3xx": class(2),
        "4xx": class(3),
        "5xx": class(4),
        "6xx": class(5),
    }))
}

fn list(ctx: &RpcContext, _params: &[Value]) -> Result<Value, RpcError> {
    let tm = Tm::of(&ctx.runtime);
    let txs: Vec<Value> = tm
        .all()
        .iter()
        .map(|tx| {
            let t = lock(tx);
            let msg = &t.request.msg;
            json!({
                "id": format!("{:x}", t.id),
                "method": msg.method_str(),
                "call_id": msg.call_id().unwrap_or_default(),
                "cseq": msg.cseq().map(|c| c.number).unwrap_or_default(),
                "status": t.status,
                "final": t.final_sent,
                "canceled": t.canceled,
                "age_ms": t.created.elapsed().as_millis() as u64,
                "branches": t.branches.iter().map(|b| json!({
                    "uri": b.uri,
                    "dst": b.hop.dst.to_string(),
                    "code": b.code,
                    "done": b.done,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Value::Array(txs))
}
