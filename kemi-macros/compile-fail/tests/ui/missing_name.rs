use kemi_core::kemi_module;

#[kemi_module]
mod kemi {}

fn main() {}
