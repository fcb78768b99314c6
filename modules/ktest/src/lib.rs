//! ktest: exports that cover every parameter and return kind (placeholder
//! until `#[kemi_module]` lands).

use kemi_core::{ModuleDef, Submodule};

pub static SUBMODULE: Submodule = Submodule { name: "ktest", doc: "", exports: &[] };

pub static MODULE: ModuleDef = ModuleDef {
    name: "ktest",
    summary: "exports covering every KEMI parameter and return kind, for tests",
    kemi: Some(&SUBMODULE),
    params: &[],
};
