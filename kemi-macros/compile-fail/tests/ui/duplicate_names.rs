use kemi_core::kemi_module;

#[kemi_module(name = "t")]
mod kemi {
    #[kemi_export]
    fn relay() {}

    // Same script name as the function above.
    #[kemi_export(name = "relay")]
    fn relay_again() {}
}

fn main() {}
