use kemi_core::kemi_module;

#[kemi_module(name = "t")]
mod kemi {
    #[kemi_export]
    async fn later() {}

    #[kemi_export]
    unsafe fn risky() {}

    #[kemi_export]
    extern "C" fn foreign() {}
}

fn main() {}
