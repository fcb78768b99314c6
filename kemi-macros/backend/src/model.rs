//! The typed model of a `#[kemi_module]`: what [`crate::parse`] understood
//! from the Rust source, and all that [`crate::codegen`] needs. Everything
//! here has already been checked; codegen does not report errors.

use syn::{Attribute, Expr, Ident, Path, Type};

/// A `#[kemi_module(name = "...")] mod m { ... }`.
pub struct Module {
    /// The KSR submodule name (`"sl"`); empty for functions on `KSR` itself.
    pub name: String,
    /// The `mod`'s documentation.
    pub doc: Doc,
    /// How generated code names kemi-core (`::kemi_core` unless overridden).
    pub krate: Path,
    /// The annotated functions, in source order.
    pub exports: Vec<ExportFn>,
}

/// One `#[kemi_export]` function.
pub struct ExportFn {
    /// The Rust function, as the thunk calls it.
    pub rust_name: Ident,
    /// The name scripts call it by (the Rust name, or the `name = "..."` override).
    pub name: String,
    pub doc: Doc,
    /// The first parameter when it takes the routing context.
    pub context: Option<ContextParam>,
    /// The script-visible parameters, in order.
    pub params: Vec<Param>,
    pub ret: Return,
    /// `#[cfg(...)]` attributes of the function, repeated on its descriptor so
    /// a configured-out function leaves no dangling entry.
    pub cfgs: Vec<Attribute>,
}

/// A leading `ctx: &mut Context` (or `&T`) parameter.
pub struct ContextParam {
    /// The parameter's type, used as the span of the generated argument so a
    /// wrong context type is reported on it.
    pub ty: Type,
}

/// One script-visible parameter.
pub struct Param {
    /// The name shown in signatures (`r#type` becomes `type`).
    pub name: String,
    pub ty: ParamType,
}

/// The Rust parameter types a thunk can produce from a script argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// `i32`: KEMI `int`.
    I32,
    /// `i64`: KEMI `long`.
    I64,
    /// `&str`: KEMI `str`, borrowed for the call.
    StrRef,
    /// `String`: KEMI `str`, owned by the function.
    String,
}

/// The KEMI kind of a parameter, named like kemi-core's `ParamKind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    Int,
    Long,
    Str,
}

impl ParamType {
    pub fn kind(self) -> ParamKind {
        match self {
            ParamType::I32 => ParamKind::Int,
            ParamType::I64 => ParamKind::Long,
            ParamType::StrRef | ParamType::String => ParamKind::Str,
        }
    }
}

/// The return type of an export.
pub struct Return {
    pub kind: ReturnKind,
    /// The written type (`None` for no `->`), used as the span of the result
    /// conversion so a wrong `Xval` type is reported on it.
    pub ty: Option<Type>,
}

/// The KEMI return kind, named like kemi-core's `ReturnKind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnKind {
    None,
    Int,
    Bool,
    Xval,
}

/// Documentation gathered from `///` comments (or `#[doc = ...]`).
#[derive(Default)]
pub struct Doc {
    pub parts: Vec<DocPart>,
}

/// One `#[doc]` attribute.
pub enum DocPart {
    /// A literal line, with the one leading space of `/// text` removed.
    Text(String),
    /// A computed doc such as `#[doc = include_str!("x.md")]`, kept as an
    /// expression for `concat!`.
    Expr(Expr),
}

impl Doc {
    /// The text, when every part is literal.
    pub fn text(&self) -> Option<String> {
        let mut lines = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            match part {
                DocPart::Text(line) => lines.push(line.as_str()),
                DocPart::Expr(_) => return None,
            }
        }
        Some(lines.join("\n"))
    }
}
