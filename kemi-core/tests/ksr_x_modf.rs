//! `KSR.x.modf`'s engine-neutral part: looking a kamailio.cfg name up
//! among the loaded functions, converting string arguments and results,
//! and the errors scripts get.

use std::sync::Arc;

use kemi_core::ksr::x::{modf, resolve, ModfError};
use kemi_core::testing::logs;
use kemi_core::{kemi_module, Arg, ArgError, Context, ModuleDef, Registry, Runtime};

/// Exports covering every return kind, a name shadowing a core
/// function with another arity, and a panicking function.
#[kemi_module(name = "mt")]
mod mt {
    use kemi_core::{Context, Xval};

    /// True when `n` is positive.
    #[kemi_export]
    pub fn positive(n: i32) -> bool {
        n > 0
    }

    /// Returns nothing.
    #[kemi_export]
    pub fn nothing(_s: &str) {}

    /// An xval int.
    #[kemi_export]
    pub fn xv_int(n: i32) -> Xval {
        Xval::Int(n)
    }

    /// An xval long.
    #[kemi_export]
    pub fn xv_long(n: i64) -> Xval {
        Xval::Long(n)
    }

    /// An xval string.
    #[kemi_export]
    pub fn xv_str(s: &str) -> Xval {
        Xval::from(s.to_string())
    }

    /// Same name as `KSR.setflag`, two parameters: sets `flag + offset`.
    #[kemi_export]
    pub fn setflag(ctx: &mut Context, flag: i32, offset: i32) -> i32 {
        ctx.flags |= 1 << (flag + offset);
        7
    }

    /// Panics, like a buggy module function.
    #[kemi_export]
    pub fn boom() -> i32 {
        panic!("boom")
    }
}

static MT: ModuleDef = ModuleDef {
    name: "mt",
    summary: "KSR.x.modf test module",
    kemi: Some(&mt::SUBMODULE),
    params: &[],
    rpc: &[],
};

fn ctx() -> Context {
    Context::new(Arc::new(Runtime::default()))
}

fn run(ctx: &mut Context, args: &[&str]) -> Result<i32, ModfError> {
    let args: Vec<Arg<'_>> = args.iter().map(|a| Arg::Str(a.as_bytes())).collect();
    modf(ctx, &Registry::new(&[&MT]), &args)
}

#[test]
fn modf_runs_core_functions_with_string_arguments() {
    let mut ctx = ctx();
    assert_eq!(run(&mut ctx, &["setflag", "3"]).unwrap(), 1);
    assert_ne!(ctx.flags & (1 << 3), 0);
    assert_eq!(run(&mut ctx, &["isflagset", "3"]).unwrap(), 1);
    assert_eq!(run(&mut ctx, &["isflagset", "4"]).unwrap(), -1);
    // The stand-in message is an OPTIONS.
    assert_eq!(run(&mut ctx, &["is_method", "OPTIONS"]).unwrap(), 1);
    assert_eq!(run(&mut ctx, &["is_method", "INVITE"]).unwrap(), -1);
}

#[test]
fn modf_prefers_the_function_taking_as_many_arguments() {
    let mut ctx = ctx();
    // Core `setflag` (one parameter) comes first in registry order;
    // with two arguments the module's comes next.
    assert_eq!(run(&mut ctx, &["setflag", "1", "4"]).unwrap(), 7);
    assert_eq!(ctx.flags, 1 << 5);
    assert_eq!(
        resolve(&Registry::new(&[&MT]), "setflag", 1).map(|e| e.module),
        Some("")
    );
    assert_eq!(
        resolve(&Registry::new(&[&MT]), "setflag", 2).map(|e| e.module),
        Some("mt")
    );
}

#[test]
fn modf_maps_well_known_native_names() {
    let mut ctx = ctx();
    assert_eq!(run(&mut ctx, &["append_hf", "X-A: 1\r\n"]).unwrap(), 1);
    assert_eq!(
        run(&mut ctx, &["insert_hf", "X-B: 2\r\n", "Call-ID"]).unwrap(),
        1
    );
    let text = String::from_utf8(ctx.msg.serialize()).unwrap();
    assert!(text.contains("X-B: 2\r\nCall-ID:"), "{text}");
    assert!(text.contains("X-A: 1\r\n\r\n"), "{text}");
    // A mapped name whose module is not loaded is not found.
    assert!(resolve(&Registry::new(&[]), "xlog", 1).is_none());
}

#[test]
fn modf_converts_every_result_kind_to_an_int() {
    let mut ctx = ctx();
    assert_eq!(run(&mut ctx, &["positive", "5"]).unwrap(), 1);
    assert_eq!(run(&mut ctx, &["positive", "-5"]).unwrap(), -1);
    assert_eq!(run(&mut ctx, &["nothing", "x"]).unwrap(), 1);
    assert_eq!(run(&mut ctx, &["xv_int", "-3"]).unwrap(), -3);
    assert_eq!(run(&mut ctx, &["xv_long", "42"]).unwrap(), 42);
    assert_eq!(run(&mut ctx, &["xv_long", "9000000000"]).unwrap(), 1);
    assert_eq!(run(&mut ctx, &["xv_str", "text"]).unwrap(), 1);
}

#[test]
fn modf_logs_an_unknown_function_and_gives_minus_one() {
    let mut ctx = ctx();
    let (result, lines) = logs::capture(|| run(&mut ctx, &["no_such_fn", "1"]));
    assert_eq!(result.unwrap(), -1);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].level, tracing::Level::ERROR);
    assert_eq!(
        lines[0].message,
        "KSR.x.modf(\"no_such_fn\"): no such function among the loaded modules"
    );
}

#[test]
fn modf_refuses_arguments_that_do_not_fit() {
    let mut ctx = ctx();
    let err = run(&mut ctx, &["setflag", "abc"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "KSR.x.modf(\"setflag\"): KSR.setflag: argument 1 (flag) must be int, got string \"abc\" \
         [signature: bool KSR.setflag(int flag)]"
    );
    assert_eq!(err.bad_argument(), Some(1));
    assert_eq!(ctx.flags, 0);

    let err = run(&mut ctx, &["setflag"]).unwrap_err();
    assert!(matches!(
        err.problem(),
        Some(ArgError::Count {
            expected: 1,
            got: 0
        })
    ));
    assert!(err
        .to_string()
        .starts_with("KSR.x.modf(\"setflag\"): KSR.setflag: expects 1 argument, got 0"));
    // More arguments than any `setflag` takes: refused, not ignored.
    let err = run(&mut ctx, &["setflag", "1", "2", "3"]).unwrap_err();
    assert!(matches!(
        err.problem(),
        Some(ArgError::Count {
            expected: 1,
            got: 3
        })
    ));
    assert_eq!(ctx.flags, 0);
}

#[test]
fn modf_needs_a_function_name() {
    let mut ctx = ctx();
    let registry = Registry::new(&[]);
    let err = modf(&mut ctx, &registry, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "KSR.x.modf: expects the function name first [signature: int KSR.x.modf(str fname, str ...params)]"
    );
    let err = modf(&mut ctx, &registry, &[Arg::Other("nil")]).unwrap_err();
    assert!(err
        .to_string()
        .contains("must be the function name (str), got nil"));
    assert_eq!(err.bad_argument(), Some(0));
}

#[test]
fn modf_reports_a_panicking_function() {
    let mut ctx = ctx();
    let err = run(&mut ctx, &["boom"]).unwrap_err();
    assert!(err.problem().is_none());
    assert_eq!(
        err.to_string(),
        "KSR.x.modf(\"boom\"): KSR.mt.boom: the function panicked (a bug in its module) [signature: int KSR.mt.boom()]"
    );
}
