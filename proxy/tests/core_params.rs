//! Core parameters whose effect shows outside the process: what reaches the
//! log (and where), the Server header of the replies, listening on an
//! interface name.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

/// The Server header line of a reply, if any.
fn server_header(reply: &str) -> Option<&str> {
    reply
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("server:"))
}

/// Sends an OPTIONS to the proxy and returns its reply.
fn options_reply(proxy: &Proxy, call_id: &str) -> String {
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap();
    udp_exchange(
        &sock,
        proxy.addr(),
        options("UDP", &me, call_id).as_bytes(),
        Duration::from_secs(5),
    )
    .expect("no reply to OPTIONS")
}

#[test]
fn lines_logged_while_the_config_loads_follow_its_debug_level() {
    let cfg = "debug=3\nmemdbg=5\nchildren=1\nlisten=udp:127.0.0.1:PORT\n\
               listen=tls:127.0.0.1:5061\nroute[FOO] {\n  exit;\n}\n";
    let mut proxy = Proxy::start(cfg);
    let log = proxy.log();
    assert!(
        log.contains("core parameter memdbg = 5 accepted"),
        "accepted parameter not logged at debug=3:\n{log}"
    );
    assert!(log.contains("native route[FOO] block skipped"), "{log}");
    assert!(
        log.contains("listen tls:127.0.0.1:5061: tls is not supported yet; socket skipped"),
        "{log}"
    );
    assert!(proxy.terminate().success());

    // At debug=2 the debug line stays out, the warnings do not.
    let mut proxy = Proxy::start(&cfg.replace("debug=3", "debug=2"));
    let log = proxy.log();
    assert!(!log.contains("memdbg"), "{log}");
    assert!(
        log.contains("listen tls:127.0.0.1:5061: tls is not supported yet; socket skipped"),
        "{log}"
    );
    assert!(proxy.terminate().success());
}

#[test]
fn log_stderror_no_logs_to_syslog_unless_dash_e() {
    let cfg = "debug=2\nchildren=1\nlisten=udp:127.0.0.1:PORT\n\
               log_stderror=no\nlog_facility=LOG_LOCAL0\nlog_name=\"kemi-test\"\n";
    let proxy = Proxy::spawn(cfg, &[]);
    proxy.wait_udp(proxy.addr());
    let log = proxy.log();
    assert!(
        !log.contains("starting with"),
        "log_stderror=no still logs to stderr:\n{log}"
    );
    drop(proxy);

    // -E forces stderr, as in Kamailio.
    let proxy = Proxy::spawn(cfg, &["-E"]);
    proxy.wait_udp(proxy.addr());
    proxy.wait_logged("starting with", 1);
}

#[test]
fn log_color_colours_stderr_lines() {
    let proxy = Proxy::start("debug=2\nchildren=1\nlisten=udp:127.0.0.1:PORT\nlog_color=yes\n");
    proxy.wait_logged("starting with", 1);
    let line = proxy
        .log()
        .lines()
        .find(|l| l.contains("starting with"))
        .unwrap()
        .to_string();
    assert!(
        line.starts_with("\x1b[32m") && line.ends_with("\x1b[0m"),
        "{line:?}"
    );
    // Without it, plain text.
    let proxy = Proxy::start("debug=2\nchildren=1\nlisten=udp:127.0.0.1:PORT\n");
    assert!(!proxy.log().contains('\x1b'), "{}", proxy.log());
}

#[test]
fn engine_less_replies_carry_the_server_header() {
    let proxy = Proxy::start("children=1\nlisten=udp:127.0.0.1:PORT\n");
    let reply = options_reply(&proxy, "sig-default");
    assert!(reply.starts_with("SIP/2.0 200 "), "{reply}");
    let server = server_header(&reply).expect("no Server header");
    assert!(server.starts_with("Server: kemi-proxy ("), "{server}");
    assert!(server.contains(env!("CARGO_PKG_VERSION")), "{server}");

    let proxy =
        Proxy::start("children=1\nlisten=udp:127.0.0.1:PORT\nserver_header=\"Server: edge-7\"\n");
    let reply = options_reply(&proxy, "sig-custom");
    assert_eq!(server_header(&reply), Some("Server: edge-7"), "{reply}");

    let proxy = Proxy::start("children=1\nlisten=udp:127.0.0.1:PORT\nserver_signature=no\n");
    let reply = options_reply(&proxy, "sig-off");
    assert_eq!(server_header(&reply), None, "{reply}");

    // The 400 for a malformed request too.
    let proxy = Proxy::start("children=1\nlisten=udp:127.0.0.1:PORT\n");
    let sock = udp_socket(proxy.addr());
    let me = sock.local_addr().unwrap();
    let bad = options("UDP", &me, "sig-400").replace("Content-Length: 0", "Content-Length: abc");
    let reply =
        udp_exchange(&sock, proxy.addr(), bad.as_bytes(), Duration::from_secs(5)).expect("no 400");
    assert!(reply.starts_with("SIP/2.0 400 "), "{reply}");
    assert!(server_header(&reply).is_some(), "{reply}");
}

const SCRIPT: &str = r#"
function ksr_request_route()
    KSR.info("script says hi\n")
    KSR.xlog.xinfo("xlog says $ci\n")
    KSR.sl.send_reply(200, "Scripted")
end
"#;

/// Starts the proxy routing with [`SCRIPT`], `extra` added to the config.
fn scripted(extra: &str) -> Proxy {
    let dir = tempfile::tempdir().unwrap();
    let script = cfg_path(dir.path(), "route.lua", SCRIPT);
    let cfg = format!(
        "debug=2\nchildren=1\nlisten=udp:127.0.0.1:PORT\n{extra}\n\
         loadmodule \"sl.so\"\nloadmodule \"xlog.so\"\nloadmodule \"app_lua.so\"\n\
         modparam(\"app_lua\", \"load\", \"{}\")\ncfgengine \"lua\"\n",
        script.display()
    );
    let proxy = Proxy::spawn_in(dir, &cfg, &[]);
    proxy.wait_udp(proxy.addr());
    proxy
}

#[test]
fn script_replies_carry_the_server_header_and_script_lines_the_prefix() {
    let proxy = scripted("log_prefix=\"LUA {$rm $ci}: \"");
    let reply = options_reply(&proxy, "prefix-1");
    assert!(reply.starts_with("SIP/2.0 200 Scripted"), "{reply}");
    let server = server_header(&reply).expect("sl reply without Server");
    assert!(server.starts_with("Server: kemi-proxy ("), "{server}");
    proxy.wait_logged("LUA {OPTIONS prefix-1}: script says hi", 1);
    proxy.wait_logged("LUA {OPTIONS prefix-1}: xlog says prefix-1", 1);

    let proxy = scripted("server_signature=no");
    let reply = options_reply(&proxy, "prefix-2");
    assert_eq!(server_header(&reply), None, "{reply}");
    proxy.wait_logged("script says hi", 1);
    assert!(!proxy.log().contains("LUA {"), "{}", proxy.log());
}

#[test]
fn listen_on_an_interface_name() {
    let port = free_port("127.0.0.1");
    let cfg = format!("children=1\nlisten=udp:lo:{port}\n");
    let dir = tempfile::tempdir().unwrap();
    let path = cfg_path(dir.path(), "kamailio.cfg", &cfg);
    // -c resolves the name as the start does.
    let check = Command::new(BIN)
        .arg("-c")
        .arg("-f")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let proxy = Proxy::start("children=1\nlisten=udp:lo:PORT\n");
    let log = proxy.log();
    assert!(log.contains("listening on udp:127.0.0.1:"), "{log}");
    if has_ipv6() {
        assert!(log.contains("listening on udp:[::1]:"), "{log}");
    }

    // An unknown name fails the check and the start alike.
    let bad = cfg_path(dir.path(), "bad.cfg", "listen=udp:no-such-if0:5060\n");
    let check = Command::new(BIN)
        .arg("-c")
        .arg("-f")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!check.status.success());
    assert!(
        String::from_utf8_lossy(&check.stderr).contains("cannot resolve no-such-if0"),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
