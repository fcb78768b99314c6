# The engine parity script for Ruby, a port of parity.lua: the same
# function names, recording the same values in $shv(...). The contract is
# spelled out in tests/parity/main.rs.

# "int:7", "bool:true", "str:abc", "null", "float:1.5",
# "dict:k1=<value>,k2=<value>" (keys sorted), "array:<value>,<value>".
def describe(v)
  case v
  when nil then "null"
  when true, false then "bool:#{v}"
  when Integer then "int:#{v}"
  when Float then "float:#{v}"
  when String then "str:#{v}"
  when Array then "array:" + v.map { |x| describe(x) }.join(",")
  when Hash then "dict:" + v.keys.map(&:to_s).sort.map { |k| "#{k}=#{describe(v[k])}" }.join(",")
  else v.class.name
  end
end

def record(name, value)
  KSR::PV.sets("$shv(#{name})", value)
end

# Core callbacks.

def ksr_request_route
  record("request_route", KSR::PV.get("$rm") + " " + KSR::PV.get("$ru"))
  KSR::KTEST.set_flag_via_ctx(5)
  KSR::SL.send_reply(200, "Parity OK")
end

def ksr_reply_route
  record("reply_route", "#{KSR::PV.get("$rs")} #{KSR::PV.get("$rr")}")
end

def ksr_onsend_route
  record("onsend_route", KSR::PV.get("$rm") + " " + KSR::PV.get("$ru"))
end

def ksr_event_route(evname)
  record("event_route", evname)
end

# Named routes tm runs through run_callback.

def ksr_branch_route_one
  record("branch_route", "one " + KSR::PV.get("$rm"))
end

def ksr_onreply_route_one
  record("onreply_route", "one #{KSR::PV.get("$rs")}")
end

def ksr_failure_route_one
  record("failure_route", "one " + KSR::PV.get("$rm"))
end

# Stateful relay through tm with every transaction route set ($du is set by
# the harness); tm runs the routes.
def parity_relay
  KSR::TM.t_on_branch("ksr_branch_route_one")
  KSR::TM.t_on_reply("ksr_onreply_route_one")
  KSR::TM.t_on_failure("ksr_failure_route_one")
  KSR::TM.t_on_branch_failure("ksr_branch_failure_one")
  record("relay", describe(KSR::TM.t_relay()))
end

def ksr_branch_failure_one(evname)
  record("branch_failure_route", "#{evname} #{KSR::PV.get("$rs")}")
end

# Return conversions.

def parity_returns
  record("ret_int", describe(KSR::KTEST.ret_int(7)))
  record("ret_int_negative", describe(KSR::KTEST.ret_int(-3)))
  record("ret_bool_true", describe(KSR::KTEST.ret_bool(1)))
  record("ret_bool_false", describe(KSR::KTEST.ret_bool(0)))
  record("xval_int", describe(KSR::KTEST.xval_int(-5)))
  record("xval_long", describe(KSR::KTEST.xval_long(1099511627776)))
  record("sum_long", describe(KSR::KTEST.sum_long(4294967296, 1)))
  record("xval_str", describe(KSR::KTEST.xval_str("héllo wörld")))
  record("xval_str_empty", describe(KSR::KTEST.xval_str("")))
  record("xval_null", describe(KSR::KTEST.xval_null))
  record("xval_dict", describe(KSR::KTEST.xval_dict("alice", 3)))
  record("xval_array", describe(KSR::KTEST.xval_array(3)))
  record("many", describe(KSR::KTEST.many(1, 2, "c", 4, "e", 6, "g", 8)))
  record("renamed_echo", describe(KSR::KTEST.renamed_echo("echo")))
  record("owned_len", describe(KSR::KTEST.owned_len("héllo")))
end

# Exit and drop.

# Exits from a nested method, as the KEMI examples' sub-routes do.
def parity_exit_inner
  KSR::X.exit
end

def parity_exit
  record("exit_before", "yes")
  parity_exit_inner
  record("exit_after", "yes")
end

def parity_exit_caught
  record("exit_caught_before", "yes")
  begin
    KSR::X.exit
  rescue Exception # everything, on purpose: the contract says catch-all
  end
  record("exit_caught_after", "yes")
end

def parity_drop
  record("drop_before", "yes")
  KSR::X.drop
  record("drop_after", "yes")
end

# Wrong arguments: each call is caught and its error message recorded.

def error_of
  yield
  "no error"
rescue StandardError => e
  e.message
end

def parity_wrong_args
  record("err_too_few", error_of { KSR::KTEST.concat("a") })
  record("err_too_many", error_of { KSR::KTEST.xval_null("x") })
  record("err_table_for_str", error_of { KSR::KTEST.xval_str({}) })
  record("err_null_for_str", error_of { KSR::KTEST.xval_str(nil) })
  record("err_word_for_int", error_of { KSR::KTEST.ret_int("abc") })
  record("err_null_for_int", error_of { KSR::KTEST.ret_int(nil) })
  record("err_fraction_for_int", error_of { KSR::KTEST.ret_int(1.5) })
  record("numeric_string_for_int", describe(KSR::KTEST.ret_int("42")))
  record("extra_args_ignored", describe(KSR::KTEST.ret_int(1, 2)))
  record("wrong_args_done", "yes")
end

# KSR::X.modf: functions by their kamailio.cfg name.

def parity_modf
  record("modf_sl", describe(KSR::X.modf("sl_send_reply", "202", "Modf")))
  record("modf_setflag", describe(KSR::X.modf("setflag", "7")))
  record("modf_isflagset", describe(KSR.isflagset(7)))
  record("modf_ret_int", describe(KSR::X.modf("ret_int", "42")))
  record("modf_unknown", describe(KSR::X.modf("parity_no_such_function")))
  record("modf_bad_int", error_of { KSR::X.modf("setflag", "abc") })
end

# Uncaught errors.

def parity_fail_inner
  raise "parity deliberate failure"
end

def parity_fail
  parity_fail_inner
end

def parity_uncaught_ksr_error
  KSR::KTEST.ret_int("not a number")
end

# Feature tests.

def parity_features
  record("has_auth", defined?(KSR::AUTH) ? "yes" : "no")
  record("has_sl", defined?(KSR::SL) ? "yes" : "no")
  record("has_ktest", defined?(KSR::KTEST) ? "yes" : "no")
end

# Reload: the harness rewrites this literal to parity-v2.

def parity_version
  record("version", "parity-v1")
end
