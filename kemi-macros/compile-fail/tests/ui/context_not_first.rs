use kemi_core::kemi_module;

#[kemi_module(name = "t")]
mod kemi {
    use kemi_core::Context;

    #[kemi_export]
    fn late(_n: i32, _ctx: &mut Context) {}
}

fn main() {}
