//! A fake module table for the config tests: the modules of the seed
//! configs and of Kamailio's basic KEMI config, with a few of their real
//! parameters.
#![allow(dead_code)]

use std::path::PathBuf;

use kemi_core::config::{self, Config, ConfigErrors};
use kemi_core::{ModParam, ModParamKind, ModuleDef};

const fn int(name: &'static str) -> ModParam {
    ModParam {
        name,
        kind: ModParamKind::Int,
        repeatable: false,
        doc: "",
    }
}

const fn str_(name: &'static str) -> ModParam {
    ModParam {
        name,
        kind: ModParamKind::Str,
        repeatable: false,
        doc: "",
    }
}

const fn module(name: &'static str, params: &'static [ModParam]) -> ModuleDef {
    ModuleDef {
        name,
        summary: "test module",
        kemi: None,
        params,
        rpc: &[],
    }
}

pub static SL: ModuleDef = module("sl", &[int("bind_tm")]);
pub static TM: ModuleDef = module(
    "tm",
    &[
        int("failure_reply_mode"),
        int("fr_timer"),
        int("fr_inv_timer"),
        str_("event_callback"),
    ],
);
pub static TMX: ModuleDef = module("tmx", &[]);
pub static PV: ModuleDef = module("pv", &[str_("shvset"), str_("varset")]);
pub static MAXFWD: ModuleDef = module("maxfwd", &[int("max_limit")]);
pub static TEXTOPS: ModuleDef = module("textops", &[]);
pub static XLOG: ModuleDef = module("xlog", &[int("buf_size"), str_("prefix")]);
pub static RR: ModuleDef = module("rr", &[int("enable_full_lr"), int("append_fromtag")]);
pub static REGISTRAR: ModuleDef = module(
    "registrar",
    &[
        int("method_filtering"),
        int("max_expires"),
        int("gruu_enabled"),
        str_("received_avp"),
    ],
);
pub static NATHELPER: ModuleDef = module(
    "nathelper",
    &[
        int("natping_interval"),
        int("ping_nated_only"),
        int("sipping_bflag"),
        str_("received_avp"),
        str_("sipping_from"),
    ],
);
pub static JSONRPCS: ModuleDef = module("jsonrpcs", &[int("pretty_format")]);
pub static KEX: ModuleDef = module("kex", &[]);
pub static CTL: ModuleDef = module("ctl", &[str_("binrpc")]);
pub static MI_RPC: ModuleDef = module("mi_rpc", &[]);
pub static DEBUGGER: ModuleDef = module("debugger", &[int("cfgtrace")]);
pub static APP_LUA: ModuleDef = module(
    "app_lua",
    &[
        ModParam {
            name: "load",
            kind: ModParamKind::Str,
            repeatable: true,
            doc: "",
        },
        int("reload"),
    ],
);
pub static APP_PYTHON: ModuleDef = module("app_python", &[str_("load"), str_("script_name")]);
pub static APP_PYTHON3: ModuleDef = module("app_python3", &[str_("load")]);
pub static APP_JSDT: ModuleDef = module("app_jsdt", &[str_("load")]);

/// Modules the project has (or will soon have): none of the seeds'
/// management or interpreter modules.
pub static CORE_MODULES: &[&ModuleDef] = &[
    &SL, &TM, &TMX, &PV, &MAXFWD, &TEXTOPS, &XLOG, &RR, &REGISTRAR, &NATHELPER,
];

/// Everything the seed configs load.
pub static ALL_MODULES: &[&ModuleDef] = &[
    &SL,
    &TM,
    &TMX,
    &PV,
    &MAXFWD,
    &TEXTOPS,
    &XLOG,
    &RR,
    &REGISTRAR,
    &NATHELPER,
    &JSONRPCS,
    &KEX,
    &CTL,
    &MI_RPC,
    &DEBUGGER,
    &APP_LUA,
    &APP_PYTHON,
    &APP_PYTHON3,
    &APP_JSDT,
];

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/config")
        .join(name)
}

pub fn load_fixture(name: &str, modules: &[&'static ModuleDef]) -> Result<Config, ConfigErrors> {
    config::load(&fixture(name), modules, &[])
}

/// Parses text with every test module available.
pub fn parse(text: &str) -> Result<Config, ConfigErrors> {
    config::parse_str(text, "test.cfg", ALL_MODULES, &[])
}

pub fn parse_ok(text: &str) -> Config {
    match parse(text) {
        Ok(c) => c,
        Err(e) => panic!("unexpected errors:\n{e}"),
    }
}

/// The errors of a config that must fail, as `line: message` strings.
pub fn parse_err(text: &str) -> Vec<(u32, String)> {
    match parse(text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e
            .errors
            .iter()
            .map(|e| (e.line, e.message.clone()))
            .collect(),
    }
}

/// The single error of a config that must fail.
pub fn one_err(text: &str) -> (u32, String) {
    let mut errs = parse_err(text);
    assert_eq!(errs.len(), 1, "expected one error, got {errs:#?}");
    errs.remove(0)
}
