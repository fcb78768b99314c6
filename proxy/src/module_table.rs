//! Every module compiled into the proxy, listed once. `loadmodule "x.so"`
//! chooses from this table; a new module crate adds one line here.

use kemi_core::ModuleDef;

/// The compiled-in modules, by `loadmodule` name.
pub static MODULES: &[&ModuleDef] = &[
    &kemi_mod_ktest::MODULE,
    &kemi_mod_app_lua::MODULE,
    &kemi_mod_app_jsdt::MODULE,
    &kemi_mod_app_ruby::MODULE,
    &kemi_mod_app_python3::MODULE,
    &kemi_mod_app_python3::MODULE_S,
    &kemi_mod_xlog::MODULE,
    &kemi_mod_pv::MODULE,
    &kemi_mod_kemix::MODULE,
    &kemi_mod_siputils::MODULE,
    &kemi_mod_corex::MODULE,
    &kemi_mod_textops::MODULE,
    &kemi_mod_textopsx::MODULE,
    &kemi_mod_sl::MODULE,
    &kemi_mod_maxfwd::MODULE,
    &kemi_mod_sanity::MODULE,
    &kemi_mod_rr::MODULE,
    &kemi_mod_tm::MODULE,
    &kemi_mod_tmx::MODULE,
    &crate::rpc::JSONRPCS,
    &crate::compat::KEX,
    &crate::compat::CTL,
    &crate::compat::DEBUGGER,
];

/// Finds a compiled-in module by the name `loadmodule` uses.
pub fn find(name: &str) -> Option<&'static ModuleDef> {
    MODULES.iter().copied().find(|m| m.name == name)
}
