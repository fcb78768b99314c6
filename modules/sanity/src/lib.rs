//! `sanity`: syntax and semantics checks of requests (`KSR.sanity.*`).

use kemi_core::{kemi_module, ModuleDef};

/// Request sanity checks.
#[kemi_module(name = "sanity")]
pub mod kemi {}

pub static MODULE: ModuleDef = ModuleDef {
    name: "sanity",
    summary: "syntax and semantics checks of requests",
    kemi: Some(&kemi::SUBMODULE),
    params: &[],
    rpc: &[],
};
