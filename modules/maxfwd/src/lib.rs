//! `maxfwd`: Max-Forwards processing (`KSR.maxfwd.*`), RFC 3261 16.6
//! step 3: a proxy decrements Max-Forwards, adds one when missing, and
//! must not forward a request that arrived with 0 (the script answers 483).
//!
//! Return codes as in Kamailio's module: `process_maxfwd` gives 2 when it
//! added the header, 1 when it decremented the value, -1 when the value
//! was already 0, -2 on a bad header; `is_maxfwd_lt` gives 1 when the
//! value is below the limit, -1 when not, -2 without a header, -3 on a bad
//! one.

use kemi_core::sip::{HeaderName, HeaderPos};
use kemi_core::{kemi_module, Context, ModParam, ModParamKind, ModuleDef};

/// Kamailio's `max_limit` default: a received value above it is lowered
/// to it.
const DEFAULT_MAX_LIMIT: i64 = 256;

fn max_limit(ctx: &Context) -> i64 {
    ctx.runtime()
        .config()
        .module("maxfwd")
        .and_then(|m| m.param("max_limit"))
        .and_then(|v| v.as_int())
        .unwrap_or(DEFAULT_MAX_LIMIT)
}

/// The first Max-Forwards header: its index and value, `Ok(None)` when
/// there is none, `Err` when its value is not a number.
fn current(ctx: &Context) -> Result<Option<(usize, u32)>, ()> {
    let Some(h) = ctx.msg.headers_of(HeaderName::MaxForwards).next() else {
        return Ok(None);
    };
    let v = h.value.trim();
    // Kamailio reads up to 3 digits; anything larger than 255 is bad.
    if v.is_empty() || v.len() > 3 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    v.parse::<u32>()
        .ok()
        .filter(|n| *n <= 255)
        .map(|n| Some((h.index, n)))
        .ok_or(())
}

/// Max-Forwards handling.
#[kemi_module(name = "maxfwd")]
pub mod kemi {
    use super::*;

    /// Adds `Max-Forwards: limit` when the request has none (2); otherwise
    /// decrements it, first lowering it to the `max_limit` parameter when
    /// above (1). -1 when it is already 0: do not forward, reply 483. -2
    /// for a bad header or limit.
    #[kemi_export]
    pub fn process_maxfwd(ctx: &mut Context, limit: i32) -> i32 {
        if !(0..=255).contains(&limit) {
            tracing::debug!("maxfwd: limit {limit} out of 0..255");
            return -2;
        }
        match current(ctx) {
            Err(()) => -2,
            Ok(None) => {
                let limit = i64::from(limit).min(max_limit(ctx));
                match ctx
                    .msg
                    .add_header(HeaderPos::First, "Max-Forwards", &limit.to_string())
                {
                    Ok(()) => 2,
                    Err(_) => -2,
                }
            }
            Ok(Some((_, 0))) => -1,
            Ok(Some((index, value))) => {
                let value = i64::from(value).min(max_limit(ctx)) - 1;
                match ctx.msg.replace_header_value(index, &value.to_string()) {
                    Ok(()) => 1,
                    Err(_) => -2,
                }
            }
        }
    }

    /// 1 when the request's Max-Forwards is lower than `limit`, -1 when
    /// not, -2 when it has none, -3 when the value is bad.
    #[kemi_export]
    pub fn is_maxfwd_lt(ctx: &mut Context, limit: i32) -> i32 {
        match current(ctx) {
            Err(()) => -3,
            Ok(None) => -2,
            Ok(Some((_, v))) if i64::from(v) < i64::from(limit) => 1,
            Ok(Some(_)) => -1,
        }
    }
}

pub static MODULE: ModuleDef = ModuleDef {
    name: "maxfwd",
    summary: "Max-Forwards processing",
    kemi: Some(&kemi::SUBMODULE),
    params: &[ModParam {
        name: "max_limit",
        kind: ModParamKind::Int,
        repeatable: false,
        doc: "Highest Max-Forwards value let through; larger received values are lowered to it (default 256).",
    }],
    rpc: &[],
};
