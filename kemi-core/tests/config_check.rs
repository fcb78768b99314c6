//! What `kemi-proxy -c -f FILE` reports for the three broken configs of the
//! issue: one clear error each, as `file:line: message`.

mod config_common;

use config_common::*;

fn single_error(name: &str) -> String {
    let errs = load_fixture(name, ALL_MODULES).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs}");
    let shown = errs.to_string();
    let path = fixture(name).display().to_string();
    shown
        .strip_prefix(&path)
        .unwrap_or_else(|| panic!("{shown} does not start with {path}"))
        .to_string()
}

#[test]
fn unknown_module() {
    let e = single_error("bad-module.cfg");
    assert!(e.starts_with(":4: unknown module 'no_such_module' in loadmodule \"no_such_module.so\"; available modules: app_jsdt, "), "{e}");
}

#[test]
fn unknown_modparam() {
    let e = single_error("bad-modparam.cfg");
    assert_eq!(
        e,
        ":4: module tm has no parameter 'no_such_param'; its parameters: failure_reply_mode, fr_timer, fr_inv_timer, event_callback"
    );
}

#[test]
fn bad_define_nesting() {
    assert_eq!(
        single_error("bad-nesting.cfg"),
        ":3: #!ifdef without a matching #!endif"
    );
}
