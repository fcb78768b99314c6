//! Runs the compile-fail cases in `tests/ui/` (see the crate docs for how
//! to bless new output).

#[test]
fn compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
