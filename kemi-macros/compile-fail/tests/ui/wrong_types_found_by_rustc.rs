// What the macro cannot see (it has no type information) rustc reports,
// pointing at the user's type rather than at generated code.
use kemi_core::kemi_module;

pub struct Xval;
pub struct Context;

#[kemi_module(name = "t")]
mod kemi {
    #[kemi_export]
    fn not_the_context(_ctx: &mut super::Context) {}

    #[kemi_export]
    fn not_kemi_xval() -> super::Xval {
        super::Xval
    }
}

fn main() {}
