use kemi_core::kemi_module;

#[kemi_module(name = 5, colour = "blue", crate)]
mod bad_args {}

#[kemi_module(name = "two words")]
mod bad_name {}

#[kemi_module(name = "twice", name = "again")]
mod twice {}

fn main() {}
