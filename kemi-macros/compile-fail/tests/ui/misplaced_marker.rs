use kemi_core::kemi_module;

#[kemi_module(name = "t")]
mod kemi {
    pub struct S;

    impl S {
        #[kemi_export]
        pub fn in_impl() {}
    }

    #[kemi_export]
    pub const NOT_A_FN: i32 = 1;
}

#[kemi_module(name = "u")]
fn not_a_module() {}

fn main() {}
