//! examples/ruby/kamailio.rb checked against the generated RBS stubs
//! (stubs/ruby/ksr.rbs) with typeprof, Ruby's bundled type checker, as
//! bindings-docs checks its samples: no error in the example as shipped,
//! and a misspelt KSR function in a copy of it is reported.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// typeprof's report on `script` against the committed stubs.
fn typeprof(script: &Path) -> String {
    let out = Command::new("ruby")
        .args(["-e", "load Gem.bin_path('typeprof', 'typeprof')", "--"])
        .arg("--show-errors")
        .arg(root().join("stubs/ruby/ksr.rbs"))
        .arg(script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ruby (run scripts/setup): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "typeprof failed (run scripts/setup):\n{text}"
    );
    text
}

#[test]
fn the_ruby_example_matches_the_stubs() {
    let example = root().join("examples/ruby/kamailio.rb");
    let report = typeprof(&example);
    assert!(!report.contains("[error]"), "{report}");
    assert!(report.contains("def ksr_request_route"), "{report}");

    let text = std::fs::read_to_string(&example).unwrap();
    let misspelt = text.replace("KSR::SL.send_reply(483", "KSR::SL.send_replyy(483");
    assert_ne!(misspelt, text);
    let dir = std::env::temp_dir().join(format!("kemi-ruby-stubs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("kamailio.rb");
    std::fs::write(&copy, misspelt).unwrap();
    let report = typeprof(&copy);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        report.contains("[error]") && report.contains("send_replyy"),
        "{report}"
    );
}
