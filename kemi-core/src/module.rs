//! What a module crate declares: its name for `loadmodule`, its KSR
//! submodule (built by `#[kemi_module]`) and its typed `modparam`s.

use crate::export::Export;
use crate::rpc::RpcMethod;

/// One KSR submodule: `KSR.<name>.*`, or `KSR.*` itself when the name is empty.
/// `#[kemi_module]` builds this from the annotated functions of a Rust module.
#[derive(Debug)]
pub struct Submodule {
    pub name: &'static str,
    /// The Rust module's `//!`/`///` documentation.
    pub doc: &'static str,
    /// In source order, which is the order scripts and docs see them in.
    pub exports: &'static [Export],
}

/// The type of a module parameter's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModParamKind {
    Int,
    Str,
}

impl ModParamKind {
    pub const fn name(self) -> &'static str {
        match self {
            ModParamKind::Int => "int",
            ModParamKind::Str => "str",
        }
    }
}

/// A parameter a module accepts through `modparam("mod", "name", value)`.
#[derive(Clone, Copy, Debug)]
pub struct ModParam {
    pub name: &'static str,
    pub kind: ModParamKind,
    /// May be given several times (app_lua's `load`); otherwise the last wins.
    pub repeatable: bool,
    pub doc: &'static str,
}

/// A compiled-in module, as the proxy's module table lists it.
#[derive(Debug)]
pub struct ModuleDef {
    /// The name `loadmodule` uses (`"sl"` for `loadmodule "sl.so"`).
    pub name: &'static str,
    /// One line saying what the module is for.
    pub summary: &'static str,
    /// The module's KSR functions, if it exports any.
    pub kemi: Option<&'static Submodule>,
    pub params: &'static [ModParam],
    /// RPC methods the module serves (`app_lua.reload`...).
    pub rpc: &'static [RpcMethod],
}

impl ModuleDef {
    pub fn param(&self, name: &str) -> Option<&'static ModParam> {
        self.params.iter().find(|p| p.name == name)
    }
}
