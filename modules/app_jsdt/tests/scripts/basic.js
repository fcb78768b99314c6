// Routing script used by tests/engine.rs. Each test_* function is run as a
// callback by a Rust test; a thrown Error comes back as ScriptError.

function assert(cond, message) {
    if (!cond) {
        throw new Error(message || "assertion failed");
    }
}

KSR.info("basic.js loading");
// At load time KSR calls act on a scratch context, discarded afterwards.
KSR.setflag(30);

function ksr_request_route() {
    KSR.setflag(3);
}

function test_returns() {
    assert(KSR.ktest.ret_int(-3) === -3, "ret_int");
    assert(KSR.ktest.ret_bool(1) === true, "ret_bool true");
    assert(KSR.ktest.ret_bool(0) === false, "ret_bool false");
    // none: false without parameters, 0 with parameters (Kamailio's quirk)
    assert(KSR.ktest.ret_none() === false, "ret_none");
    assert(KSR.info("none with a parameter") === 0, "info returns 0");
    assert(KSR.ktest.xval_int(7) === 7, "xval_int");
    assert(KSR.ktest.xval_long(2 ** 40) === 2 ** 40, "xval_long beyond 32 bits");
    assert(KSR.ktest.xval_long(5) === 5, "xval_long small");
    assert(KSR.ktest.xval_str("abc") === "abc", "xval_str");
    assert(KSR.ktest.xval_null() === null, "xval_null is null");
    var d = KSR.ktest.xval_dict("alice", 2);
    assert(typeof d === "object" && d.name === "alice" && d.n === 2, "xval_dict");
    var a = KSR.ktest.xval_array(3);
    assert(Array.isArray(a) && a.length === 3 && a[0] === 1 && a[2] === 3, "xval_array");
    assert(KSR.ktest.xval_array(0).length === 0, "empty array");
    assert(KSR.ktest.concat("a", "b") === "ab", "concat");
    assert(KSR.ktest.sum_long(2 ** 40, 1) === 2 ** 40 + 1, "sum_long");
    assert(KSR.ktest.sum_long(BigInt(2) ** 40n, 1) === 2 ** 40 + 1, "bigint for long");
    assert(KSR.ktest.many(1, 2, "c", 4, "e", 6, "g", 8) === "1|2|c|4|e|6|g|8", "many");
    assert(KSR.ktest.renamed_echo("x") === "x", "renamed");
    assert(KSR.ktest.owned_len("h\u00e9llo") === 5, "owned_len");
    assert(KSR.ktest.xval_str("h\u00e9llo \u{1F600}") === "h\u00e9llo \u{1F600}", "unicode round trip");
    assert(KSR.ktest.xval_str("a\0b") === "a\0b", "embedded NUL");
}

function test_args() {
    assert(KSR.ktest.ret_int("200") === 200, "numeric string for int");
    assert(KSR.ktest.ret_int(3.0) === 3, "integral float for int");
    assert(KSR.ktest.xval_str(42) === "42", "number for str");
    assert(KSR.ktest.xval_str(2.5) === "2.5", "float for str");
    try { KSR.ktest.xval_str(null); } catch (e) { null_err = e; }
    try { KSR.ktest.xval_str(undefined); } catch (e) { undefined_err = String(e); }
    try { KSR.ktest.ret_int({}); } catch (e) { object_err = String(e); }
    try { KSR.ktest.concat("a"); } catch (e) { few_err = String(e); }
    try { KSR.ktest.ret_none(1); } catch (e) { extra_err = String(e); }
    try { KSR.ktest.ret_int(1.5); } catch (e) { float_err = String(e); }
    assert(null_err instanceof TypeError, "a TypeError");
    null_err = String(null_err);
    // the script goes on after catching the error
    after_catch = true;
}

function test_uncaught_arg_error() {
    KSR.ktest.xval_str(null); // line 63
}

function test_context() {
    assert(KSR.setflag(3) === true);
    assert(KSR.ktest.is_flag_set(3) === true);
    assert(KSR.ktest.set_flag_via_ctx(5) === true);
    assert(KSR.isflagset(5) === true);
    assert(KSR.setflag(99) === false);
}

function test_exit() {
    KSR.setflag(1);
    KSR.x.exit();
    KSR.setflag(2);
}

function test_exit_in_try() {
    KSR.setflag(1);
    try {
        KSR.x.exit();
    } catch (e) {
        caught_exit = e;
    }
    // the exit was swallowed, but no KSR call acts on the message any more
    KSR.setflag(2);
    after_swallowed_exit = true;
}

function test_exit_swallowed_twice() {
    KSR.setflag(1);
    try { KSR.x.exit(); } catch (e) { }
    try { KSR.setflag(2); } catch (e) { }
    // plain JavaScript still runs; the callback ends as an exit
    plain_js_after_exit = true;
}

function test_drop() {
    KSR.x.drop();
    KSR.setflag(2);
}

function test_runtime_error() {
    var t = null;
    return helper_that_fails(t);
}

function helper_that_fails(t) {
    return t.field;
}

function test_throw_string() {
    throw "plain string";
}

function test_throw_object() {
    throw { code: 42 };
}

function test_log() {
    KSR.info("x");
    KSR.dbg("x");
    KSR.log("warn", "x");
    // sl is not loaded here: an unknown function
    assert(KSR.x.modf("sl_send_reply", "200", "OK") === -1);
    assert(KSR_x === KSR.x, "KSR_x alias");
}

function test_event(name) {
    event_seen = name;
}

function test_no_ktest() {
    assert(KSR.ktest === undefined, "KSR.ktest exists");
    assert(!KSR.ktest, "feature test");
    assert(typeof KSR.pv === "object" && typeof KSR.hdr === "object" && typeof KSR.x === "object");
    assert(typeof KSR.setflag === "function");
}

function test_has_ktest() {
    assert(typeof KSR.ktest === "object" && typeof KSR.ktest.ret_int === "function");
    assert(KSR_ktest === KSR.ktest, "KSR_ktest alias");
}

function test_missing_function() {
    KSR.ktest.no_such_function();
}

function test_deep_recursion() {
    function down(n) { return down(n + 1) + 1; }
    down(0);
}

function test_sloppy_mode() {
    // assigning an undeclared name makes a global in sloppy mode
    implicit_global = 7;
}
