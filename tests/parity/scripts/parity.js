// The engine parity script for JavaScript (app_jsdt), a port of parity.lua
// (the reference) to the same contract: the function names below and what
// each one records in $shv(...), spelled out in tests/parity/main.rs.

// "int:7", "bool:true", "str:abc", "null", "float:1.5",
// "dict:k1=<value>,k2=<value>" (keys sorted), "array:<value>,<value>".
function describe(v) {
    if (v === null || v === undefined) {
        return "null";
    }
    if (typeof v === "boolean") {
        return "bool:" + v;
    }
    if (typeof v === "number") {
        return (Number.isInteger(v) ? "int:" : "float:") + v;
    }
    if (typeof v === "string") {
        return "str:" + v;
    }
    if (Array.isArray(v)) {
        return "array:" + v.map(describe).join(",");
    }
    if (typeof v === "object") {
        return "dict:" + Object.keys(v).sort().map(function (k) {
            return k + "=" + describe(v[k]);
        }).join(",");
    }
    return typeof v;
}

function record(name, value) {
    KSR.pv.sets("$shv(" + name + ")", value);
}

// Core callbacks.

function ksr_request_route() {
    record("request_route", KSR.pv.get("$rm") + " " + KSR.pv.get("$ru"));
    KSR.ktest.set_flag_via_ctx(5);
    KSR.sl.send_reply(200, "Parity OK");
}

function ksr_reply_route() {
    record("reply_route", KSR.pv.get("$rs") + " " + KSR.pv.get("$rr"));
}

function ksr_onsend_route() {
    record("onsend_route", KSR.pv.get("$rm") + " " + KSR.pv.get("$ru"));
}

function ksr_event_route(evname) {
    record("event_route", evname);
}

// Named routes tm runs through run_callback.

function ksr_branch_route_one() {
    record("branch_route", "one " + KSR.pv.get("$rm"));
}

function ksr_onreply_route_one() {
    record("onreply_route", "one " + KSR.pv.get("$rs"));
}

function ksr_failure_route_one() {
    record("failure_route", "one " + KSR.pv.get("$rm"));
}

// Stateful relay through tm with every transaction route set ($du is set
// by the harness); tm runs the routes.
function parity_relay() {
    KSR.tm.t_on_branch("ksr_branch_route_one");
    KSR.tm.t_on_reply("ksr_onreply_route_one");
    KSR.tm.t_on_failure("ksr_failure_route_one");
    KSR.tm.t_on_branch_failure("ksr_branch_failure_one");
    record("relay", describe(KSR.tm.t_relay()));
}

function ksr_branch_failure_one(evname) {
    record("branch_failure_route", evname + " " + KSR.pv.get("$rs"));
}

// Return conversions.

function parity_returns() {
    record("ret_int", describe(KSR.ktest.ret_int(7)));
    record("ret_int_negative", describe(KSR.ktest.ret_int(-3)));
    record("ret_bool_true", describe(KSR.ktest.ret_bool(1)));
    record("ret_bool_false", describe(KSR.ktest.ret_bool(0)));
    record("xval_int", describe(KSR.ktest.xval_int(-5)));
    record("xval_long", describe(KSR.ktest.xval_long(1099511627776)));
    record("sum_long", describe(KSR.ktest.sum_long(4294967296, 1)));
    record("xval_str", describe(KSR.ktest.xval_str("héllo wörld")));
    record("xval_str_empty", describe(KSR.ktest.xval_str("")));
    record("xval_null", describe(KSR.ktest.xval_null()));
    record("xval_dict", describe(KSR.ktest.xval_dict("alice", 3)));
    record("xval_array", describe(KSR.ktest.xval_array(3)));
    record("many", describe(KSR.ktest.many(1, 2, "c", 4, "e", 6, "g", 8)));
    record("renamed_echo", describe(KSR.ktest.renamed_echo("echo")));
    record("owned_len", describe(KSR.ktest.owned_len("héllo")));
}

// Exit and drop.

// Exits from a nested function, as the KEMI examples' sub-routes do.
function parity_exit_inner() {
    KSR.x.exit();
}

function parity_exit() {
    record("exit_before", "yes");
    parity_exit_inner();
    record("exit_after", "yes");
}

function parity_exit_caught() {
    record("exit_caught_before", "yes");
    try {
        KSR.x.exit();
    } catch (e) {
        // swallowed on purpose
    }
    record("exit_caught_after", "yes");
}

function parity_drop() {
    record("drop_before", "yes");
    KSR.x.drop();
    record("drop_after", "yes");
}

// Wrong arguments: each call is caught and its error message recorded.

function error_of(f) {
    try {
        f();
    } catch (e) {
        return String(e);
    }
    return "no error";
}

function parity_wrong_args() {
    record("err_too_few", error_of(function () { KSR.ktest.concat("a"); }));
    record("err_too_many", error_of(function () { KSR.ktest.xval_null("x"); }));
    record("err_table_for_str", error_of(function () { KSR.ktest.xval_str({}); }));
    record("err_null_for_str", error_of(function () { KSR.ktest.xval_str(null); }));
    record("err_word_for_int", error_of(function () { KSR.ktest.ret_int("abc"); }));
    record("err_null_for_int", error_of(function () { KSR.ktest.ret_int(null); }));
    record("err_fraction_for_int", error_of(function () { KSR.ktest.ret_int(1.5); }));
    record("numeric_string_for_int", describe(KSR.ktest.ret_int("42")));
    record("extra_args_ignored", describe(KSR.ktest.ret_int(1, 2)));
    record("wrong_args_done", "yes");
}

// KSR.x.modf: functions by their kamailio.cfg name.

function parity_modf() {
    record("modf_sl", describe(KSR.x.modf("sl_send_reply", "202", "Modf")));
    record("modf_setflag", describe(KSR.x.modf("setflag", "7")));
    record("modf_isflagset", describe(KSR.isflagset(7)));
    record("modf_ret_int", describe(KSR.x.modf("ret_int", "42")));
    record("modf_unknown", describe(KSR.x.modf("parity_no_such_function")));
    record("modf_bad_int", error_of(function () { KSR.x.modf("setflag", "abc"); }));
}

// Uncaught errors.

function parity_fail_inner() {
    throw new Error("parity deliberate failure");
}

function parity_fail() {
    parity_fail_inner();
}

function parity_uncaught_ksr_error() {
    KSR.ktest.ret_int("not a number");
}

// Feature tests.

function parity_features() {
    record("has_auth", KSR.auth ? "yes" : "no");
    record("has_sl", KSR.sl ? "yes" : "no");
    record("has_ktest", KSR.ktest ? "yes" : "no");
}

// Reload: the harness rewrites this literal to parity-v2.

function parity_version() {
    record("version", "parity-v1");
}
