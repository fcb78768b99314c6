//! The less common forms `#[kemi_module]` accepts, compiled and called for
//! real: an empty submodule name (functions on `KSR` itself), the `crate`
//! override, `#[cfg]` on exports, raw identifiers, computed docs, and names
//! that could clash with the generated glue.

// The generated glue must not make a user's strict lint settings fail.
#![deny(warnings)]

use std::sync::Arc;

use kemi_core::{Arg, Context, Export, Ret, Runtime};

/// Core-style functions.
#[kemi_core::kemi_module(name = "", crate = "::kemi_core")]
mod core_like {
    /// Logs a message.
    // `_msg` is `msg` for scripts: the underscore only silences a Rust lint.
    #[kemi_export]
    pub fn dbg(_msg: &str) {}

    // Never true in a test build, always true in the next one.
    #[cfg(not(test))]
    #[kemi_export]
    pub fn configured_out() {}

    #[cfg(test)]
    #[kemi_export]
    pub fn configured_in() -> i32 {
        1
    }

    #[kemi_export]
    pub fn r#type(r#in: i32) -> i32 {
        r#in
    }

    /// Intro line.
    #[doc = concat!("Computed ", "line.")]
    #[kemi_export]
    pub fn computed_doc() {}

    /// Kept for old scripts.
    #[deprecated = "scripts should call `dbg`"]
    #[kemi_export]
    pub fn old_dbg() {}

    // Named like the generated thunk and its locals: the glue must still
    // call this function, with the right argument.
    #[kemi_export]
    pub fn __kemi_call(__kemi_arg0: i32, __kemi_args: i32) -> i32 {
        __kemi_arg0 * 10 + __kemi_args
    }
}

fn export(name: &str) -> &'static Export {
    core_like::SUBMODULE
        .exports
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("KSR.{name} is exported"))
}

fn call(name: &str, args: &[Arg<'_>]) -> Ret {
    let mut ctx = Context::new(Arc::new(Runtime::default()));
    export(name)
        .invoke(&mut ctx, args)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn cfg_removes_the_export_with_the_function() {
    let names: Vec<&str> = core_like::SUBMODULE
        .exports
        .iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(
        names,
        [
            "dbg",
            "configured_in",
            "type",
            "computed_doc",
            "old_dbg",
            "__kemi_call"
        ]
    );
    assert_eq!(
        export("__kemi_call").signature(),
        "int KSR.__kemi_call(int _kemi_arg0, int _kemi_args)"
    );
}

#[test]
fn empty_module_name_means_functions_on_ksr() {
    assert_eq!(core_like::SUBMODULE.name, "");
    assert_eq!(core_like::SUBMODULE.doc, "Core-style functions.");
    assert_eq!(export("dbg").signature(), "none KSR.dbg(str msg)");
    assert_eq!(export("dbg").doc, "Logs a message.");
}

#[test]
fn raw_identifiers_lose_their_prefix() {
    assert_eq!(export("type").signature(), "int KSR.type(int in)");
    assert_eq!(call("type", &[Arg::Int(4)]), Ret::Int(4));
}

#[test]
fn computed_docs_are_joined_with_literal_ones() {
    assert_eq!(export("computed_doc").doc, "Intro line.\nComputed line.");
}

#[test]
fn user_names_do_not_clash_with_the_glue() {
    assert_eq!(
        call("__kemi_call", &[Arg::Int(4), Arg::Int(2)]),
        Ret::Int(42)
    );
    assert_eq!(call("configured_in", &[]), Ret::Int(1));
    assert_eq!(call("old_dbg", &[]), Ret::None);
}
