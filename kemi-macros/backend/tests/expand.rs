//! Snapshots of what `#[kemi_module]` generates, pretty-printed. Review a
//! change with `cargo insta review`, or rewrite all with
//! `INSTA_UPDATE=always cargo test -p kemi-macros-backend`.

use kemi_macros_backend::{expand_module, expand_stray_export};
use proc_macro2::TokenStream;
use quote::quote;

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the expansion is a valid Rust file");
    prettyplease::unparse(&file)
}

#[test]
fn module_with_every_kind() {
    let expanded = expand_module(
        quote!(name = "demo"),
        quote! {
            /// A demo submodule.
            ///
            /// Second paragraph.
            pub mod kemi {
                use kemi_core::{Context, Xval};

                /// Sends a reply.
                ///   Indented line keeps its extra spaces.
                #[kemi_export]
                pub fn send_reply(ctx: &mut Context, code: i32, reason: &str) -> i32 {
                    1
                }

                #[kemi_export]
                fn add(a: i64, b: i64) -> Xval {
                    Xval::Long(a + b)
                }

                #[kemi_export]
                fn owned(s: String) -> bool {
                    !s.is_empty()
                }

                #[kemi_export]
                fn read_only(ctx: &Context) {}

                /// Renamed for scripts.
                #[kemi_export(name = "t_relay")]
                #[cfg(unix)]
                fn relay() -> () {}

                fn helper() {}
            }
        },
    );
    insta::assert_snapshot!(pretty(expanded));
}

#[test]
fn core_module_inside_kemi_core() {
    let expanded = expand_module(
        quote!(name = "", crate = "crate"),
        quote! {
            mod core {
                #[kemi_export]
                fn dbg(msg: &str) {}
            }
        },
    );
    insta::assert_snapshot!(pretty(expanded));
}

#[test]
fn errors_keep_the_module_and_a_placeholder() {
    let expanded = expand_module(
        quote!(name = "bad", colour = "blue"),
        quote! {
            mod kemi {
                #[kemi_export]
                async fn a(x: f64) -> String {}
                #[kemi_export]
                fn fine(n: i32) -> i32 { n }
            }
        },
    );
    insta::assert_snapshot!(pretty(expanded));
}

#[test]
fn stray_export_keeps_the_function() {
    let expanded = expand_stray_export(
        quote!(),
        quote!(
            fn alone() {}
        ),
    );
    insta::assert_snapshot!(pretty(expanded));
}
