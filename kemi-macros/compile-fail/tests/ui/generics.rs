use kemi_core::kemi_module;

#[kemi_module(name = "t")]
mod kemi {
    #[kemi_export]
    fn generic<T: Default>() {}

    #[kemi_export]
    fn lifetime<'a>(_s: &'a str) {}

    #[kemi_export]
    fn bounded() where String: Clone {}
}

fn main() {}
