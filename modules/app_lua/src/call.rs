//! The native side of `KSR`: one generic Lua C function for every export,
//! plus `KSR.x.*`, the `os.exit` replacement and the error handler.
//!
//! Why raw C closures and not `mlua::Lua::create_function`: mlua collects a
//! callback's arguments into a `MultiValue` (a `VecDeque`, allocated per
//! call) and takes a registry reference for each string. Reading the Lua
//! stack directly lets the arguments live in a stack buffer and strings be
//! borrowed straight from the Lua stack, so a KSR call allocates nothing
//! unless the export itself does (or has more than 8 arguments).
//!
//! Every C function here has one or two upvalues, both light userdata:
//! 1. the `&'static Export` (export functions only),
//! 2. the engine's [`Slot`], which says which [`Context`] calls act on.
//!
//! Errors are raised with `lua_error`, which longjmps. Rust frames must hold
//! nothing that needs dropping when that happens, so the work is done in
//! inner functions that return `Err(())` after pushing the message, and only
//! the outermost `extern "C-unwind"` function (holding nothing) calls
//! `lua_error`. A Lua allocation failure while pushing a result could still
//! longjmp over an inner frame; the only consequence is leaking that frame's
//! Rust values (no destructor runs), which is what mlua accepts too.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use kemi_core::{Arg, Context, Export, Registry, Ret, Xval};
use mlua::ffi;
use smallvec::SmallVec;

/// The error value `KSR.x.exit()` raises, as Kamailio's app_lua does: the
/// engine treats an error with exactly this string as a normal end.
pub const EXIT_SENTINEL: &str = "~~ksr~exit~~";

/// How deep an xval dict/array may nest before conversion gives up (a
/// module bug, not script input; the limit keeps the Lua stack bounded).
const MAX_XVAL_DEPTH: u32 = 32;

/// Which routing context KSR calls act on. The engine points it at the
/// message's context for the duration of one callback (or at a scratch
/// context while scripts load) and clears it afterwards; each KSR call
/// takes the pointer out while it runs, so a nested call (an export that
/// re-enters Lua) finds it empty instead of aliasing the `&mut Context`.
///
/// It also keeps the registry `KSR` was built from, where `KSR.x.modf`
/// looks functions up by name.
pub(crate) struct Slot {
    current: Cell<*mut Context>,
    registry: Registry,
}

impl Slot {
    pub(crate) fn new(registry: Registry) -> Self {
        Slot {
            current: Cell::new(ptr::null_mut()),
            registry,
        }
    }
}

/// Points a [`Slot`] at a context until dropped, then restores what was there.
pub(crate) struct Current<'a> {
    slot: &'a Slot,
    prev: *mut Context,
}

impl<'a> Current<'a> {
    /// The caller keeps `ctx` exclusively borrowed (unused) while the guard lives.
    pub(crate) fn set(slot: &'a Slot, ctx: *mut Context) -> Self {
        let prev = slot.current.replace(ctx);
        Current { slot, prev }
    }
}

impl Drop for Current<'_> {
    fn drop(&mut self) {
        self.slot.current.set(self.prev);
    }
}

unsafe fn upvalue<T>(l: *mut ffi::lua_State, i: c_int) -> *mut T {
    ffi::lua_touserdata(l, ffi::lua_upvalueindex(i)) as *mut T
}

/// Pushes `"<script>:<line>: <msg>"`; the position is that of the Lua code
/// calling the running C function (empty when there is none).
unsafe fn push_error(l: *mut ffi::lua_State, msg: &str) {
    ffi::luaL_where(l, 1);
    ffi::lua_pushlstring(l, msg.as_ptr() as *const c_char, msg.len());
    ffi::lua_concat(l, 2);
}

unsafe fn push_str(l: *mut ffi::lua_State, s: &str) {
    ffi::lua_pushlstring(l, s.as_ptr() as *const c_char, s.len());
}

/// The generic Lua function behind every `KSR.*` export.
pub(crate) unsafe extern "C-unwind" fn ksr_call(l: *mut ffi::lua_State) -> c_int {
    let export = upvalue::<Export>(l, 1) as *const Export;
    let slot = upvalue::<Slot>(l, 2) as *const Slot;
    // SAFETY: the engine created this closure with a `&'static Export` and
    // a `Slot` that outlives the Lua state.
    match call_export(l, &*export, &*slot) {
        Ok(n) => n,
        // The message is on top of the stack and nothing here needs dropping.
        Err(()) => ffi::lua_error(l),
    }
}

unsafe fn call_export(
    l: *mut ffi::lua_State,
    export: &'static Export,
    slot: &Slot,
) -> Result<c_int, ()> {
    let ctx_ptr = slot.current.replace(ptr::null_mut());
    if ctx_ptr.is_null() {
        // Kamailio's engines do the same when no message is set: log, false.
        tracing::error!(
            target: "app_lua",
            "{}: no message is being routed here (KSR call from inside another KSR call?)",
            export.path()
        );
        ffi::lua_pushboolean(l, 0);
        return Ok(1);
    }
    // SAFETY: the engine set the pointer from a `&mut Context` it holds
    // unused for the duration of the callback; we took it out of the slot,
    // so this is the only reference.
    let ctx = &mut *ctx_ptr;
    if ctx.exit {
        // The script caught `KSR.x.exit()` with its own pcall and went on:
        // no KSR function acts on the message any more; end it again.
        slot.current.set(ctx_ptr);
        push_str(l, EXIT_SENTINEL);
        return Err(());
    }
    let nargs = ffi::lua_gettop(l);
    let mut args: SmallVec<[Arg<'_>; 8]> = SmallVec::new();
    for i in 1..=nargs {
        args.push(read_arg(l, i));
    }
    // A panicking module function must not unwind through Lua's C frames.
    let result = catch_unwind(AssertUnwindSafe(|| export.invoke(ctx, &args)));
    drop(args);
    slot.current.set(ctx_ptr);
    match result {
        Ok(Ok(ret)) => push_ret(l, export, &ret),
        Ok(Err(e)) => {
            push_error(l, &e.to_string());
            Err(())
        }
        Err(_) => {
            let msg = format!(
                "{}: the function panicked (a bug in its module) [signature: {}]",
                export.path(),
                export.signature()
            );
            push_error(l, &msg);
            Err(())
        }
    }
}

/// Borrows argument `i` from the Lua stack. Strings stay on the stack for
/// the whole call, so the borrowed bytes outlive the `Arg`.
unsafe fn read_arg<'a>(l: *mut ffi::lua_State, i: c_int) -> Arg<'a> {
    match ffi::lua_type(l, i) {
        ffi::LUA_TNUMBER => {
            if ffi::lua_isinteger(l, i) != 0 {
                Arg::Int(ffi::lua_tointeger(l, i))
            } else {
                Arg::Float(ffi::lua_tonumber(l, i))
            }
        }
        ffi::LUA_TBOOLEAN => Arg::Bool(ffi::lua_toboolean(l, i) != 0),
        ffi::LUA_TSTRING => {
            let mut len = 0usize;
            let p = ffi::lua_tolstring(l, i, &mut len);
            if p.is_null() {
                Arg::Other("string")
            } else {
                Arg::Str(std::slice::from_raw_parts(p as *const u8, len))
            }
        }
        ffi::LUA_TNIL => Arg::Other("nil"),
        ffi::LUA_TTABLE => Arg::Other("table"),
        ffi::LUA_TFUNCTION => Arg::Other("function"),
        ffi::LUA_TUSERDATA | ffi::LUA_TLIGHTUSERDATA => Arg::Other("userdata"),
        ffi::LUA_TTHREAD => Arg::Other("thread"),
        _ => Arg::Other("no value"),
    }
}

unsafe fn push_ret(l: *mut ffi::lua_State, export: &Export, ret: &Ret) -> Result<c_int, ()> {
    match ret {
        Ret::Int(n) => ffi::lua_pushinteger(l, i64::from(*n)),
        Ret::Bool(b) => ffi::lua_pushboolean(l, c_int::from(*b)),
        // Kamailio's quirk, kept: `none` gives 0 with parameters, false without.
        Ret::None if export.params.is_empty() => ffi::lua_pushboolean(l, 0),
        Ret::None => ffi::lua_pushinteger(l, 0),
        Ret::Xval(x) => {
            if !push_xval(l, x, 0) {
                let msg = format!(
                    "{}: result nested too deeply to convert [signature: {}]",
                    export.path(),
                    export.signature()
                );
                push_error(l, &msg);
                return Err(());
            }
        }
    }
    Ok(1)
}

/// Pushes an xval: int and long as Lua integers (64-bit in Lua 5.4, so no
/// precision is lost, unlike Kamailio's `lua_pushnumber` for long), null as
/// nil, dict as a table with string keys, array as a 1-based sequence.
unsafe fn push_xval(l: *mut ffi::lua_State, x: &Xval, depth: u32) -> bool {
    if depth > MAX_XVAL_DEPTH || ffi::lua_checkstack(l, 3) == 0 {
        return false;
    }
    match x {
        Xval::Null => ffi::lua_pushnil(l),
        Xval::Int(n) => ffi::lua_pushinteger(l, i64::from(*n)),
        Xval::Long(n) => ffi::lua_pushinteger(l, *n),
        Xval::Str(s) => push_str(l, s),
        Xval::Dict(items) => {
            ffi::lua_createtable(l, 0, c_int::try_from(items.len()).unwrap_or(0));
            for (k, v) in items {
                push_str(l, k);
                if !push_xval(l, v, depth + 1) {
                    return false;
                }
                ffi::lua_rawset(l, -3);
            }
        }
        Xval::Array(items) => {
            ffi::lua_createtable(l, c_int::try_from(items.len()).unwrap_or(0), 0);
            for (i, v) in items.iter().enumerate() {
                if !push_xval(l, v, depth + 1) {
                    return false;
                }
                ffi::lua_rawseti(l, -2, i as ffi::lua_Integer + 1);
            }
        }
    }
    true
}

/// `KSR.x.exit()`: marks the context and raises the exit sentinel.
pub(crate) unsafe extern "C-unwind" fn x_exit(l: *mut ffi::lua_State) -> c_int {
    let slot = &*(upvalue::<Slot>(l, 1) as *const Slot);
    if let Some(ctx) = slot.current.get().as_mut() {
        ctx.exit = true;
    }
    push_str(l, EXIT_SENTINEL);
    ffi::lua_error(l)
}

/// `KSR.x.drop()`: `KSR.set_drop()` then `KSR.x.exit()`.
pub(crate) unsafe extern "C-unwind" fn x_drop(l: *mut ffi::lua_State) -> c_int {
    let slot = &*(upvalue::<Slot>(l, 1) as *const Slot);
    if let Some(ctx) = slot.current.get().as_mut() {
        // The core's rule, not a copy of it: no effect in the request route.
        kemi_core::ksr::core::kemi::set_drop(ctx);
        ctx.exit = true;
    }
    push_str(l, EXIT_SENTINEL);
    ffi::lua_error(l)
}

/// `KSR.x.modf(fname, ...)`: runs the function of the loaded modules
/// named `fname` (its kamailio.cfg name) with the other arguments, as
/// [`kemi_core::ksr::x::modf`] describes; an int result.
pub(crate) unsafe extern "C-unwind" fn x_modf(l: *mut ffi::lua_State) -> c_int {
    let slot = &*(upvalue::<Slot>(l, 1) as *const Slot);
    match modf(l, slot) {
        Ok(n) => n,
        // The message is on top of the stack and nothing here needs dropping.
        Err(()) => ffi::lua_error(l),
    }
}

unsafe fn modf(l: *mut ffi::lua_State, slot: &Slot) -> Result<c_int, ()> {
    let ctx_ptr = slot.current.replace(ptr::null_mut());
    if ctx_ptr.is_null() {
        tracing::error!(
            target: "app_lua",
            "KSR.x.modf: no message is being routed here (KSR call from inside another KSR call?)"
        );
        ffi::lua_pushinteger(l, -1);
        return Ok(1);
    }
    // SAFETY: as in `call_export`: taken out of the slot, the only reference.
    let ctx = &mut *ctx_ptr;
    if ctx.exit {
        slot.current.set(ctx_ptr);
        push_str(l, EXIT_SENTINEL);
        return Err(());
    }
    let nargs = ffi::lua_gettop(l);
    let mut args: SmallVec<[Arg<'_>; 8]> = SmallVec::new();
    for i in 1..=nargs {
        args.push(read_arg(l, i));
    }
    let result = kemi_core::ksr::x::modf(ctx, &slot.registry, &args);
    drop(args);
    slot.current.set(ctx_ptr);
    match result {
        Ok(n) => {
            ffi::lua_pushinteger(l, i64::from(n));
            Ok(1)
        }
        Err(e) => {
            push_error(l, &e.to_string());
            Err(())
        }
    }
}

/// `KSR.x.probe()`: Kamailio logs that it was called and returns nothing.
pub(crate) unsafe extern "C-unwind" fn x_probe(_l: *mut ffi::lua_State) -> c_int {
    tracing::debug!(target: "app_lua", "KSR.x.probe() called");
    0
}

/// Replaces `os.exit`: in Kamailio it stops the whole server. Here it is a
/// script error (logged with its traceback); the proxy keeps running.
pub(crate) unsafe extern "C-unwind" fn os_exit(l: *mut ffi::lua_State) -> c_int {
    ffi::luaL_where(l, 1);
    push_str(
        l,
        "os.exit() is disabled in routing scripts (it would stop the proxy); use KSR.x.exit() to end the callback",
    );
    ffi::lua_concat(l, 2);
    ffi::lua_error(l)
}

/// The message handler of every callback's `xpcall`: appends Lua's
/// traceback to the error, except for the exit sentinel, which must come
/// back unchanged to be recognised. Written in Rust so a script that
/// replaces `debug.traceback` cannot break error reports.
pub(crate) unsafe extern "C-unwind" fn traceback_handler(l: *mut ffi::lua_State) -> c_int {
    if ffi::lua_type(l, 1) == ffi::LUA_TSTRING {
        let mut len = 0usize;
        let p = ffi::lua_tolstring(l, 1, &mut len);
        if !p.is_null()
            && std::slice::from_raw_parts(p as *const u8, len) == EXIT_SENTINEL.as_bytes()
        {
            ffi::lua_settop(l, 1);
            return 1;
        }
    }
    // Any error value (table, nil, userdata) becomes text, honouring __tostring.
    let msg = ffi::luaL_tolstring(l, 1, ptr::null_mut());
    ffi::luaL_traceback(l, l, msg, 1);
    1
}

/// A light-userdata pointer for an upvalue.
pub(crate) fn light<T>(p: *const T) -> *mut c_void {
    p as *mut c_void
}
