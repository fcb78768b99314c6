//! A full KEMI deployment config in the shape of Kamailio's
//! kamailio-basic-kemi.cfg, with a module table that has all its modules.

mod config_common;

use config_common::*;
use kemi_core::config::{self, ErrorKind, Value};
use kemi_core::{ModParam, ModParamKind, ModuleDef};

macro_rules! params {
    ($($name:literal : $kind:ident),* $(,)?) => {
        &[$(ModParam { name: $name, kind: ModParamKind::$kind, repeatable: false, doc: "" }),*]
    };
}

macro_rules! modules {
    ($($ident:ident = $name:literal [$($p:tt)*];)*) => {
        $(static $ident: ModuleDef = ModuleDef { name: $name, summary: "", kemi: None, params: params!($($p)*), rpc: &[] };)*
        static BASIC: &[&ModuleDef] = &[$(&$ident),*];
    };
}

modules! {
    DB_MYSQL = "db_mysql" [];
    JSONRPCS = "jsonrpcs" ["pretty_format": Int];
    KEX = "kex" [];
    COREX = "corex" [];
    TM = "tm" ["failure_reply_mode": Int, "fr_timer": Int, "fr_inv_timer": Int];
    TMX = "tmx" [];
    SL = "sl" [];
    RR = "rr" ["enable_full_lr": Int, "append_fromtag": Int];
    PV = "pv" [];
    MAXFWD = "maxfwd" [];
    USRLOC = "usrloc" ["preload": Str, "db_url": Str, "db_mode": Int, "use_domain": Int, "nat_bflag": Int];
    REGISTRAR = "registrar" ["method_filtering": Int, "max_expires": Int, "gruu_enabled": Int, "received_avp": Str];
    TEXTOPS = "textops" [];
    SIPUTILS = "siputils" [];
    XLOG = "xlog" [];
    SANITY = "sanity" [];
    CTL = "ctl" [];
    CFG_RPC = "cfg_rpc" [];
    ACC = "acc" ["early_media": Int, "report_ack": Int, "report_cancels": Int, "detect_direction": Int,
        "log_flag": Int, "log_missed_flag": Int, "log_extra": Str, "failed_transaction_flag": Int,
        "db_flag": Int, "db_missed_flag": Int, "db_url": Str, "db_extra": Str];
    KEMIX = "kemix" [];
    AUTH = "auth" [];
    AUTH_DB = "auth_db" ["db_url": Str, "calculate_ha1": Int, "password_column": Str, "load_credentials": Str,
        "use_domain": Int];
    PERMISSIONS = "permissions" ["db_url": Str, "db_mode": Int];
    NATHELPER = "nathelper" ["received_avp": Str, "natping_interval": Int, "ping_nated_only": Int,
        "sipping_bflag": Int, "sipping_from": Str];
    RTPPROXY = "rtpproxy" ["rtpproxy_sock": Str];
    HTABLE = "htable" ["htable": Str];
    PIKE = "pike" ["sampling_time_unit": Int, "reqs_density_per_unit": Int, "remove_latency": Int];
    APP_LUA = "app_lua" ["load": Str];
    APP_PYTHON3 = "app_python3" ["load": Str];
}

fn load(
    defines: &[&str],
    modules: &[&'static ModuleDef],
) -> Result<config::Config, config::ConfigErrors> {
    let defs: Vec<(String, Option<String>)> = defines
        .iter()
        .filter_map(|d| config::parse_define_arg(d).ok())
        .collect();
    config::load(&fixture("basic-kemi.cfg"), modules, &defs)
}

#[test]
fn loads_with_lua() {
    let cfg = load(&["WITH_CFGLUA"], BASIC).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.engine.as_deref(), Some("lua"));
    assert_eq!(cfg.modules.len(), 28, "27 modules + the interpreter");
    assert_eq!(cfg.modules.last().map(|m| m.name()), Some("app_lua"));
    assert_eq!(cfg.log_prefix.as_deref(), Some("LUA {$rm}: "));
    assert_eq!(
        (cfg.debug, cfg.log_stderror, cfg.children),
        (2, Some(false), 2)
    );
    assert_eq!(cfg.log_facility, "LOG_LOCAL0");
    assert_eq!(cfg.tcp_connection_lifetime, 3605);
    assert_eq!((cfg.latency.log, cfg.latency.limit_action), (2, 100000));
    assert_eq!(
        cfg.accepted.get("latency_limit_db"),
        Some(&Value::Int(200000))
    );
    let acc = cfg.module("acc").unwrap();
    let extra = "src_user=$fU;src_domain=$fd;src_ip=$si;dst_ouser=$tU;dst_user=$rU;dst_domain=$rd";
    assert_eq!(acc.param("log_extra"), Some(&Value::Str(extra.into())));
    assert_eq!(acc.param("db_extra"), Some(&Value::Str(extra.into())));
    assert_eq!(acc.param("log_missed_flag"), Some(&Value::Int(2)));
    let dburl = Value::Str("mysql://kamailio:kamailiorw@localhost/kamailio".into());
    assert_eq!(acc.param("db_url"), Some(&dburl));
    let auth_db = cfg.module("auth_db").unwrap();
    assert_eq!(auth_db.param("calculate_ha1"), Some(&Value::Int(1)));
    assert_eq!(
        auth_db.param("load_credentials"),
        Some(&Value::Str(String::new()))
    );
    for m in ["nathelper", "registrar"] {
        assert_eq!(
            cfg.module(m).unwrap().param("received_avp"),
            Some(&Value::Str("$avp(RECEIVED)".into()))
        );
    }
    assert_eq!(
        cfg.module("app_lua").unwrap().param("load"),
        Some(&Value::Str(
            "/usr/local/etc/kamailio/kamailio-basic-kemi-lua.lua".into()
        ))
    );
    assert_eq!(cfg.defines.get("KEMIENGINE"), Some(Some("\"lua\"")));
    assert!(cfg.defines.is_defined("MOD_app_lua"));
    assert_eq!(cfg.accepted.get("memdbg"), Some(&Value::Int(5)));
}

#[test]
fn loads_with_python3_and_debug() {
    let cfg = load(
        &[
            "WITH_CFGPYTHON3",
            "WITH_DEBUG",
            "DBURL=\"postgres://db/kamailio\"",
        ],
        BASIC,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.engine.as_deref(), Some("python"));
    assert_eq!((cfg.debug, cfg.log_stderror), (4, Some(true)));
    assert_eq!(
        cfg.module("usrloc").unwrap().param("db_url"),
        Some(&Value::Str("postgres://db/kamailio".into()))
    );
}

#[test]
fn without_an_engine_the_native_include_is_missing() {
    let errs = load(&[], BASIC).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs}");
    let e = &errs.errors[0];
    assert_eq!(e.kind, ErrorKind::Io);
    assert_eq!(e.line, 239);
    assert_eq!(
        e.message,
        "include file \"/usr/local/etc/kamailio/kamailio-basic-kemi-native.cfg\" not found"
    );
}

#[test]
fn with_todays_modules_only_the_missing_ones_are_reported() {
    let errs = load(&["WITH_CFGLUA"], CORE_MODULES).unwrap_err();
    assert!(
        errs.iter()
            .all(|e| matches!(e.kind, ErrorKind::UnknownModule { .. })),
        "{errs}"
    );
    assert_eq!(
        errs.unknown_modules(),
        [
            "db_mysql",
            "jsonrpcs",
            "kex",
            "corex",
            "usrloc",
            "siputils",
            "sanity",
            "ctl",
            "cfg_rpc",
            "acc",
            "kemix",
            "auth",
            "auth_db",
            "permissions",
            "rtpproxy",
            "htable",
            "pike",
            "app_lua"
        ]
    );
}
