use kemi_core::kemi_module;

#[kemi_module(name = "t")]
mod kemi {
    #[kemi_export]
    unsafe extern "C" fn printf_like(_format: &str, _: ...) {}
}

fn main() {}
