//! The `kemi-proxy` command line: version, help, config check.

mod common;

use std::process::Command;

use common::*;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version() {
    let (code, out, _) = run(&["-V"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("kemi-proxy "), "{out}");
    assert!(out.contains(env!("CARGO_PKG_VERSION")), "{out}");
}

#[test]
fn help_in_plain_words() {
    let (code, out, _) = run(&["-h"]);
    assert_eq!(code, 0);
    for needle in ["-f <FILE>", "-c", "-A <NAME[=VALUE]>", "-V", "-h"] {
        assert!(out.contains(needle), "help lacks {needle}:\n{out}");
    }
}

#[test]
fn unknown_option_fails() {
    let (code, _, err) = run(&["--no-such-option"]);
    assert_ne!(code, 0);
    assert!(err.contains("no-such-option"), "{err}");
}

#[test]
fn check_good_config_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let path = cfg_path(
        dir.path(),
        "ok.cfg",
        "children=2\nlisten=udp:127.0.0.1:5060\n",
    );
    let (code, out, err) = run(&["-c", "-f", path.to_str().unwrap()]);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
}

#[test]
fn check_missing_file_fails() {
    let (code, _, err) = run(&["-c", "-f", "/nonexistent/kamailio.cfg"]);
    assert_ne!(code, 0);
    assert!(err.contains("/nonexistent/kamailio.cfg"), "{err}");
}

#[test]
fn port_in_use_fails_with_a_clear_error() {
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let path = cfg_path(
        dir.path(),
        "busy.cfg",
        &format!("listen=udp:127.0.0.1:{port}\n"),
    );
    let mut child = Command::new(BIN)
        .args(["-f", path.to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_exit(&mut child);
    assert_ne!(status.code(), Some(0));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains(&format!("udp:127.0.0.1:{port}")), "{err}");
}
