//! ktest: a module whose exports cover every KEMI parameter kind, every
//! return kind and the routing context, so engines and the export toolkit
//! can be tested against a known surface (`KSR.ktest.*`).

use kemi_core::{kemi_module, ModuleDef};

/// Test exports: one per parameter and return kind, plus context access,
/// a long signature and a renamed export.
#[kemi_module(name = "ktest")]
pub mod kemi {
    use std::borrow::Cow;

    use kemi_core::{Context, Xval};

    /// Returns `n` unchanged (an int result: >0 true, <0 false, 0 stops the script).
    #[kemi_export]
    pub fn ret_int(n: i32) -> i32 {
        n
    }

    /// Returns whether `n` is positive.
    #[kemi_export]
    pub fn ret_bool(n: i32) -> bool {
        n > 0
    }

    /// Returns nothing.
    #[kemi_export]
    pub fn ret_none() {}

    /// Returns `n` as an int xval.
    #[kemi_export]
    pub fn xval_int(n: i32) -> Xval {
        Xval::Int(n)
    }

    /// Returns `n` as a long xval.
    #[kemi_export]
    pub fn xval_long(n: i64) -> Xval {
        Xval::Long(n)
    }

    /// Returns `s` as a string xval.
    #[kemi_export]
    pub fn xval_str(s: &str) -> Xval {
        Xval::from(s.to_string())
    }

    /// Returns null (`nil`, `None`, `null`).
    #[kemi_export]
    pub fn xval_null() -> Xval {
        Xval::Null
    }

    /// Returns `{"name": name, "n": n}`, keys in that order.
    #[kemi_export]
    pub fn xval_dict(name: &str, n: i32) -> Xval {
        Xval::Dict(vec![
            (Cow::Borrowed("name"), Xval::from(name.to_string())),
            (Cow::Borrowed("n"), Xval::Int(n)),
        ])
    }

    /// Returns `[1, 2, ..., n]` (empty for `n < 1`). An `n` above 10000 is
    /// refused: the error is logged and null returned, so a script cannot
    /// make the proxy allocate without bound.
    #[kemi_export]
    pub fn xval_array(n: i32) -> Xval {
        if n > crate::XVAL_ARRAY_MAX {
            tracing::error!(
                target: "ktest",
                "KSR.ktest.xval_array({n}): n must be at most {}",
                crate::XVAL_ARRAY_MAX
            );
            return Xval::Null;
        }
        Xval::Array((1..=n).map(Xval::Int).collect())
    }

    /// Joins two strings.
    #[kemi_export]
    pub fn concat(a: &str, b: &str) -> Xval {
        Xval::from(format!("{a}{b}"))
    }

    /// Adds two longs; a sum beyond the long range saturates at its
    /// nearest end (`i64::MAX` or `i64::MIN`) rather than overflowing.
    #[kemi_export]
    pub fn sum_long(a: i64, b: i64) -> Xval {
        Xval::Long(a.saturating_add(b))
    }

    /// Takes eight parameters of mixed kinds and describes them, to prove
    /// there is no limit on the parameter count.
    #[allow(clippy::too_many_arguments)]
    #[kemi_export]
    pub fn many(a: i32, b: i64, c: &str, d: i32, e: String, f: i64, g: &str, h: i32) -> Xval {
        Xval::from(format!("{a}|{b}|{c}|{d}|{e}|{f}|{g}|{h}"))
    }

    /// Sets message flag `flag` (0..31) in the routing context; false
    /// when the flag is out of range.
    #[kemi_export]
    pub fn set_flag_via_ctx(ctx: &mut Context, flag: i32) -> bool {
        match u32::try_from(flag).ok().filter(|f| *f < 32) {
            Some(bit) => {
                ctx.flags |= 1 << bit;
                true
            }
            None => false,
        }
    }

    /// Reads the context without changing it: whether message flag `flag` is set.
    #[kemi_export]
    pub fn is_flag_set(ctx: &Context, flag: i32) -> bool {
        u32::try_from(flag)
            .ok()
            .filter(|f| *f < 32)
            .is_some_and(|bit| ctx.flags & (1 << bit) != 0)
    }

    /// Takes an owned string and returns its length in characters.
    #[kemi_export]
    pub fn owned_len(s: String) -> i32 {
        i32::try_from(s.chars().count()).unwrap_or(i32::MAX)
    }

    /// Exported under another name: scripts call `KSR.ktest.renamed_echo(s)`.
    #[kemi_export(name = "renamed_echo")]
    pub fn echo(s: &str) -> Xval {
        Xval::from(s.to_string())
    }
}

/// The longest array `KSR.ktest.xval_array` builds (its doc names it).
pub const XVAL_ARRAY_MAX: i32 = 10_000;

pub static MODULE: ModuleDef = ModuleDef {
    name: "ktest",
    summary: "exports covering every KEMI parameter and return kind, for tests",
    kemi: Some(&kemi::SUBMODULE),
    params: &[],
    rpc: &[],
};
