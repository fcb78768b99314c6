//! The work behind `#[kemi_module]` and `#[kemi_export]`, as an ordinary
//! library so that it can be unit-tested and its model reused (the
//! `kemi-macros` proc-macro crate only forwards tokens here).
//!
//! The pipeline has one file per step:
//! - [`parse`]: attribute arguments and the annotated `mod` into the model,
//!   collecting every problem with its span ([`errors`]);
//! - [`model`]: the checked, typed description of a submodule and its exports;
//! - [`codegen`]: the `SUBMODULE` static, one `Export` descriptor and call
//!   thunk per function.
//!
//! # Tests
//!
//! - Unit tests of parsing and the model live next to the code.
//! - `tests/expand.rs` snapshots the expansion of representative modules,
//!   pretty-printed, with `insta`. After an intended change to the generated
//!   code, review and accept the new snapshots with `cargo insta review`
//!   (or `cargo insta accept`), or rewrite them in one go with
//!   `INSTA_UPDATE=always cargo test -p kemi-macros-backend`; then commit the
//!   `.snap` files.
//! - The compile errors users see are checked by the separate
//!   `kemi-macros-compile-fail` crate (see its docs; `TRYBUILD=overwrite`
//!   blesses them).

use proc_macro2::TokenStream;

pub mod codegen;
pub mod errors;
pub mod model;
pub mod parse;

/// Expands `#[kemi_module(<attr>)] <item>`.
pub fn expand_module(attr: TokenStream, item: TokenStream) -> TokenStream {
    codegen::module(parse::module(attr, item))
}

/// Expands a `#[kemi_export]` that reached the compiler on its own, i.e.
/// outside a `#[kemi_module]` (which removes the markers it collects).
pub fn expand_stray_export(_attr: TokenStream, item: TokenStream) -> TokenStream {
    codegen::stray_export(item)
}
