//! How `KSR` is built in a QuickJS context and how one generic function
//! calls any export: the JavaScript arguments become [`Arg`]s (strings
//! borrowed from QuickJS for the duration of the call), the export runs
//! through [`Export::invoke`], and its [`Ret`] becomes a JavaScript value.

use std::cell::Cell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::rc::Rc;

use kemi_core::ksr::x::ModfError;
use kemi_core::{Arg, Context, Export, Registry, Ret, Xval};
use rquickjs::function::Rest;
use rquickjs::{qjs, Array, Ctx, Exception, Function, Object, Type, Value};
use smallvec::SmallVec;

/// What `KSR.x.exit()` throws, as Kamailio's app_jsdt does: a plain string
/// the engine recognises and treats as a normal end of the callback.
pub const EXIT_SENTINEL: &str = "~~ksr~exit~~";

/// Deepest dict/array nesting converted to JavaScript.
const MAX_XVAL_DEPTH: u32 = 64;

/// Where KSR functions find the message being routed: the engine points it
/// at the callback's context for the duration of the callback. A KSR call
/// takes the pointer out while it runs, so a nested call cannot alias it.
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

/// Points a slot at a context until dropped, then restores what was there.
pub(crate) struct Current<'a> {
    slot: &'a Slot,
    previous: *mut Context,
}

impl<'a> Current<'a> {
    pub(crate) fn set(slot: &'a Slot, ctx: *mut Context) -> Self {
        let previous = slot.current.replace(ctx);
        Current { slot, previous }
    }
}

impl Drop for Current<'_> {
    fn drop(&mut self) {
        self.slot.current.set(self.previous);
    }
}

/// Puts the context pointer back into the slot when a KSR call ends, on
/// every path out of it.
struct Borrowed<'a> {
    slot: &'a Slot,
    ctx: *mut Context,
}

impl Drop for Borrowed<'_> {
    fn drop(&mut self) {
        self.slot.current.set(self.ctx);
    }
}

/// Builds the `KSR` object from the registry: core functions on `KSR`
/// itself, `KSR.x`, and one object per loaded submodule (`KSR.sl`...), so
/// `if (KSR.tm)` tells whether tm is loaded. As in Kamailio, each
/// submodule object is also the global `KSR_<name>`.
pub(crate) fn build_ksr<'js>(
    cx: &Ctx<'js>,
    registry: &Registry,
    slot: &Rc<Slot>,
) -> rquickjs::Result<Object<'js>> {
    let globals = cx.globals();
    let ksr = Object::new(cx.clone())?;
    for sub in registry.submodules() {
        let target = if sub.name.is_empty() {
            ksr.clone()
        } else {
            let object = Object::new(cx.clone())?;
            ksr.set(sub.name, object.clone())?;
            globals.set(format!("KSR_{}", sub.name), object.clone())?;
            object
        };
        for export in sub.exports {
            target.set(export.name, export_function(cx, export, slot)?)?;
        }
    }
    // The documented list drives what is defined, so docs and engine agree.
    let x = Object::new(cx.clone())?;
    for f in kemi_core::ksr::x::JAVASCRIPT {
        let body = match f.name {
            "exit" | "drop" => {
                let slot = Rc::clone(slot);
                let drop = f.name == "drop";
                Function::new(cx.clone(), move |cx: Ctx<'js>| x_exit(&cx, &slot, drop))?
            }
            "modf" => {
                let slot = Rc::clone(slot);
                Function::new(cx.clone(), move |cx: Ctx<'js>, args: Rest<Value<'js>>| {
                    x_modf(&cx, &slot, &args.0)
                })?
            }
            other => {
                return Err(Exception::throw_internal(
                    cx,
                    &format!(
                        "KSR.x.{other} is listed for JavaScript but the engine has no body for it"
                    ),
                ))
            }
        };
        x.set(f.name, body.with_name(f.name)?)?;
    }
    ksr.set("x", x.clone())?;
    globals.set("KSR_x", x)?;
    Ok(ksr)
}

fn export_function<'js>(
    cx: &Ctx<'js>,
    export: &'static Export,
    slot: &Rc<Slot>,
) -> rquickjs::Result<Function<'js>> {
    let slot = Rc::clone(slot);
    Function::new(cx.clone(), move |cx: Ctx<'js>, args: Rest<Value<'js>>| {
        call_export(&cx, export, &slot, &args.0)
    })?
    .with_name(export.name)
}

fn call_export<'js>(
    cx: &Ctx<'js>,
    export: &'static Export,
    slot: &Slot,
    values: &[Value<'js>],
) -> rquickjs::Result<Value<'js>> {
    let ctx_ptr = slot.current.replace(ptr::null_mut());
    if ctx_ptr.is_null() {
        // Kamailio's engines do the same when no message is set: log, false.
        tracing::error!(
            target: "app_jsdt",
            "{}: no message is being routed here (KSR call from inside another KSR call?)",
            export.path()
        );
        return Ok(Value::new_bool(cx.clone(), false));
    }
    let _restore = Borrowed { slot, ctx: ctx_ptr };
    // SAFETY: the engine set the pointer from a `&mut Context` it holds
    // unused for the duration of the callback; we took it out of the slot,
    // so this is the only reference until `_restore` puts it back.
    let ctx = unsafe { &mut *ctx_ptr };
    if ctx.exit {
        // The script caught `KSR.x.exit()` and went on: no KSR function
        // acts on the message any more; end the callback again.
        return Err(throw_exit(cx));
    }
    let held: SmallVec<[Held; 8]> = values.iter().map(Held::from_value).collect();
    let args: SmallVec<[Arg<'_>; 8]> = held.iter().map(Held::arg).collect();
    // A panicking module function must not unwind through QuickJS's frames.
    let result = catch_unwind(AssertUnwindSafe(|| export.invoke(ctx, &args)));
    drop(args);
    drop(held);
    match result {
        Ok(Ok(ret)) => ret_to_js(cx, export, ret),
        Ok(Err(e)) => Err(Exception::throw_type(cx, &e.to_string())),
        Err(_) => Err(Exception::throw_internal(
            cx,
            &format!(
                "{}: the function panicked (a bug in its module) [signature: {}]",
                export.path(),
                export.signature()
            ),
        )),
    }
}

/// One argument converted from JavaScript, owning what it needs (a string
/// stays a QuickJS C string, freed on drop) while the `Arg` borrows it.
enum Held {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(JsBytes),
    Other(&'static str),
}

impl Held {
    fn from_value(value: &Value<'_>) -> Held {
        match value.type_of() {
            Type::Int => Held::Int(value.as_int().map_or(0, i64::from)),
            Type::Float => Held::Float(value.as_float().unwrap_or(f64::NAN)),
            Type::Bool => Held::Bool(value.as_bool().unwrap_or(false)),
            Type::String => JsBytes::of(value).map_or(Held::Other("string"), Held::Str),
            Type::BigInt => value
                .as_big_int()
                .and_then(|b| b.clone().to_i64().ok())
                .map_or(Held::Other("bigint"), Held::Int),
            Type::Null => Held::Other("null"),
            Type::Undefined | Type::Uninitialized => Held::Other("undefined"),
            Type::Array => Held::Other("array"),
            Type::Function | Type::Constructor => Held::Other("function"),
            Type::Symbol => Held::Other("symbol"),
            _ => Held::Other("object"),
        }
    }

    fn arg(&self) -> Arg<'_> {
        match self {
            Held::Int(n) => Arg::Int(*n),
            Held::Float(x) => Arg::Float(*x),
            Held::Bool(b) => Arg::Bool(*b),
            Held::Str(s) => Arg::Str(s.bytes()),
            Held::Other(name) => Arg::Other(name),
        }
    }
}

/// A JavaScript string as UTF-8 bytes owned by QuickJS (no copy on our
/// side), freed on drop.
struct JsBytes {
    ctx: *mut qjs::JSContext,
    ptr: *const c_char,
    len: usize,
}

impl JsBytes {
    fn of(value: &Value<'_>) -> Option<JsBytes> {
        let ctx = value.ctx().as_raw().as_ptr();
        let mut len: usize = 0;
        // SAFETY: `value` is a live string of this context; QuickJS returns
        // a NUL-terminated buffer we free in `drop`.
        let ptr = unsafe { qjs::JS_ToCStringLen(ctx, &mut len, value.as_raw()) };
        if ptr.is_null() {
            return None;
        }
        Some(JsBytes { ctx, ptr, len })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: QuickJS gave `len` bytes at `ptr`, valid until freed.
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }
}

impl Drop for JsBytes {
    fn drop(&mut self) {
        // SAFETY: allocated by JS_ToCStringLen in the same context, which
        // outlives the call this value lives in.
        unsafe { qjs::JS_FreeCString(self.ctx, self.ptr) }
    }
}

fn ret_to_js<'js>(
    cx: &Ctx<'js>,
    export: &'static Export,
    ret: Ret,
) -> rquickjs::Result<Value<'js>> {
    Ok(match ret {
        Ret::Int(n) => Value::new_int(cx.clone(), n),
        Ret::Bool(b) => Value::new_bool(cx.clone(), b),
        // Kamailio's quirk, kept: `none` gives 0 with parameters, false without.
        Ret::None if export.params.is_empty() => Value::new_bool(cx.clone(), false),
        Ret::None => Value::new_int(cx.clone(), 0),
        Ret::Xval(x) => match xval_to_js(cx, &x, 0)? {
            Some(v) => v,
            None => {
                return Err(Exception::throw_range(
                    cx,
                    &format!(
                        "{}: result nested too deeply to convert [signature: {}]",
                        export.path(),
                        export.signature()
                    ),
                ))
            }
        },
    })
}

/// An xval as JavaScript: int and long as numbers (a long beyond 2^53
/// loses precision, as in Kamailio's `duk_push_number`), str as string,
/// null as `null`, dict as an object, array as an array (Kamailio's
/// app_jsdt gives `null` for these two; the data is more useful). `None`
/// when nested deeper than [`MAX_XVAL_DEPTH`].
fn xval_to_js<'js>(cx: &Ctx<'js>, x: &Xval, depth: u32) -> rquickjs::Result<Option<Value<'js>>> {
    if depth > MAX_XVAL_DEPTH {
        return Ok(None);
    }
    Ok(Some(match x {
        Xval::Null => Value::new_null(cx.clone()),
        Xval::Int(n) => Value::new_int(cx.clone(), *n),
        Xval::Long(n) => match i32::try_from(*n) {
            Ok(small) => Value::new_int(cx.clone(), small),
            Err(_) => Value::new_float(cx.clone(), *n as f64),
        },
        Xval::Str(s) => rquickjs::String::from_str(cx.clone(), s)?.into_value(),
        Xval::Dict(items) => {
            let object = Object::new(cx.clone())?;
            for (k, v) in items {
                let Some(v) = xval_to_js(cx, v, depth + 1)? else {
                    return Ok(None);
                };
                object.set(&**k, v)?;
            }
            object.into_value()
        }
        Xval::Array(items) => {
            let array = Array::new(cx.clone())?;
            for (i, v) in items.iter().enumerate() {
                let Some(v) = xval_to_js(cx, v, depth + 1)? else {
                    return Ok(None);
                };
                array.set(i, v)?;
            }
            array.into_value()
        }
    }))
}

/// Throws the exit sentinel.
pub(crate) fn throw_exit(cx: &Ctx<'_>) -> rquickjs::Error {
    match rquickjs::String::from_str(cx.clone(), EXIT_SENTINEL) {
        Ok(s) => cx.throw(s.into_value()),
        Err(e) => e,
    }
}

/// `KSR.x.exit()` (and, with `drop`, `KSR.x.drop()`): marks the context
/// and throws the exit sentinel. Drop is `KSR.set_drop()` first, so it has
/// no effect in the request route, as in Kamailio.
fn x_exit<'js>(cx: &Ctx<'js>, slot: &Slot, drop: bool) -> rquickjs::Result<()> {
    let ctx_ptr = slot.current.get();
    // SAFETY: as in `call_export`: the pointer is the callback's context,
    // not otherwise referenced while JavaScript runs.
    if let Some(ctx) = unsafe { ctx_ptr.as_mut() } {
        if drop {
            kemi_core::ksr::core::kemi::set_drop(ctx);
        }
        ctx.exit = true;
    }
    Err(throw_exit(cx))
}

/// `KSR.x.modf(fname, ...)`: runs the function of the loaded modules
/// named `fname` (its kamailio.cfg name) with the other arguments, as
/// [`kemi_core::ksr::x::modf`] describes; an int result. Wrong arguments
/// throw a `TypeError`, as for any KSR function.
fn x_modf<'js>(cx: &Ctx<'js>, slot: &Slot, values: &[Value<'js>]) -> rquickjs::Result<i32> {
    let ctx_ptr = slot.current.replace(ptr::null_mut());
    if ctx_ptr.is_null() {
        tracing::error!(
            target: "app_jsdt",
            "KSR.x.modf: no message is being routed here (KSR call from inside another KSR call?)"
        );
        return Ok(-1);
    }
    let _restore = Borrowed { slot, ctx: ctx_ptr };
    // SAFETY: as in `call_export`: taken out of the slot, the only reference.
    let ctx = unsafe { &mut *ctx_ptr };
    if ctx.exit {
        return Err(throw_exit(cx));
    }
    let held: SmallVec<[Held; 8]> = values.iter().map(Held::from_value).collect();
    let args: SmallVec<[Arg<'_>; 8]> = held.iter().map(Held::arg).collect();
    let result = kemi_core::ksr::x::modf(ctx, &slot.registry, &args);
    drop(args);
    drop(held);
    match result {
        Ok(n) => Ok(n),
        Err(e @ ModfError::Panicked { .. }) => Err(Exception::throw_internal(cx, &e.to_string())),
        Err(e) => Err(Exception::throw_type(cx, &e.to_string())),
    }
}
