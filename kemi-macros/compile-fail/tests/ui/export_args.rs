use kemi_core::kemi_module;

#[kemi_module(name = "t")]
mod kemi {
    #[kemi_export(nme = "x")]
    fn misspelt() {}

    #[kemi_export(name = "1st")]
    fn not_an_identifier() {}

    #[kemi_export = "x"]
    fn name_value() {}
}

fn main() {}
