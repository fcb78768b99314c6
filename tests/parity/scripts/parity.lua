-- The engine parity script for Lua. Every engine has one of these, written
-- against the same contract: the function names below and what each one
-- records in $shv(...). The contract is spelled out in tests/parity/main.rs;
-- this file is its reference implementation.

-- "int:7", "bool:true", "str:abc", "null", "float:1.5",
-- "dict:k1=<value>,k2=<value>" (keys sorted), "array:<value>,<value>".
local function describe(v)
    local t = type(v)
    if t == "nil" then
        return "null"
    elseif t == "boolean" then
        return "bool:" .. tostring(v)
    elseif t == "number" then
        return (math.type(v) == "integer" and "int:" or "float:") .. tostring(v)
    elseif t == "string" then
        return "str:" .. v
    elseif t == "table" then
        local n = #v
        local count = 0
        for _ in pairs(v) do
            count = count + 1
        end
        local parts = {}
        if n > 0 and n == count then
            for i = 1, n do
                parts[i] = describe(v[i])
            end
            return "array:" .. table.concat(parts, ",")
        end
        local keys = {}
        for k in pairs(v) do
            keys[#keys + 1] = tostring(k)
        end
        table.sort(keys)
        for i, k in ipairs(keys) do
            parts[i] = k .. "=" .. describe(v[k])
        end
        return "dict:" .. table.concat(parts, ",")
    end
    return t
end

local function record(name, value)
    KSR.pv.sets("$shv(" .. name .. ")", value)
end

-- Core callbacks.

function ksr_request_route()
    record("request_route", KSR.pv.get("$rm") .. " " .. KSR.pv.get("$ru"))
    KSR.ktest.set_flag_via_ctx(5)
    KSR.sl.send_reply(200, "Parity OK")
end

function ksr_reply_route()
    record("reply_route", KSR.pv.get("$rs") .. " " .. KSR.pv.get("$rr"))
end

function ksr_onsend_route()
    record("onsend_route", KSR.pv.get("$rm") .. " " .. KSR.pv.get("$ru"))
end

function ksr_event_route(evname)
    record("event_route", evname)
end

-- Named routes tm runs through run_callback.

function ksr_branch_route_one()
    record("branch_route", "one " .. KSR.pv.get("$rm"))
end

function ksr_onreply_route_one()
    record("onreply_route", "one " .. KSR.pv.get("$rs"))
end

function ksr_failure_route_one()
    record("failure_route", "one " .. KSR.pv.get("$rm"))
end

-- Stateful relay through tm with every transaction route set ($du is set
-- by the harness); tm runs the routes.
function parity_relay()
    KSR.tm.t_on_branch("ksr_branch_route_one")
    KSR.tm.t_on_reply("ksr_onreply_route_one")
    KSR.tm.t_on_failure("ksr_failure_route_one")
    KSR.tm.t_on_branch_failure("ksr_branch_failure_one")
    record("relay", describe(KSR.tm.t_relay()))
end

function ksr_branch_failure_one(evname)
    record("branch_failure_route", evname .. " " .. KSR.pv.get("$rs"))
end

-- Return conversions.

function parity_returns()
    record("ret_int", describe(KSR.ktest.ret_int(7)))
    record("ret_int_negative", describe(KSR.ktest.ret_int(-3)))
    record("ret_bool_true", describe(KSR.ktest.ret_bool(1)))
    record("ret_bool_false", describe(KSR.ktest.ret_bool(0)))
    record("xval_int", describe(KSR.ktest.xval_int(-5)))
    record("xval_long", describe(KSR.ktest.xval_long(1099511627776)))
    record("sum_long", describe(KSR.ktest.sum_long(4294967296, 1)))
    record("xval_str", describe(KSR.ktest.xval_str("héllo wörld")))
    record("xval_str_empty", describe(KSR.ktest.xval_str("")))
    record("xval_null", describe(KSR.ktest.xval_null()))
    record("xval_dict", describe(KSR.ktest.xval_dict("alice", 3)))
    record("xval_array", describe(KSR.ktest.xval_array(3)))
    record("many", describe(KSR.ktest.many(1, 2, "c", 4, "e", 6, "g", 8)))
    record("renamed_echo", describe(KSR.ktest.renamed_echo("echo")))
    record("owned_len", describe(KSR.ktest.owned_len("héllo")))
end

-- Exit and drop.

-- Exits from a nested function, as the KEMI examples' sub-routes do.
function parity_exit_inner()
    KSR.x.exit()
end

function parity_exit()
    record("exit_before", "yes")
    parity_exit_inner()
    record("exit_after", "yes")
end

function parity_exit_caught()
    record("exit_caught_before", "yes")
    pcall(KSR.x.exit)
    record("exit_caught_after", "yes")
end

function parity_drop()
    record("drop_before", "yes")
    KSR.x.drop()
    record("drop_after", "yes")
end

-- Wrong arguments: each call is caught and its error message recorded.

local function error_of(f, ...)
    local ok, err = pcall(f, ...)
    if ok then
        return "no error"
    end
    return tostring(err)
end

function parity_wrong_args()
    record("err_too_few", error_of(KSR.ktest.concat, "a"))
    record("err_too_many", error_of(KSR.ktest.xval_null, "x"))
    record("err_table_for_str", error_of(KSR.ktest.xval_str, {}))
    record("err_null_for_str", error_of(KSR.ktest.xval_str, nil))
    record("err_word_for_int", error_of(KSR.ktest.ret_int, "abc"))
    record("err_null_for_int", error_of(KSR.ktest.ret_int, nil))
    record("err_fraction_for_int", error_of(KSR.ktest.ret_int, 1.5))
    record("numeric_string_for_int", describe(KSR.ktest.ret_int("42")))
    record("extra_args_ignored", describe(KSR.ktest.ret_int(1, 2)))
    record("wrong_args_done", "yes")
end

-- KSR.x.modf: functions by their kamailio.cfg name.

function parity_modf()
    record("modf_sl", describe(KSR.x.modf("sl_send_reply", "202", "Modf")))
    record("modf_setflag", describe(KSR.x.modf("setflag", "7")))
    record("modf_isflagset", describe(KSR.isflagset(7)))
    record("modf_ret_int", describe(KSR.x.modf("ret_int", "42")))
    record("modf_unknown", describe(KSR.x.modf("parity_no_such_function")))
    record("modf_bad_int", error_of(KSR.x.modf, "setflag", "abc"))
end

-- Uncaught errors.

function parity_fail_inner()
    error("parity deliberate failure")
end

function parity_fail()
    parity_fail_inner()
end

function parity_uncaught_ksr_error()
    KSR.ktest.ret_int("not a number")
end

-- Feature tests.

function parity_features()
    record("has_auth", KSR.auth and "yes" or "no")
    record("has_sl", KSR.sl and "yes" or "no")
    record("has_ktest", KSR.ktest and "yes" or "no")
end

-- Reload: the harness rewrites this literal to parity-v2.

function parity_version()
    record("version", "parity-v1")
end
