//! From tokens to the [`model`](crate::model): reads the attribute
//! arguments and the annotated module, checks everything, and collects every
//! problem (with the span of the offending tokens) instead of stopping at the
//! first.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::visit_mut::VisitMut;
use syn::{
    Attribute, Expr, FnArg, Ident, Item, ItemFn, ItemMod, Lit, LitStr, Meta, Pat, Path, Token, Type,
};

use crate::errors::Errors;
use crate::model::{
    ContextParam, Doc, DocPart, ExportFn, Module, Param, ParamType, Return, ReturnKind,
};

/// The marker attribute `#[kemi_module]` collects.
const EXPORT_MARKER: &str = "kemi_export";

/// What parsing a `#[kemi_module]` produced. The item is always kept (with
/// the markers removed) so that, even with errors, the expansion still
/// contains the user's code.
pub struct Parsed {
    /// The input item, or its raw tokens when it is not even an item.
    pub item: ParsedItem,
    /// Submodule name and crate path, as far as they could be read; used to
    /// emit a placeholder `SUBMODULE` when there are errors.
    pub name: String,
    pub krate: Path,
    /// The checked module, or every problem found.
    pub result: Result<Module, syn::Error>,
}

pub enum ParsedItem {
    /// An inline `mod`; `SUBMODULE` goes into its body.
    Mod(ItemMod),
    /// Anything else, emitted unchanged next to the errors.
    Other(TokenStream),
}

/// Parses `#[kemi_module(<attr>)] <item>`.
pub fn module(attr: TokenStream, item: TokenStream) -> Parsed {
    let mut errors = Errors::default();
    let args = module_args(attr, &mut errors);
    let name = args.name.clone().unwrap_or_default();
    let krate = args.krate.clone().unwrap_or_else(default_crate_path);

    let mut item_mod = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Mod(m)) => m,
        Ok(other) => {
            errors.spanned(
                item_head(&other),
                "#[kemi_module] goes on an inline module: `mod kemi { ... }` holding the #[kemi_export] functions",
            );
            return Parsed::failed(ParsedItem::Other(item), name, krate, errors);
        }
        Err(e) => {
            errors.push(e);
            return Parsed::failed(ParsedItem::Other(item), name, krate, errors);
        }
    };

    let Some((_, items)) = item_mod.content.as_mut() else {
        errors.spanned(
            &item_mod,
            "#[kemi_module] needs the module's body here (`mod kemi { ... }`): an attribute cannot read `mod kemi;` from another file",
        );
        return Parsed::failed(ParsedItem::Mod(item_mod), name, krate, errors);
    };

    let mut exports = Vec::new();
    let mut seen: HashMap<String, Ident> = HashMap::new();
    for item in items.iter_mut() {
        let markers = take_markers(item);
        // Markers deeper inside (in an impl, a nested mod, a fn body) would
        // otherwise expand on their own and report the less helpful
        // "outside a #[kemi_module]" error.
        NestedMarkers {
            errors: &mut errors,
        }
        .visit_item_mut(item);
        let Some(first) = markers.first() else {
            continue;
        };
        for extra in &markers[1..] {
            errors.spanned(extra, "duplicate #[kemi_export] on one function; keep one");
        }
        let Item::Fn(func) = item else {
            errors.spanned(
                first,
                "#[kemi_export] goes on a `fn`; other items cannot be exported to scripts",
            );
            continue;
        };
        let export_args = export_args(first, &mut errors);
        if let Some(export) = export_fn(func, export_args, &mut errors) {
            if let Some(previous) = seen.get(&export.model.name) {
                let path = script_path(&name, &export.model.name);
                errors.at(
                    export.name_span,
                    format!(
                        "duplicate export name: `{path}` is already exported by `fn {previous}`; \
                         give one of them another name with #[kemi_export(name = \"...\")]"
                    ),
                );
            } else {
                seen.insert(export.model.name.clone(), export.model.rust_name.clone());
            }
            exports.push(export.model);
        }
    }

    let doc = doc(&item_mod.attrs);
    // A missing or unusable name was reported, so `name` is the real one here.
    let result = match errors.finish() {
        Some(e) => Err(e),
        None => Ok(Module {
            name: name.clone(),
            doc,
            krate: krate.clone(),
            exports,
        }),
    };
    Parsed {
        item: ParsedItem::Mod(item_mod),
        name,
        krate,
        result,
    }
}

impl Parsed {
    fn failed(item: ParsedItem, name: String, krate: Path, errors: Errors) -> Parsed {
        let error = errors
            .finish()
            .unwrap_or_else(|| syn::Error::new(Span::call_site(), "invalid #[kemi_module] input"));
        Parsed {
            item,
            name,
            krate,
            result: Err(error),
        }
    }
}

fn default_crate_path() -> Path {
    syn::parse_quote!(::kemi_core)
}

/// The tokens an error about a whole item points at: its first tokens.
fn item_head(item: &Item) -> TokenStream {
    item.to_token_stream().into_iter().take(3).collect()
}

fn script_path(module: &str, name: &str) -> String {
    if module.is_empty() {
        format!("KSR.{name}")
    } else {
        format!("KSR.{module}.{name}")
    }
}

// ---------------------------------------------------------------------------
// Attribute arguments

/// One `key = value` of an attribute's arguments.
struct KeyValue {
    key: Ident,
    value: Option<Expr>,
}

/// Parses `key = value, ...` leniently (any key, any expression, values
/// optional) so each problem can be reported precisely afterwards.
fn key_values(tokens: TokenStream, errors: &mut Errors) -> Vec<KeyValue> {
    let parser = |input: ParseStream| {
        let mut list = Vec::new();
        while !input.is_empty() {
            // `parse_any` so that the keyword `crate` is accepted as a key.
            let key = input.call(Ident::parse_any)?;
            let value = if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                Some(input.parse::<Expr>()?)
            } else {
                None
            };
            list.push(KeyValue { key, value });
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(list)
    };
    parser.parse2(tokens).unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    })
}

/// The value of `key = "..."`, or an error saying what was expected.
fn string_value(kv: &KeyValue, example: &str, errors: &mut Errors) -> Option<LitStr> {
    match &kv.value {
        Some(Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        })) => Some(s.clone()),
        Some(other) => {
            errors.spanned(other, format!("expected a string literal: `{example}`"));
            None
        }
        None => {
            errors.spanned(&kv.key, format!("`{}` needs a value: `{example}`", kv.key));
            None
        }
    }
}

struct ModuleArgs {
    name: Option<String>,
    krate: Option<Path>,
}

fn module_args(attr: TokenStream, errors: &mut Errors) -> ModuleArgs {
    let mut args = ModuleArgs {
        name: None,
        krate: None,
    };
    let mut name_seen = false;
    let mut krate_seen = false;
    for kv in key_values(attr, errors) {
        let key = kv.key.to_string();
        let seen = match key.as_str() {
            "name" => &mut name_seen,
            "crate" => &mut krate_seen,
            _ => {
                errors.spanned(
                    &kv.key,
                    format!("unknown key `{key}` for #[kemi_module]: the keys are `name = \"...\"` and `crate = \"...\"`"),
                );
                continue;
            }
        };
        if std::mem::replace(seen, true) {
            errors.spanned(&kv.key, format!("`{key}` is given twice; keep one"));
            continue;
        }
        match key.as_str() {
            "name" => {
                let Some(lit) = string_value(&kv, "name = \"sl\"", errors) else {
                    continue;
                };
                let value = lit.value();
                if value.is_empty() || is_script_identifier(&value) {
                    args.name = Some(value);
                } else {
                    errors.spanned(
                        &lit,
                        format!(
                            "`{value}` is not a usable submodule name: scripts write `KSR.<name>`, so use letters, \
                             digits and `_` (not starting with a digit), or \"\" for functions on `KSR` itself"
                        ),
                    );
                }
            }
            _ => {
                let Some(lit) = string_value(&kv, "crate = \"kemi_core\"", errors) else {
                    continue;
                };
                match lit.parse::<Path>() {
                    Ok(path) => args.krate = Some(path),
                    Err(_) => errors.spanned(
                        &lit,
                        "`crate` must be a path to kemi-core, such as \"::kemi_core\"",
                    ),
                }
            }
        }
    }
    if !name_seen {
        errors.at(
            Span::call_site(),
            "#[kemi_module] needs the KSR submodule name: #[kemi_module(name = \"sl\")] for `KSR.sl.*`, \
             or name = \"\" for functions on `KSR` itself",
        );
    }
    args
}

struct ExportArgs {
    /// The `name = "..."` override and its span.
    name: Option<(String, Span)>,
}

fn export_args(marker: &Attribute, errors: &mut Errors) -> ExportArgs {
    let mut args = ExportArgs { name: None };
    let tokens = match &marker.meta {
        Meta::Path(_) => return args,
        Meta::List(list) => list.tokens.clone(),
        Meta::NameValue(nv) => {
            errors.spanned(nv, "write #[kemi_export] or #[kemi_export(name = \"...\")]");
            return args;
        }
    };
    let mut name_seen = false;
    for kv in key_values(tokens, errors) {
        if kv.key != "name" {
            errors.spanned(
                &kv.key,
                format!(
                    "unknown key `{}` for #[kemi_export]: the only key is `name = \"...\"`",
                    kv.key
                ),
            );
            continue;
        }
        if std::mem::replace(&mut name_seen, true) {
            errors.spanned(&kv.key, "`name` is given twice; keep one");
            continue;
        }
        let Some(lit) = string_value(&kv, "name = \"t_relay\"", errors) else {
            continue;
        };
        let value = lit.value();
        if is_script_identifier(&value) {
            args.name = Some((value, lit.span()));
        } else {
            errors.spanned(
                &lit,
                format!(
                    "`{value}` is not a usable export name: scripts call it as `KSR.<module>.<name>`, so use \
                     letters, digits and `_`, not starting with a digit"
                ),
            );
        }
    }
    args
}

/// A name every script language can use after `KSR.` and `.`.
fn is_script_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

// ---------------------------------------------------------------------------
// Markers

fn is_marker(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == EXPORT_MARKER)
}

/// Removes the `#[kemi_export]` markers from an item's own attributes and
/// returns them.
fn take_markers(item: &mut Item) -> Vec<Attribute> {
    let Some(attrs) = item_attrs(item) else {
        return Vec::new();
    };
    let (markers, rest) = std::mem::take(attrs).into_iter().partition(is_marker);
    *attrs = rest;
    markers
}

fn item_attrs(item: &mut Item) -> Option<&mut Vec<Attribute>> {
    Some(match item {
        Item::Const(i) => &mut i.attrs,
        Item::Enum(i) => &mut i.attrs,
        Item::ExternCrate(i) => &mut i.attrs,
        Item::Fn(i) => &mut i.attrs,
        Item::ForeignMod(i) => &mut i.attrs,
        Item::Impl(i) => &mut i.attrs,
        Item::Macro(i) => &mut i.attrs,
        Item::Mod(i) => &mut i.attrs,
        Item::Static(i) => &mut i.attrs,
        Item::Struct(i) => &mut i.attrs,
        Item::Trait(i) => &mut i.attrs,
        Item::TraitAlias(i) => &mut i.attrs,
        Item::Type(i) => &mut i.attrs,
        Item::Union(i) => &mut i.attrs,
        Item::Use(i) => &mut i.attrs,
        _ => return None,
    })
}

/// Finds markers below the top level of the module, removes them and
/// reports each.
struct NestedMarkers<'a> {
    errors: &'a mut Errors,
}

impl NestedMarkers<'_> {
    fn check(&mut self, attrs: &mut Vec<Attribute>) {
        attrs.retain(|attr| {
            if is_marker(attr) {
                self.errors.spanned(
                    attr,
                    "#[kemi_export] works only on a `fn` placed directly in the #[kemi_module] mod \
                     (not in an impl, a nested mod or a function body)",
                );
                return false;
            }
            true
        });
    }
}

impl VisitMut for NestedMarkers<'_> {
    fn visit_item_mut(&mut self, item: &mut Item) {
        if let Some(attrs) = item_attrs(item) {
            self.check(attrs);
        }
        syn::visit_mut::visit_item_mut(self, item);
    }

    fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
        self.check(&mut f.attrs);
        syn::visit_mut::visit_impl_item_fn_mut(self, f);
    }

    fn visit_trait_item_fn_mut(&mut self, f: &mut syn::TraitItemFn) {
        self.check(&mut f.attrs);
        syn::visit_mut::visit_trait_item_fn_mut(self, f);
    }

    fn visit_foreign_item_fn_mut(&mut self, f: &mut syn::ForeignItemFn) {
        self.check(&mut f.attrs);
        syn::visit_mut::visit_foreign_item_fn_mut(self, f);
    }
}

// ---------------------------------------------------------------------------
// Functions

/// An export and where its script name was written (for duplicate errors).
struct ParsedExport {
    model: ExportFn,
    name_span: Span,
}

const PARAM_TYPES: &str =
    "i32 (int), i64 (long), &str or String (str), after an optional first `ctx: &mut Context`";
const RETURN_TYPES: &str = "i32 (int), bool (bool), Xval (xval) or nothing (none)";

/// Checks one annotated function; `None` when it has errors (recorded).
fn export_fn(func: &ItemFn, args: ExportArgs, errors: &mut Errors) -> Option<ParsedExport> {
    // This function's own problems, to know whether it can be modelled.
    let mut local = Errors::default();
    let sig = &func.sig;

    if let Some(token) = &sig.asyncness {
        local.spanned(
            token,
            "a KEMI export cannot be `async`: scripts call it synchronously on the worker thread; make it a plain `fn`",
        );
    }
    if let Some(token) = &sig.unsafety {
        local.spanned(
            token,
            "a KEMI export cannot be `unsafe`: scripts cannot uphold its safety contract; \
             make it a safe `fn` that uses `unsafe` blocks inside",
        );
    }
    if let Some(abi) = &sig.abi {
        local.spanned(
            abi,
            "a KEMI export cannot have an `extern` ABI: the generated glue calls it as a Rust `fn`; remove `extern`",
        );
    }
    if !sig.generics.params.is_empty() {
        local.spanned(
            &sig.generics,
            "a KEMI export cannot have generic or lifetime parameters: each script argument has one fixed type; \
             use i32, i64, &str or String (lifetimes of `&str` are left to elision)",
        );
    }
    if let Some(clause) = &sig.generics.where_clause {
        local.spanned(
            clause,
            "a KEMI export cannot have a `where` clause: it takes no generic parameters",
        );
    }
    if let Some(variadic) = &sig.variadic {
        local.spanned(
            variadic,
            format!(
                "a KEMI export cannot be variadic: declare each parameter as one of {PARAM_TYPES}"
            ),
        );
    }

    let mut context = None;
    let mut params = Vec::new();
    for (index, input) in sig.inputs.iter().enumerate() {
        let typed = match input {
            FnArg::Receiver(receiver) => {
                local.spanned(
                    receiver,
                    "a KEMI export cannot take `self`: it is a free function in the module; \
                     to reach the routing context, take `ctx: &mut Context` as the first parameter",
                );
                continue;
            }
            FnArg::Typed(typed) => typed,
        };
        if let Some(ty) = context_type(&typed.ty) {
            if index == 0 {
                context = Some(ContextParam { ty: ty.clone() });
            } else {
                local.spanned(
                    &typed.ty,
                    format!(
                        "only the first parameter may be a reference to the routing context (`ctx: &mut Context`); \
                         script parameters are {PARAM_TYPES}"
                    ),
                );
            }
            continue;
        }
        let name = match &*typed.pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                script_param_name(&p.ident)
            }
            other => {
                local.spanned(
                    other,
                    "a KEMI parameter must be a plain name (`code: i32`), not a pattern: \
                     its name appears in signatures and docs",
                );
                continue;
            }
        };
        match param_type(&typed.ty) {
            Ok(ty) => params.push(Param { name, ty }),
            Err(message) => local.spanned(&typed.ty, message),
        }
    }

    let ret = match &sig.output {
        syn::ReturnType::Default => Some(Return {
            kind: ReturnKind::None,
            ty: None,
        }),
        syn::ReturnType::Type(_, ty) => match return_kind(ty) {
            Some(kind) => Some(Return {
                kind,
                ty: Some((**ty).clone()),
            }),
            None => {
                local.spanned(
                    ty,
                    format!("unsupported return type for a KEMI export: use {RETURN_TYPES}"),
                );
                None
            }
        },
    };

    let (name, name_span) = args
        .name
        .unwrap_or_else(|| (sig.ident.unraw().to_string(), sig.ident.span()));
    if !local.is_empty() {
        if let Some(e) = local.finish() {
            errors.push(e);
        }
        return None;
    }
    Some(ParsedExport {
        model: ExportFn {
            rust_name: sig.ident.clone(),
            name,
            doc: doc(&func.attrs),
            context,
            params,
            ret: ret?,
            cfgs: func
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("cfg"))
                .cloned()
                .collect(),
        },
        name_span,
    })
}

/// The name a parameter has in signatures, docs and stubs: `r#type` is
/// `type`, and `_msg` (unused in Rust) is `msg`.
fn script_param_name(ident: &Ident) -> String {
    let name = ident.unraw().to_string();
    match name.strip_prefix('_') {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => name,
    }
}

/// The `&Context`/`&mut Context` parameter type that stands for the routing
/// context (`Context` under any path: `kemi_core::Context`...; rustc checks
/// it is the real one). Other references are script parameters, and only
/// `&str` is one.
fn context_type(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Reference(r) => match &*r.elem {
            Type::Path(p) if p.qself.is_none() && last_segment_is(&p.path, "Context") => Some(ty),
            _ => None,
        },
        Type::Paren(p) => context_type(&p.elem),
        _ => None,
    }
}

fn param_type(ty: &Type) -> Result<ParamType, String> {
    match ty {
        Type::Reference(r) if is_ident(&r.elem, "str") => {
            if r.mutability.is_some() {
                Err("a KEMI string parameter is `&str` or `String`, not `&mut str`".to_string())
            } else if r.lifetime.as_ref().is_some_and(|l| l.ident != "_") {
                Err("write the string parameter as `&str` (it is borrowed for the call only) or `String`".to_string())
            } else {
                Ok(ParamType::StrRef)
            }
        }
        Type::Paren(p) => param_type(&p.elem),
        Type::Reference(_) => Err(
            "unsupported reference parameter for a KEMI export: script parameters are \
             i32 (int), i64 (long), &str or String (str), and the only other reference allowed is \
             the routing context as the first parameter (`&mut Context` or `&Context`)"
                .to_string(),
        ),
        _ if is_ident(ty, "i32") => Ok(ParamType::I32),
        _ if is_ident(ty, "i64") => Ok(ParamType::I64),
        _ if is_path(ty, &["String"]) || is_path(ty, &["std", "string", "String"]) => {
            Ok(ParamType::String)
        }
        _ => Err(format!(
            "unsupported parameter type for a KEMI export: use {PARAM_TYPES}"
        )),
    }
}

fn return_kind(ty: &Type) -> Option<ReturnKind> {
    match ty {
        Type::Tuple(t) if t.elems.is_empty() => Some(ReturnKind::None),
        Type::Paren(p) => return_kind(&p.elem),
        _ if is_ident(ty, "i32") => Some(ReturnKind::Int),
        _ if is_ident(ty, "bool") => Some(ReturnKind::Bool),
        // `Xval`, `kemi_core::Xval`, `crate::xval::Xval`...: rustc checks that
        // it is the real one when the glue converts it.
        Type::Path(p) if p.qself.is_none() && last_segment_is(&p.path, "Xval") => {
            Some(ReturnKind::Xval)
        }
        _ => None,
    }
}

fn is_ident(ty: &Type, name: &str) -> bool {
    is_path(ty, &[name])
}

/// `ty` is exactly the plain path `segments` (optionally with a leading `::`).
fn is_path(ty: &Type, segments: &[&str]) -> bool {
    let Type::Path(p) = ty else { return false };
    p.qself.is_none()
        && p.path.segments.len() == segments.len()
        && p.path
            .segments
            .iter()
            .zip(segments)
            .all(|(seg, name)| seg.ident == name && seg.arguments.is_none())
}

fn last_segment_is(path: &Path, name: &str) -> bool {
    path.segments.iter().enumerate().all(|(i, seg)| {
        seg.arguments.is_none() && (i + 1 < path.segments.len() || seg.ident == name)
    })
}

// ---------------------------------------------------------------------------
// Documentation

/// The `///` (and `//!`) documentation among `attrs`: literal lines lose the
/// one space that follows `///`.
pub fn doc(attrs: &[Attribute]) -> Doc {
    let mut parts = Vec::new();
    for attr in attrs {
        let Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        if !nv.path.is_ident("doc") {
            continue;
        }
        match &nv.value {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => {
                // `split`, not `lines`: an empty `///` line is still a line.
                for line in s.value().split('\n') {
                    parts.push(DocPart::Text(
                        line.strip_prefix(' ').unwrap_or(line).to_string(),
                    ));
                }
            }
            other => parts.push(DocPart::Expr(other.clone())),
        }
    }
    Doc { parts }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;
    use crate::model::{ParamKind, ReturnKind};

    fn parse_ok(attr: TokenStream, item: TokenStream) -> Module {
        match module(attr, item).result {
            Ok(m) => m,
            Err(e) => panic!(
                "unexpected errors: {:?}",
                e.into_iter().map(|e| e.to_string()).collect::<Vec<_>>()
            ),
        }
    }

    fn errors_of(attr: TokenStream, item: TokenStream) -> Vec<String> {
        match module(attr, item).result {
            Ok(_) => panic!("expected errors"),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    fn one_export(item: TokenStream) -> ExportFn {
        let mut m = parse_ok(quote!(name = "t"), quote!(mod kemi { #item }));
        assert_eq!(m.exports.len(), 1);
        m.exports.remove(0)
    }

    #[test]
    fn module_name_doc_and_source_order() {
        let m = parse_ok(
            quote!(name = "sl"),
            quote! {
                /// Stateless replies.
                ///
                ///  Two spaces: one is kept.
                pub mod kemi {
                    #[kemi_export] fn b() {}
                    fn not_exported() {}
                    #[kemi_core::kemi_export] fn a() {}
                }
            },
        );
        assert_eq!(m.name, "sl");
        assert_eq!(
            m.doc.text().as_deref(),
            Some("Stateless replies.\n\n Two spaces: one is kept.")
        );
        let names: Vec<&str> = m.exports.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["b", "a"]);
        let krate = &m.krate;
        assert_eq!(quote!(#krate).to_string(), quote!(::kemi_core).to_string());
    }

    #[test]
    fn markers_are_removed_from_the_emitted_module() {
        let parsed = module(
            quote!(name = "t"),
            quote!(
                mod kemi {
                    #[kemi_export]
                    #[inline]
                    fn f() {}
                }
            ),
        );
        let ParsedItem::Mod(item) = parsed.item else {
            panic!("a mod")
        };
        let text = item.to_token_stream().to_string();
        assert!(!text.contains("kemi_export"), "{text}");
        assert!(text.contains("inline"), "other attributes stay: {text}");
    }

    #[test]
    fn empty_name_and_crate_override() {
        let m = parse_ok(
            quote!(name = "", crate = "crate"),
            quote!(
                mod kemi {}
            ),
        );
        assert_eq!(m.name, "");
        assert!(m.krate.is_ident("crate"));
        assert!(m.exports.is_empty());
    }

    #[test]
    fn function_doc_drops_one_leading_space_and_keeps_empty_lines() {
        let f = one_export(quote! {
            /// First line.
            ///
            ///    indented
            #[doc(hidden)]
            #[kemi_export]
            fn f() {}
        });
        assert_eq!(f.doc.text().as_deref(), Some("First line.\n\n   indented"));
    }

    #[test]
    fn computed_doc_is_kept_as_an_expression() {
        let f = one_export(quote! {
            /// Intro.
            #[doc = include_str!("x.md")]
            #[kemi_export]
            fn f() {}
        });
        assert_eq!(f.doc.text(), None);
        assert!(matches!(
            f.doc.parts[..],
            [DocPart::Text(_), DocPart::Expr(_)]
        ));
    }

    #[test]
    fn parameter_kinds_names_and_context() {
        let f = one_export(quote! {
            #[kemi_export]
            fn f(ctx: &mut Context, a: i32, mut b: i64, r#type: &str, _d: String, e: &'_ str, g: std::string::String) -> i32 { 0 }
        });
        assert!(f.context.is_some());
        let params: Vec<(&str, ParamType)> =
            f.params.iter().map(|p| (p.name.as_str(), p.ty)).collect();
        assert_eq!(
            params,
            [
                ("a", ParamType::I32),
                ("b", ParamType::I64),
                ("type", ParamType::StrRef),
                ("d", ParamType::String),
                ("e", ParamType::StrRef),
                ("g", ParamType::String),
            ]
        );
        let kinds: Vec<ParamKind> = f.params.iter().map(|p| p.ty.kind()).collect();
        use ParamKind::*;
        assert_eq!(kinds, [Int, Long, Str, Str, Str, Str]);
    }

    #[test]
    fn a_shared_reference_is_a_context_but_str_is_not() {
        assert!(one_export(quote!(
            #[kemi_export]
            fn f(c: &Context) {}
        ))
        .context
        .is_some());
        let f = one_export(quote!(
            #[kemi_export]
            fn f(s: &str) {}
        ));
        assert!(f.context.is_none());
        assert_eq!(f.params.len(), 1);
    }

    #[test]
    fn return_kinds() {
        let kind = |ret: TokenStream| {
            one_export(quote!(#[kemi_export] fn f() #ret { todo!() }))
                .ret
                .kind
        };
        assert_eq!(kind(quote!()), ReturnKind::None);
        assert_eq!(kind(quote!(-> ())), ReturnKind::None);
        assert_eq!(kind(quote!(-> i32)), ReturnKind::Int);
        assert_eq!(kind(quote!(-> bool)), ReturnKind::Bool);
        assert_eq!(kind(quote!(-> Xval)), ReturnKind::Xval);
        assert_eq!(kind(quote!(-> kemi_core::Xval)), ReturnKind::Xval);
    }

    #[test]
    fn rename_and_raw_identifiers() {
        assert_eq!(
            one_export(quote!(
                #[kemi_export(name = "t_relay")]
                fn relay() {}
            ))
            .name,
            "t_relay"
        );
        assert_eq!(
            one_export(quote!(
                #[kemi_export]
                fn r#return() {}
            ))
            .name,
            "return"
        );
    }

    #[test]
    fn cfg_attributes_travel_to_the_descriptor() {
        let f = one_export(quote!(
            #[cfg(unix)]
            #[allow(dead_code)]
            #[kemi_export]
            fn f() {}
        ));
        assert_eq!(f.cfgs.len(), 1);
    }

    #[test]
    fn every_problem_of_a_module_is_reported_together() {
        let errors = errors_of(
            quote!(name = "t"),
            quote! {
                mod kemi {
                    #[kemi_export]
                    async unsafe extern "C" fn f<T>(self, (a, b): (i32, i32), x: f64, c: &mut Context) -> Vec<u8> {}
                    #[kemi_export(nme = "x")]
                    fn g() {}
                }
            },
        );
        let expected = [
            "cannot be `async`",
            "cannot be `unsafe`",
            "cannot have an `extern` ABI",
            "cannot have generic or lifetime parameters",
            "cannot take `self`",
            "not a pattern",
            "unsupported parameter type",
            "only the first parameter may be a reference to the routing context",
            "unsupported return type",
            "unknown key `nme` for #[kemi_export]",
        ];
        assert_eq!(errors.len(), expected.len(), "{errors:#?}");
        for (error, wanted) in errors.iter().zip(expected) {
            assert!(
                error.contains(wanted),
                "`{error}` should contain `{wanted}`"
            );
        }
    }

    #[test]
    fn references_other_than_str_and_context_are_refused_by_name() {
        let errors = errors_of(
            quote!(name = "t"),
            quote! {
                mod kemi {
                    #[kemi_export] fn a(s: &String) {}
                    #[kemi_export] fn b(ctx: &mut Context, b: &[u8]) {}
                    #[kemi_export] fn c(n: i32, m: &i32) {}
                    #[kemi_export] fn d(ctx: &kemi_core::Context, s: &str) {}
                }
            },
        );
        assert_eq!(errors.len(), 3, "{errors:#?}");
        for error in &errors {
            assert!(
                error.contains("unsupported reference parameter")
                    && error.contains("&str or String (str)")
                    && error.contains("(`&mut Context` or `&Context`)"),
                "{error}"
            );
        }
    }

    #[test]
    fn duplicate_names_point_at_the_second_and_name_the_first() {
        let errors = errors_of(
            quote!(name = "t"),
            quote! {
                mod kemi {
                    #[kemi_export] fn relay() {}
                    #[kemi_export(name = "relay")] fn other() {}
                }
            },
        );
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].contains("`KSR.t.relay` is already exported by `fn relay`"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn module_arguments_are_checked() {
        let missing = errors_of(
            quote!(),
            quote!(
                mod kemi {}
            ),
        );
        assert_eq!(missing.len(), 1);
        assert!(missing[0].contains("needs the KSR submodule name"));

        let errors = errors_of(
            quote!(name = 5, name = "x", colour = "blue", crate),
            quote!(
                mod kemi {}
            ),
        );
        let expected = [
            "expected a string literal",
            "`name` is given twice",
            "unknown key `colour`",
            "`crate` needs a value",
        ];
        assert_eq!(errors.len(), expected.len(), "{errors:#?}");
        for (error, wanted) in errors.iter().zip(expected) {
            assert!(
                error.contains(wanted),
                "`{error}` should contain `{wanted}`"
            );
        }

        let bad_name = errors_of(
            quote!(name = "two words"),
            quote!(
                mod kemi {}
            ),
        );
        assert!(bad_name[0].contains("not a usable submodule name"));
    }

    #[test]
    fn export_names_must_be_script_identifiers() {
        let errors = errors_of(
            quote!(name = "t"),
            quote!(
                mod kemi {
                    #[kemi_export(name = "1x")]
                    fn f() {}
                }
            ),
        );
        assert!(errors[0].contains("not a usable export name"));
    }

    #[test]
    fn only_inline_modules() {
        let errors = errors_of(
            quote!(name = "t"),
            quote!(
                fn f() {}
            ),
        );
        assert!(errors[0].contains("goes on an inline module"));
        let errors = errors_of(
            quote!(name = "t"),
            quote!(
                mod kemi;
            ),
        );
        assert!(errors[0].contains("needs the module's body"));
    }

    #[test]
    fn nested_and_misplaced_markers_are_reported() {
        let errors = errors_of(
            quote!(name = "t"),
            quote! {
                mod kemi {
                    impl S { #[kemi_export] fn m() {} }
                    mod inner { #[kemi_export] fn n() {} }
                    #[kemi_export] const C: i32 = 1;
                }
            },
        );
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(errors[0].contains("directly in the #[kemi_module] mod"));
        assert!(errors[1].contains("directly in the #[kemi_module] mod"));
        assert!(errors[2].contains("goes on a `fn`"));
    }
}
