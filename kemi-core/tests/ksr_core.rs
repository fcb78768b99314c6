//! The core `KSR.*` functions, called the way engines call them: through the
//! registry's descriptors with script arguments.

use std::sync::Arc;

use kemi_core::context::RouteKind;
use kemi_core::{Arg, Context, Registry, Ret, Runtime};

fn call(ctx: &mut Context, name: &str, args: &[Arg<'_>]) -> Ret {
    let registry = Registry::new(&[]);
    let export = registry
        .find("", name)
        .unwrap_or_else(|| panic!("KSR.{name} is not registered"));
    export
        .invoke(ctx, args)
        .unwrap_or_else(|e| panic!("KSR.{name} refused its arguments: {e}"))
}

fn ctx() -> Context {
    Context::new(Arc::new(Runtime::new(3)))
}

#[test]
fn message_flags_set_test_and_reset() {
    let mut c = ctx();
    assert_eq!(call(&mut c, "isflagset", &[Arg::Int(5)]), Ret::Bool(false));
    assert_eq!(call(&mut c, "setflag", &[Arg::Int(5)]), Ret::Bool(true));
    assert_eq!(call(&mut c, "isflagset", &[Arg::Int(5)]), Ret::Bool(true));
    assert_eq!(c.flags, 1 << 5);
    assert_eq!(
        call(&mut c, "resetflag", &[Arg::Str(b"5")]),
        Ret::Bool(true)
    );
    assert_eq!(call(&mut c, "isflagset", &[Arg::Int(5)]), Ret::Bool(false));
}

#[test]
fn flags_out_of_range_are_refused() {
    let mut c = ctx();
    for flag in [-1, 32, 1000] {
        assert_eq!(call(&mut c, "setflag", &[Arg::Int(flag)]), Ret::Bool(false));
        assert_eq!(
            call(&mut c, "setsflag", &[Arg::Int(flag)]),
            Ret::Bool(false)
        );
        assert_eq!(
            call(&mut c, "setbflag", &[Arg::Int(flag)]),
            Ret::Bool(false)
        );
    }
    assert_eq!(
        call(&mut c, "setbiflag", &[Arg::Int(1), Arg::Int(12)]),
        Ret::Bool(false)
    );
    assert_eq!(
        call(&mut c, "setbiflag", &[Arg::Int(1), Arg::Int(-1)]),
        Ret::Bool(false)
    );
    assert_eq!((c.flags, c.sflags), (0, 0));
    assert!(c.bflags.iter().all(|b| *b == 0));
}

#[test]
fn branch_flags_are_per_branch() {
    let mut c = ctx();
    assert_eq!(call(&mut c, "setbflag", &[Arg::Int(2)]), Ret::Bool(true));
    assert_eq!(
        call(&mut c, "setbiflag", &[Arg::Int(3), Arg::Int(4)]),
        Ret::Bool(true)
    );
    assert_eq!(call(&mut c, "isbflagset", &[Arg::Int(2)]), Ret::Bool(true));
    assert_eq!(
        call(&mut c, "isbiflagset", &[Arg::Int(2), Arg::Int(4)]),
        Ret::Bool(false)
    );
    assert_eq!(
        call(&mut c, "isbiflagset", &[Arg::Int(3), Arg::Int(4)]),
        Ret::Bool(true)
    );
    assert_eq!(
        call(&mut c, "resetbiflag", &[Arg::Int(3), Arg::Int(4)]),
        Ret::Bool(true)
    );
    assert_eq!(
        call(&mut c, "isbiflagset", &[Arg::Int(3), Arg::Int(4)]),
        Ret::Bool(false)
    );
    assert_eq!(call(&mut c, "resetbflag", &[Arg::Int(2)]), Ret::Bool(true));
    assert_eq!(c.bflags, [0; 12]);
}

#[test]
fn script_flags_are_separate_from_message_flags() {
    let mut c = ctx();
    assert_eq!(call(&mut c, "setsflag", &[Arg::Int(1)]), Ret::Bool(true));
    assert_eq!(call(&mut c, "issflagset", &[Arg::Int(1)]), Ret::Bool(true));
    assert_eq!(call(&mut c, "isflagset", &[Arg::Int(1)]), Ret::Bool(false));
    assert_eq!(call(&mut c, "resetsflag", &[Arg::Int(1)]), Ret::Bool(true));
    assert_eq!(c.sflags, 0);
}

#[test]
fn destination_uri_is_set_tested_and_cleared() {
    let mut c = ctx();
    assert_eq!(call(&mut c, "isdsturiset", &[]), Ret::Bool(false));
    assert_eq!(
        call(&mut c, "setdsturi", &[Arg::Str(b"sip:10.0.0.1:5080")]),
        Ret::Bool(true)
    );
    assert_eq!(c.dst_uri.as_deref(), Some("sip:10.0.0.1:5080"));
    assert_eq!(call(&mut c, "isdsturiset", &[]), Ret::Bool(true));
    assert_eq!(call(&mut c, "setdsturi", &[Arg::Str(b"")]), Ret::Bool(true));
    assert_eq!(call(&mut c, "isdsturiset", &[]), Ret::Bool(false));
    assert_eq!(call(&mut c, "resetdsturi", &[]), Ret::Bool(true));
    assert_eq!(c.dst_uri, None);
}

#[test]
fn send_options_and_rport_marks() {
    let mut c = ctx();
    for name in [
        "force_rport",
        "add_local_rport",
        "set_forward_close",
        "set_forward_no_connect",
        "set_reply_close",
        "set_reply_no_connect",
    ] {
        assert_eq!(call(&mut c, name, &[]), Ret::Bool(true), "KSR.{name}");
    }
    assert!(c.force_rport && c.add_local_rport);
    assert!(c.forward_send.close && c.forward_send.no_connect);
    assert!(c.reply_send.close && c.reply_send.no_connect);
}

#[test]
fn set_drop_only_marks_outside_the_request_route() {
    let mut c = ctx();
    assert_eq!(call(&mut c, "set_drop", &[]), Ret::None);
    assert!(!c.drop, "the request route has no drop mark");
    c.route = RouteKind::Reply;
    call(&mut c, "set_drop", &[]);
    assert!(c.drop);
    assert!(!c.exit, "set_drop does not stop the script");
}

#[test]
fn get_debug_reads_the_runtime_level() {
    let mut c = ctx();
    assert_eq!(call(&mut c, "get_debug", &[]), Ret::Int(3));
    c.runtime().set_debug_level(-1);
    assert_eq!(call(&mut c, "get_debug", &[]), Ret::Int(-1));
}

#[test]
fn log_functions_take_text_and_refuse_null() {
    let mut c = ctx();
    for name in ["dbg", "info", "notice", "warn", "err", "crit"] {
        assert_eq!(call(&mut c, name, &[Arg::Str(b"hello\n")]), Ret::None);
    }
    assert_eq!(
        call(&mut c, "log", &[Arg::Str(b"info"), Arg::Str(b"x")]),
        Ret::None
    );
    let registry = Registry::new(&[]);
    let info = registry.find("", "info").expect("KSR.info");
    let err = info
        .invoke(&mut c, &[Arg::Other("nil")])
        .expect_err("nil text");
    let text = err.to_string();
    assert!(
        text.contains("KSR.info") && text.contains("none KSR.info(str text)"),
        "{text}"
    );
}

#[test]
fn core_exports_come_first_in_registry_order() {
    let registry = Registry::new(&[]);
    let names: Vec<&str> = registry.submodules().iter().map(|s| s.name).collect();
    assert_eq!(names, ["", "pv", "hdr"]);
    let first: Vec<String> = registry.exports().take(3).map(|e| e.path()).collect();
    assert_eq!(first, ["KSR.dbg", "KSR.err", "KSR.info"]);
}
