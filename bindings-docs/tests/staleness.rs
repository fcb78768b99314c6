//! The committed `docs/api/` and `stubs/` must be exactly what the proxy's
//! registry renders to; and `check`/`write` must notice and fix every kind
//! of difference.

mod common;

use std::fs;

use common::*;
use kemi_docs::{check, lang::REGENERATE, proxy_submodules, render_all, repo_root, write};
use kemi_docs::{Stale, Staleness};

#[test]
fn committed_output_is_up_to_date() {
    let root = repo_root();
    let files = render_all(&proxy_submodules(), &kamailio(), &root);
    let stale = check(&files, &root).unwrap_or_else(|e| panic!("{e}"));
    let list: Vec<String> = stale.iter().map(|s| format!("  {s}")).collect();
    assert!(
        stale.is_empty(),
        "the generated reference/stubs are stale:\n{}\nregenerate them with `{REGENERATE}` and commit the result",
        list.join("\n")
    );
}

#[test]
fn rendering_is_deterministic() {
    let root = repo_root();
    let a = render_all(&proxy_submodules(), &kamailio(), &root);
    let b = render_all(&proxy_submodules(), &kamailio(), &root);
    assert_eq!(a, b);
    let paths: Vec<&str> = a.iter().map(|f| f.path.as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(paths, sorted, "paths must be sorted and unique");
}

#[test]
fn check_reports_and_write_fixes_missing_changed_and_leftover_files() {
    let dir = temp_dir("staleness");
    let files = render_all(&test_submodules(), &kamailio(), &repo_root());

    // Nothing there yet: every file is missing; writing creates them all.
    let written = write(&files, &dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(written.len(), files.len());
    assert!(written.iter().all(|s| s.why == Staleness::Missing));
    assert_eq!(check(&files, &dir).map(|s| s.len()), Ok(0));

    // Edit one, delete one, leave a file that is no longer generated.
    fs::write(dir.join("docs/api/sl.md"), "edited by hand\n").unwrap_or_else(|e| panic!("{e}"));
    fs::remove_file(dir.join("stubs/ruby/ksr.rbs")).unwrap_or_else(|e| panic!("{e}"));
    fs::write(dir.join("stubs/python/KSR/gone.pyi"), "").unwrap_or_else(|e| panic!("{e}"));

    let stale = check(&files, &dir).unwrap_or_else(|e| panic!("{e}"));
    let expect = |path: &str, why: Staleness| Stale {
        path: path.to_string(),
        why,
    };
    assert_eq!(
        stale,
        vec![
            expect("docs/api/sl.md", Staleness::Differs),
            expect("stubs/ruby/ksr.rbs", Staleness::Missing),
            expect("stubs/python/KSR/gone.pyi", Staleness::Unexpected),
        ]
    );

    let fixed = write(&files, &dir).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fixed, stale);
    assert_eq!(check(&files, &dir).map(|s| s.len()), Ok(0));
    assert!(!dir.join("stubs/python/KSR/gone.pyi").exists());
}

#[test]
fn the_cli_check_fails_on_a_stale_tree_and_names_the_files() {
    let dir = temp_dir("cli");
    let exe = env!("CARGO_BIN_EXE_kemi-docs");
    let (ok, out) = run(std::process::Command::new(exe)
        .args(["check", "--out"])
        .arg(&dir));
    assert!(!ok, "check passed on an empty tree:\n{out}");
    assert!(out.contains("docs/api/README.md (missing)"), "{out}");
    assert!(out.contains(REGENERATE), "{out}");

    let (ok, out) = run(std::process::Command::new(exe)
        .args(["generate", "--out"])
        .arg(&dir));
    assert!(ok, "generate failed:\n{out}");
    let (ok, out) = run(std::process::Command::new(exe)
        .args(["check", "--out"])
        .arg(&dir));
    assert!(ok, "check failed right after generate:\n{out}");

    let (ok, out) = run(std::process::Command::new(exe)
        .args(["generate", "--out"])
        .arg(&dir)
        .arg("--tsv")
        .arg(dir.join("none.tsv")));
    assert!(!ok);
    assert!(
        out.contains("cannot read") && out.contains("none.tsv"),
        "{out}"
    );
    let (ok, out) = run(std::process::Command::new(exe).arg("frobnicate"));
    assert!(!ok);
    assert!(out.contains("unexpected argument `frobnicate`"), "{out}");
    let (ok, out) = run(std::process::Command::new(exe).args(["check", "--out"]));
    assert!(!ok);
    assert!(out.contains("--out needs a value"), "{out}");
}
