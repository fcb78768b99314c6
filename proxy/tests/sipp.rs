//! 1,000 OPTIONS from sipp (Debian's sip-tester) at a modest rate: every
//! one must get its 200. No timing assertions. Skipped where sipp is not
//! installed (`scripts/setup` installs it).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

#[test]
fn sipp_1000_options_over_udp_all_answered() {
    let sipp = Path::new("/usr/bin/sipp");
    if !sipp.exists() {
        eprintln!("skipped: /usr/bin/sipp not installed (scripts/setup installs sip-tester)");
        return;
    }
    let mut proxy = Proxy::start("children=2\nlisten=udp:127.0.0.1:PORT\n");
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sipp/options.xml");
    let target = proxy.addr().to_string();
    let out = Command::new(sipp)
        .args([
            "-sf",
            scenario,
            "-m",
            "1000",
            "-r",
            "500",
            "-l",
            "50",
            "-i",
            "127.0.0.1",
            "-p",
            "0",
        ])
        .args([
            "-timeout",
            "60s",
            "-timeout_error",
            "-nostdin",
            "-trace_err",
        ])
        .arg(&target)
        .current_dir(proxy.dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let tail: String = stdout.lines().rev().take(40).collect::<Vec<_>>().join("\n");
    assert_eq!(
        out.status.code(),
        Some(0),
        "sipp reported failures:\n{tail}\n{}\nproxy log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        proxy.log()
    );
    proxy.assert_alive();
}
