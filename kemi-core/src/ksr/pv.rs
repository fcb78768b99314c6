//! `KSR.pv.*`: reading and writing pseudo-variables (`$ru`, `$var(x)`...)
//! by name, through the engine in [`crate::pv`].

use crate::context::Context;
use crate::pv::{self, PvValue};
use crate::xval::{NullMode, Xval};

/// Reads the PV `name`. A name that is not exactly one valid PV is a
/// script bug: it is logged as an error and reads as null.
fn read(ctx: &Context, name: &str) -> Option<PvValue> {
    match pv::get_by_name(ctx, name) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(target: "script", "invalid pv '{name}': {e}");
            None
        }
    }
}

/// Assigns the PV `name`, logging why when it cannot be.
fn write(ctx: &mut Context, name: &str, value: Option<PvValue>) -> bool {
    match pv::set_by_name(ctx, name, value) {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(target: "script", "cannot assign pv '{name}': {e}");
            false
        }
    }
}

#[crate::kemi_module(name = "pv")]
pub mod kemi {
    //! Pseudo-variables: get, set and test `$...` values by name.
    use super::*;

    /// The value of the pseudo-variable `pvn` (`"$ru"`, `"$var(x)"`,
    /// `"$hdr(X-Foo)"`...): an integer or a string, or nil when it is null
    /// or the name is not a valid PV.
    #[kemi_export]
    pub fn get(ctx: &mut Context, pvn: &str) -> Xval {
        Xval::or_null(read(ctx, pvn).map(PvValue::into_xval), NullMode::Null)
    }

    /// Like `get`, but a null value comes back as the string `"<null>"`.
    #[kemi_export]
    pub fn getw(ctx: &mut Context, pvn: &str) -> Xval {
        Xval::or_null(read(ctx, pvn).map(PvValue::into_xval), NullMode::Print)
    }

    /// Like `get`, but a null value comes back as the empty string.
    #[kemi_export]
    pub fn gete(ctx: &mut Context, pvn: &str) -> Xval {
        Xval::or_null(read(ctx, pvn).map(PvValue::into_xval), NullMode::Empty)
    }

    /// The value of `pvn` as an integer: strings holding a decimal number
    /// are converted, anything else (null, text, bad name) gives 0.
    /// Values beyond 32 bits are truncated; use `getl` for them.
    #[kemi_export]
    pub fn geti(ctx: &mut Context, pvn: &str) -> i32 {
        read(ctx, pvn).map_or(0, |v| v.as_int() as i32)
    }

    /// The value of `pvn` as a 64-bit integer (0 when null or not a number).
    #[kemi_export]
    pub fn getl(ctx: &mut Context, pvn: &str) -> Xval {
        Xval::Long(read(ctx, pvn).map_or(0, |v| v.as_int()))
    }

    /// Like `get`, but gives the integer `xival` when the value is null or
    /// the name invalid.
    #[kemi_export]
    pub fn getvn(ctx: &mut Context, pvn: &str, xival: i32) -> Xval {
        read(ctx, pvn).map_or(Xval::Int(xival), PvValue::into_xval)
    }

    /// Like `get`, but gives the string `xsval` when the value is null or
    /// the name invalid.
    #[kemi_export]
    pub fn getvs(ctx: &mut Context, pvn: &str, xsval: &str) -> Xval {
        read(ctx, pvn).map_or_else(|| Xval::from(xsval.to_string()), PvValue::into_xval)
    }

    /// Assigns the integer `ival` to `pvn`. False when the name is invalid
    /// or the PV cannot take the value (read-only, bad URI part...).
    #[kemi_export]
    pub fn seti(ctx: &mut Context, pvn: &str, ival: i32) -> bool {
        write(ctx, pvn, Some(PvValue::from(ival)))
    }

    /// Assigns the 64-bit integer `xval` to `pvn`.
    #[kemi_export]
    pub fn setl(ctx: &mut Context, pvn: &str, xval: i64) -> bool {
        write(ctx, pvn, Some(PvValue::Int(xval)))
    }

    /// Assigns the string `sval` to `pvn`.
    #[kemi_export]
    pub fn sets(ctx: &mut Context, pvn: &str, sval: &str) -> bool {
        write(ctx, pvn, Some(PvValue::from(sval)))
    }

    /// Makes `pvn` null: deletes an `$avp`/`$xavp` value, clears `$du`,
    /// resets a `$var` to 0...
    #[kemi_export]
    pub fn unset(ctx: &mut Context, pvn: &str) -> bool {
        write(ctx, pvn, None)
    }

    /// True when `pvn` is null, and also when the name is invalid or the
    /// value cannot be read.
    #[kemi_export]
    pub fn is_null(ctx: &mut Context, pvn: &str) -> bool {
        read(ctx, pvn).is_none()
    }
}

pub use kemi::SUBMODULE;
