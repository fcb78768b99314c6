#!/usr/bin/env lua
-- Routing script used by tests/engine.rs. Each test_* function is run as a
-- callback by a Rust test; `assert` failures come back as ScriptError.

KSR.info("basic.lua loading")
-- At load time KSR calls act on a scratch context, discarded afterwards.
KSR.setflag(30)

function ksr_request_route()
    KSR.setflag(3)
end

function test_returns()
    local n = KSR.ktest.ret_int(-3)
    assert(n == -3 and math.type(n) == "integer", "ret_int")
    assert(KSR.ktest.ret_bool(1) == true, "ret_bool true")
    assert(KSR.ktest.ret_bool(0) == false, "ret_bool false")
    -- none: false without parameters, 0 with parameters (Kamailio's quirk)
    assert(KSR.ktest.ret_none() == false, "ret_none")
    assert(KSR.info("none with a parameter") == 0, "info returns 0")
    local i = KSR.ktest.xval_int(7)
    assert(i == 7 and math.type(i) == "integer", "xval_int")
    local l = KSR.ktest.xval_long(1 << 40)
    assert(l == 1 << 40 and math.type(l) == "integer", "xval_long")
    assert(KSR.ktest.xval_str("abc") == "abc", "xval_str")
    assert(select("#", KSR.ktest.xval_null()) == 1, "xval_null gives one value")
    assert(KSR.ktest.xval_null() == nil, "xval_null is nil")
    local d = KSR.ktest.xval_dict("alice", 2)
    assert(type(d) == "table" and d.name == "alice" and d.n == 2, "xval_dict")
    local a = KSR.ktest.xval_array(3)
    assert(type(a) == "table" and #a == 3 and a[1] == 1 and a[2] == 2 and a[3] == 3, "xval_array")
    assert(a[0] == nil, "arrays are 1-based")
    assert(next(KSR.ktest.xval_array(0)) == nil, "empty array")
    assert(KSR.ktest.concat("a", "b") == "ab", "concat")
    assert(KSR.ktest.sum_long(1 << 40, 1) == (1 << 40) + 1, "sum_long")
    assert(KSR.ktest.many(1, 2, "c", 4, "e", 6, "g", 8) == "1|2|c|4|e|6|g|8", "many")
    assert(KSR.ktest.renamed_echo("x") == "x", "renamed")
    assert(KSR.ktest.owned_len("h\u{e9}llo") == 5, "owned_len")
    -- binary-safe strings
    assert(KSR.ktest.xval_str("a\0b") == "a\0b", "embedded NUL")
end

function test_args()
    assert(KSR.ktest.ret_int("200") == 200, "numeric string for int")
    assert(KSR.ktest.xval_str(42) == "42", "number for str")
    local ok, err = pcall(KSR.ktest.xval_str, nil)
    assert(not ok)
    nil_err = err
    ok, err = pcall(KSR.ktest.ret_int, {})
    assert(not ok)
    table_err = err
    ok, err = pcall(KSR.ktest.concat, "a")
    assert(not ok)
    few_err = err
    ok, err = pcall(KSR.ktest.ret_none, 1)
    assert(not ok)
    extra_err = err
    ok, err = pcall(KSR.ktest.ret_int, "abc")
    assert(not ok)
    -- the script goes on after catching the error
    after_pcall = true
end

function test_uncaught_arg_error()
    KSR.ktest.xval_str(nil)
end

function test_context()
    assert(KSR.setflag(3) == true)
    assert(KSR.ktest.is_flag_set(3) == true)
    assert(KSR.ktest.set_flag_via_ctx(5) == true)
    assert(KSR.isflagset(5) == true)
    assert(KSR.setflag(99) == false)
end

function test_exit()
    KSR.setflag(1)
    KSR.x.exit()
    KSR.setflag(2)
end

function test_exit_in_pcall()
    KSR.setflag(1)
    pcall(KSR.x.exit)
    -- the exit was swallowed, but no KSR call acts on the message any more
    KSR.setflag(2)
end

function test_drop()
    KSR.x.drop()
    KSR.setflag(2)
end

function test_runtime_error()
    local t = nil
    return t.field -- line 96
end

function test_error_table()
    error({ code = 42 })
end

function test_os_exit()
    os.exit(1)
end

function test_log()
    KSR.info("x")
    KSR.dbg("x")
    KSR.log("warn", "x")
    assert(KSRVERSION == "2.0")
    -- sl is not loaded here: an unknown function
    assert(KSR.x.modf("sl_send_reply", "200", "OK") == -1)
    KSR.x.probe()
end

function test_event(name)
    event_seen = name
end

function test_no_ktest()
    assert(KSR.ktest == nil, "KSR.ktest exists")
    assert(type(KSR.pv) == "table" and type(KSR.hdr) == "table" and type(KSR.x) == "table")
    assert(type(KSR.setflag) == "function")
end

function test_has_ktest()
    assert(type(KSR.ktest) == "table" and type(KSR.ktest.ret_int) == "function")
end
