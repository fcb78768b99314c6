//! Every class of config error: its message and its line.

mod config_common;

use config_common::*;
use kemi_core::config::{self, ErrorKind};

#[test]
fn unknown_module_lists_the_available_ones() {
    let (line, msg) = one_err("#!KAMAILIO\n\nloadmodule \"/usr/lib/kamailio/modules/nosuch.so\"\n");
    assert_eq!(line, 3);
    assert_eq!(
        msg,
        "unknown module 'nosuch' in loadmodule \"/usr/lib/kamailio/modules/nosuch.so\"; available modules: \
         app_jsdt, app_lua, app_python, app_python3, ctl, debugger, jsonrpcs, kex, maxfwd, mi_rpc, \
         nathelper, pv, registrar, rr, sl, textops, tm, tmx, xlog"
    );
    let (_, msg) = one_err("loadmodule \"xlgo\"\n");
    assert!(
        msg.starts_with("unknown module 'xlgo' in loadmodule \"xlgo\" (did you mean 'xlog'?)"),
        "{msg}"
    );
}

#[test]
fn all_unknown_modules_are_reported_in_one_run() {
    let errs = config::parse_str(
        "loadmodule \"a.so\"\nloadmodule \"tm.so\"\nloadmodule \"b.so\"\nmodparam(\"a\", \"x\", 1)\n",
        "t.cfg",
        ALL_MODULES,
        &[],
    )
    .unwrap_err();
    assert_eq!(errs.unknown_modules(), ["a", "b"]);
    assert_eq!(errs.to_string().lines().count(), 2);
    assert!(errs.to_string().starts_with("t.cfg:1: unknown module 'a'"));
}

#[test]
fn unknown_modparam_lists_the_module_parameters() {
    let (line, msg) = one_err("loadmodule \"tm.so\"\nmodparam(\"tm\", \"fr_timeout\", 5)\n");
    assert_eq!(line, 2);
    assert_eq!(
        msg,
        "module tm has no parameter 'fr_timeout' (did you mean 'fr_timer'?); its parameters: \
         failure_reply_mode, fr_timer, fr_inv_timer, event_callback"
    );
    let (_, msg) = one_err("loadmodule \"tmx.so\"\nmodparam(\"tmx\", \"x\", 5)\n");
    assert_eq!(msg, "module tmx has no parameter 'x'; it has no parameters");
}

#[test]
fn modparam_type_mismatch() {
    let (line, msg) = one_err("loadmodule \"tm\"\n\nmodparam(\"tm\", \"fr_timer\", \"30\")\n");
    assert_eq!(
        (line, msg.as_str()),
        (
            3,
            "parameter 'fr_timer' of module tm takes an integer, not the string \"30\""
        )
    );
    let (_, msg) = one_err("loadmodule \"xlog\"\nmodparam(\"xlog\", \"prefix\", 1)\n");
    assert_eq!(
        msg,
        "parameter 'prefix' of module xlog takes a string, not the number 1"
    );
}

#[test]
fn modparam_for_a_module_not_loaded() {
    let (line, msg) = one_err("\nmodparam(\"tm\", \"fr_timer\", 1)\n");
    assert_eq!(line, 2);
    assert_eq!(
        msg,
        "modparam(\"tm\", \"fr_timer\", ...): module 'tm' is not loaded; add loadmodule \"tm.so\" before this line"
    );
    let (_, msg) = one_err("loadmodule \"sl\"\nmodparam(\"zzz\", \"p\", 1)\n");
    assert_eq!(
        msg,
        "modparam(\"zzz\", \"p\", ...): no loaded module matches 'zzz' (loaded: sl)"
    );
    let (_, msg) = one_err("loadmodule \"sl\"\nmodparam(\"(\", \"p\", 1)\n");
    assert!(
        msg.starts_with("modparam module name: invalid regular expression"),
        "{msg}"
    );
}

#[test]
fn modparam_value_must_be_number_or_string() {
    let (line, msg) = one_err("loadmodule \"tm\"\nmodparam(\"tm\", \"fr_timer\", FLT_UNDEFINED)\n");
    assert_eq!(line, 2);
    assert!(
        msg.contains("not the name 'FLT_UNDEFINED' (an undefined define?)"),
        "{msg}"
    );
    let (_, msg) = one_err("loadmodule \"tm\"\nmodparam(\"tm\", \"fr_timer\" 1)\n");
    assert_eq!(msg, "modparam: expected ',', found number 1");
}

#[test]
fn unbalanced_ifdef_is_reported_at_the_opening_directive() {
    let errs = parse_err("#!KAMAILIO\n#!ifdef A\n#!ifndef B\ndebug=1\n#!endif\n");
    assert_eq!(
        errs,
        [(2, "#!ifdef without a matching #!endif".to_string())]
    );
    assert_eq!(
        one_err("debug=1\n#!endif\n"),
        (2, "#!endif without #!ifdef".into())
    );
    assert_eq!(one_err("#!else\n"), (1, "#!else without #!ifdef".into()));
    assert_eq!(
        one_err("#!ifdef A\n#!else\n#!else\n#!endif\n"),
        (3, "second #!else for the #!ifdef at test.cfg:1".into())
    );
    assert_eq!(
        one_err("#!ifdef A\n#!endif WITH_A\n"),
        (
            2,
            "#!endif must be alone on its line (found 'WITH_A' after it)".into()
        )
    );
    assert_eq!(
        one_err("#!ifdef KAMAILIO_6\n#!endif // KAMAILIO_6\n"),
        (
            2,
            "#!endif must be alone on its line (found '// KAMAILIO_6' after it)".into()
        )
    );
    // Mid-line in skipped text it is only text.
    assert_eq!(parse_ok("#!ifdef A\nx #!endif y\n#!endif\n").debug, 2);
}

#[test]
fn ifdef_nesting_beyond_512_is_an_error() {
    let mut text = String::new();
    for _ in 0..513 {
        text.push_str("#!ifdef X\n");
    }
    for _ in 0..513 {
        text.push_str("#!endif\n");
    }
    assert_eq!(
        one_err(&text),
        (513, "#!ifdef nested deeper than 512 levels".into())
    );
}

#[test]
fn define_errors() {
    assert_eq!(
        one_err("#!define A 1\n#!define A 2\n"),
        (2, "#!define: 'A' is already defined (use #!redefine to change it, #!trydef to keep the first value)".into())
    );
    assert_eq!(
        one_err("#!define MY-NAME 1\n"),
        (
            1,
            "#!define: '-' is not allowed in a define name ('MY-NAME')".into()
        )
    );
    assert_eq!(one_err("#!define\n"), (1, "#!define needs a name".into()));
    assert_eq!(
        one_err("#!undef NOPE\n"),
        (1, "#!undef: 'NOPE' is not defined".into())
    );
    assert_eq!(
        one_err("\n#!ifdef\n#!endif\n"),
        (2, "#!ifdef needs one define name".into())
    );
    assert_eq!(
        one_err("#!ifdef A B\n#!endif\n"),
        (1, "#!ifdef needs one define name".into())
    );
    assert_eq!(
        one_err("#!ifexp 1 +\n#!endif\n"),
        (1, "#!ifexp: unexpected 'end' in expression".into())
    );
    assert_eq!(
        one_err("#!frobnicate X\n"),
        (1, "unknown pre-processor directive '#!frobnicate'".into())
    );
    assert_eq!(
        one_err("#!KAMAILIO extra\n"),
        (1, "#!KAMAILIO must be alone on its line".into())
    );
    assert_eq!(
        one_err("#!subst \"/a/b\"\n"),
        (
            1,
            "#!subst: substitution '/a/b' must have the form /regex/replacement/flags".into()
        )
    );
    assert_eq!(
        one_err("#!subst /a/b/\n"),
        (
            1,
            "#!subst expects a quoted \"/regex/replacement/flags\"".into()
        )
    );
    assert_eq!(
        one_err("#!define A A\nchildren=A\nport=1\n"),
        (
            2,
            "define 'A' expands into itself (or expands too much)".into()
        )
    );
}

#[test]
fn unknown_core_parameter() {
    let (line, msg) = one_err("#!KAMAILIO\ndebug=2\nchilden=4\n");
    assert_eq!(
        (line, msg.as_str()),
        (
            3,
            "unknown core parameter 'childen' (did you mean 'children'?)"
        )
    );
    let (_, msg) = one_err("kemi.request_callback=\"f\"\n");
    assert!(
        msg.starts_with("unknown core parameter 'kemi.request_callback'"),
        "{msg}"
    );
    let errs = config::parse_str("frob=1\n", "t.cfg", ALL_MODULES, &[]).unwrap_err();
    assert_eq!(
        errs.errors[0].kind,
        ErrorKind::UnknownCoreParam {
            name: "frob".into()
        }
    );
}

#[test]
fn core_parameter_values() {
    assert_eq!(
        one_err("children=\"4\"\n"),
        (1, "children takes an integer, not the string \"4\"".into())
    );
    assert_eq!(
        one_err("log_prefix=4\n"),
        (1, "log_prefix takes a string, not the number 4".into())
    );
    assert_eq!(
        one_err("debug=LEVEL\n"),
        (
            1,
            "debug takes an integer, not the name 'LEVEL' (an undefined name?)".into()
        )
    );
    assert_eq!(
        one_err("port=70000\n"),
        (1, "port must be 1..65535, not 70000".into())
    );
    assert_eq!(
        one_err("children=0\n"),
        (1, "children must be an integer of at least 1, not 0".into())
    );
    assert_eq!(
        one_err("kemi.request_route_callback=\"\"\n"),
        (1, "kemi.request_route_callback cannot be empty".into())
    );
    assert_eq!(
        one_err("log_facility=LOCAL0\n"),
        (
            1,
            "log_facility must be a syslog facility (LOG_DAEMON, LOG_LOCAL0..LOG_LOCAL7, ...), not 'LOCAL0'".into()
        )
    );
    assert_eq!(
        one_err("debug 3\n"),
        (1, "debug: expected '=', found number 3".into())
    );
}

#[test]
fn cfgengine_errors() {
    assert_eq!(
        one_err("cfgengine \"lua\"\nloadmodule \"app_lua.so\"\n"),
        (1, "cfgengine \"lua\": the engine's module is not loaded; put loadmodule \"app_lua.so\" before cfgengine".into())
    );
    assert_eq!(
        one_err("cfgengine \"perl\"\n"),
        (1, "cfgengine \"perl\": unknown engine; known engines: jsdt, lua, python, ruby, sqlang, native".into())
    );
}

#[test]
fn lexical_errors() {
    assert_eq!(
        one_err("log_prefix=\"abc\n"),
        (1, "unterminated \" string".into())
    );
    assert_eq!(
        one_err("debug=1\n/* open\n/* nested */\n"),
        (2, "unterminated /* comment".into())
    );
    assert_eq!(
        one_err("log_prefix='abc\n"),
        (1, "unterminated ' string".into())
    );
    assert_eq!(
        one_err("debug=99999999999999999999\n"),
        (1, "number 99999999999999999999 is too large".into())
    );
    // Not a second error from children's own range check.
    assert_eq!(
        one_err("children=99999999999999999999999\n"),
        (1, "number 99999999999999999999999 is too large".into())
    );
    assert_eq!(
        one_err("= 3\n"),
        (1, "unexpected '=' at the start of a statement".into())
    );
    assert_eq!(
        one_err("hello\n"),
        (
            1,
            "unexpected 'hello' (not a statement or core parameter)".into()
        )
    );
    assert_eq!(
        one_err("loadmodule tm\n"),
        (
            1,
            "loadmodule: expected a quoted string, found 'tm' (an undefined name?)".into()
        )
    );
}

#[test]
fn native_request_route_is_an_error_other_blocks_are_skipped() {
    let (line, msg) =
        one_err("debug=1\nrequest_route {\n  if (is_method(\"INVITE\")) { t_relay(); }\n}\n");
    assert_eq!(line, 2);
    assert!(
        msg.starts_with("native request_route blocks are not supported"),
        "{msg}"
    );
    assert_eq!(one_err("route {\n exit;\n}\n").0, 1);
    let cfg = parse_ok(
        "route[AUTH] {\n  if ($rU == \"}\") { exit; }\n}\nevent_route[tm:local-request] {\n xlog(\"x\");\n}\n\
         failure_route[MANAGE_FAILURE] { }\ndebug=3\n",
    );
    assert_eq!(cfg.debug, 3);
    let routes: Vec<(String, Option<String>, u32)> = cfg
        .native_routes
        .iter()
        .map(|r| (r.kind.clone(), r.name.clone(), r.line))
        .collect();
    assert_eq!(
        routes,
        [
            ("route".into(), Some("AUTH".into()), 1),
            ("event_route".into(), Some("tm:local-request".into()), 4),
            ("failure_route".into(), Some("MANAGE_FAILURE".into()), 7),
        ]
    );
    assert_eq!(
        one_err("route[X] {\n{\n}\n"),
        (1, "route block without its closing '}'".into())
    );
}

#[test]
fn listen_errors() {
    assert_eq!(
        one_err("listen=udp:1.2.3.4:99999\n"),
        (
            1,
            "listen: invalid port '99999' in 'udp:1.2.3.4:99999'".into()
        )
    );
    assert_eq!(
        one_err("listen=\n"),
        (1, "listen: expected an address".into())
    );
    assert_eq!(
        one_err("listen=ws:1.2.3.4:80\n").1,
        "listen: protocol 'ws' cannot be used here: WebSocket runs over a tcp or tls socket"
    );
    assert_eq!(
        one_err("listen=udp:1.2.3.4:5060 advertise\n").1,
        "listen: advertise needs an address"
    );
}

#[test]
fn errors_keep_going_and_display_as_file_line_message() {
    let text =
        "#!KAMAILIO\nbad_param=1\nloadmodule \"nosuch\"\nchildren=\"x\"\ndebug=3\n#!ifdef OPEN\n";
    let errs = config::parse_str(text, "/etc/kamailio/kamailio.cfg", ALL_MODULES, &[]).unwrap_err();
    let lines: Vec<String> = errs
        .to_string()
        .lines()
        .map(|l| l.split(": ").next().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "/etc/kamailio/kamailio.cfg:2",
            "/etc/kamailio/kamailio.cfg:3",
            "/etc/kamailio/kamailio.cfg:4",
            "/etc/kamailio/kamailio.cfg:6",
        ]
    );
}

#[test]
fn missing_file() {
    let errs = config::load(
        std::path::Path::new("/nonexistent/kamailio.cfg"),
        ALL_MODULES,
        &[],
    )
    .unwrap_err();
    assert_eq!(errs.len(), 1);
    assert!(
        errs.to_string()
            .starts_with("/nonexistent/kamailio.cfg: cannot read the config file:"),
        "{errs}"
    );
}
