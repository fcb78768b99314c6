//! `KSR.pv.*`: reading and writing pseudo-variables (`$ru`, `$var(x)`...).
//! The functions arrive with the pseudo-variable engine.

#[crate::kemi_module(name = "pv")]
pub mod kemi {
    //! Pseudo-variables: get, set and test `$...` values by name.
}

pub use kemi::SUBMODULE;
