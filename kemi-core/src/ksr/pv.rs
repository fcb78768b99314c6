//! Placeholder until `#[kemi_module]` lands.

use crate::module::Submodule;

pub static SUBMODULE: Submodule = Submodule {
    name: "pv",
    doc: "",
    exports: &[],
};
