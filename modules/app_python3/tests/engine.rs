//! The Python engines against real scripts: both styles, the KSR module,
//! exits, argument errors, exceptions, return conversions, init functions.

use std::sync::Arc;

use kemi_core::context::RouteKind;
use kemi_core::engine::{CallbackOutcome, ScriptEngine, ScriptError};
use kemi_core::Context;
use kemi_mod_app_python3::testing::{self, write_script, PyTest};
use kemi_mod_app_python3::{PyEngine, Style};
use pyo3::prelude::*;

const REPLY: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-proxy-1\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-inv-1\r\n\
From: <sip:alice@example.org>;tag=fa1\r\n\
To: <sip:bob@example.com>;tag=tb2\r\n\
Call-ID: reply-call-1\r\n\
CSeq: 10 INVITE\r\n\
Content-Length: 0\r\n\r\n";

fn module_test() -> PyTest {
    testing::module_style(&[&kemi_mod_ktest::MODULE, &kemi_mod_sl::MODULE])
}

fn handler_test() -> PyTest {
    testing::handler_style(&[&kemi_mod_ktest::MODULE, &kemi_mod_sl::MODULE])
}

/// Loads `script` and builds a worker engine on it.
fn engine(test: &PyTest, script: &str) -> PyEngine {
    let path = write_script(script).unwrap();
    match testing::engine(test, &path) {
        Ok((e, _)) => e,
        Err(e) => panic!("engine: {e}"),
    }
}

fn load_error(test: &PyTest, script: &str) -> String {
    let path = write_script(script).unwrap();
    match testing::engine(test, &path) {
        Ok(_) => panic!("the script loaded:\n{script}"),
        Err(e) => e,
    }
}

fn context(test: &PyTest, engine: &PyEngine) -> Context {
    test.context(Arc::clone(engine.script().runtime())).unwrap()
}

/// `str()` of a module-level variable of the script.
fn global(engine: &PyEngine, name: &str) -> String {
    Python::attach(|py| {
        let module = engine.script().module();
        let value = module.bind(py).getattr(name).unwrap();
        value.str().unwrap().to_string()
    })
}

fn run(test: PyTest, script: &str) -> kemi_mod_app_python3::testing::Outcome {
    test.run(script).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn module_style_callbacks_act_on_the_message() {
    let out = run(
        module_test(),
        r#"
import KSR
KSR.setflag(30)  # at load time: a stand-in message, not the routed one

def ksr_request_route():
    assert KSR.is_OPTIONS()
    assert not KSR.isflagset(30)
    KSR.setflag(3)
    KSR.setdsturi("sip:192.0.2.1:5080")
    KSR.sl.send_reply(200, "OK")
"#,
    );
    assert_eq!(out.outcome, CallbackOutcome::Returned);
    assert_eq!(out.ctx.flags, 1 << 3);
    assert_eq!(out.ctx.dst_uri.as_deref(), Some("sip:192.0.2.1:5080"));
    assert_eq!(out.sent.len(), 1);
    assert!(out.sent[0].bytes.starts_with(b"SIP/2.0 200 OK\r\n"));
}

#[test]
fn handler_style_calls_methods_with_a_msg_object() {
    let test = handler_test();
    let mut e = engine(
        &test,
        r#"
import KSR
seen = []
kept = []

class Handler:
    def __init__(self):
        self.prefix = "sip:"

    def child_init(self, rank):
        seen.append(("child_init", rank))
        return 0

    def ksr_request_route(self, msg):
        kept.append(msg)
        seen.append((msg.Type, msg.Method, msg.RURI, msg.src_address, msg.dst_address,
                     msg.getHeader("call-id"), msg.getHeader("X-None")))
        msg.rewrite_ruri(self.prefix + "bob@example.net")
        msg.set_dst_uri("sip:192.0.2.2:5070")
        seen.append(msg.RURI)
        seen.append(msg.call_function("sl_send_reply", "200", "OK"))
        try:
            msg.Status
        except TypeError as e:
            seen.append("no status")

    def ksr_reply_route(self, msg):
        seen.append((msg.Type, msg.Status))

    def ksr_event(self, msg, evname):
        seen.append(("event", evname))

    def use_kept(self, msg):
        try:
            kept[0].Method
        except RuntimeError as e:
            seen.append(str(e))

def mod_init():
    return Handler()
"#,
    );
    assert_eq!(global(&e, "seen"), "[('child_init', 1)]");
    let mut ctx = context(&test, &e);
    assert_eq!(
        e.request_route(&mut ctx).unwrap(),
        CallbackOutcome::Returned
    );
    assert_eq!(ctx.new_uri.as_deref(), Some("sip:bob@example.net"));
    assert_eq!(ctx.dst_uri.as_deref(), Some("sip:192.0.2.2:5070"));

    let mut reply = testing::handler_style(&[])
        .message(REPLY)
        .context(Arc::clone(e.script().runtime()))
        .unwrap();
    reply.route = RouteKind::Reply;
    assert_eq!(
        e.reply_route(&mut reply).unwrap(),
        CallbackOutcome::Returned
    );
    assert_eq!(
        e.run_callback(
            &mut context(&test, &e),
            "ksr_event",
            Some("core:worker-one-init")
        )
        .unwrap(),
        CallbackOutcome::Returned
    );
    e.run_callback(&mut context(&test, &e), "use_kept", None)
        .unwrap();
    assert_eq!(
        global(&e, "seen"),
        "[('child_init', 1), \
         ('SIP_REQUEST', 'OPTIONS', 'sip:alice@example.com', ('192.0.2.10', 5062), ('127.0.0.1', 5060), 'py-test-call-id', None), \
         'sip:bob@example.net', 1, 'no status', \
         ('SIP_REPLY', '200'), \
         ('event', 'core:worker-one-init'), \
         'this msg object is only valid during the callback it was passed to']"
    );
}

#[test]
fn module_style_event_callbacks_get_the_event_name() {
    let test = module_test();
    let mut e = engine(
        &test,
        "import KSR\nevents = []\ndef ksr_request_route():\n    pass\ndef ev(name):\n    events.append(name)\n",
    );
    e.run_callback(&mut context(&test, &e), "ev", Some("tm:local-request"))
        .unwrap();
    assert_eq!(global(&e, "events"), "['tm:local-request']");
}

#[test]
fn missing_callbacks_are_skipped_except_the_request_route() {
    let test = module_test();
    let mut e = engine(
        &test,
        "def ksr_request_route():\n    pass\nnot_callable = 3\n",
    );
    let mut ctx = context(&test, &e);
    assert_eq!(e.reply_route(&mut ctx).unwrap(), CallbackOutcome::Skipped);
    assert_eq!(
        e.run_callback(&mut ctx, "not_callable", None).unwrap(),
        CallbackOutcome::Skipped
    );
    assert!(e.defines("ksr_request_route"));
    assert!(!e.defines("not_callable"));
    assert!(!e.has_onsend_route());

    let e2 = engine(
        &test,
        "def ksr_request_route():\n    pass\ndef ksr_onsend_route():\n    pass\n",
    );
    assert!(e2.has_onsend_route());
}

#[test]
fn exit_ends_the_callback_without_an_error() {
    for exit in [
        "KSR.x.exit()",
        "exit()",
        "sys.exit()",
        "sys.exit(1)",
        "raise SystemExit",
    ] {
        let out = run(
            module_test(),
            &format!(
                "import sys\nimport KSR\ndef ksr_request_route():\n    KSR.setflag(1)\n    {exit}\n    KSR.setflag(2)\n"
            ),
        );
        assert_eq!(out.outcome, CallbackOutcome::Exit, "{exit}");
        assert!(out.ctx.exit, "{exit}");
        assert_eq!(out.ctx.flags, 1 << 1, "{exit}: nothing after it runs");
    }
}

#[test]
fn a_caught_exit_ends_the_callback_at_the_next_ksr_call() {
    let out = run(
        module_test(),
        r#"
import KSR
def ksr_request_route():
    try:
        KSR.x.exit()
    except BaseException:
        pass
    KSR.setflag(2)
"#,
    );
    assert_eq!(out.outcome, CallbackOutcome::Exit);
    assert_eq!(out.ctx.flags, 0);
}

#[test]
fn drop_marks_the_message_outside_the_request_route() {
    for body in ["KSR.x.drop()", "KSR.set_drop()\n    exit()"] {
        let out = run(
            module_test()
                .message(REPLY)
                .route(RouteKind::Reply)
                .callbacks(kemi_core::engine::CallbackNames {
                    request: "on_reply".into(),
                    ..Default::default()
                }),
            &format!("import KSR\ndef on_reply():\n    {body}\n"),
        );
        assert_eq!(out.outcome, CallbackOutcome::Exit, "{body}");
        assert!(out.ctx.drop, "{body}");
    }
    // In the request route drop has no effect, as in Kamailio.
    let out = run(
        module_test(),
        "import KSR\ndef ksr_request_route():\n    KSR.x.drop()\n",
    );
    assert_eq!(out.outcome, CallbackOutcome::Exit);
    assert!(!out.ctx.drop);
}

#[test]
fn wrong_arguments_raise_exceptions_naming_the_function() {
    let test = module_test();
    let mut e = engine(
        &test,
        r#"
import KSR
errors = []

def catch(f, *args):
    try:
        f(*args)
        errors.append("no error")
    except Exception as e:
        errors.append(type(e).__name__ + ": " + str(e))

def ksr_request_route():
    catch(KSR.sl.send_reply, 200)
    catch(KSR.sl.send_reply, None, "OK")
    catch(KSR.sl.send_reply, "abc", "OK")
    catch(KSR.sl.send_reply, 200, ["OK"])
    catch(KSR.ktest.ret_none, 1)
    catch(KSR.ktest.sum_long, 1 << 70, 1)
    catch(lambda: KSR.sl.send_reply(code=200, reason="OK"))
"#,
    );
    e.request_route(&mut context(&test, &e)).unwrap();
    let errors = global(&e, "errors");
    for expected in [
        "TypeError: KSR.sl.send_reply: expects 2 arguments, got 1 [signature: int KSR.sl.send_reply(int code, str reason)]",
        "TypeError: KSR.sl.send_reply: argument 1 (code) must be int, got None",
        "ValueError: KSR.sl.send_reply: argument 1 (code) must be int, got string \"abc\"",
        "TypeError: KSR.sl.send_reply: argument 2 (reason) must be str, got list",
        "TypeError: KSR.ktest.ret_none: expects 0 arguments, got 1",
        "argument 1 (a) must be long, got int (too large for 64 bits)",
        "TypeError: KSR.sl.send_reply: keyword arguments are not accepted, pass them in order [signature: int KSR.sl.send_reply(int code, str reason)]",
    ] {
        assert!(errors.contains(expected), "{expected}\nnot in\n{errors}");
    }
    assert!(!errors.contains("no error"), "{errors}");
}

#[test]
fn results_convert_to_python_values() {
    run(
        module_test(),
        r#"
import KSR
def ksr_request_route():
    k = KSR.ktest
    assert k.ret_int(7) == 7 and type(k.ret_int(7)) is int
    assert k.ret_bool(1) is True and k.ret_bool(0) is False
    assert k.ret_none() == 0
    assert k.xval_int(-3) == -3
    assert k.xval_long(1 << 40) == 1 << 40
    assert k.xval_str("é") == "é"
    assert k.xval_null() is None
    assert k.xval_dict("a", 2) == {"name": "a", "n": 2}
    assert list(k.xval_dict("a", 2)) == ["name", "n"]
    assert k.xval_array(3) == [1, 2, 3]
    assert k.concat("a", 1) == "a1"
    assert k.sum_long(True, 2.0) == 3
    assert k.many(1, 2, "c", 4, "e", 6, "g", 8) is not None
    assert KSR.pv.get("$rm") == "OPTIONS"
    # tm is not loaded: an unknown function
    assert KSR.x.modf("t_relay") == -1
"#,
    );
}

#[test]
fn ksr_imports_and_feature_tests_work_like_kamailio() {
    let out = run(
        module_test(),
        r#"
import KSR
import KSR.pv
from KSR import sl
import KSR.x as x

def ksr_request_route():
    assert KSR.__version__ == 1008
    assert KSR.pv.get("$rm") == "OPTIONS"
    assert sl is KSR.sl and x is KSR.x
    assert hasattr(KSR, "ktest") and hasattr(KSR, "sl")
    assert not hasattr(KSR, "auth")
    assert not hasattr(KSR, "tm")
    try:
        KSR.auth.pv_auth_check("a", "b", 0, 1)
        raise AssertionError("KSR.auth exists")
    except AttributeError:
        pass
    assert "int KSR.sl.send_reply(int code, str reason)" in KSR.sl.send_reply.__doc__
    KSR.info("from python\n")
    KSR.setflag(5)
"#,
    );
    assert_eq!(out.ctx.flags, 1 << 5);
    let handler = run(
        handler_test(),
        "import KSR\nclass H:\n    def ksr_request_route(self, msg):\n        assert KSR.__version__ == 1003\n        KSR.setflag(6)\ndef mod_init():\n    return H()\n",
    );
    assert_eq!(handler.ctx.flags, 1 << 6);
}

#[test]
fn exceptions_come_back_with_the_traceback_and_the_engine_goes_on() {
    let test = module_test();
    let path = write_script(
        "import KSR\n\ndef helper(d):\n    return d['missing']\n\ndef ksr_request_route():\n    helper({})\n\ndef fine():\n    KSR.setflag(1)\n",
    )
    .unwrap();
    let (mut e, _) = testing::engine(&test, &path).unwrap();
    let err = e.request_route(&mut context(&test, &e)).unwrap_err();
    let ScriptError::Runtime {
        engine,
        callback,
        message,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(
        (*engine, callback.as_str()),
        ("Python", "ksr_request_route")
    );
    let file = path.display().to_string();
    for expected in [
        "Traceback (most recent call last):",
        &format!("File \"{file}\", line 7, in ksr_request_route"),
        &format!("File \"{file}\", line 4, in helper"),
        "KeyError: 'missing'",
    ] {
        assert!(message.contains(expected), "{expected}\nnot in\n{message}");
    }
    let mut ctx = context(&test, &e);
    assert_eq!(
        e.run_callback(&mut ctx, "fine", None).unwrap(),
        CallbackOutcome::Returned
    );
    assert_eq!(ctx.flags, 1 << 1);
}

#[test]
fn load_errors_are_clear() {
    let m = module_test();
    let err = load_error(&m, "def ksr_request_route(:\n    pass\n");
    assert!(
        err.contains("error loading Python script") && err.contains("SyntaxError"),
        "{err}"
    );
    assert!(err.contains("line 1"), "{err}");

    let err = load_error(&m, "import KSR\nraise ValueError('bad config')\n");
    assert!(
        err.contains("ValueError: bad config") && err.contains("line 2"),
        "{err}"
    );

    let err = load_error(&m, "import sys\nsys.exit(0)\n");
    assert!(err.contains("called exit() while loading"), "{err}");

    let err = load_error(&m, "def other():\n    pass\n");
    assert!(
        err.contains("no function `ksr_request_route`") && err.contains("at module level"),
        "{err}"
    );

    let h = handler_test();
    let err = load_error(&h, "def ksr_request_route():\n    pass\n");
    assert!(
        err.contains("mod_init() in Python script") && err.contains("no such function"),
        "{err}"
    );

    let err = load_error(&h, "def mod_init():\n    return None\n");
    assert!(err.contains("returned None"), "{err}");

    let err = load_error(&h, "class H:\n    pass\ndef mod_init():\n    return H()\n");
    assert!(err.contains("on the object mod_init() returned"), "{err}");

    let err = load_error(&h, "def mod_init():\n    return 1 // 0\n");
    assert!(err.contains("ZeroDivisionError"), "{err}");

    let missing = testing::engine(&m, std::path::Path::new("/nonexistent/kamailio.py"))
        .err()
        .unwrap();
    assert!(
        missing.contains("cannot read Python script /nonexistent/kamailio.py"),
        "{missing}"
    );
}

#[test]
fn init_functions_follow_the_modparams() {
    let test = module_test().engine(Style::Module {
        script_init: Some("setup".into()),
        script_child_init: Some("per_worker".into()),
    });
    let e = engine(
        &test,
        "log = []\ndef setup():\n    log.append('setup')\ndef per_worker(rank):\n    log.append(rank)\ndef ksr_request_route():\n    pass\n",
    );
    assert_eq!(global(&e, "log"), "['setup', 1]");

    let err = load_error(&test, "def ksr_request_route():\n    pass\n");
    assert!(
        err.contains("setup() in Python script") && err.contains("no such function"),
        "{err}"
    );

    let custom = handler_test().engine(Style::Handler {
        mod_init: "make".into(),
        child_init: "start".into(),
    });
    let e = engine(
        &custom,
        "log = []\nclass H:\n    def start(self, rank):\n        log.append(rank)\n        return 0\n    def ksr_request_route(self, msg):\n        pass\ndef make():\n    return H()\n",
    );
    assert_eq!(global(&e, "log"), "[1]");

    // A negative child_init result fails the worker, as in Kamailio.
    let err = load_error(
        &handler_test(),
        "class H:\n    def child_init(self, rank):\n        return -1\n    def ksr_request_route(self, msg):\n        pass\ndef mod_init():\n    return H()\n",
    );
    assert!(
        err.contains("child_init() in Python script") && err.contains("returned -1 for rank 1"),
        "{err}"
    );
}

#[test]
fn ksr_calls_work_in_init_functions() {
    let e = engine(
        &handler_test(),
        r#"
import KSR
seen = []
class H:
    def child_init(self, rank):
        seen.append(KSR.pv.get("$rm"))
        return 0
    def ksr_request_route(self, msg):
        pass
def mod_init():
    seen.append(KSR.is_OPTIONS())
    return H()
"#,
    );
    assert_eq!(global(&e, "seen"), "[True, 'OPTIONS']");
}

#[test]
fn a_worker_stays_one_python_thread_across_callbacks() {
    let test = module_test();
    let e = engine(
        &test,
        "import threading\nlocal = threading.local()\nseen = []\n\
         def ksr_request_route():\n    local.n = getattr(local, 'n', 0) + 1\n    seen.append(local.n)\n",
    );
    // A worker thread of its own (the thread that started Python keeps
    // its first thread state anyway).
    let script = Arc::clone(e.script());
    std::thread::spawn(move || {
        let mut worker =
            PyEngine::new(script, kemi_core::engine::CallbackNames::default(), 2).unwrap();
        let test = module_test();
        for _ in 0..3 {
            let mut ctx = test.context(Arc::clone(worker.script().runtime())).unwrap();
            worker.request_route(&mut ctx).unwrap();
        }
    })
    .join()
    .unwrap();
    assert_eq!(global(&e, "seen"), "[1, 2, 3]");
}
