//! The pre-processor: defines, conditionals, substitutions, includes.

mod config_common;

use config_common::*;
use kemi_core::config::{self, Value};

fn def<'a>(cfg: &'a kemi_core::config::Config, name: &str) -> Option<Option<&'a str>> {
    cfg.defines.get(name)
}

#[test]
fn kamailio_line_and_predefines() {
    let cfg = parse_ok("#!KAMAILIO\n#!ifdef KAMAILIO_6\ndebug=1\n#!endif\n");
    assert_eq!(cfg.debug, 1);
    assert!(cfg.defines.is_defined("KAMAILIO_6_2"));
    assert_eq!(def(&cfg, "KAMAILIO_VERSION"), Some(Some("6002000")));
    assert!(cfg.defines.is_defined("OS_NAME"));
    let cfg = parse_ok("!!KAMAILIO\n#!OPENSER\n");
    assert_eq!(cfg.debug, 2);
}

#[test]
fn define_with_and_without_value() {
    let cfg = parse_ok(
        "#!define WITH_X\n#!define LEVEL 3\n#!define NAME \"lua\"\n\
         #!ifdef WITH_X\ndebug=LEVEL\n#!endif\nlog_prefix=NAME\n",
    );
    assert_eq!(cfg.debug, 3);
    assert_eq!(cfg.log_prefix.as_deref(), Some("lua"));
    assert_eq!(def(&cfg, "WITH_X"), Some(None));
    assert_eq!(def(&cfg, "LEVEL"), Some(Some("3")));
    // `#!def` is the short form.
    assert!(parse_ok("#!def A 1\n").defines.is_defined("A"));
}

#[test]
fn define_value_may_be_several_tokens_or_a_statement() {
    let cfg =
        parse_ok("#!define SETDEBUG debug = 4\nSETDEBUG\n#!define TWO children=2 fork=no\nTWO\n");
    assert_eq!(cfg.debug, 4);
    assert_eq!(cfg.children, 2);
    assert_eq!(cfg.accepted.get("fork"), Some(&Value::Int(0)));
}

#[test]
fn define_value_trailing_comment_is_a_comment() {
    let cfg = parse_ok("#!define FLT_ACC 1 # accounting flag\nchildren=FLT_ACC\n");
    assert_eq!(cfg.children, 1);
}

#[test]
fn multi_line_define_value() {
    let cfg = parse_ok("#!define EXTRA \"a=1;\" \\\n  \"b=2\"\nlog_prefix=EXTRA\ndebug=5\n");
    assert_eq!(cfg.log_prefix.as_deref(), Some("a=1;b=2"));
    assert_eq!(cfg.debug, 5);
}

#[test]
fn define_nested_in_define() {
    let cfg = parse_ok("#!define A B\n#!define B 7\nchildren=A\n");
    assert_eq!(cfg.children, 7);
}

#[test]
fn ifdef_ifndef_else_nesting() {
    let text = "#!define A\n\
                #!ifdef A\n  #!ifndef B\n    debug=1\n  #!else\n    debug=9\n  #!endif\n\
                #!else\n  debug=8\n#!endif\n\
                #!ifdef B\nchildren=9\n#!else\nchildren=3\n#!endif\n";
    let cfg = parse_ok(text);
    assert_eq!((cfg.debug, cfg.children), (1, 3));
}

#[test]
fn skipped_region_may_hold_anything() {
    let text = "#!ifdef ACCDB_COMMENT\n\
                ALTER TABLE acc ADD COLUMN src_user VARCHAR(64) NOT NULL DEFAULT '';\n\
                INSERT INTO version (table_name, table_version) values ('acc','5');\n\
                unbalanced \" quote and /* comment\n\
                #!define NOT_DEFINED\n\
                loadmodule \"nosuch.so\"\n\
                #!endif\n\
                debug=3\n";
    let cfg = parse_ok(text);
    assert_eq!(cfg.debug, 3);
    assert!(!cfg.defines.is_defined("NOT_DEFINED"));
}

#[test]
fn nested_conditionals_inside_skipped_region_are_tracked() {
    let text = "#!ifdef NOPE\n#!ifdef KAMAILIO_6\ndebug=9\n#!else\ndebug=8\n#!endif\ndebug=7\n#!endif\ndebug=1\n";
    assert_eq!(parse_ok(text).debug, 1);
}

#[test]
fn nesting_up_to_512_is_fine() {
    let mut text = String::new();
    for _ in 0..512 {
        text.push_str("#!ifdef KAMAILIO_6\n");
    }
    text.push_str("debug=4\n");
    for _ in 0..512 {
        text.push_str("#!endif\n");
    }
    assert_eq!(parse_ok(&text).debug, 4);
}

#[test]
fn trydef_redefine_undef() {
    let cfg = parse_ok(
        "#!define A 1\n#!trydef A 2\n#!trydef B 3\n#!redefine A 4\n#!redef C 5\n\
         #!define D\n#!undef D\n#!tryundef NEVER\n#!trydefine E\n#!undefine E\n",
    );
    assert_eq!(def(&cfg, "A"), Some(Some("4")));
    assert_eq!(def(&cfg, "B"), Some(Some("3")));
    assert_eq!(def(&cfg, "C"), Some(Some("5")));
    assert!(!cfg.defines.is_defined("D"));
    assert!(!cfg.defines.is_defined("E"));
}

#[test]
fn ifexp() {
    let cfg = parse_ok(
        "#!define LEVEL 3\n#!ifexp LEVEL > 2 && KAMAILIO_VERSION >= 5008000\ndebug=4\n#!else\ndebug=1\n#!endif\n\
         #!ifexp defined_nowhere || 0\nchildren=9\n#!endif\n",
    );
    assert_eq!(cfg.debug, 4);
    assert_eq!(cfg.children, 8);
}

#[test]
fn defexp_defexps() {
    let cfg = parse_ok("#!defexp N 2 * 21\n#!defexps S \"ab\" + \"c\"\nchildren=N\nlog_prefix=S\n");
    assert_eq!(cfg.children, 42);
    assert_eq!(cfg.log_prefix.as_deref(), Some("abc"));
}

#[test]
fn defenv() {
    std::env::set_var("KEMI_CFG_TEST_LEVEL", "4");
    std::env::set_var("KEMI_CFG_TEST_NAME", "pfx");
    let cfg = parse_ok(
        "#!defenv LEVEL=KEMI_CFG_TEST_LEVEL\n#!defenvs KEMI_CFG_TEST_NAME\n\
         #!trydefenv X=KEMI_CFG_TEST_UNSET_VAR\n#!trydefenvs KEMI_CFG_TEST_UNSET_VAR\n\
         debug=LEVEL\nlog_prefix=KEMI_CFG_TEST_NAME\n",
    );
    assert_eq!(cfg.debug, 4);
    assert_eq!(cfg.log_prefix.as_deref(), Some("pfx"));
    assert!(!cfg.defines.is_defined("X"));
    let (line, msg) = one_err("\n#!defenv KEMI_CFG_TEST_UNSET_VAR\n");
    assert_eq!(line, 2);
    assert_eq!(
        msg,
        "#!defenv: environment variable 'KEMI_CFG_TEST_UNSET_VAR' is not set"
    );
}

#[test]
fn subst_applies_to_later_strings() {
    let cfg = parse_ok(
        "log_name=\"before-HOST\"\n#!subst \"/HOST/example.com/g\"\n\
         log_prefix=\"HOST HOST\"\nserver_header='Server: host'\n#!subst \"/host/x/i\"\nuser_agent_header='HOST host'\n",
    );
    assert_eq!(cfg.log_name.as_deref(), Some("before-HOST"));
    assert_eq!(cfg.log_prefix.as_deref(), Some("example.com example.com"));
    assert_eq!(cfg.server_header.as_deref(), Some("Server: host"));
    // Rules run in order: the first turns HOST into example.com, the
    // second (case-insensitive, first match only) then changes "host".
    assert_eq!(cfg.user_agent_header.as_deref(), Some("example.com x"));
}

#[test]
fn substdef_and_substdefs() {
    let cfg = parse_ok(
        "#!substdef \"!MY_IP!10.1.2.3!g\"\n#!substdefs \"/MY_NAME/proxy/\"\n\
         log_prefix=\"at MY_IP\"\nlog_name=MY_NAME\nlisten=udp:MY_IP:5060\n",
    );
    assert_eq!(cfg.log_prefix.as_deref(), Some("at 10.1.2.3"));
    assert_eq!(cfg.log_name.as_deref(), Some("proxy"));
    assert_eq!(def(&cfg, "MY_IP"), Some(Some("10.1.2.3")));
    assert_eq!(def(&cfg, "MY_NAME"), Some(Some("\"proxy\"")));
    assert_eq!(cfg.listen[0].addr.to_string(), "10.1.2.3");
}

#[test]
fn mod_defines_follow_loadmodule() {
    let cfg = parse_ok(
        "loadmodule \"tm.so\"\n#!ifdef MOD_tm\nmodparam(\"tm\", \"fr_timer\", 10)\n#!endif\n\
         #!ifdef MOD_sl\ndebug=9\n#!endif\n",
    );
    assert_eq!(
        cfg.module("tm").unwrap().param("fr_timer"),
        Some(&Value::Int(10))
    );
    assert_eq!(cfg.debug, 2);
}

#[test]
fn command_line_defines() {
    let defs = vec![
        config::parse_define_arg("WITH_DEBUG").unwrap(),
        config::parse_define_arg("LEVEL=4").unwrap(),
    ];
    let text = "#!ifdef WITH_DEBUG\ndebug=LEVEL\n#!endif\n#!trydef LEVEL 1\n";
    let cfg = config::parse_str(text, "t.cfg", ALL_MODULES, &defs).unwrap();
    assert_eq!(cfg.debug, 4);
    let bad = vec![("A-B".to_string(), None), ("KAMAILIO_6".to_string(), None)];
    let errs = config::parse_str("", "t.cfg", ALL_MODULES, &bad).unwrap_err();
    let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        shown,
        [
            "command line: -A A-B: '-' is not allowed in a define name ('A-B')",
            "command line: -A KAMAILIO_6: 'KAMAILIO_6' is already defined",
        ]
    );
}

#[test]
fn include_and_import_relative_to_the_including_file() {
    let cfg = load_fixture("include-main.cfg", ALL_MODULES).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.debug, 4, "set in inc/level1.cfg");
    assert_eq!(
        cfg.children, 3,
        "set in inc/level2.cfg, included relative to inc/"
    );
    assert!(cfg.is_loaded("tm"), "loaded by the #!include_file form");
    assert_eq!(cfg.port, 5070, "set after the includes, in the main file");
    assert!(cfg.defines.is_defined("FROM_LEVEL2"));
}

#[test]
fn include_error_lines_name_the_included_file() {
    let errs = load_fixture("include-bad.cfg", ALL_MODULES).unwrap_err();
    let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    assert_eq!(shown.len(), 2, "{shown:#?}");
    assert!(
        shown[0].ends_with("inc/bad-param.cfg:3: unknown core parameter 'no_such_param'"),
        "{}",
        shown[0]
    );
    assert!(
        shown[1].ends_with("include-bad.cfg:4: include file \"missing.cfg\" not found"),
        "{}",
        shown[1]
    );
}

#[test]
fn include_depth_is_limited() {
    let errs = load_fixture("include-loop.cfg", ALL_MODULES).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs}");
    let e = &errs.errors[0];
    assert!(e.file.ends_with("include-loop.cfg"));
    assert_eq!(e.line, 2);
    assert!(
        e.message.contains("nested deeper than 10 levels"),
        "{}",
        e.message
    );
}
