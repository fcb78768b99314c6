use kemi_core::kemi_module;

#[kemi_module(name = "t")]
mod kemi {
    #[kemi_export]
    fn pair((_a, _b): (i32, i32)) {}

    #[kemi_export]
    fn ignored(_: i32) {}
}

fn main() {}
