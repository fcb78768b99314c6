"""The engine parity script for Python, app_python3s style (module-level
callbacks). It follows the contract in tests/parity/main.rs; parity.lua is
the reference, and parity.py the same in app_python3 style."""

from typing import Any, Callable

import KSR


def describe(v: Any) -> str:
    """"int:7", "bool:true", "str:abc", "null", "float:1.5",
    "dict:k1=<value>,k2=<value>" (keys sorted), "array:<value>,<value>"."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool:" + ("true" if v else "false")
    if isinstance(v, int):
        return "int:%d" % v
    if isinstance(v, float):
        return "float:%s" % v
    if isinstance(v, str):
        return "str:" + v
    if isinstance(v, dict):
        return "dict:" + ",".join(k + "=" + describe(v[k]) for k in sorted(v))
    if isinstance(v, list):
        return "array:" + ",".join(describe(x) for x in v)
    return type(v).__name__


def record(name: str, value: str) -> None:
    KSR.pv.sets("$shv(" + name + ")", value)


# Core callbacks.

def ksr_request_route() -> None:
    record("request_route", "%s %s" % (KSR.pv.get("$rm"), KSR.pv.get("$ru")))
    KSR.ktest.set_flag_via_ctx(5)
    KSR.sl.send_reply(200, "Parity OK")


def ksr_reply_route() -> None:
    record("reply_route", "%s %s" % (KSR.pv.get("$rs"), KSR.pv.get("$rr")))


def ksr_onsend_route() -> None:
    record("onsend_route", "%s %s" % (KSR.pv.get("$rm"), KSR.pv.get("$ru")))


def ksr_event_route(evname: str) -> None:
    record("event_route", evname)


# Named routes tm runs through run_callback.

def ksr_branch_route_one() -> None:
    record("branch_route", "one %s" % KSR.pv.get("$rm"))


def ksr_onreply_route_one() -> None:
    record("onreply_route", "one %s" % KSR.pv.get("$rs"))


def ksr_failure_route_one() -> None:
    record("failure_route", "one %s" % KSR.pv.get("$rm"))


# Stateful relay through tm with every transaction route set ($du is set by
# the harness); tm runs the routes.

def parity_relay() -> None:
    KSR.tm.t_on_branch("ksr_branch_route_one")
    KSR.tm.t_on_reply("ksr_onreply_route_one")
    KSR.tm.t_on_failure("ksr_failure_route_one")
    KSR.tm.t_on_branch_failure("ksr_branch_failure_one")
    record("relay", describe(KSR.tm.t_relay()))


def ksr_branch_failure_one(evname: str) -> None:
    record("branch_failure_route", "%s %s" % (evname, KSR.pv.get("$rs")))


# Return conversions.

def parity_returns() -> None:
    k = KSR.ktest
    record("ret_int", describe(k.ret_int(7)))
    record("ret_int_negative", describe(k.ret_int(-3)))
    record("ret_bool_true", describe(k.ret_bool(1)))
    record("ret_bool_false", describe(k.ret_bool(0)))
    record("xval_int", describe(k.xval_int(-5)))
    record("xval_long", describe(k.xval_long(1099511627776)))
    record("sum_long", describe(k.sum_long(4294967296, 1)))
    record("xval_str", describe(k.xval_str("héllo wörld")))
    record("xval_str_empty", describe(k.xval_str("")))
    record("xval_null", describe(k.xval_null()))
    record("xval_dict", describe(k.xval_dict("alice", 3)))
    record("xval_array", describe(k.xval_array(3)))
    record("many", describe(k.many(1, 2, "c", 4, "e", 6, "g", 8)))
    record("renamed_echo", describe(k.renamed_echo("echo")))
    record("owned_len", describe(k.owned_len("héllo")))


# Exit and drop.

# Exits from a nested function, as the KEMI examples' sub-routes do.
def parity_exit_inner() -> None:
    KSR.x.exit()


def parity_exit() -> None:
    record("exit_before", "yes")
    parity_exit_inner()
    record("exit_after", "yes")


def parity_exit_caught() -> None:
    record("exit_caught_before", "yes")
    try:
        KSR.x.exit()
    except BaseException:
        pass
    record("exit_caught_after", "yes")


def parity_drop() -> None:
    record("drop_before", "yes")
    KSR.x.drop()
    record("drop_after", "yes")


# Wrong arguments: each call is caught and its error message recorded.

def error_of(f: Callable[..., Any], *args: Any) -> str:
    try:
        f(*args)
    except Exception as e:
        return str(e)
    return "no error"


def parity_wrong_args() -> None:
    k: Any = KSR.ktest  # deliberately wrong calls: no static checking
    record("err_too_few", error_of(k.concat, "a"))
    record("err_too_many", error_of(k.xval_null, "x"))
    record("err_table_for_str", error_of(k.xval_str, {}))
    record("err_null_for_str", error_of(k.xval_str, None))
    record("err_word_for_int", error_of(k.ret_int, "abc"))
    record("err_null_for_int", error_of(k.ret_int, None))
    record("err_fraction_for_int", error_of(k.ret_int, 1.5))
    record("numeric_string_for_int", describe(k.ret_int("42")))
    record("extra_args_ignored", describe(k.ret_int(1, 2)))
    record("wrong_args_done", "yes")


# KSR.x.modf: functions by their kamailio.cfg name.


def parity_modf() -> None:
    record("modf_sl", describe(KSR.x.modf("sl_send_reply", "202", "Modf")))
    record("modf_setflag", describe(KSR.x.modf("setflag", "7")))
    record("modf_isflagset", describe(KSR.isflagset(7)))
    record("modf_ret_int", describe(KSR.x.modf("ret_int", "42")))
    record("modf_unknown", describe(KSR.x.modf("parity_no_such_function")))
    record("modf_bad_int", error_of(KSR.x.modf, "setflag", "abc"))


# Uncaught errors.

def parity_fail_inner() -> None:
    raise RuntimeError("parity deliberate failure")


def parity_fail() -> None:
    parity_fail_inner()


def parity_uncaught_ksr_error() -> None:
    k: Any = KSR.ktest
    k.ret_int("not a number")


# Feature tests.

def parity_features() -> None:
    record("has_auth", "yes" if hasattr(KSR, "auth") else "no")
    record("has_sl", "yes" if hasattr(KSR, "sl") else "no")
    record("has_ktest", "yes" if hasattr(KSR, "ktest") else "no")


# Reload: the harness rewrites this literal to parity-v2.

def parity_version() -> None:
    record("version", "parity-v1")
