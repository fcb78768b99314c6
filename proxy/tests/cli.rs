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

/// `-c -f` on `text`: the exit status and stderr's lines.
fn check(name: &str, text: &str, extra: &[&str]) -> (i32, String, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let path = cfg_path(dir.path(), name, text);
    let path = path.to_str().unwrap().to_string();
    let mut args = vec!["-c", "-f", path.as_str()];
    args.extend_from_slice(extra);
    let (code, _, err) = run(&args);
    let lines = err.lines().map(str::to_string).collect();
    (code, path, lines)
}

/// Exactly one error line, at `path:line:`, mentioning `words`.
fn assert_one_error(code: i32, path: &str, lines: &[String], line: u32, words: &[&str]) {
    assert_ne!(code, 0);
    assert_eq!(lines.len(), 1, "expected one error line: {lines:?}");
    let prefix = format!("{path}:{line}: ");
    assert!(
        lines[0].starts_with(&prefix),
        "{:?} does not start with {prefix:?}",
        lines[0]
    );
    for w in words {
        assert!(lines[0].contains(w), "{:?} lacks {w:?}", lines[0]);
    }
}

#[test]
fn check_unknown_module() {
    let (code, path, lines) = check("m.cfg", "children=2\nloadmodule \"nosuch.so\"\n", &[]);
    assert_one_error(code, &path, &lines, 2, &["nosuch", "ktest"]);
}

#[test]
fn check_unknown_modparam() {
    let cfg = "loadmodule \"ktest.so\"\n\nmodparam(\"ktest\", \"no_such_param\", 1)\n";
    let (code, path, lines) = check("p.cfg", cfg, &[]);
    assert_one_error(code, &path, &lines, 3, &["ktest", "no_such_param"]);
}

#[test]
fn check_bad_define_nesting() {
    let (code, path, lines) = check("d.cfg", "#!ifdef WITH_X\nchildren=2\n", &[]);
    assert_one_error(code, &path, &lines, 1, &["#!ifdef", "#!endif"]);
    let (code, path, lines) = check("e.cfg", "children=2\n\n#!endif\n", &[]);
    assert_one_error(code, &path, &lines, 3, &["#!endif"]);
}

#[test]
fn check_with_defines() {
    let cfg = "#!ifdef WITH_BAD\nloadmodule \"nosuch.so\"\n#!endif\nchildren=2\n";
    let (code, _, lines) = check("a.cfg", cfg, &[]);
    assert_eq!(code, 0, "{lines:?}");
    let (code, path, lines) = check("a.cfg", cfg, &["-A", "WITH_BAD"]);
    assert_one_error(code, &path, &lines, 2, &["nosuch"]);
    let (code, _, lines) = check("a.cfg", "children=2\n", &["-A", "1BAD"]);
    assert_ne!(code, 0);
    assert!(lines.iter().any(|l| l.contains("1BAD")), "{lines:?}");
}
