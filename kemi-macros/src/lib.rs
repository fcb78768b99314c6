//! The attributes that turn Rust functions into KEMI functions scripts call
//! as `KSR.<module>.<name>(...)`. Use them through kemi-core
//! (`kemi_core::kemi_module`, `kemi_core::kemi_export`).
//!
//! This crate only declares the attributes; parsing, checks and code
//! generation are in `kemi-macros-backend`, where they are unit-tested.

use proc_macro::TokenStream;

/// Collects the `#[kemi_export]` functions of an inline module into one KSR
/// submodule.
///
/// ```
/// use kemi_core::kemi_module;
///
/// /// Stateless replies.
/// #[kemi_module(name = "sl")]
/// pub mod kemi {
///     use kemi_core::Context;
///
///     /// Sends a stateless reply.
///     #[kemi_export]
///     pub fn send_reply(ctx: &mut Context, code: i32, reason: &str) -> i32 {
///         let _ = (ctx, reason);
///         if (100..700).contains(&code) { 1 } else { -1 }
///     }
///
///     /// Scripts call this one `KSR.sl.sl_is_up()`.
///     #[kemi_export(name = "sl_is_up")]
///     pub fn is_up() -> bool {
///         true
///     }
/// }
///
/// // The functions stay ordinary Rust functions...
/// assert!(kemi::is_up());
/// // ...and the module now has a `SUBMODULE` listing them in source order.
/// let exports = kemi::SUBMODULE.exports;
/// assert_eq!(kemi::SUBMODULE.name, "sl");
/// assert_eq!(kemi::SUBMODULE.doc, "Stateless replies.");
/// assert_eq!(exports[0].signature(), "int KSR.sl.send_reply(int code, str reason)");
/// assert_eq!(exports[1].signature(), "bool KSR.sl.sl_is_up()");
/// assert_eq!(exports[0].doc, "Sends a stateless reply.");
/// ```
///
/// The module then sets `kemi: Some(&kemi::SUBMODULE)` in its `ModuleDef`.
///
/// # Arguments
///
/// - `name = "sl"` (required): the submodule, `KSR.sl.*`; `name = ""` puts
///   the functions on `KSR` itself.
/// - `crate = "path"` (optional): how the generated code names kemi-core;
///   `::kemi_core` by default.
///
/// # What it generates
///
/// Inside the module, `pub static SUBMODULE: kemi_core::Submodule` whose
/// `doc` is the module's `///` documentation and whose `exports` hold one
/// `kemi_core::Export` per `#[kemi_export]` function, in source order. Each
/// export records the module, the script name, the return kind, the
/// parameters (kinds and the Rust parameter names), the function's `///`
/// text, its file and line, and a call thunk that checks the argument count,
/// converts each argument (see `kemi_core::export::convert`), calls the
/// function and converts its result.
///
/// Collection happens here, in one attribute on one module: no link-time
/// registry, so no entry can be dropped by the linker.
///
/// # Errors
///
/// All problems of a module are reported together, each at the offending
/// tokens: a missing or unusable `name`, unknown keys, an unsupported
/// function (see [`macro@kemi_export`]), two exports with the same script name
/// (reported at the second), or a `#[kemi_export]` nested below the
/// module's top level. The module is still emitted, with an empty
/// `SUBMODULE`, so the rest of the crate keeps compiling and completing.
#[proc_macro_attribute]
pub fn kemi_module(attr: TokenStream, item: TokenStream) -> TokenStream {
    kemi_macros_backend::expand_module(attr.into(), item.into()).into()
}

/// Marks a function of a [`macro@kemi_module`] module as a KEMI export.
///
/// ```
/// #[kemi_core::kemi_module(name = "ktdoc")]
/// mod kemi {
///     use kemi_core::{Context, Xval};
///
///     /// Adds two longs.
///     #[kemi_export]
///     fn sum(a: i64, b: i64) -> Xval {
///         Xval::Long(a + b)
///     }
///
///     /// Sets message flag `flag`.
///     #[kemi_export(name = "setflag")]
///     fn set_flag(ctx: &mut Context, flag: i32) -> i32 {
///         ctx.flags |= 1 << flag;
///         1
///     }
/// }
///
/// use std::sync::Arc;
/// use kemi_core::{Arg, Context, Ret, Runtime, Xval};
///
/// let mut ctx = Context::new(Arc::new(Runtime::default()));
/// let [sum, setflag] = kemi::SUBMODULE.exports else { unreachable!() };
/// // Arguments are converted as declared: "3" is a numeric string.
/// let ret = sum.invoke(&mut ctx, &[Arg::Int(2), Arg::Str(b"3")]).unwrap();
/// assert_eq!(ret, Ret::Xval(Xval::Long(5)));
/// assert_eq!(setflag.signature(), "int KSR.ktdoc.setflag(int flag)");
/// setflag.invoke(&mut ctx, &[Arg::Int(3)]).unwrap();
/// assert_eq!(ctx.flags, 1 << 3);
/// ```
///
/// `#[kemi_export(name = "t_relay")]` sets the script name when it differs
/// from the Rust name (or is not a Rust identifier). The attribute needs no
/// import: `#[kemi_module]` reads and removes it. On its own, outside such a
/// module, it is a compile error.
///
/// # Supported signatures
///
/// | Rust | KEMI | script argument accepted |
/// |---|---|---|
/// | `i32` parameter | `int` | integer, integral float, boolean, numeric string |
/// | `i64` parameter | `long` | same as `int`, 64-bit |
/// | `&str` parameter | `str` | string (borrowed), or a number, formatted |
/// | `String` parameter | `str` | same as `&str`, owned |
/// | first parameter `&mut Context` / `&Context` | (none) | the routing context (any other reference but `&str` is refused) |
/// | `-> i32` | `int` | >0 true, <0 false, 0 stops the script |
/// | `-> bool` | `bool` | |
/// | `-> Xval` | `xval` | int, long, str, null, dict or array |
/// | `-> ()` or no return type | `none` | |
///
/// Scripts see the Rust parameter names, without `r#` and without one
/// leading `_` (`_msg` is `msg`). There is no limit on the number of parameters. Too few arguments is an
/// error, extra ones are ignored, except that a function without parameters
/// refuses any.
///
/// Refused, each with an error at the offending tokens saying what to use
/// instead: other parameter or return types, generic or lifetime parameters,
/// `async`, `unsafe`, `extern` ABIs, variadics, `self`, and parameters
/// written as patterns (`(a, b): (i32, i32)`); all problems of a module are
/// reported together.
#[proc_macro_attribute]
pub fn kemi_export(attr: TokenStream, item: TokenStream) -> TokenStream {
    kemi_macros_backend::expand_stray_export(attr.into(), item.into()).into()
}
