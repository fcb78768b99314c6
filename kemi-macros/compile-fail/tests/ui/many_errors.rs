// Every problem of one function, and of the module around it, is reported
// in one build.
use kemi_core::kemi_module;

#[kemi_module(name = "t", colour = "blue")]
mod kemi {
    #[kemi_export(nme = "x")]
    async fn everything_wrong<T>(_x: f64, (_a, _b): (i32, i32), _s: &mut str) -> Vec<u8> {
        Vec::new()
    }

    #[kemi_export]
    fn fine(n: i32) -> i32 {
        n
    }

    #[kemi_export(name = "fine")]
    fn clash() {}
}

fn main() {}
