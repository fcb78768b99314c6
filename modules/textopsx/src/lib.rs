//! textopsx (in progress).
use kemi_core::{kemi_module, ModuleDef};

/// Extended text operations.
#[kemi_module(name = "textopsx")]
pub mod kemi {}

/// textopsx: `loadmodule "textopsx.so"`.
pub static MODULE: ModuleDef = ModuleDef {
    name: "textopsx",
    summary: "apply edits, reply status, header value lists, iterators",
    kemi: Some(&kemi::SUBMODULE),
    params: &[],
    rpc: &[],
};
