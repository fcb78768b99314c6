// A marker with no #[kemi_module] around it.
use kemi_core::kemi_export;

#[kemi_export]
pub fn alone(n: i32) -> i32 {
    n
}

fn main() {}
