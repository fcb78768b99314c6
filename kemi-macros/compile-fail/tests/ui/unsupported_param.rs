use kemi_core::kemi_module;

#[kemi_module(name = "t")]
mod kemi {
    #[kemi_export]
    fn float(_x: f64) {}

    #[kemi_export]
    fn bytes(_b: Vec<u8>) {}

    #[kemi_export]
    fn mut_str(_s: &mut str) {}

    #[kemi_export]
    fn static_str(_s: &'static str) {}
}

fn main() {}
