//! The kamailio.cfg examples of the KEMI interpreter docs, as files.

mod config_common;

use config_common::*;
use kemi_core::config::{ErrorKind, Host, Proto, Value};

#[test]
fn lua_seed_loads_with_its_modules() {
    let cfg = load_fixture("seed-lua.cfg", ALL_MODULES).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.engine.as_deref(), Some("lua"));
    assert_eq!(cfg.debug, 3);
    assert_eq!(cfg.log_stderror, Some(true));
    assert_eq!(cfg.accepted.get("fork"), Some(&Value::Int(1)));
    assert_eq!(cfg.children, 2);
    assert!(!cfg.auto_aliases);
    assert_eq!(cfg.accepted.get("memdbg"), Some(&Value::Int(5)));
    assert_eq!(cfg.listen.len(), 1);
    assert_eq!(cfg.listen[0].proto, Proto::Udp);
    assert_eq!(cfg.listen[0].addr, Host::Ipv4([127, 0, 0, 1].into()));
    assert_eq!(cfg.listen[0].port, Some(5060));
    let names: Vec<&str> = cfg.modules.iter().map(|m| m.name()).collect();
    assert_eq!(
        names,
        [
            "jsonrpcs", "kex", "tm", "tmx", "sl", "pv", "maxfwd", "textops", "xlog", "ctl",
            "debugger", "app_lua"
        ]
    );
    let tm = cfg.module("tm").unwrap();
    assert_eq!(tm.param("fr_timer"), Some(&Value::Int(30000)));
    assert_eq!(tm.param("fr_inv_timer"), Some(&Value::Int(120000)));
    assert_eq!(tm.param("failure_reply_mode"), Some(&Value::Int(3)));
    let lua = cfg.module("app_lua").unwrap();
    assert_eq!(
        lua.param("load"),
        Some(&Value::Str("/etc/kamailio/kamailio.lua".into()))
    );
    assert!(cfg.defines.is_defined("MOD_app_lua"));
    assert!(cfg.defines.is_defined("MOD_tm"));
}

#[test]
fn python_seed_loads_with_its_modules() {
    let cfg = load_fixture("seed-python.cfg", ALL_MODULES).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.engine.as_deref(), Some("python"));
    assert_eq!(cfg.debug, 4);
    assert_eq!(cfg.modules.len(), 13);
    let py = cfg.module("app_python").unwrap();
    assert_eq!(
        py.param("load"),
        Some(&Value::Str("/etc/kamailio/kamailio.py".into()))
    );
    assert_eq!(
        cfg.module("debugger").unwrap().param("cfgtrace"),
        Some(&Value::Int(1))
    );
}

/// Until the management and interpreter modules exist, the seeds report
/// exactly the missing modules, each at its loadmodule line, and nothing
/// else (their modparams and cfgengine stay quiet).
#[test]
fn seeds_report_exactly_the_missing_modules() {
    let errs = load_fixture("seed-lua.cfg", CORE_MODULES).unwrap_err();
    assert_eq!(
        errs.unknown_modules(),
        ["jsonrpcs", "kex", "ctl", "debugger", "app_lua"]
    );
    assert!(
        errs.iter()
            .all(|e| matches!(e.kind, ErrorKind::UnknownModule { .. })),
        "{errs}"
    );
    let lines: Vec<u32> = errs.iter().map(|e| e.line).collect();
    assert_eq!(lines, [17, 18, 26, 27, 28]);
    let first = errs.errors[0].to_string();
    assert!(
        first.ends_with(
            "seed-lua.cfg:17: unknown module 'jsonrpcs' in loadmodule \"jsonrpcs.so\"; \
         available modules: maxfwd, nathelper, pv, registrar, rr, sl, textops, tm, tmx, xlog"
        ),
        "{first}"
    );

    let errs = load_fixture("seed-python.cfg", CORE_MODULES).unwrap_err();
    assert_eq!(
        errs.unknown_modules(),
        ["jsonrpcs", "kex", "ctl", "mi_rpc", "debugger", "app_python"]
    );
    assert_eq!(errs.len(), 6, "{errs}");
}
