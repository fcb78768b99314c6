//! The scenarios, each run against every engine. A scenario builds its
//! own engine (fresh runtime, fresh `$shv` values, its own copy of the
//! script) and panics when the engine misbehaves.

use kemi_core::context::RouteKind;
use kemi_core::engine::{CallbackOutcome, ReloadVersion, ScriptError};
use kemi_core::net::Proto;
use kemi_core::Context;

use crate::fixture::{logs_during, sender, Files, Fixture, INVITE, OPTIONS, REPLY_200};
use crate::Engine;

/// A scenario: panics when the engine misbehaves.
pub type Scenario = fn(&Engine);

/// Every scenario, by name (the names `unsupported` lists).
pub const ALL: &[(&str, Scenario)] = &[
    ("request_route", request_route),
    ("reply_route", reply_route),
    ("onsend_route", onsend_route),
    ("event_route", event_route),
    ("named_routes", named_routes),
    ("tm_routes", tm_routes),
    ("renamed_callbacks", renamed_callbacks),
    ("return_conversions", return_conversions),
    ("exit", exit),
    ("exit_caught", exit_caught),
    ("drop", drop),
    ("wrong_arguments", wrong_arguments),
    ("modf", modf),
    ("uncaught_error", uncaught_error),
    ("features", features),
    ("reload", reload),
    ("load_errors", load_errors),
    ("proxy_selects_engine", proxy_selects_engine),
];

/// The script function ends without an error and without exit.
#[track_caller]
fn returned(result: Result<CallbackOutcome, ScriptError>, what: &str) {
    match result {
        Ok(outcome) => assert_eq!(outcome, CallbackOutcome::Returned, "{what}"),
        Err(e) => panic!("{what}: {e}"),
    }
}

/// The request route answers the OPTIONS through `sl`, and its KSR calls
/// act on the context it was given.
fn request_route(engine: &Engine) {
    let mut fx = Fixture::new(engine, "request_route");
    let mut ctx = fx.context(OPTIONS, RouteKind::Request);
    returned(fx.engine.request_route(&mut ctx), "ksr_request_route");
    fx.expect_shv("request_route", "OPTIONS sip:alice@example.com");
    assert_ne!(ctx.flags & (1 << 5), 0, "flag 5 set through KSR.ktest");
    assert_eq!(ctx.replies_sent, 1);
    let sent = fx.sent();
    assert_eq!(sent.len(), 1, "one reply: {sent:?}");
    assert_eq!(sent[0].proto, Proto::Udp);
    assert_eq!(sent[0].dst, sender());
    let reply = String::from_utf8_lossy(&sent[0].bytes);
    assert!(reply.starts_with("SIP/2.0 200 Parity OK\r\n"), "{reply}");
    assert!(reply.contains("Call-ID: parity-options-1\r\n"), "{reply}");
}

fn reply_route(engine: &Engine) {
    let mut fx = Fixture::new(engine, "reply_route");
    let mut ctx = fx.context(REPLY_200, RouteKind::Reply);
    returned(fx.engine.reply_route(&mut ctx), "ksr_reply_route");
    fx.expect_shv("reply_route", "200 OK");
    assert!(!ctx.drop && !ctx.exit);
    assert!(fx.sent().is_empty(), "the reply route sends nothing itself");
}

fn onsend_route(engine: &Engine) {
    let mut fx = Fixture::new(engine, "onsend_route");
    assert!(fx.engine.has_onsend_route(), "ksr_onsend_route is defined");
    let mut ctx = fx.context(INVITE, RouteKind::OnSend);
    returned(fx.engine.onsend_route(&mut ctx), "ksr_onsend_route");
    fx.expect_shv("onsend_route", "INVITE sip:bob@example.com");
    assert!(!ctx.drop);
}

/// The event callback gets the event's name as its argument.
fn event_route(engine: &Engine) {
    let mut fx = Fixture::new(engine, "event_route");
    assert_eq!(
        fx.engine.callbacks().event.as_deref(),
        Some("ksr_event_route"),
        "the engine takes its callback names from the config"
    );
    for event in ["core:worker-one-init", "parity:another-event"] {
        let mut ctx = Context::new(fx.runtime.clone());
        ctx.route = RouteKind::Event;
        returned(fx.engine.event_route(&mut ctx, event), event);
        fx.expect_shv("event_route", event);
    }
}

/// tm's branch, onreply and failure routes are script functions called by
/// name; a name the script does not define is skipped.
fn named_routes(engine: &Engine) {
    let mut fx = Fixture::new(engine, "named_routes");
    let routes = [
        (
            "ksr_branch_route_one",
            INVITE,
            RouteKind::Branch,
            "branch_route",
            "one INVITE",
        ),
        (
            "ksr_onreply_route_one",
            REPLY_200,
            RouteKind::OnReply,
            "onreply_route",
            "one 200",
        ),
        (
            "ksr_failure_route_one",
            INVITE,
            RouteKind::Failure,
            "failure_route",
            "one INVITE",
        ),
    ];
    for (name, msg, route, key, expected) in routes {
        assert!(fx.engine.defines(name), "{name} is defined");
        let mut ctx = fx.context(msg, route);
        returned(fx.run(&mut ctx, name), name);
        fx.expect_shv(key, expected);
    }
    assert!(!fx.engine.defines("ksr_no_such_route"));
    assert!(!fx.engine.defines("parity_no_such_function"));
    let mut ctx = fx.context(INVITE, RouteKind::Branch);
    match fx.run(&mut ctx, "ksr_no_such_route") {
        Ok(CallbackOutcome::Skipped) => {}
        other => panic!("an undefined route must be skipped, got {other:?}"),
    }
}

/// The transaction routes run by tm itself: `t_relay` with branch,
/// onreply, branch-failure and failure routes set, a downstream 180 then
/// 486: each route runs once, the branch-failure route with its event
/// name, and the 486 goes back upstream after the failure route.
fn tm_routes(engine: &Engine) {
    let mut fx = Fixture::with_config(engine, "tm_routes", "loadmodule \"tm.so\"");
    let local: std::net::SocketAddr = "127.0.0.1:5060".parse().unwrap();
    fx.runtime.set_sockets(vec![(Proto::Udp, local)]);
    let callee: std::net::SocketAddr = "127.0.0.1:5099".parse().unwrap();
    let mut ctx = fx.context(INVITE, RouteKind::Request);
    ctx.dst_uri = Some(format!("sip:{callee}"));
    returned(fx.run(&mut ctx, "parity_relay"), "parity_relay");
    kemi_mod_tm::after_route(&mut ctx, &mut *fx.engine);
    fx.expect_shv("relay", "int:1");
    fx.expect_shv("branch_route", "one INVITE");
    let sent = fx.sent();
    let invite = sent
        .iter()
        .find(|s| s.dst == callee)
        .unwrap_or_else(|| panic!("no INVITE to the callee: {sent:?}"));
    let request = kemi_core::sip::Message::parse(invite.bytes.clone()).unwrap();
    let reply = |fx: &Fixture, code: u16, reason: &str| {
        let bytes =
            kemi_core::sip::build_reply(&request, code, reason, Some("callee"), "", b"").unwrap();
        let mut ctx = fx.context(&bytes, RouteKind::Reply);
        ctx.recv.src = callee;
        ctx
    };
    let mut ringing = reply(&fx, 180, "Ringing");
    assert!(kemi_mod_tm::on_reply(&mut ringing, &mut *fx.engine));
    fx.expect_shv("onreply_route", "one 180");
    let mut busy = reply(&fx, 486, "Busy Here");
    assert!(kemi_mod_tm::on_reply(&mut busy, &mut *fx.engine));
    fx.expect_shv("onreply_route", "one 486");
    fx.expect_shv(
        "branch_failure_route",
        "tm:branch-failure:ksr_branch_failure_one 486",
    );
    fx.expect_shv("failure_route", "one INVITE");
    let sent = fx.sent();
    let upstream: Vec<String> = sent
        .iter()
        .filter(|s| s.dst == sender())
        .map(|s| {
            String::from_utf8_lossy(&s.bytes)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert_eq!(upstream, ["SIP/2.0 180 Ringing", "SIP/2.0 486 Busy Here"]);
    assert!(
        sent.iter()
            .any(|s| s.dst == callee && s.bytes.starts_with(b"ACK ")),
        "the 486 is ACKed: {sent:?}"
    );
}

/// The `kemi.*` callback names reach the engine: another function as the
/// reply route, and the onsend route turned off with "none".
fn renamed_callbacks(engine: &Engine) {
    let mut fx = Fixture::with_config(
        engine,
        "renamed_callbacks",
        "kemi.reply_route_callback = \"ksr_onreply_route_one\"\n\
         kemi.onsend_route_callback = \"none\"",
    );
    let mut ctx = fx.context(REPLY_200, RouteKind::Reply);
    returned(fx.engine.reply_route(&mut ctx), "reply route");
    fx.expect_shv("onreply_route", "one 200");
    fx.expect_unset("reply_route");
    assert!(!fx.engine.has_onsend_route(), "onsend route turned off");
    let mut ctx = fx.context(INVITE, RouteKind::OnSend);
    assert_eq!(
        fx.engine.onsend_route(&mut ctx).unwrap(),
        CallbackOutcome::Skipped
    );
    fx.expect_unset("onsend_route");
}

/// Every KEMI return kind reaches the script as the language's value.
fn return_conversions(engine: &Engine) {
    let mut fx = Fixture::new(engine, "return_conversions");
    fx.run_ok("parity_returns");
    let expected = [
        ("ret_int", "int:7"),
        ("ret_int_negative", "int:-3"),
        ("ret_bool_true", "bool:true"),
        ("ret_bool_false", "bool:false"),
        ("xval_int", "int:-5"),
        ("xval_long", "int:1099511627776"),
        ("sum_long", "int:4294967297"),
        ("xval_str", "str:héllo wörld"),
        ("xval_str_empty", "str:"),
        ("xval_null", "null"),
        ("xval_dict", "dict:n=int:3,name=str:alice"),
        ("xval_array", "array:int:1,int:2,int:3"),
        ("many", "str:1|2|c|4|e|6|g|8"),
        ("renamed_echo", "str:echo"),
        ("owned_len", "int:5"),
    ];
    for (key, value) in expected {
        fx.expect_shv(key, value);
    }
}

/// Exit ends the callback (statements after it do not run) without an
/// error, and only that callback: the next one on the same message runs.
fn exit(engine: &Engine) {
    let mut fx = Fixture::new(engine, "exit");
    let mut ctx = fx.context(OPTIONS, RouteKind::Request);
    assert_eq!(
        fx.run(&mut ctx, "parity_exit").unwrap(),
        CallbackOutcome::Exit,
        "exit ends the callback"
    );
    assert!(ctx.exit, "ctx.exit is set");
    assert!(!ctx.drop, "exit is not drop");
    fx.expect_shv("exit_before", "yes");
    fx.expect_unset("exit_after");
    returned(fx.run(&mut ctx, "parity_version"), "a callback after exit");
    fx.expect_shv("version", "parity-v1");
    assert!(!ctx.exit, "ctx.exit is cleared for the next callback");
}

/// An exit the script catches itself still ends the callback: nothing
/// after it acts on the message.
fn exit_caught(engine: &Engine) {
    let mut fx = Fixture::new(engine, "exit_caught");
    let mut ctx = fx.context(OPTIONS, RouteKind::Request);
    assert_eq!(
        fx.run(&mut ctx, "parity_exit_caught").unwrap(),
        CallbackOutcome::Exit,
        "an exit the script caught still ends the callback"
    );
    assert!(ctx.exit, "ctx.exit is set");
    fx.expect_shv("exit_caught_before", "yes");
    fx.expect_unset("exit_caught_after");
}

/// Drop ends the callback and, outside the request route, drops the
/// message; in the request route it is only an exit.
fn drop(engine: &Engine) {
    let mut fx = Fixture::new(engine, "drop");
    let mut ctx = fx.context(REPLY_200, RouteKind::Reply);
    assert_eq!(
        fx.run(&mut ctx, "parity_drop").unwrap(),
        CallbackOutcome::Exit,
        "drop ends the callback"
    );
    assert!(ctx.drop, "a reply is dropped");
    assert!(ctx.exit, "ctx.exit is set");
    fx.expect_shv("drop_before", "yes");
    fx.expect_unset("drop_after");

    let mut ctx = fx.context(OPTIONS, RouteKind::Request);
    assert_eq!(
        fx.run(&mut ctx, "parity_drop").unwrap(),
        CallbackOutcome::Exit,
        "drop ends the request route too"
    );
    assert!(!ctx.drop, "drop has no effect in the request route");
    assert!(ctx.exit, "ctx.exit is set");
    fx.expect_unset("drop_after");
}

/// Wrong arguments raise a script error naming the function and its
/// signature, which the script can catch; numeric strings are integers
/// and extra arguments are ignored.
fn wrong_arguments(engine: &Engine) {
    let mut fx = Fixture::new(engine, "wrong_arguments");
    fx.run_ok("parity_wrong_args");
    fx.expect_shv("wrong_args_done", "yes");
    let errors = [
        ("err_too_few", "concat(str a, str b)"),
        ("err_too_many", "xval_null()"),
        ("err_table_for_str", "xval_str(str s)"),
        ("err_null_for_str", "xval_str(str s)"),
        ("err_word_for_int", "ret_int(int n)"),
        ("err_null_for_int", "ret_int(int n)"),
        ("err_fraction_for_int", "ret_int(int n)"),
    ];
    for (key, signature) in errors {
        let message = fx.shv(key).to_string();
        assert!(
            message.contains(signature),
            "$shv({key}) must name the function and its signature `{signature}`: {message:?}"
        );
        assert!(
            message.to_ascii_lowercase().contains("ktest"),
            "$shv({key}) must name the module: {message:?}"
        );
        assert!(!message.contains("panic"), "$shv({key}): {message:?}");
    }
    fx.expect_shv("numeric_string_for_int", "int:42");
    fx.expect_shv("extra_args_ignored", "int:1");
}

/// `KSR.x.modf` runs loaded functions (a module's, the core's) by their
/// kamailio.cfg name with string arguments, gives -1 for an unknown name
/// (logged) and raises a catchable error for an argument that does not
/// convert.
fn modf(engine: &Engine) {
    let mut fx = Fixture::new(engine, "modf");
    let (ctx, logs) = logs_during(|| fx.run_ok("parity_modf"));
    fx.expect_shv("modf_sl", "int:1");
    fx.expect_shv("modf_setflag", "int:1");
    fx.expect_shv("modf_isflagset", "bool:true");
    assert_ne!(ctx.flags & (1 << 7), 0, "flag 7 set through modf");
    fx.expect_shv("modf_ret_int", "int:42");
    fx.expect_shv("modf_unknown", "int:-1");
    assert!(
        logs.contains(
            "KSR.x.modf(\"parity_no_such_function\"): no such function among the loaded modules"
        ),
        "{logs}"
    );
    let message = fx.shv("modf_bad_int").to_string();
    assert!(
        message.contains(
            "KSR.x.modf(\"setflag\"): KSR.setflag: argument 1 (flag) must be int, got string \"abc\""
        ),
        "{message:?}"
    );
    let sent = fx.sent();
    assert_eq!(sent.len(), 1, "one reply: {sent:?}");
    let reply = String::from_utf8_lossy(&sent[0].bytes);
    assert!(reply.starts_with("SIP/2.0 202 Modf\r\n"), "{reply}");
}

/// An uncaught error is a `Runtime` error with the script's text and a
/// traceback through the script; the engine keeps working.
fn uncaught_error(engine: &Engine) {
    let mut fx = Fixture::new(engine, "uncaught_error");
    let mut ctx = fx.context(OPTIONS, RouteKind::Request);
    match fx.run(&mut ctx, "parity_fail") {
        Err(ScriptError::Runtime {
            engine: language,
            callback,
            message,
        }) => {
            assert_eq!(language, fx.engine.language());
            assert_eq!(callback, "parity_fail");
            assert!(message.contains("parity deliberate failure"), "{message}");
            assert!(
                message.contains(engine.script),
                "names the script: {message}"
            );
            assert!(
                message.contains("parity_fail_inner"),
                "a traceback through the inner function: {message}"
            );
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
    assert!(!ctx.exit, "an error is not an exit");

    let mut ctx = fx.context(OPTIONS, RouteKind::Request);
    match fx.run(&mut ctx, "parity_uncaught_ksr_error") {
        Err(ScriptError::Runtime { message, .. }) => {
            assert!(message.contains("ret_int(int n)"), "{message}");
            assert!(message.contains("not a number"), "{message}");
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }

    // The same engine routes the next message.
    let mut ctx = fx.context(OPTIONS, RouteKind::Request);
    returned(
        fx.engine.request_route(&mut ctx),
        "request route after errors",
    );
    assert_eq!(fx.sent().len(), 1, "the OPTIONS is answered");
}

/// Only loaded modules exist in KSR.
fn features(engine: &Engine) {
    let mut fx = Fixture::new(engine, "features");
    fx.run_ok("parity_features");
    fx.expect_shv("has_auth", "no");
    fx.expect_shv("has_sl", "yes");
    fx.expect_shv("has_ktest", "yes");
}

/// A reload runs the new script once the shared version moves; a broken
/// new version keeps the old code running, and a fixed one loads again.
fn reload(engine: &Engine) {
    let mut fx = Fixture::new(engine, "reload");
    assert!(fx.builder.reload, "reload is on by default");
    assert_eq!(fx.engine.version(), 0);
    fx.run_ok("parity_version");
    fx.expect_shv("version", "parity-v1");

    let original = fx.files.read_script();
    assert_eq!(
        original.matches("parity-v1").count(),
        1,
        "the script holds the version text once"
    );
    let shared = fx.runtime.state::<ReloadVersion>();

    // Unchanged version: nothing reloads, even though the file changed.
    fx.files
        .write_script(&original.replace("parity-v1", "parity-v2"));
    assert!(!fx.engine.reload_if_changed(shared.current()));
    fx.run_ok("parity_version");
    fx.expect_shv("version", "parity-v1");

    let (_, v1) = shared.bump();
    assert!(fx.engine.reload_if_changed(v1), "a reload is attempted");
    assert_eq!(fx.engine.version(), v1);
    fx.run_ok("parity_version");
    fx.expect_shv("version", "parity-v2");

    // A syntax error in every language.
    fx.files.write_script(&format!(
        "{}\n)(\n",
        original.replace("parity-v1", "parity-v3")
    ));
    let (_, v2) = shared.bump();
    let (attempted, logs) = logs_during(|| fx.engine.reload_if_changed(v2));
    assert!(attempted, "a reload is attempted");
    assert!(
        logs.contains("ERROR") && logs.contains(engine.script),
        "the failed reload is logged as an error naming the script: {logs:?}"
    );
    // Recorded, so the routing threads do not retry it on every message.
    assert_eq!(fx.engine.version(), v2);
    let (attempted, logs) = logs_during(|| fx.engine.reload_if_changed(v2));
    assert!(!attempted && logs.is_empty(), "retried: {logs:?}");
    fx.run_ok("parity_version");
    fx.expect_shv("version", "parity-v2");
    let mut ctx = fx.context(OPTIONS, RouteKind::Request);
    returned(
        fx.engine.request_route(&mut ctx),
        "request route after a failed reload",
    );

    fx.files
        .write_script(&original.replace("parity-v1", "parity-v4"));
    let (_, v3) = shared.bump();
    assert!(fx.engine.reload_if_changed(v3));
    fx.run_ok("parity_version");
    fx.expect_shv("version", "parity-v4");
}

/// A script that does not load, or lacks the request route, stops the
/// entry point with an error naming the script or the function.
fn load_errors(engine: &Engine) {
    let files = Files::new(engine, "load_errors", "");
    let original = files.read_script();

    files.write_script(&format!("{original}\n)(\n"));
    match files.load(engine).2 {
        Ok(_) => panic!("a script with a syntax error must not load"),
        Err(e) => assert!(e.contains(engine.script), "names the script: {e}"),
    }

    files.write_script(&original.replace("ksr_request_route", "parity_request_route_renamed"));
    match files.load(engine).2 {
        Ok(_) => panic!("a script without ksr_request_route must not load"),
        Err(e) => assert!(e.contains("ksr_request_route"), "names the function: {e}"),
    }
}

/// The proxy's own engine table picks this engine for the config's
/// `cfgengine` and module, and loads the script through it.
fn proxy_selects_engine(engine: &Engine) {
    let files = Files::new(engine, "proxy_selects_engine", "");
    let (runtime, _, builder) = files.load(engine);
    builder.unwrap_or_else(|e| panic!("entry point: {e}"));
    kemi_proxy::engine::check(&runtime).unwrap_or_else(|e| {
        panic!(
            "the proxy does not run cfgengine \"{}\": {e}",
            engine.cfgengine
        )
    });
}
