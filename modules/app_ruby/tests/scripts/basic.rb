# Routing script used by tests/engine.rs. Each test_* method is run as a
# callback by a Rust test; a failed `check` raises, which comes back as a
# ScriptError with the backtrace.

def check(cond, what)
  raise "check failed: #{what}" unless cond
end

KSR.info("basic.rb loading")
# At load time KSR calls act on a scratch context, discarded afterwards.
KSR.setflag(30)

def ksr_request_route
  KSR.setflag(3)
end

def test_returns
  n = KSR::KTEST.ret_int(-3)
  check(n == -3 && n.is_a?(Integer), "ret_int")
  check(KSR::KTEST.ret_bool(1) == true, "ret_bool true")
  check(KSR::KTEST.ret_bool(0) == false, "ret_bool false")
  # none: false without parameters, 0 with parameters (Kamailio's quirk)
  check(KSR::KTEST.ret_none == false, "ret_none")
  check(KSR.info("none with a parameter") == 0, "info returns 0")
  check(KSR::KTEST.xval_int(7) == 7, "xval_int")
  l = KSR::KTEST.xval_long(1 << 40)
  check(l == 1 << 40 && l.is_a?(Integer), "xval_long")
  s = KSR::KTEST.xval_str("abc")
  check(s == "abc" && s.encoding == Encoding::UTF_8, "xval_str")
  check(KSR::KTEST.xval_null.nil?, "xval_null is nil")
  d = KSR::KTEST.xval_dict("alice", 2)
  check(d == { "name" => "alice", "n" => 2 }, "xval_dict: #{d.inspect}")
  check(d.keys == ["name", "n"], "dict keeps its order")
  a = KSR::KTEST.xval_array(3)
  check(a == [1, 2, 3], "xval_array: #{a.inspect}")
  check(KSR::KTEST.xval_array(0) == [], "empty array")
  check(KSR::KTEST.concat("a", "b") == "ab", "concat")
  check(KSR::KTEST.sum_long(1 << 40, 1) == (1 << 40) + 1, "sum_long")
  check(KSR::KTEST.many(1, 2, "c", 4, "e", 6, "g", 8) == "1|2|c|4|e|6|g|8", "many")
  check(KSR::KTEST.renamed_echo("x") == "x", "renamed")
  check(KSR::KTEST.owned_len("h\u00e9llo") == 5, "owned_len")
  # binary-safe strings
  check(KSR::KTEST.xval_str("a\0b") == "a\0b", "embedded NUL")
end

def test_args
  check(KSR::KTEST.ret_int("200") == 200, "numeric string for int")
  check(KSR::KTEST.ret_int(2.0) == 2, "integral float for int")
  check(KSR::KTEST.xval_str(42) == "42", "number for str")
  $errors = {}
  begin
    KSR::KTEST.xval_str(nil)
  rescue TypeError => e
    $errors[:nil] = e.message
  end
  begin
    KSR::KTEST.ret_int([1])
  rescue TypeError => e
    $errors[:array] = e.message
  end
  begin
    KSR::KTEST.ret_int(:sym)
  rescue TypeError => e
    $errors[:symbol] = e.message
  end
  begin
    KSR::KTEST.concat("a")
  rescue ArgumentError => e
    $errors[:few] = e.message
  end
  begin
    KSR::KTEST.ret_none(1)
  rescue ArgumentError => e
    $errors[:extra] = e.message
  end
  begin
    KSR::KTEST.ret_int(1 << 70)
  rescue TypeError => e
    $errors[:big] = e.message
  end
  # the script goes on after rescuing the errors
  $after_rescue = true
end

def test_uncaught_arg_error
  KSR::KTEST.xval_str(nil)
end

def test_context
  check(KSR.setflag(3) == true, "setflag")
  check(KSR::KTEST.is_flag_set(3) == true, "is_flag_set")
  check(KSR::KTEST.set_flag_via_ctx(5) == true, "set_flag_via_ctx")
  check(KSR.isflagset(5) == true, "isflagset")
  check(KSR.setflag(99) == false, "flag out of range")
end

def test_exit
  KSR.setflag(1)
  exit
  KSR.setflag(2)
end

def test_ksr_x_exit
  KSR.setflag(1)
  KSR::X.exit
  KSR.setflag(2)
end

def test_exit_rescued
  KSR.setflag(1)
  begin
    KSR::X.exit
  rescue SystemExit
    # swallowed, but no KSR call acts on the message any more
  end
  KSR.setflag(2)
end

def test_ruby_exit_rescued
  begin
    exit
  rescue SystemExit
  end
  # Ruby's own exit, rescued, does not end the message
  KSR.setflag(4)
end

def test_drop
  KSR::X.drop
  KSR.setflag(2)
end

def test_set_drop_then_exit
  KSR.set_drop
  exit
end

def helper_that_fails
  nil.field # line 139
end

def test_runtime_error
  helper_that_fails
end

def test_abort
  abort("gave up")
end

def test_exit_bang
  exit!(1)
end

def test_log
  KSR.info("x")
  KSR.dbg("x")
  KSR.log("warn", "x")
  # sl is not loaded here: an unknown function
  check(KSR::X.modf("sl_send_reply", "200", "OK") == -1, "modf")
end

def test_event(name)
  $event_seen = name
end

def test_no_ktest
  check(!defined?(KSR::KTEST), "KSR::KTEST exists")
  check(defined?(KSR::PV) && defined?(KSR::HDR) && defined?(KSR::X), "core modules")
  check(KSR.respond_to?(:setflag), "KSR.setflag")
end

def test_has_ktest
  check(defined?(KSR::KTEST) == "constant", "KSR::KTEST")
  check(KSR::KTEST.respond_to?(:ret_int), "KSR::KTEST.ret_int")
end

def test_legacy_pv
  check(KSR::PV.sets("$var(a)", "text"), "sets")
  check(KSR::PV.get("$var(a)") == "text", "legacy PV get returns the string")
  check(!KSR::PV.respond_to?(:getvs), "legacy PV has no getvs")
  check(KSR::KTEST.xval_str("abc").nil?, "xval strings are nil in xval_mode 0")
  check(KSR::KTEST.xval_int(3) == 3, "xval ints still work")
end
