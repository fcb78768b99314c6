//! The `pv` module (`loadmodule "pv.so"`), whose KSR functions live in
//! `KSR.pvx`: script variables (`$var`), shared variables (`$shv`), AVPs
//! and the three extended AVP families (`$xavp`, `$xavu`, `$xavi`), plus
//! the static branch and string evaluation. The stores themselves are in
//! `kemi_core::pv`, shared with `KSR.pv` and pseudo-variable names.

mod ops;

use kemi_core::{kemi_module, ModuleDef};

/// Variables, AVPs and extended AVPs by name, without `$...` syntax.
///
/// In every family `*_seti`/`*_sets` assign, `*_get` reads (nil when
/// missing), `*_gete` gives `""` and `*_getw` `"<null>"` instead, `*_rm`
/// removes, `*_is_null` returns 1 when there is no value and -1 otherwise.
/// `$xavp`/`$xavi` assignments add a new value on top (index 0), `$xavu`
/// ones overwrite; `$xavi` names ignore case.
#[kemi_module(name = "pvx")]
pub mod kemi {
    use super::ops::*;
    use kemi_core::pv::XavKind::{Xavi, Xavp, Xavu};
    use kemi_core::{Context, NullMode, Xval};

    // ----- static branch -----

    /// Sets the Request-URI (and `$du` when set) from the static branch
    /// (`$sbranch(uri)`, `$sbranch(dst_uri)`). 1, or -1 when the static
    /// branch has no URI.
    #[kemi_export]
    pub fn sbranch_set_ruri(ctx: &mut Context) -> i32 {
        sbranch_to_ruri(ctx)
    }

    /// Adds the static branch (`$sbranch(uri)`, `dst_uri`, `path`, `q`,
    /// `flags`, `send_socket`) to the request's destination set, the one
    /// `KSR.corex.append_branch` fills and tm forks to. The static branch
    /// is kept. 1, or -1 when it has no URI, a field is unusable (q outside
    /// 0..1000, a socket this proxy does not have) or the set is full.
    #[kemi_export]
    pub fn sbranch_append(ctx: &mut Context) -> i32 {
        sbranch_to_branch(ctx)
    }

    /// Empties the static branch. Always 1.
    #[kemi_export]
    pub fn sbranch_reset(_ctx: &mut Context) -> i32 {
        kemi_core::pv::sbranch::reset();
        1
    }

    // ----- $var -----

    /// Sets `$var(vname)` to the integer `ival`. 1, or -1 for an empty name.
    #[kemi_export]
    pub fn var_seti(_ctx: &mut Context, vname: &str, ival: i32) -> i32 {
        var_set(vname, ival.into())
    }

    /// Sets `$var(vname)` to the string `sval`. 1, or -1 for an empty name.
    #[kemi_export]
    pub fn var_sets(_ctx: &mut Context, vname: &str, sval: &str) -> i32 {
        var_set(vname, sval.into())
    }

    /// The value of `$var(vname)`; a variable never assigned in this worker
    /// gives 0 (and a warning).
    #[kemi_export]
    pub fn var_get(_ctx: &mut Context, vname: &str) -> Xval {
        var_read(vname)
    }

    // ----- $shv -----

    /// Sets the shared variable `$shv(vname)` to the integer `ival`.
    #[kemi_export]
    pub fn shv_seti(ctx: &mut Context, vname: &str, ival: i32) -> i32 {
        shv_set(ctx, vname, ival.into())
    }

    /// Sets the shared variable `$shv(vname)` to the string `sval`.
    #[kemi_export]
    pub fn shv_sets(ctx: &mut Context, vname: &str, sval: &str) -> i32 {
        shv_set(ctx, vname, sval.into())
    }

    /// The value of `$shv(vname)` (0 when never assigned).
    #[kemi_export]
    pub fn shv_get(ctx: &mut Context, vname: &str) -> Xval {
        shv_read(ctx, vname)
    }

    /// Adds one to the integer `$shv(vname)` under the shared lock and
    /// returns the new value; nil when it holds a string.
    #[kemi_export]
    pub fn shvinc_get(ctx: &mut Context, vname: &str) -> Xval {
        shv_increment(ctx, vname)
    }

    // ----- copying between stores, printing -----

    /// Copies `$var(varname)` into a new `$xavp(xname)` with one child
    /// named after the variable; `varname` `"*"` copies every variable of
    /// this worker. Existing `$xavp(xname)` values are removed first.
    #[kemi_export]
    pub fn pv_var_to_xavp(ctx: &mut Context, varname: &str, xname: &str) -> i32 {
        var_to_xavp(ctx, varname, xname)
    }

    /// Copies each child field of `$xavp(xname)` into the `$var` of the
    /// same name. -1 when there is no such xavp.
    #[kemi_export]
    pub fn pv_xavp_to_var(ctx: &mut Context, xname: &str) -> i32 {
        xavp_to_var(ctx, xname)
    }

    /// Logs every `$xavp` of the message at info level. Always 1.
    #[kemi_export]
    pub fn pv_xavp_print(ctx: &mut Context) -> i32 {
        print(ctx, Xavp)
    }

    /// Logs every `$xavu` of the message at info level. Always 1.
    #[kemi_export]
    pub fn pv_xavu_print(ctx: &mut Context) -> i32 {
        print(ctx, Xavu)
    }

    /// Logs every `$xavi` of the message at info level. Always 1.
    #[kemi_export]
    pub fn pv_xavi_print(ctx: &mut Context) -> i32 {
        print(ctx, Xavi)
    }

    // ----- parameter strings -----

    /// Turns `sparams` (`"a=1;b=2"`) into a new `$xavp(sxname)` whose
    /// children are the parameters (string values; a name without value
    /// gets `""`). -1 when the string has no parameter.
    #[kemi_export]
    pub fn xavp_params_explode(ctx: &mut Context, sparams: &str, sxname: &str) -> i32 {
        params_explode(ctx, Xavp, sparams, ';', sxname)
    }

    /// As `xavp_params_explode`, with the first character of `sep` as the
    /// parameter separator instead of `;`.
    #[kemi_export]
    pub fn xavp_xparams_explode(ctx: &mut Context, sparams: &str, sep: &str, sxname: &str) -> i32 {
        match sep.chars().next() {
            Some(c) => params_explode(ctx, Xavp, sparams, c, sxname),
            None => {
                tracing::error!(target: "script", "xavp_xparams_explode: empty separator");
                -1
            }
        }
    }

    /// Writes the children of `$xavp(sxname)` as `"a=1;b=2"` into the PV
    /// named `svname` (`"$var(out)"`...). -1 when there is no such xavp or
    /// the PV cannot be assigned.
    #[kemi_export]
    pub fn xavp_params_implode(ctx: &mut Context, sxname: &str, svname: &str) -> i32 {
        params_implode(ctx, Xavp, sxname, svname, false)
    }

    /// As `xavp_params_implode`, with string values in double quotes.
    #[kemi_export]
    pub fn xavp_params_implode_qval(ctx: &mut Context, sxname: &str, svname: &str) -> i32 {
        params_implode(ctx, Xavp, sxname, svname, true)
    }

    /// As `xavp_params_explode`, into `$xavu(sxname)` (replacing it).
    #[kemi_export]
    pub fn xavu_params_explode(ctx: &mut Context, sparams: &str, sxname: &str) -> i32 {
        params_explode(ctx, Xavu, sparams, ';', sxname)
    }

    /// As `xavp_params_implode`, from `$xavu(sxname)`.
    #[kemi_export]
    pub fn xavu_params_implode(ctx: &mut Context, sxname: &str, svname: &str) -> i32 {
        params_implode(ctx, Xavu, sxname, svname, false)
    }

    /// Splits `slist` at any character of `sep` and stores each token as a
    /// value of `$xavp(sxname)`, the first token at index 0. `mode` letters:
    /// `t` trims blanks around tokens, `e` keeps empty tokens (skipped
    /// otherwise). -1 when no token was stored.
    #[kemi_export]
    pub fn xavp_slist_explode(
        ctx: &mut Context,
        slist: &str,
        sep: &str,
        mode: &str,
        sxname: &str,
    ) -> i32 {
        slist_explode(ctx, slist, sep, mode, sxname)
    }

    // ----- $xavp -----

    /// Adds the integer `ival` on top of `$xavp(rname)`.
    #[kemi_export]
    pub fn xavp_seti(ctx: &mut Context, rname: &str, ival: i32) -> i32 {
        x_set(ctx, Xavp, rname, ival.into())
    }

    /// Adds the string `sval` on top of `$xavp(rname)`.
    #[kemi_export]
    pub fn xavp_sets(ctx: &mut Context, rname: &str, sval: &str) -> i32 {
        x_set(ctx, Xavp, rname, sval.into())
    }

    /// The value of `$xavp(rname)` (index 0), or nil.
    #[kemi_export]
    pub fn xavp_get(ctx: &mut Context, rname: &str) -> Xval {
        x_get(ctx, Xavp, rname, NullMode::Null)
    }

    /// The value of `$xavp(rname)`, or `""`.
    #[kemi_export]
    pub fn xavp_gete(ctx: &mut Context, rname: &str) -> Xval {
        x_get(ctx, Xavp, rname, NullMode::Empty)
    }

    /// The value of `$xavp(rname)`, or `"<null>"`.
    #[kemi_export]
    pub fn xavp_getw(ctx: &mut Context, rname: &str) -> Xval {
        x_get(ctx, Xavp, rname, NullMode::Print)
    }

    /// Every value of `$xavp(rname)` as an array (index 0 first); values
    /// with children become tables mapping each child name to the array of
    /// its values. Nil when missing. Only Lua converts such tables.
    #[kemi_export]
    pub fn xavp_getd(ctx: &mut Context, rname: &str) -> Xval {
        x_getd(ctx, Xavp, rname)
    }

    /// The value at index `indx` of `$xavp(rname)` as `xavp_getd` builds
    /// each item, or nil.
    #[kemi_export]
    pub fn xavp_getd_p1(ctx: &mut Context, rname: &str, indx: i32) -> Xval {
        x_getd_p1(ctx, Xavp, rname, indx)
    }

    /// The distinct child names of `$xavp(rname)` at index `indx`, as an
    /// array; nil when missing.
    #[kemi_export]
    pub fn xavp_get_keys(ctx: &mut Context, rname: &str, indx: i32) -> Xval {
        x_keys(ctx, Xavp, rname, indx)
    }

    /// Removes the value at index 0 of `$xavp(rname)`. 1 whether or not
    /// there was one.
    #[kemi_export]
    pub fn xavp_rm(ctx: &mut Context, rname: &str) -> i32 {
        x_rm(ctx, Xavp, rname, false)
    }

    /// Removes every value of `$xavp(rname)`. Always 1.
    #[kemi_export]
    pub fn xavp_rm_all(ctx: &mut Context, rname: &str) -> i32 {
        x_rm(ctx, Xavp, rname, true)
    }

    /// 1 when `$xavp(rname)` has no value, -1 when it has one.
    #[kemi_export]
    pub fn xavp_is_null(ctx: &mut Context, rname: &str) -> i32 {
        x_is_null(ctx, Xavp, rname)
    }

    /// Sets the child `cname` of `$xavp(rname)` to the integer `ival`
    /// (added on top of the child's values), creating `$xavp(rname)` if
    /// needed.
    #[kemi_export]
    pub fn xavp_child_seti(ctx: &mut Context, rname: &str, cname: &str, ival: i32) -> i32 {
        x_child_set(ctx, Xavp, rname, cname, ival.into())
    }

    /// Sets the child `cname` of `$xavp(rname)` to the string `sval`.
    #[kemi_export]
    pub fn xavp_child_sets(ctx: &mut Context, rname: &str, cname: &str, sval: &str) -> i32 {
        x_child_set(ctx, Xavp, rname, cname, sval.into())
    }

    /// Removes the first value of `$xavp(rname=>cname)`. Always 1.
    #[kemi_export]
    pub fn xavp_child_rm(ctx: &mut Context, rname: &str, cname: &str) -> i32 {
        x_child_rm(ctx, Xavp, rname, cname)
    }

    /// 1 when `$xavp(rname=>cname)` has no value, -1 when it has one.
    #[kemi_export]
    pub fn xavp_child_is_null(ctx: &mut Context, rname: &str, cname: &str) -> i32 {
        x_child_is_null(ctx, Xavp, rname, cname)
    }

    /// The value of `$xavp(rname=>cname)`, or nil.
    #[kemi_export]
    pub fn xavp_child_get(ctx: &mut Context, rname: &str, cname: &str) -> Xval {
        x_child_get(ctx, Xavp, rname, cname, NullMode::Null)
    }

    /// The value of `$xavp(rname=>cname)`, or `""`.
    #[kemi_export]
    pub fn xavp_child_gete(ctx: &mut Context, rname: &str, cname: &str) -> Xval {
        x_child_get(ctx, Xavp, rname, cname, NullMode::Empty)
    }

    /// The value of `$xavp(rname=>cname)`, or `"<null>"`.
    #[kemi_export]
    pub fn xavp_child_getw(ctx: &mut Context, rname: &str, cname: &str) -> Xval {
        x_child_get(ctx, Xavp, rname, cname, NullMode::Print)
    }

    // ----- $xavu -----

    /// Sets `$xavu(rname)` to the integer `ival`, replacing its value.
    #[kemi_export]
    pub fn xavu_seti(ctx: &mut Context, rname: &str, ival: i32) -> i32 {
        x_set(ctx, Xavu, rname, ival.into())
    }

    /// Sets `$xavu(rname)` to the string `sval`, replacing its value.
    #[kemi_export]
    pub fn xavu_sets(ctx: &mut Context, rname: &str, sval: &str) -> i32 {
        x_set(ctx, Xavu, rname, sval.into())
    }

    /// The value of `$xavu(rname)`, or nil.
    #[kemi_export]
    pub fn xavu_get(ctx: &mut Context, rname: &str) -> Xval {
        x_get(ctx, Xavu, rname, NullMode::Null)
    }

    /// The value of `$xavu(rname)`, or `""`.
    #[kemi_export]
    pub fn xavu_gete(ctx: &mut Context, rname: &str) -> Xval {
        x_get(ctx, Xavu, rname, NullMode::Empty)
    }

    /// The value of `$xavu(rname)`, or `"<null>"`.
    #[kemi_export]
    pub fn xavu_getw(ctx: &mut Context, rname: &str) -> Xval {
        x_get(ctx, Xavu, rname, NullMode::Print)
    }

    /// Removes `$xavu(rname)`. Always 1.
    #[kemi_export]
    pub fn xavu_rm(ctx: &mut Context, rname: &str) -> i32 {
        x_rm(ctx, Xavu, rname, true)
    }

    /// 1 when `$xavu(rname)` has no value, -1 when it has one.
    #[kemi_export]
    pub fn xavu_is_null(ctx: &mut Context, rname: &str) -> i32 {
        x_is_null(ctx, Xavu, rname)
    }

    /// Sets the child `cname` of `$xavu(rname)` to the integer `ival`,
    /// replacing its value; creates `$xavu(rname)` if needed.
    #[kemi_export]
    pub fn xavu_child_seti(ctx: &mut Context, rname: &str, cname: &str, ival: i32) -> i32 {
        x_child_set(ctx, Xavu, rname, cname, ival.into())
    }

    /// Sets the child `cname` of `$xavu(rname)` to the string `sval`.
    #[kemi_export]
    pub fn xavu_child_sets(ctx: &mut Context, rname: &str, cname: &str, sval: &str) -> i32 {
        x_child_set(ctx, Xavu, rname, cname, sval.into())
    }

    /// Removes `$xavu(rname=>cname)`. Always 1.
    #[kemi_export]
    pub fn xavu_child_rm(ctx: &mut Context, rname: &str, cname: &str) -> i32 {
        x_child_rm(ctx, Xavu, rname, cname)
    }

    /// 1 when `$xavu(rname=>cname)` has no value, -1 when it has one.
    #[kemi_export]
    pub fn xavu_child_is_null(ctx: &mut Context, rname: &str, cname: &str) -> i32 {
        x_child_is_null(ctx, Xavu, rname, cname)
    }

    /// The value of `$xavu(rname=>cname)`, or nil.
    #[kemi_export]
    pub fn xavu_child_get(ctx: &mut Context, rname: &str, cname: &str) -> Xval {
        x_child_get(ctx, Xavu, rname, cname, NullMode::Null)
    }

    /// The value of `$xavu(rname=>cname)`, or `""`.
    #[kemi_export]
    pub fn xavu_child_gete(ctx: &mut Context, rname: &str, cname: &str) -> Xval {
        x_child_get(ctx, Xavu, rname, cname, NullMode::Empty)
    }

    /// The value of `$xavu(rname=>cname)`, or `"<null>"`.
    #[kemi_export]
    pub fn xavu_child_getw(ctx: &mut Context, rname: &str, cname: &str) -> Xval {
        x_child_get(ctx, Xavu, rname, cname, NullMode::Print)
    }

    // ----- $xavi -----

    /// Adds the integer `ival` on top of `$xavi(rname)` (name case ignored).
    #[kemi_export]
    pub fn xavi_seti(ctx: &mut Context, rname: &str, ival: i32) -> i32 {
        x_set(ctx, Xavi, rname, ival.into())
    }

    /// Adds the string `sval` on top of `$xavi(rname)`.
    #[kemi_export]
    pub fn xavi_sets(ctx: &mut Context, rname: &str, sval: &str) -> i32 {
        x_set(ctx, Xavi, rname, sval.into())
    }

    /// The value of `$xavi(rname)`, or nil.
    #[kemi_export]
    pub fn xavi_get(ctx: &mut Context, rname: &str) -> Xval {
        x_get(ctx, Xavi, rname, NullMode::Null)
    }

    /// The value of `$xavi(rname)`, or `""`.
    #[kemi_export]
    pub fn xavi_gete(ctx: &mut Context, rname: &str) -> Xval {
        x_get(ctx, Xavi, rname, NullMode::Empty)
    }

    /// The value of `$xavi(rname)`, or `"<null>"`.
    #[kemi_export]
    pub fn xavi_getw(ctx: &mut Context, rname: &str) -> Xval {
        x_get(ctx, Xavi, rname, NullMode::Print)
    }

    /// Every value of `$xavi(rname)`, as `xavp_getd` gives them.
    #[kemi_export]
    pub fn xavi_getd(ctx: &mut Context, rname: &str) -> Xval {
        x_getd(ctx, Xavi, rname)
    }

    /// The value at index `indx` of `$xavi(rname)`, as `xavp_getd_p1`.
    #[kemi_export]
    pub fn xavi_getd_p1(ctx: &mut Context, rname: &str, indx: i32) -> Xval {
        x_getd_p1(ctx, Xavi, rname, indx)
    }

    /// The child names of `$xavi(rname)` at index `indx`, as an array.
    #[kemi_export]
    pub fn xavi_get_keys(ctx: &mut Context, rname: &str, indx: i32) -> Xval {
        x_keys(ctx, Xavi, rname, indx)
    }

    /// Removes the value at index 0 of `$xavi(rname)`. Always 1.
    #[kemi_export]
    pub fn xavi_rm(ctx: &mut Context, rname: &str) -> i32 {
        x_rm(ctx, Xavi, rname, false)
    }

    /// Removes every value of `$xavi(rname)`. Always 1.
    #[kemi_export]
    pub fn xavi_rm_all(ctx: &mut Context, rname: &str) -> i32 {
        x_rm(ctx, Xavi, rname, true)
    }

    /// 1 when `$xavi(rname)` has no value, -1 when it has one.
    #[kemi_export]
    pub fn xavi_is_null(ctx: &mut Context, rname: &str) -> i32 {
        x_is_null(ctx, Xavi, rname)
    }

    /// Adds the integer `ival` as child `cname` of `$xavi(rname)`.
    #[kemi_export]
    pub fn xavi_child_seti(ctx: &mut Context, rname: &str, cname: &str, ival: i32) -> i32 {
        x_child_set(ctx, Xavi, rname, cname, ival.into())
    }

    /// Adds the string `sval` as child `cname` of `$xavi(rname)`.
    #[kemi_export]
    pub fn xavi_child_sets(ctx: &mut Context, rname: &str, cname: &str, sval: &str) -> i32 {
        x_child_set(ctx, Xavi, rname, cname, sval.into())
    }

    /// Removes the first value of `$xavi(rname=>cname)`. Always 1.
    #[kemi_export]
    pub fn xavi_child_rm(ctx: &mut Context, rname: &str, cname: &str) -> i32 {
        x_child_rm(ctx, Xavi, rname, cname)
    }

    /// 1 when `$xavi(rname=>cname)` has no value, -1 when it has one.
    #[kemi_export]
    pub fn xavi_child_is_null(ctx: &mut Context, rname: &str, cname: &str) -> i32 {
        x_child_is_null(ctx, Xavi, rname, cname)
    }

    /// The value of `$xavi(rname=>cname)`, or nil.
    #[kemi_export]
    pub fn xavi_child_get(ctx: &mut Context, rname: &str, cname: &str) -> Xval {
        x_child_get(ctx, Xavi, rname, cname, NullMode::Null)
    }

    /// The value of `$xavi(rname=>cname)`, or `""`.
    #[kemi_export]
    pub fn xavi_child_gete(ctx: &mut Context, rname: &str, cname: &str) -> Xval {
        x_child_get(ctx, Xavi, rname, cname, NullMode::Empty)
    }

    /// The value of `$xavi(rname=>cname)`, or `"<null>"`.
    #[kemi_export]
    pub fn xavi_child_getw(ctx: &mut Context, rname: &str, cname: &str) -> Xval {
        x_child_get(ctx, Xavi, rname, cname, NullMode::Print)
    }

    // ----- evaluation -----

    /// Expands the PVs in `fmt` and assigns the text to the PV named `dst`.
    /// 1, or -1 when `dst` cannot be assigned.
    #[kemi_export]
    pub fn evalx(ctx: &mut Context, dst: &str, fmt: &str) -> i32 {
        eval_into(ctx, dst, fmt)
    }

    // ----- $avp -----

    /// Adds the integer `vn` on top of `$avp(xname)`.
    #[kemi_export]
    pub fn avp_seti(ctx: &mut Context, xname: &str, vn: i32) -> i32 {
        avp_set(ctx, xname, vn.into())
    }

    /// Adds the string `vs` on top of `$avp(xname)`.
    #[kemi_export]
    pub fn avp_sets(ctx: &mut Context, xname: &str, vs: &str) -> i32 {
        avp_set(ctx, xname, vs.into())
    }

    /// The latest value of `$avp(xname)`, or nil.
    #[kemi_export]
    pub fn avp_get(ctx: &mut Context, xname: &str) -> Xval {
        avp_read(ctx, xname, NullMode::Null)
    }

    /// The latest value of `$avp(xname)`, or `""`.
    #[kemi_export]
    pub fn avp_gete(ctx: &mut Context, xname: &str) -> Xval {
        avp_read(ctx, xname, NullMode::Empty)
    }

    /// The latest value of `$avp(xname)`, or `"<null>"`.
    #[kemi_export]
    pub fn avp_getw(ctx: &mut Context, xname: &str) -> Xval {
        avp_read(ctx, xname, NullMode::Print)
    }

    /// Removes every value of `$avp(xname)`. Always 1.
    #[kemi_export]
    pub fn avp_rm(ctx: &mut Context, xname: &str) -> i32 {
        avp_remove(ctx, xname)
    }

    /// 1 when `$avp(xname)` has no value, -1 when it has one.
    #[kemi_export]
    pub fn avp_is_null(ctx: &mut Context, xname: &str) -> i32 {
        avp_null(ctx, xname)
    }

    // ----- xavp list operations -----

    /// Copies the value at index `src_idx` of `$xavp(src_name)` (children
    /// included) to the end of `$xavp(dst_name)`. -1 when the source is
    /// missing.
    #[kemi_export]
    pub fn xavp_copy(ctx: &mut Context, src_name: &str, src_idx: i32, dst_name: &str) -> i32 {
        copy(ctx, src_name, src_idx, dst_name, None)
    }

    /// Copies the value at `src_idx` of `$xavp(src_name)` over the value at
    /// `dst_idx` of `$xavp(dst_name)`. -1 when either is missing.
    #[kemi_export]
    pub fn xavp_copy_dst(
        ctx: &mut Context,
        src_name: &str,
        src_idx: i32,
        dst_name: &str,
        dst_idx: i32,
    ) -> i32 {
        copy(ctx, src_name, src_idx, dst_name, Some(dst_idx))
    }

    /// Rotates the values of `$xavp(xname)` left so that the one at `idx`
    /// becomes index 0, those before it moving to the end. -1 when there
    /// is no value at `idx`.
    #[kemi_export]
    pub fn xavp_lshift(ctx: &mut Context, xname: &str, idx: i32) -> i32 {
        lshift(ctx, xname, idx)
    }

    /// Sets the destination of the request from the children of
    /// `$xavp(xname)`: `uri` becomes the Request-URI, `dsturi` (or `duri`)
    /// the destination URI. -1 when neither is there.
    #[kemi_export]
    pub fn xavp_push_dst(ctx: &mut Context, xname: &str) -> i32 {
        push_dst(ctx, xname)
    }
}

pub static MODULE: ModuleDef = ModuleDef {
    name: "pv",
    summary: "script variables, shared variables, AVPs and extended AVPs",
    kemi: Some(&kemi::SUBMODULE),
    params: &[],
    rpc: &[],
};
