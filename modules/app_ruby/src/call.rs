//! The native side of `KSR`: the Ruby modules built from the registry, the
//! one generic method body behind every export, `KSR::X`, and the argument
//! and result conversions.
//!
//! Every export becomes a singleton method (`KSR.info`, `KSR::SL.send_reply`)
//! whose body is a Rust closure holding the `&'static Export`; it reads the
//! Ruby arguments into borrowed [`Arg`]s, calls [`Export::invoke`] on the
//! context of the message being routed, and converts the [`Ret`]. Errors
//! are returned to magnus, which raises them as Ruby exceptions once no
//! Rust frame is left to unwind.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use kemi_core::export::ArgError;
use kemi_core::{Arg, Context, Export, Registry, Ret, Xval};
use magnus::block::Proc;
use magnus::prelude::*;
use magnus::rb_sys::AsRawValue;
use magnus::{
    function, Error, Float, Integer, RArray, RHash, RModule, RString, Ruby, Symbol, Value,
};

thread_local! {
    /// Which routing context KSR calls act on. The engine points it at the
    /// message's context for the duration of one callback (or at a scratch
    /// context while scripts load). Thread-local because the VM lives on
    /// one thread; each KSR call takes the pointer out while it runs, so a
    /// nested call finds it empty instead of aliasing the `&mut Context`.
    static CURRENT: Cell<*mut Context> = const { Cell::new(ptr::null_mut()) };
}

/// Points the KSR calls at a context until dropped, then restores what was
/// there.
pub(crate) struct Current {
    prev: *mut Context,
}

impl Current {
    /// The caller keeps `ctx` exclusively borrowed (unused) while the guard lives.
    pub(crate) fn set(ctx: *mut Context) -> Self {
        Current {
            prev: CURRENT.with(|c| c.replace(ctx)),
        }
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.prev));
    }
}

/// Puts a taken context pointer back into the slot when a KSR call ends,
/// however it ends.
struct Taken(*mut Context);

impl Drop for Taken {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// The functions `KSR::PV` keeps with `xval_mode` 0, as Kamailio's legacy
/// Ruby PV module: the only ones that return strings in that mode.
const LEGACY_PV: &[&str] = &["get", "getw", "gete", "seti", "sets", "unset", "is_null"];

/// The text of the exception `KSR::X.exit` raises and the engine takes as a
/// normal end: Ruby's own `exit` raises a `SystemExit` with the same text.
pub const EXIT_MESSAGE: &str = "exit";

/// Builds `KSR` afresh from `registry`: core functions on `KSR` itself,
/// every other submodule as `KSR::<NAME>` (upper-cased: `KSR::SL`,
/// `KSR::PV`), and `KSR::X`. An existing `KSR` is replaced, so only what
/// the registry holds exists and scripts can feature-test modules
/// (`defined?(KSR::AUTH)`).
pub(crate) fn build_ksr(ruby: &Ruby, registry: &Registry, xval_mode: i64) -> Result<(), Error> {
    let object = ruby.class_object();
    let defined: bool = object.funcall("const_defined?", (ruby.to_symbol("KSR"), false))?;
    if defined {
        let _: Value = object.funcall("remove_const", (ruby.to_symbol("KSR"),))?;
    }
    let ksr = ruby.define_module("KSR")?;
    for sub in registry.submodules() {
        let target = if sub.name.is_empty() {
            ksr
        } else {
            ksr.define_module(sub.name.to_ascii_uppercase().as_str())?
        };
        // With xval_mode 0 Kamailio swaps KSR::PV for its legacy module,
        // whose functions are the only ones still returning strings.
        let legacy_pv = xval_mode == 0 && sub.name == "pv";
        let strings = xval_mode != 0 || legacy_pv;
        // `define_method` runs a copy of the Proc, and the copy does not
        // keep the Rust closure alive: the originals are kept in a hidden
        // attribute of the module, so they live as long as it does.
        let bodies = ruby.ary_new();
        for export in sub.exports {
            if legacy_pv && !LEGACY_PV.contains(&export.name) {
                continue;
            }
            bodies.push(define(ruby, target, export, strings)?)?;
        }
        target.ivar_set("__ksr_bodies", bodies)?;
    }
    // Defined last so a module can never shadow the engine's own functions.
    // The documented list drives what is defined, so docs and engine agree.
    let x = ksr.define_module("X")?;
    let bodies = ruby.ary_new();
    for f in kemi_core::ksr::x::RUBY {
        match f.name {
            "exit" => x.define_singleton_method("exit", function!(x_exit, -1))?,
            "drop" => x.define_singleton_method("drop", function!(x_drop, -1))?,
            "modf" => {
                // A closure, to hold the registry it looks names up in;
                // kept alive like the export bodies.
                let registry = registry.clone();
                let body =
                    ruby.proc_from_fn(move |ruby, args, _block| x_modf(ruby, &registry, args));
                let _: Value = x
                    .singleton_class()?
                    .funcall("define_method", (ruby.to_symbol("modf"), body))?;
                bodies.push(body)?;
            }
            other => {
                return Err(Error::new(
                    ruby.exception_runtime_error(),
                    format!("KSR::X.{other} is listed for Ruby but the engine has no body for it"),
                ))
            }
        }
    }
    x.ivar_set("__ksr_bodies", bodies)?;
    Ok(())
}

/// Defines `export` as a singleton method of `target`; returns the Proc,
/// which the caller must keep alive.
fn define(
    ruby: &Ruby,
    target: RModule,
    export: &'static Export,
    strings: bool,
) -> Result<Proc, Error> {
    let body = ruby.proc_from_fn(move |ruby, args, _block| ksr_call(ruby, export, strings, args));
    let _: Value = target
        .singleton_class()?
        .funcall("define_method", (ruby.to_symbol(export.name), body))?;
    Ok(body)
}

/// The body of every `KSR` export method.
fn ksr_call(
    ruby: &Ruby,
    export: &'static Export,
    strings: bool,
    args: &[Value],
) -> Result<Value, Error> {
    let ctx_ptr = CURRENT.with(|c| c.replace(ptr::null_mut()));
    if ctx_ptr.is_null() {
        // Kamailio's engines do the same when no message is set: log, false.
        tracing::error!(
            target: "app_ruby",
            "{}: no message is being routed here (KSR call from inside another KSR call?)",
            export.path()
        );
        return Ok(ruby.qfalse().as_value());
    }
    let _taken = Taken(ctx_ptr);
    // SAFETY: the engine set the pointer from a `&mut Context` it holds
    // unused for the duration of the callback; we took it out of the slot,
    // so this is the only reference until `_taken` puts it back.
    let ctx = unsafe { &mut *ctx_ptr };
    if ctx.exit {
        // The script rescued `KSR::X.exit` and went on: no KSR function acts
        // on the message any more; end it again.
        return Err(exit_error(ruby));
    }
    let mut converted: Vec<Arg<'_>> = Vec::with_capacity(args.len());
    for v in args {
        converted.push(read_arg(ruby, *v));
    }
    // A panicking module function must not unwind into Ruby's C frames.
    match catch_unwind(AssertUnwindSafe(|| export.invoke(ctx, &converted))) {
        Ok(Ok(ret)) => Ok(to_ruby(ruby, export, strings, &ret)),
        Ok(Err(e)) => {
            let class = match e.problem {
                ArgError::Count { .. } => ruby.exception_arg_error(),
                ArgError::Kind { .. } => ruby.exception_type_error(),
            };
            Err(Error::new(class, e.to_string()))
        }
        Err(_) => Err(Error::new(
            ruby.exception_runtime_error(),
            format!(
                "{}: the function panicked (a bug in its module) [signature: {}]",
                export.path(),
                export.signature()
            ),
        )),
    }
}

/// Borrows a Ruby argument. A string's bytes stay valid for the whole call:
/// the argument array keeps the string alive and no Ruby code runs while
/// the export does.
fn read_arg<'a>(ruby: &Ruby, v: Value) -> Arg<'a> {
    if let Some(s) = RString::from_value(v) {
        // SAFETY: see above; the slice is used only during this KSR call.
        let bytes = unsafe { s.as_slice() };
        return Arg::Str(unsafe { std::slice::from_raw_parts(bytes.as_ptr(), bytes.len()) });
    }
    if let Some(n) = Integer::from_value(v) {
        return match n.to_i64() {
            Ok(n) => Arg::Int(n),
            Err(_) => Arg::Other("Integer out of range"),
        };
    }
    if let Some(x) = Float::from_value(v) {
        return Arg::Float(x.to_f64());
    }
    let raw = v.as_raw();
    if raw == ruby.qtrue().as_raw() {
        Arg::Bool(true)
    } else if raw == ruby.qfalse().as_raw() {
        Arg::Bool(false)
    } else if v.is_nil() {
        Arg::Other("nil")
    } else if Symbol::from_value(v).is_some() {
        Arg::Other("Symbol")
    } else if RArray::from_value(v).is_some() {
        Arg::Other("Array")
    } else if RHash::from_value(v).is_some() {
        Arg::Other("Hash")
    } else {
        Arg::Other("object")
    }
}

/// Converts a result: int to Integer, bool to true/false, `none` to false
/// (no parameters) or 0 (Kamailio's quirk, kept), xval as [`xval_to_ruby`].
fn to_ruby(ruby: &Ruby, export: &Export, strings: bool, ret: &Ret) -> Value {
    match ret {
        Ret::Int(n) => ruby.integer_from_i64(i64::from(*n)).as_value(),
        Ret::Bool(b) => bool_value(ruby, *b),
        Ret::None if export.params.is_empty() => ruby.qfalse().as_value(),
        Ret::None => ruby.integer_from_i64(0).as_value(),
        Ret::Xval(x) => xval_to_ruby(ruby, export, strings, x),
    }
}

fn bool_value(ruby: &Ruby, b: bool) -> Value {
    if b {
        ruby.qtrue().as_value()
    } else {
        ruby.qfalse().as_value()
    }
}

/// An xval: null to nil, int and long to Integer, str to String (UTF-8),
/// dict to a Hash with String keys in order, array to an Array. Kamailio's
/// Ruby engine gives nil for dict and array; a Hash/Array is what a Ruby
/// script would expect. With `xval_mode` 0 strings are nil outside the
/// legacy `KSR::PV` functions, as in Kamailio.
fn xval_to_ruby(ruby: &Ruby, export: &Export, strings: bool, x: &Xval) -> Value {
    match x {
        Xval::Null => ruby.qnil().as_value(),
        Xval::Int(n) => ruby.integer_from_i64(i64::from(*n)).as_value(),
        Xval::Long(n) => ruby.integer_from_i64(*n).as_value(),
        Xval::Str(s) if strings => ruby.str_new(s).as_value(),
        Xval::Str(_) => {
            tracing::error!(
                target: "app_ruby",
                "{}: string results are disabled by modparam(\"app_ruby\", \"xval_mode\", 0); returning nil",
                export.path()
            );
            ruby.qnil().as_value()
        }
        Xval::Dict(items) => {
            let hash = ruby.hash_new();
            for (k, v) in items {
                // Storing into a fresh Hash raises only on memory exhaustion.
                let _ = hash.aset(ruby.str_new(k), xval_to_ruby(ruby, export, strings, v));
            }
            hash.as_value()
        }
        Xval::Array(items) => {
            let array = ruby.ary_new_capa(items.len());
            for v in items {
                let _ = array.push(xval_to_ruby(ruby, export, strings, v));
            }
            array.as_value()
        }
    }
}

/// The exception that ends a callback: a `SystemExit` with Ruby's text.
pub(crate) fn exit_error(ruby: &Ruby) -> Error {
    Error::new(ruby.exception_system_exit(), EXIT_MESSAGE)
}

/// True when `e` ends a callback normally: a `SystemExit` with the text
/// `"exit"`, which Ruby's `exit` (and `exit(false)`) and `KSR::X.exit`
/// raise. Kamailio's rule; `abort("why")` is reported as an error.
pub(crate) fn is_exit(ruby: &Ruby, e: &Error) -> bool {
    if !e.is_kind_of(ruby.exception_system_exit()) {
        return false;
    }
    e.value()
        .and_then(|v| v.funcall::<_, _, String>("message", ()).ok())
        .is_some_and(|m| m == EXIT_MESSAGE)
}

/// `KSR::X.exit`: marks the context and ends the callback.
fn x_exit(ruby: &Ruby, _args: &[Value]) -> Result<Value, Error> {
    let ctx = CURRENT.with(|c| c.get());
    // SAFETY: the pointer is the context of the running callback (or null).
    if let Some(ctx) = unsafe { ctx.as_mut() } {
        ctx.exit = true;
    }
    Err(exit_error(ruby))
}

/// `KSR::X.drop`: `KSR.set_drop()`, then `KSR::X.exit`.
fn x_drop(ruby: &Ruby, _args: &[Value]) -> Result<Value, Error> {
    let ctx = CURRENT.with(|c| c.get());
    // SAFETY: as in `x_exit`.
    if let Some(ctx) = unsafe { ctx.as_mut() } {
        // The core's rule, not a copy of it: no effect in the request route.
        kemi_core::ksr::core::kemi::set_drop(ctx);
        ctx.exit = true;
    }
    Err(exit_error(ruby))
}

/// `KSR::X.modf(fname, ...)`: runs the function of the loaded modules
/// named `fname` (its kamailio.cfg name) with the other arguments, as
/// [`kemi_core::ksr::x::modf`] describes; an Integer result. Wrong
/// arguments raise what they raise for any KSR function.
fn x_modf(ruby: &Ruby, registry: &Registry, args: &[Value]) -> Result<Value, Error> {
    let ctx_ptr = CURRENT.with(|c| c.replace(ptr::null_mut()));
    if ctx_ptr.is_null() {
        tracing::error!(
            target: "app_ruby",
            "KSR::X.modf: no message is being routed here (KSR call from inside another KSR call?)"
        );
        return Ok(ruby.integer_from_i64(-1).as_value());
    }
    let _taken = Taken(ctx_ptr);
    // SAFETY: as in `ksr_call`: taken out of the slot, the only reference.
    let ctx = unsafe { &mut *ctx_ptr };
    if ctx.exit {
        return Err(exit_error(ruby));
    }
    let converted: Vec<Arg<'_>> = args.iter().map(|v| read_arg(ruby, *v)).collect();
    match kemi_core::ksr::x::modf(ctx, registry, &converted) {
        Ok(n) => Ok(ruby.integer_from_i64(i64::from(n)).as_value()),
        Err(e) => {
            let class = match e.problem() {
                Some(ArgError::Count { .. }) => ruby.exception_arg_error(),
                Some(ArgError::Kind { .. }) => ruby.exception_type_error(),
                None => ruby.exception_runtime_error(),
            };
            Err(Error::new(class, e.to_string()))
        }
    }
}
