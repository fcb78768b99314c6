//! The `pv` module (KSR submodule `pvx`).
use kemi_core::ModuleDef;

/// Pseudo-variable stores: script and shared variables, AVPs, XAVPs.
#[kemi_core::kemi_module(name = "pvx")]
pub mod kemi {}

pub static MODULE: ModuleDef = ModuleDef {
    name: "pv",
    summary: "script variables, shared variables, AVPs and extended AVPs",
    kemi: Some(&kemi::SUBMODULE),
    params: &[],
    rpc: &[],
};
