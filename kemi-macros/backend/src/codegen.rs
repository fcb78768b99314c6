//! From the [`model`](crate::model) to tokens: the module's `SUBMODULE`
//! static with one `Export` descriptor and call thunk per function.
//!
//! Hygiene: kemi-core is named by its absolute path (`::kemi_core` or the
//! `crate = "..."` override), std items as `::core::...`, the generated
//! locals carry a `__kemi_` prefix, the thunk is a `fn` item inside the
//! descriptor's initializer (so it adds no name to the user's module), and
//! the user's function is called as `self::name` so no local can shadow it.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Item, LitStr, Path};

use crate::model::{Doc, DocPart, ExportFn, Module, ParamKind, ParamType, ReturnKind};
use crate::parse::{Parsed, ParsedItem};

/// The expansion of a `#[kemi_module]`: the module with `SUBMODULE` added,
/// or, with errors, the module with a placeholder `SUBMODULE` plus one
/// `compile_error!` per problem (so the rest of the crate and completion
/// keep working).
pub fn module(parsed: Parsed) -> TokenStream {
    match (parsed.item, parsed.result) {
        (ParsedItem::Mod(mut item), Ok(module)) => {
            let submodule =
                submodule_static(&module.krate, &module.name, &module.doc, &entries(&module));
            push_item(&mut item, submodule);
            item.into_token_stream()
        }
        (ParsedItem::Mod(mut item), Err(errors)) => {
            let placeholder = submodule_static(&parsed.krate, &parsed.name, &Doc::default(), &[]);
            push_item(&mut item, placeholder);
            let errors = errors.to_compile_error();
            quote!(#item #errors)
        }
        (ParsedItem::Other(tokens), result) => {
            let errors = result.err().map(|e| e.to_compile_error());
            quote!(#tokens #errors)
        }
    }
}

/// The expansion of a `#[kemi_export]` that no `#[kemi_module]` consumed:
/// the function unchanged, and an error telling where it belongs.
pub fn stray_export(item: TokenStream) -> TokenStream {
    let error = syn::Error::new(
        Span::call_site(),
        "#[kemi_export] only works inside a module marked #[kemi_module(name = \"...\")]: \
         put this function in an inline `mod` with that attribute, which collects it into the module's `SUBMODULE`",
    )
    .to_compile_error();
    quote!(#item #error)
}

fn push_item(item: &mut syn::ItemMod, tokens: TokenStream) {
    if let Some((_, items)) = item.content.as_mut() {
        items.push(Item::Verbatim(tokens));
    }
}

fn submodule_static(krate: &Path, name: &str, doc: &Doc, entries: &[TokenStream]) -> TokenStream {
    let doc = doc_expr(doc);
    let rustdoc = if name.is_empty() {
        " The functions this module exports on `KSR` itself, collected by `#[kemi_module]`."
            .to_string()
    } else {
        format!(
            " The functions this module exports as `KSR.{name}.*`, collected by `#[kemi_module]`."
        )
    };
    quote! {
        #[doc = #rustdoc]
        pub static SUBMODULE: #krate::Submodule = #krate::Submodule {
            name: #name,
            doc: #doc,
            exports: &[#(#entries),*],
        };
    }
}

fn entries(module: &Module) -> Vec<TokenStream> {
    module
        .exports
        .iter()
        .map(|f| export_entry(module, f))
        .collect()
}

/// One `Export { ... }` descriptor, its thunk inside.
fn export_entry(module: &Module, f: &ExportFn) -> TokenStream {
    let krate = &module.krate;
    let module_name = &module.name;
    let name = &f.name;
    let ret = match f.ret.kind {
        ReturnKind::None => quote!(#krate::ReturnKind::None),
        ReturnKind::Int => quote!(#krate::ReturnKind::Int),
        ReturnKind::Bool => quote!(#krate::ReturnKind::Bool),
        ReturnKind::Xval => quote!(#krate::ReturnKind::Xval),
    };
    let params = f.params.iter().map(|p| {
        let param_name = &p.name;
        let kind = param_kind(krate, p.ty.kind());
        quote!(#krate::export::Param { name: #param_name, kind: #kind })
    });
    let doc = doc_expr(&f.doc);
    // Spanned at the function's name so they give its file and line.
    let at = f.rust_name.span();
    let file = quote_spanned!(at=> ::core::file!());
    let line = quote_spanned!(at=> ::core::line!());
    let thunk = thunk(krate, f);
    let cfgs = &f.cfgs;
    quote! {
        #(#cfgs)*
        #krate::Export {
            module: #module_name,
            name: #name,
            ret: #ret,
            params: &[#(#params),*],
            doc: #doc,
            file: #file,
            line: #line,
            call: #thunk,
        }
    }
}

fn param_kind(krate: &Path, kind: ParamKind) -> TokenStream {
    match kind {
        ParamKind::Int => quote!(#krate::ParamKind::Int),
        ParamKind::Long => quote!(#krate::ParamKind::Long),
        ParamKind::Str => quote!(#krate::ParamKind::Str),
    }
}

/// The call glue: check the count, convert each argument, call, convert the
/// result. A block evaluating to a `fn` item, which coerces to `Thunk`.
fn thunk(krate: &Path, f: &ExportFn) -> TokenStream {
    let arity = Literal::usize_unsuffixed(f.params.len());
    let ctx_param = if f.context.is_some() {
        quote!(__kemi_ctx)
    } else {
        quote!(_)
    };
    let mut conversions = Vec::with_capacity(f.params.len());
    let mut call_args = Vec::with_capacity(f.params.len() + 1);
    if let Some(ctx) = &f.context {
        // Spanned at the declared type, so a parameter that is not the
        // routing context is reported there.
        call_args.push(quote_spanned!(ctx.ty.span()=> __kemi_ctx));
    }
    for (index, param) in f.params.iter().enumerate() {
        let local = format_ident!("__kemi_arg{}", index);
        let index = Literal::usize_unsuffixed(index);
        let convert = match param.ty {
            ParamType::I32 => quote!(int),
            ParamType::I64 => quote!(long),
            ParamType::StrRef | ParamType::String => quote!(str),
        };
        conversions.push(quote! {
            let #local = #krate::export::convert::#convert(__kemi_args, #index)?;
        });
        call_args.push(match param.ty {
            ParamType::StrRef => quote!(&*#local),
            ParamType::String => quote!(#local.into_owned()),
            ParamType::I32 | ParamType::I64 => quote!(#local),
        });
    }
    let rust_name = &f.rust_name;
    // Spanned at the return type, so a foreign `Xval` type is reported there.
    let ret_span = f
        .ret
        .ty
        .as_ref()
        .map_or_else(|| rust_name.span(), |ty| ty.span());
    // The result variable resolves at the call site in its `let` and its
    // use alike (with the return type's hygiene it would be another
    // identifier when that type comes from a `macro_rules!` expansion); the
    // use is only located at the return type, for the error above.
    let ret_var = format_ident!("__kemi_ret");
    let ret_use = proc_macro2::Ident::new("__kemi_ret", Span::call_site().located_at(ret_span));
    let into_ret = quote_spanned!(ret_span=> #krate::export::IntoRet::into_ret(#ret_use));
    quote! {
        {
            // Calling a deprecated export from its own glue is not a use to warn about.
            #[allow(deprecated)]
            fn __kemi_call(
                #ctx_param: &mut #krate::Context,
                __kemi_args: &[#krate::Arg<'_>],
            ) -> ::core::result::Result<#krate::Ret, #krate::ArgError> {
                #krate::export::convert::arity(__kemi_args, #arity)?;
                #(#conversions)*
                let #ret_var = self::#rust_name(#(#call_args),*);
                ::core::result::Result::Ok(#into_ret)
            }
            __kemi_call
        }
    }
}

/// The doc text as a string literal, or a `concat!` when some part is
/// computed (`#[doc = include_str!(...)]`).
fn doc_expr(doc: &Doc) -> TokenStream {
    if let Some(text) = doc.text() {
        return LitStr::new(&text, Span::call_site()).into_token_stream();
    }
    let mut pieces = Vec::with_capacity(doc.parts.len() * 2);
    for (i, part) in doc.parts.iter().enumerate() {
        if i > 0 {
            pieces.push(quote!("\n"));
        }
        pieces.push(match part {
            DocPart::Text(line) => LitStr::new(line, Span::call_site()).into_token_stream(),
            DocPart::Expr(expr) => expr.into_token_stream(),
        });
    }
    quote!(::core::concat!(#(#pieces),*))
}
