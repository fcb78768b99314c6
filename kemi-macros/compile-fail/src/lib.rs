//! Compile-fail tests of `#[kemi_module]` and `#[kemi_export]`: each file in
//! `tests/ui/` must fail to compile with exactly the errors in its
//! `.stderr` next to it.
//!
//! The expected output depends on the rustc version, so the test is kept
//! out of `cargo test --workspace` (`test = false` in Cargo.toml) and run
//! explicitly, as `scripts/test` does:
//!
//! ```sh
//! cargo test -p kemi-macros-compile-fail --test compile_fail
//! ```
//!
//! After an intended change to a message, or a rustc upgrade, rewrite the
//! `.stderr` files and review the diff before committing:
//!
//! ```sh
//! TRYBUILD=overwrite cargo test -p kemi-macros-compile-fail --test compile_fail
//! ```
