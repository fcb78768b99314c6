//! examples/jsdt/kamailio.js type-checks with tsc against the committed
//! TypeScript stubs (stubs/typescript/KSR.d.ts), as an editor would check
//! it; a misspelt KSR function in a copy of it is reported. tsc comes from
//! scripts/setup (node-typescript); a missing tsc fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tsc(script: &Path) -> (bool, String) {
    let out = Command::new("tsc")
        .args(["--noEmit", "--pretty", "false", "--strict"])
        .args(["--allowJs", "--checkJs", "--target", "es2017"])
        .arg(root().join("stubs/typescript/KSR.d.ts"))
        .arg(script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run tsc ({e}): run scripts/setup to install it"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_jsdt_example_type_checks_against_the_stubs() {
    let (ok, out) = tsc(&root().join("examples/jsdt/kamailio.js"));
    assert!(ok, "tsc rejected examples/jsdt/kamailio.js:\n{out}");
}

#[test]
fn a_misspelt_call_in_the_example_is_reported() {
    let text = std::fs::read_to_string(root().join("examples/jsdt/kamailio.js")).unwrap();
    let bad = text.replacen("KSR.sl.send_reply(483", "KSR.sl.send_replyy(483", 1);
    assert_ne!(text, bad);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("app_jsdt_tsc");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kamailio_bad.js");
    std::fs::write(&path, bad).unwrap();
    let (ok, out) = tsc(&path);
    assert!(!ok, "tsc accepted a misspelt call:\n{out}");
    assert!(out.contains("send_replyy"), "{out}");
}
