use kemi_core::kemi_module;

#[kemi_module(name = "t")]
mod kemi {
    #[kemi_export]
    fn text() -> String {
        String::new()
    }

    #[kemi_export]
    fn maybe() -> Option<i32> {
        None
    }
}

fn main() {}
