use kemi_core::kemi_module;

// References other than `&str` and the routing context are not taken for
// the context: each gets an error naming the types allowed.
#[kemi_module(name = "t")]
mod kemi {
    use kemi_core::Context;

    #[kemi_export]
    fn string_ref(_s: &String) {}

    #[kemi_export]
    fn bytes(_ctx: &mut Context, _b: &[u8]) {}

    #[kemi_export]
    fn int_ref(_n: i32, _m: &i32) {}
}

fn main() {}
