//! What `KSR.xlog.*` logs, called from Lua: the level, the text with its
//! pseudo-variables expanded, on the `script` target every script log line
//! uses (the one `log_prefix` applies to); xlog's own errors on `xlog`.

use kemi_core::testing::logs::{self, LogLine};
use kemi_mod_app_lua::testing::LuaTest;
use tracing::Level;

const INVITE: &[u8] = b"INVITE sip:alice@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-xl1\r\n\
From: <sip:bob@example.org>;tag=from-1\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: xlog-lines-1\r\n\
CSeq: 3 INVITE\r\n\
Content-Length: 0\r\n\r\n";

/// Runs `body` as the request route on the INVITE and returns the lines the
/// script and xlog logged.
fn xlog_lines(body: &str) -> Vec<LogLine> {
    let script = format!("function ksr_request_route()\n{body}\nend");
    let (result, lines) = logs::capture(|| {
        LuaTest::new(&[&kemi_mod_xlog::MODULE])
            .message(INVITE)
            .run(&script)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    lines
        .into_iter()
        .filter(|l| l.target == "xlog" || l.target == "script")
        .collect()
}

fn summary(lines: &[LogLine]) -> Vec<(Level, String, String)> {
    lines
        .iter()
        .map(|l| (l.level, l.message.clone(), l.target.to_string()))
        .collect()
}

fn line(level: Level, message: &str, target: &str) -> (Level, String, String) {
    (level, message.to_string(), target.to_string())
}

#[test]
fn each_level_function_logs_one_expanded_line_at_its_level() {
    let lines = xlog_lines(
        r#"assert(KSR.xlog.xdbg("dbg $rm $ru\n") == 1)
           assert(KSR.xlog.xinfo("info [$ci] $var(none)\n") == 1) -- an unset $var is 0
           assert(KSR.xlog.xnotice("notice $fU/$ft") == 1)
           assert(KSR.xlog.xwarn("warn $cs $nope $") == 1)
           assert(KSR.xlog.xerr("err $hdr(X-None) $si") == 1)
           assert(KSR.xlog.xalert("alert $rU") == 1)
           assert(KSR.xlog.xcrit("crit $rd") == 1)"#,
    );
    assert_eq!(
        summary(&lines),
        [
            // xdbg's line is below the default debug=2: not written.
            line(Level::INFO, "info [xlog-lines-1] 0", "script"),
            line(Level::INFO, "notice bob/from-1", "script"),
            line(Level::WARN, "warn 3 $nope $", "script"),
            line(Level::ERROR, "err <null> 192.0.2.10", "script"),
            line(Level::ERROR, "alert alice", "script"),
            line(Level::ERROR, "crit example.com", "script"),
        ]
    );
}

#[test]
fn xlog_takes_the_level_by_name_and_refuses_unknown_ones() {
    let lines = xlog_lines(
        r#"assert(KSR.xlog.xlog("L_INFO", "named $rm") == 1)
           assert(KSR.xlog.xlog("err", "lower-case $ci\n") == 1)
           assert(KSR.xlog.xlog("L_DBG", "debug") == 1)
           assert(KSR.xlog.xlog("L_WARN", "warned") == 1)
           assert(KSR.xlog.xlog("L_LOUD", "never shown") == -1)"#,
    );
    assert_eq!(
        summary(&lines),
        [
            line(Level::INFO, "named INVITE", "script"),
            line(Level::ERROR, "lower-case xlog-lines-1", "script"),
            // L_DBG is below the default debug=2: not written.
            line(Level::WARN, "warned", "script"),
            line(Level::ERROR, "unknown log level 'L_LOUD'", "xlog"),
        ]
    );
}

#[test]
// The facility is not used: every line goes to the config's `log_facility`.
fn xlog_facility_logs_at_its_level() {
    let lines = xlog_lines(
        r#"assert(KSR.xlog.xlog_facility("LOG_LOCAL0", "L_WARN", "fac $si:$sp") == 1)
           assert(KSR.xlog.xlog_facility("LOG_LOCAL3", "L_NOTICE", "n") == 1)
           assert(KSR.xlog.xlog_facility("LOG_LOCAL0", "nope", "x") == -1)"#,
    );
    assert_eq!(
        summary(&lines),
        [
            line(Level::WARN, "fac 192.0.2.10:5062", "script"),
            line(Level::INFO, "n", "script"),
            line(Level::ERROR, "unknown log level 'nope'", "xlog"),
        ]
    );
}
