//! Script input that would overflow or exhaust memory: ktest is in the
//! production module table, so `loadmodule "ktest.so"` exposes these to
//! any script, and they must answer sanely instead of panicking or
//! aborting the process.

use std::sync::Arc;

use kemi_core::testing::logs;
use kemi_core::{Arg, Context, Export, Ret, Runtime, Xval};
use kemi_mod_ktest::{kemi::SUBMODULE, XVAL_ARRAY_MAX};

fn export(name: &str) -> &'static Export {
    SUBMODULE
        .exports
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("KSR.ktest.{name} is exported"))
}

fn xval(name: &str, args: &[Arg<'_>]) -> Xval {
    let mut ctx = Context::new(Arc::new(Runtime::default()));
    match export(name).invoke(&mut ctx, args) {
        Ok(Ret::Xval(x)) => x,
        other => panic!("KSR.ktest.{name}{args:?} gave {other:?}"),
    }
}

#[test]
fn sum_long_saturates_at_both_ends_of_the_long_range() {
    assert_eq!(
        xval("sum_long", &[Arg::Int(i64::MAX), Arg::Int(1)]),
        Xval::Long(i64::MAX)
    );
    assert_eq!(
        xval("sum_long", &[Arg::Int(i64::MAX), Arg::Int(i64::MAX)]),
        Xval::Long(i64::MAX)
    );
    assert_eq!(
        xval("sum_long", &[Arg::Int(i64::MIN), Arg::Int(-1)]),
        Xval::Long(i64::MIN)
    );
    // In range it is still a plain sum.
    assert_eq!(
        xval("sum_long", &[Arg::Int(i64::MAX), Arg::Int(i64::MIN)]),
        Xval::Long(-1)
    );
}

#[test]
fn xval_array_documents_its_limit() {
    let doc = export("xval_array").doc;
    assert!(doc.contains(&format!("above {XVAL_ARRAY_MAX} ")), "{doc}");
}

#[test]
fn xval_array_builds_up_to_the_limit() {
    match xval("xval_array", &[Arg::Int(i64::from(XVAL_ARRAY_MAX))]) {
        Xval::Array(items) => {
            assert_eq!(items.len(), XVAL_ARRAY_MAX as usize);
            assert_eq!(items.last(), Some(&Xval::Int(XVAL_ARRAY_MAX)));
        }
        other => panic!("not an array: {other:?}"),
    }
}

#[test]
fn xval_array_above_the_limit_is_refused_with_a_logged_error() {
    for n in [XVAL_ARRAY_MAX + 1, i32::MAX] {
        let (value, lines) = logs::capture(|| xval("xval_array", &[Arg::Int(i64::from(n))]));
        assert_eq!(value, Xval::Null, "n = {n}");
        let errors: Vec<String> = lines
            .iter()
            .filter(|l| l.level == tracing::Level::ERROR && l.target == "ktest")
            .map(|l| l.message.clone())
            .collect();
        assert_eq!(
            errors,
            [format!(
                "KSR.ktest.xval_array({n}): n must be at most {XVAL_ARRAY_MAX}"
            )]
        );
    }
}
