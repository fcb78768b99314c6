//! The engine parity suite: the same scenarios, run against every script
//! engine (Lua, Python, JavaScript, Ruby), so a
//! routing script behaves the same whatever language it is written in.
//!
//! Each engine is built the way the proxy builds it: a `kamailio.cfg`
//! (written to a temp directory) loading `sl`, `ktest` and the engine
//! module, its `load` modparam pointing at the engine's parity script, and
//! `cfgengine`; the config is loaded with the proxy's module table into a
//! [`Runtime`](kemi_core::Runtime) whose transport is a
//! [`Capture`](kemi_core::net::Capture); the engine module's entry point
//! (`EngineEntry`) gives the builder, and `(builder.build)()` the engine.
//! Scenarios then drive callbacks directly with contexts holding real SIP
//! messages and check what the script recorded in `$shv(...)`, what was
//! sent, the context's flags and the callback outcomes.
//!
//! This is a `harness = false` test: every scenario runs on the main thread,
//! one after the other, because Ruby's VM works only on the thread that
//! started it. `cargo test -p kemi-tests --test parity -- lua::reload`
//! runs the scenarios whose `engine::scenario` name contains a filter.
//!
//! # Adding an engine
//!
//! 1. Write `tests/parity/scripts/parity.<ext>` following the contract
//!    below; `parity.lua` is the reference, port it function by function.
//! 2. Add one line to [`ENGINES`] (and the engine crate to
//!    `tests/Cargo.toml`'s dev-dependencies).
//! 3. If the language cannot do something a scenario needs (Lua can catch
//!    its own exit with `pcall`; not every language can), list the scenario
//!    in `unsupported`: it is reported as skipped, never silently passed.
//!
//! # The script contract
//!
//! Values are recorded with `KSR.pv.sets("$shv(<key>)", <string>)`.
//! `describe(v)` below means the script's own helper turning a KSR result
//! into a language-neutral string: `int:7` (any integer, whatever its
//! size), `float:1.5`, `bool:true`, `str:abc`, `null` (nil/None/null),
//! `dict:k1=<describe>,k2=<describe>` (keys sorted),
//! `array:<describe>,<describe>`.
//!
//! | function | does and records |
//! |---|---|
//! | `ksr_request_route()` | `request_route` = `"<$rm> <$ru>"`; `KSR.ktest.set_flag_via_ctx(5)`; `KSR.sl.send_reply(200, "Parity OK")` |
//! | `ksr_reply_route()` | `reply_route` = `"<$rs> <$rr>"` |
//! | `ksr_onsend_route()` | `onsend_route` = `"<$rm> <$ru>"` |
//! | `ksr_event_route(evname)` | `event_route` = the event name |
//! | `ksr_branch_route_one()` | `branch_route` = `"one <$rm>"` |
//! | `ksr_onreply_route_one()` | `onreply_route` = `"one <$rs>"` |
//! | `ksr_failure_route_one()` | `failure_route` = `"one <$rm>"` |
//! | `parity_relay()` | `KSR.tm.t_on_branch("ksr_branch_route_one")`, `t_on_reply("ksr_onreply_route_one")`, `t_on_failure("ksr_failure_route_one")`, `t_on_branch_failure("ksr_branch_failure_one")`; `relay` = `describe(KSR.tm.t_relay())` |
//! | `ksr_branch_failure_one(evname)` | `branch_failure_route` = `"<evname> <$rs>"` |
//! | `parity_returns()` | `describe()` of each call into the key: `ret_int` = `ret_int(7)`, `ret_int_negative` = `ret_int(-3)`, `ret_bool_true` = `ret_bool(1)`, `ret_bool_false` = `ret_bool(0)`, `xval_int` = `xval_int(-5)`, `xval_long` = `xval_long(1099511627776)`, `sum_long` = `sum_long(4294967296, 1)`, `xval_str` = `xval_str("héllo wörld")`, `xval_str_empty` = `xval_str("")`, `xval_null` = `xval_null()`, `xval_dict` = `xval_dict("alice", 3)`, `xval_array` = `xval_array(3)`, `many` = `many(1, 2, "c", 4, "e", 6, "g", 8)`, `renamed_echo` = `renamed_echo("echo")`, `owned_len` = `owned_len("héllo")` (all `KSR.ktest.*`) |
//! | `parity_exit()` | `exit_before` = `yes`; calls `parity_exit_inner()`, which ends the callback with the language's exit (`KSR.x.exit()`; Python `sys.exit()`/Ruby `exit` where there is no `KSR.x.exit`); then would record `exit_after` = `yes` |
//! | `parity_exit_caught()` | `exit_caught_before` = `yes`; exits inside the language's catch-everything handler (`pcall`, `except BaseException`, `catch`, `rescue Exception`) and ignores it; then tries `exit_caught_after` = `yes`, which must not happen |
//! | `parity_drop()` | `drop_before` = `yes`; `KSR.x.drop()` (or `KSR.set_drop()` + exit); then would record `drop_after` = `yes` |
//! | `parity_wrong_args()` | catches each error and records its message: `err_too_few` = `KSR.ktest.concat("a")`, `err_too_many` = `KSR.ktest.xval_null("x")`, `err_table_for_str` = `KSR.ktest.xval_str(<empty table/dict/object/hash>)`, `err_null_for_str` = `KSR.ktest.xval_str(<nil>)`, `err_word_for_int` = `KSR.ktest.ret_int("abc")`, `err_null_for_int` = `KSR.ktest.ret_int(<nil>)`, `err_fraction_for_int` = `KSR.ktest.ret_int(1.5)` (`"no error"` if a call did not fail); then `numeric_string_for_int` = `describe(KSR.ktest.ret_int("42"))`, `extra_args_ignored` = `describe(KSR.ktest.ret_int(1, 2))`, `wrong_args_done` = `yes` |
//! | `parity_modf()` | `describe()` of each `KSR.x.modf` call (Ruby `KSR::X.modf`): `modf_sl` = `modf("sl_send_reply", "202", "Modf")`, `modf_setflag` = `modf("setflag", "7")`, then `modf_isflagset` = `describe(KSR.isflagset(7))`, `modf_ret_int` = `modf("ret_int", "42")`, `modf_unknown` = `modf("parity_no_such_function")`; `modf_bad_int` = the caught error message of `modf("setflag", "abc")` |
//! | `parity_fail()` | calls `parity_fail_inner()`, which raises an uncaught error whose text is `parity deliberate failure` |
//! | `parity_uncaught_ksr_error()` | `KSR.ktest.ret_int("not a number")`, uncaught |
//! | `parity_features()` | `has_auth`, `has_sl`, `has_ktest` = `yes`/`no`: whether `KSR.auth`, `KSR.sl`, `KSR.ktest` exist |
//! | `parity_version()` | `version` = `parity-v1`: the only occurrence of that text in the script (the reload scenario rewrites it) |
//!
//! Per language: Ruby spells the submodules `KSR::PV`, `KSR::KTEST`...;
//! with app_python3 the functions are methods of the object `mod_init()`
//! returns (taking `msg`), with app_python3s module functions. The names
//! and the recorded values stay the same.
//!
//! Errors: a wrong argument must raise a catchable script error whose text
//! contains the KEMI signature (`ret_int(int n)`, as `Export::invoke`'s
//! error gives it); an uncaught error must come back as
//! `ScriptError::Runtime` with the error's text and a traceback naming the
//! script file and `parity_fail_inner`.

mod fixture;
mod scenarios;

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

use kemi_core::engine::EngineEntry;

/// An engine the scenarios run against.
pub struct Engine {
    /// The name reports and filters use.
    pub name: &'static str,
    /// `cfgengine "<cfgengine>"`.
    pub cfgengine: &'static str,
    /// The module loaded for it; its `load` modparam names the script.
    pub module: &'static str,
    /// The parity script, in `tests/parity/scripts/`.
    pub script: &'static str,
    /// The engine module's entry point, as in the proxy's `ENGINES` table.
    pub entry: EngineEntry,
    /// Scenarios the language cannot express; reported as skipped.
    pub unsupported: &'static [&'static str],
}

/// Every engine this build has. One line per engine.
pub const ENGINES: &[Engine] = &[
    Engine {
        name: "lua",
        cfgengine: "lua",
        module: "app_lua",
        script: "parity.lua",
        entry: kemi_mod_app_lua::builder,
        unsupported: &[],
    },
    Engine {
        name: "js",
        cfgengine: "jsdt",
        module: "app_jsdt",
        script: "parity.js",
        entry: kemi_mod_app_jsdt::builder,
        unsupported: &[],
    },
    Engine {
        name: "ruby",
        cfgengine: "ruby",
        module: "app_ruby",
        script: "parity.rb",
        entry: kemi_mod_app_ruby::builder,
        unsupported: &[],
    },
    Engine {
        name: "python",
        cfgengine: "python",
        module: "app_python3",
        script: "parity.py",
        entry: kemi_mod_app_python3::builder,
        unsupported: &[],
    },
    Engine {
        name: "python3s",
        cfgengine: "python",
        module: "app_python3s",
        script: "parity3s.py",
        entry: kemi_mod_app_python3::builder_s,
        unsupported: &[],
    },
];

fn main() -> ExitCode {
    // cargo passes libtest options (`--nocapture`, `-q`...); only plain
    // words are filters.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let (mut passed, mut failed, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for engine in ENGINES {
        for (scenario, run) in scenarios::ALL {
            let id = format!("{}::{scenario}", engine.name);
            if !filters.is_empty() && !filters.iter().any(|f| id.contains(f.as_str())) {
                continue;
            }
            if engine.unsupported.contains(scenario) {
                println!("parity {id} ... skipped (unsupported by the engine)");
                skipped.push(id);
                continue;
            }
            // A failed assertion panics; the panic hook prints it, and the
            // remaining scenarios still run.
            match panic::catch_unwind(AssertUnwindSafe(|| run(engine))) {
                Ok(()) => {
                    println!("parity {id} ... ok");
                    passed.push(id);
                }
                Err(_) => {
                    println!("parity {id} ... FAILED");
                    failed.push(id);
                }
            }
        }
    }
    println!(
        "\nparity: {} passed; {} failed; {} skipped",
        passed.len(),
        failed.len(),
        skipped.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        for id in &failed {
            println!("    {id}");
        }
        ExitCode::FAILURE
    }
}
