use kemi_core::kemi_module;

#[kemi_module(name = "t")]
mod kemi {
    #[kemi_export]
    fn method(&self, _n: i32) {}
}

fn main() {}
