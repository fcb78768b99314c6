//! Calls the ktest exports through their generated thunks, the way every
//! engine does (`Export::invoke` with a slice of `Arg`), with good and bad
//! arguments.

use std::borrow::Cow;
use std::sync::Arc;

use kemi_core::{
    Arg, ArgError, CallError, Context, Export, ParamKind, Registry, Ret, ReturnKind, Runtime, Xval,
};
use kemi_mod_ktest::{kemi::SUBMODULE, MODULE};

fn export(name: &str) -> &'static Export {
    SUBMODULE
        .exports
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("KSR.ktest.{name} is exported"))
}

fn context() -> Context {
    Context::new(Arc::new(Runtime::default()))
}

fn call(name: &str, args: &[Arg<'_>]) -> Result<Ret, CallError> {
    export(name).invoke(&mut context(), args)
}

fn ok(name: &str, args: &[Arg<'_>]) -> Ret {
    call(name, args).unwrap_or_else(|e| panic!("{e}"))
}

fn refused(name: &str, args: &[Arg<'_>]) -> CallError {
    match call(name, args) {
        Ok(ret) => panic!("KSR.ktest.{name} accepted {args:?} and returned {ret:?}"),
        Err(e) => e,
    }
}

fn xval(name: &str, args: &[Arg<'_>]) -> Xval {
    match ok(name, args) {
        Ret::Xval(x) => x,
        other => panic!("KSR.ktest.{name} returned {other:?}, not an xval"),
    }
}

#[test]
fn each_return_kind() {
    assert_eq!(ok("ret_int", &[Arg::Int(-3)]), Ret::Int(-3));
    assert_eq!(ok("ret_bool", &[Arg::Int(1)]), Ret::Bool(true));
    assert_eq!(ok("ret_bool", &[Arg::Int(0)]), Ret::Bool(false));
    assert_eq!(ok("ret_none", &[]), Ret::None);
    assert_eq!(xval("xval_int", &[Arg::Int(7)]), Xval::Int(7));
    assert_eq!(xval("xval_long", &[Arg::Int(1 << 40)]), Xval::Long(1 << 40));
    assert_eq!(xval("xval_str", &[Arg::Str(b"abc")]), Xval::from("abc"));
    assert_eq!(xval("xval_null", &[]), Xval::Null);
    assert_eq!(
        xval("xval_dict", &[Arg::Str(b"alice"), Arg::Int(2)]),
        Xval::Dict(vec![
            (Cow::Borrowed("name"), Xval::from("alice")),
            (Cow::Borrowed("n"), Xval::Int(2)),
        ])
    );
    assert_eq!(
        xval("xval_array", &[Arg::Int(3)]),
        Xval::Array(vec![Xval::Int(1), Xval::Int(2), Xval::Int(3)])
    );
    assert_eq!(xval("xval_array", &[Arg::Int(0)]), Xval::Array(vec![]));
}

#[test]
fn declared_kinds_match_the_rust_signatures() {
    let sig = |name: &str| export(name).signature();
    assert_eq!(sig("ret_int"), "int KSR.ktest.ret_int(int n)");
    assert_eq!(sig("ret_bool"), "bool KSR.ktest.ret_bool(int n)");
    assert_eq!(sig("ret_none"), "none KSR.ktest.ret_none()");
    assert_eq!(sig("xval_long"), "xval KSR.ktest.xval_long(long n)");
    assert_eq!(sig("concat"), "xval KSR.ktest.concat(str a, str b)");
    assert_eq!(sig("sum_long"), "xval KSR.ktest.sum_long(long a, long b)");
    assert_eq!(
        sig("many"),
        "xval KSR.ktest.many(int a, long b, str c, int d, str e, long f, str g, int h)"
    );
    // The routing context is not a script parameter.
    assert_eq!(
        sig("set_flag_via_ctx"),
        "bool KSR.ktest.set_flag_via_ctx(int flag)"
    );
    assert_eq!(sig("is_flag_set"), "bool KSR.ktest.is_flag_set(int flag)");
    assert_eq!(sig("owned_len"), "int KSR.ktest.owned_len(str s)");
    assert_eq!(export("ret_none").params_list(), "none");
    assert_eq!(export("many").params.len(), 8);
    assert_eq!(export("xval_null").ret, ReturnKind::Xval);
}

#[test]
fn docs_and_module_come_from_the_source() {
    assert_eq!(SUBMODULE.name, "ktest");
    assert!(SUBMODULE
        .doc
        .starts_with("Test exports: one per parameter and return kind"));
    assert_eq!(
        export("set_flag_via_ctx").doc,
        "Sets message flag `flag` (0..31) in the routing context; false\nwhen the flag is out of range."
    );
    assert!(SUBMODULE.exports.iter().all(|e| e.module == "ktest"));
    assert!(SUBMODULE.exports.iter().all(|e| e.file.ends_with("lib.rs")));
}

#[test]
fn string_and_long_parameters() {
    assert_eq!(
        xval("concat", &[Arg::Str(b"foo"), Arg::Str(b"bar")]),
        Xval::from("foobar")
    );
    // Numbers given for a str parameter are formatted.
    assert_eq!(
        xval("concat", &[Arg::Int(4), Arg::Float(2.5)]),
        Xval::from("42.5")
    );
    assert_eq!(
        xval(
            "sum_long",
            &[Arg::Int(i64::from(i32::MAX)), Arg::Int(i64::from(i32::MAX))]
        ),
        Xval::Long(2 * i64::from(i32::MAX))
    );
    // An owned String parameter; invalid UTF-8 is replaced, not refused.
    assert_eq!(
        ok("owned_len", &[Arg::Str("héllo".as_bytes())]),
        Ret::Int(5)
    );
    assert_eq!(ok("owned_len", &[Arg::Str(b"a\xffb")]), Ret::Int(3));
}

#[test]
fn eight_parameters() {
    let args = [
        Arg::Int(1),
        Arg::Int(2),
        Arg::Str(b"c"),
        Arg::Str(b"4"),
        Arg::Str(b"e"),
        Arg::Float(6.0),
        Arg::Int(7),
        Arg::Bool(true),
    ];
    assert_eq!(xval("many", &args), Xval::from("1|2|c|4|e|6|7|1"));
    let e = refused("many", &args[..7]);
    assert_eq!(
        e.problem,
        ArgError::Count {
            expected: 8,
            got: 7
        }
    );
}

#[test]
fn the_context_reaches_the_function() {
    let mut ctx = context();
    let mut with_ctx = |name: &str, flag: i64| {
        let ret = export(name).invoke(&mut ctx, &[Arg::Int(flag)]);
        ret.map_err(|e| e.problem)
    };
    assert_eq!(with_ctx("is_flag_set", 5), Ok(Ret::Bool(false)));
    assert_eq!(with_ctx("set_flag_via_ctx", 5), Ok(Ret::Bool(true)));
    assert_eq!(with_ctx("is_flag_set", 5), Ok(Ret::Bool(true)));
    assert_eq!(with_ctx("set_flag_via_ctx", 32), Ok(Ret::Bool(false)));
    assert_eq!(ctx.flags, 1 << 5);
}

#[test]
fn wrong_argument_count() {
    let e = refused("ret_int", &[]);
    assert_eq!(
        e.problem,
        ArgError::Count {
            expected: 1,
            got: 0
        }
    );
    assert_eq!(
        e.to_string(),
        "KSR.ktest.ret_int: expects 1 argument, got 0 [signature: int KSR.ktest.ret_int(int n)]"
    );
    let e = refused("concat", &[Arg::Str(b"a")]);
    assert_eq!(
        e.to_string(),
        "KSR.ktest.concat: expects 2 arguments, got 1 [signature: xval KSR.ktest.concat(str a, str b)]"
    );
}

#[test]
fn extra_arguments_are_ignored_unless_the_function_takes_none() {
    assert_eq!(
        ok("ret_int", &[Arg::Int(5), Arg::Str(b"extra")]),
        Ret::Int(5)
    );
    let e = refused("ret_none", &[Arg::Int(1)]);
    assert_eq!(
        e.problem,
        ArgError::Count {
            expected: 0,
            got: 1
        }
    );
    assert!(e
        .to_string()
        .starts_with("KSR.ktest.ret_none: expects 0 arguments, got 1"));
    assert!(matches!(
        refused("xval_null", &[Arg::Other("nil")]).problem,
        ArgError::Count { .. }
    ));
}

#[test]
fn nil_where_a_string_is_expected() {
    let e = refused("xval_str", &[Arg::Other("nil")]);
    assert_eq!(
        e.problem,
        ArgError::Kind {
            index: 0,
            expected: ParamKind::Str,
            got: "nil".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "KSR.ktest.xval_str: argument 1 (s) must be str, got nil [signature: xval KSR.ktest.xval_str(str s)]"
    );
    // The failing argument is named by position and parameter name.
    let e = refused("concat", &[Arg::Str(b"a"), Arg::Other("None")]);
    assert!(
        e.to_string()
            .contains("argument 2 (b) must be str, got None"),
        "{e}"
    );
}

#[test]
fn a_table_or_text_where_an_int_is_expected() {
    let e = refused("ret_int", &[Arg::Other("table")]);
    assert_eq!(
        e.problem,
        ArgError::Kind {
            index: 0,
            expected: ParamKind::Int,
            got: "table".into()
        }
    );
    assert!(
        e.to_string()
            .contains("argument 1 (n) must be int, got table"),
        "{e}"
    );

    let e = refused("ret_int", &[Arg::Str(b"abc")]);
    assert!(
        e.to_string().contains(r#"must be int, got string "abc""#),
        "{e}"
    );
    assert!(matches!(
        e.problem,
        ArgError::Kind {
            index: 0,
            expected: ParamKind::Int,
            ..
        }
    ));

    // Too big for an int, fine for a long.
    assert!(matches!(
        refused("ret_int", &[Arg::Int(1 << 40)]).problem,
        ArgError::Kind { .. }
    ));
    assert_eq!(
        xval("xval_long", &[Arg::Str(b"1099511627776")]),
        Xval::Long(1 << 40)
    );
    let e = refused("sum_long", &[Arg::Int(1), Arg::Float(0.5)]);
    assert!(
        e.to_string()
            .contains("argument 2 (b) must be long, got number 0.5"),
        "{e}"
    );
}

#[test]
fn a_numeric_string_is_an_int() {
    assert_eq!(ok("ret_int", &[Arg::Str(b"200")]), Ret::Int(200));
    assert_eq!(ok("ret_int", &[Arg::Float(486.0)]), Ret::Int(486));
}

#[test]
fn renamed_export_uses_the_script_name() {
    assert_eq!(xval("renamed_echo", &[Arg::Str(b"hi")]), Xval::from("hi"));
    assert!(SUBMODULE.exports.iter().all(|e| e.name != "echo"));
    // The Rust function keeps its own name.
    assert_eq!(kemi_mod_ktest::kemi::echo("x"), Xval::from("x"));
}

#[test]
fn the_module_table_entry_reaches_the_registry() {
    assert!(std::ptr::eq(
        MODULE.kemi.expect("ktest has KSR functions"),
        &SUBMODULE
    ));
    let registry = Registry::new(&[&MODULE]);
    let found = registry.find("ktest", "renamed_echo").expect("registered");
    assert!(std::ptr::eq(found, export("renamed_echo")));
    let api = registry.api_list();
    let methods = api["methods"].as_array().expect("a list of methods");
    let ret_int = methods
        .iter()
        .find(|m| m["func"]["module"] == "ktest" && m["func"]["name"] == "ret_int")
        .expect("KSR.ktest.ret_int is listed");
    assert_eq!(ret_int["func"]["ret"], "int");
    assert_eq!(ret_int["func"]["params"], "int");
}
