//! The generated stubs checked with each language's own tool: mypy (Python),
//! tsc (JavaScript against the TypeScript declarations), luacheck and Lua
//! itself, and the rbs/typeprof gems (Ruby).
//!
//! Good and bad sample scripts (`tests/samples/`) are checked against the
//! stubs of the fixed test registry, written to a temporary directory. The
//! committed stubs, and stubs of every Kamailio export plus reserved-word
//! names and comment delimiters in docs, must at least be accepted by every
//! tool. A missing tool fails the test, saying to run
//! scripts/setup.

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use common::*;
use kemi_core::export::Param;
use kemi_core::{Export, ParamKind, ReturnKind, Submodule};

fn mypy<A: AsRef<OsStr>>(stubs: &Path, work: &Path, args: &[A]) -> (bool, String) {
    require_tool("mypy", "--version");
    run(Command::new("mypy")
        .current_dir(work)
        .env("MYPYPATH", stubs.join("python"))
        .arg("--strict")
        .arg("--cache-dir")
        .arg(work.join(".mypy_cache"))
        .args(args))
}

fn tsc(stubs: &Path, work: &Path, files: &[&Path]) -> (bool, String) {
    require_tool("tsc", "--version");
    run(Command::new("tsc")
        .current_dir(work)
        .args(["--noEmit", "--pretty", "false", "--strict"])
        .args(["--allowJs", "--checkJs", "--target", "es2017"])
        .arg(stubs.join("typescript/KSR.d.ts"))
        .args(files))
}

fn luacheck(stubs: &Path, file: &Path) -> (bool, String) {
    require_tool("luacheck", "--version");
    run(Command::new("luacheck")
        .args(["--no-color", "--codes", "--config"])
        .arg(stubs.join("lua/ksr_luacheck.lua"))
        .arg(file))
}

fn typeprof(stubs: &Path, file: &Path) -> (bool, String) {
    let (ok, text) = run(ruby_gem("typeprof")
        .arg("--show-errors")
        .arg(stubs.join("ruby/ksr.rbs"))
        .arg(file));
    // typeprof exits 0 even when it finds errors; they are in the output.
    (ok && !text.contains("[error]"), text)
}

fn rbs_validate(stubs: &Path) -> (bool, String) {
    let rbs = stubs.join("ruby/ksr.rbs");
    let (ok, text) = run(ruby_gem("rbs").arg("parse").arg(&rbs));
    if !ok {
        return (ok, text);
    }
    run(ruby_gem("rbs")
        .arg("-I")
        .arg(stubs.join("ruby"))
        .arg("validate"))
}

// ---- Python ----

#[test]
fn mypy_accepts_a_good_script_and_reports_misspelt_and_mistyped_calls() {
    let dir = temp_dir("mypy");
    let stubs = write_stubs(&test_submodules(), &dir);

    let (ok, out) = mypy(&stubs, &dir, &[sample("good.py")]);
    assert!(ok, "mypy rejected good.py:\n{out}");

    let (ok, out) = mypy(&stubs, &dir, &[sample("bad.py")]);
    assert!(!ok, "mypy accepted bad.py:\n{out}");
    assert!(out.contains("sreplyy"), "mypy did not name sreplyy:\n{out}");

    let (ok, out) = mypy(&stubs, &dir, &[sample("bad_types.py")]);
    assert!(!ok, "mypy accepted bad_types.py:\n{out}");
    assert!(
        out.contains("bad_types.py:6"),
        "no error for sreply(\"200\"):\n{out}"
    );
    assert!(
        out.contains("bad_types.py:7"),
        "no error for str = pv.get:\n{out}"
    );
}

#[test]
fn mypy_accepts_the_committed_stubs() {
    let dir = temp_dir("mypy-committed");
    let stubs = committed_stubs();
    let (ok, out) = mypy(&stubs, &dir, &["-p", "KSR"]);
    assert!(ok, "mypy rejected the committed stubs:\n{out}");
    let (ok, out) = mypy(&stubs, &dir, &[sample("committed.py")]);
    assert!(
        ok,
        "mypy rejected committed.py with the committed stubs:\n{out}"
    );
}

/// The Python routing scripts shipped in the repository (the examples and
/// the proxy's test scripts) type-check against the committed stubs, so
/// they only call what exists, with the right argument types.
#[test]
fn mypy_accepts_the_python_scripts_of_the_repository() {
    let root = kemi_docs::repo_root();
    let scripts = [
        "examples/python/kamailio.py",
        "examples/python3s/kamailio.py",
        "proxy/tests/python/stateless.py",
        "proxy/tests/python/stateless3s.py",
        "tests/parity/scripts/parity.py",
        "tests/parity/scripts/parity3s.py",
    ];
    for script in scripts {
        // One run each: both examples are modules named `kamailio`.
        let dir = temp_dir("mypy-repo-scripts");
        let (ok, out) = mypy(&committed_stubs(), &dir, &[root.join(script)]);
        assert!(ok, "mypy rejected {script}:\n{out}");
    }
}

#[test]
fn mypy_accepts_stubs_of_every_kamailio_export_and_awkward_names() {
    let dir = temp_dir("mypy-kamailio");
    let stubs = write_stubs(&wide_submodules(), &dir);
    let (ok, out) = mypy(&stubs, &dir, &["-p", "KSR"]);
    assert!(ok, "mypy rejected the Kamailio-wide stubs:\n{out}");
}

// ---- JavaScript / TypeScript ----

#[test]
fn tsc_accepts_a_good_script_and_reports_misspelt_and_mistyped_calls() {
    let dir = temp_dir("tsc");
    let stubs = write_stubs(&test_submodules(), &dir);

    let (ok, out) = tsc(&stubs, &dir, &[&sample("good.js")]);
    assert!(ok, "tsc rejected good.js:\n{out}");

    let (ok, out) = tsc(&stubs, &dir, &[&sample("bad.js")]);
    assert!(!ok, "tsc accepted bad.js:\n{out}");
    assert!(out.contains("sreplyy"), "tsc did not name sreplyy:\n{out}");

    let (ok, out) = tsc(&stubs, &dir, &[&sample("bad_types.js")]);
    assert!(!ok, "tsc accepted bad_types.js:\n{out}");
    assert!(out.contains("bad_types.js(3"), "no error on line 3:\n{out}");
}

#[test]
fn tsc_accepts_the_committed_declarations() {
    let dir = temp_dir("tsc-committed");
    let (ok, out) = tsc(&committed_stubs(), &dir, &[&sample("committed.js")]);
    assert!(ok, "tsc rejected the committed KSR.d.ts:\n{out}");
}

#[test]
fn tsc_accepts_declarations_of_every_kamailio_export_and_awkward_names() {
    let dir = temp_dir("tsc-kamailio");
    let stubs = write_stubs(&wide_submodules(), &dir);
    let (ok, out) = tsc(&stubs, &dir, &[]);
    assert!(ok, "tsc rejected the Kamailio-wide KSR.d.ts:\n{out}");
}

// ---- Lua ----

/// Loads the annotation stub with the Lua interpreter and checks it with
/// luacheck (the stub's parameters are unused by design).
fn lua_stub_ok(stubs: &Path) -> (bool, String) {
    require_tool("lua5.4", "-v");
    let stub = stubs.join("lua/KSR.lua");
    let config = stubs.join("lua/ksr_luacheck.lua");
    let (ok, out) = run(Command::new("lua5.4")
        .env("KSR_STUB", &stub)
        .env("KSR_LUACHECK", &config)
        .arg("-e")
        .arg(
            "dofile(os.getenv('KSR_STUB')); \
             assert(type(KSR) == 'table' and type(KSR.x.modf) == 'function'); \
             local env = {}; assert(loadfile(os.getenv('KSR_LUACHECK'), 't', env))(); \
             assert(type(env.read_globals.KSR.fields.x) == 'table')",
        ));
    if !ok {
        return (ok, out);
    }
    require_tool("luacheck", "--version");
    run(Command::new("luacheck")
        .args([
            "--no-color",
            "--codes",
            "--no-unused-args",
            "--globals",
            "KSR",
            "--",
        ])
        .arg(&stub))
}

#[test]
fn luacheck_accepts_a_good_script_and_reports_misspelt_fields() {
    let dir = temp_dir("luacheck");
    let stubs = write_stubs(&test_submodules(), &dir);

    let (ok, out) = lua_stub_ok(&stubs);
    assert!(ok, "the Lua stubs do not load or check:\n{out}");

    let (ok, out) = luacheck(&stubs, &sample("good.lua"));
    assert!(ok, "luacheck rejected good.lua:\n{out}");

    let (ok, out) = luacheck(&stubs, &sample("bad.lua"));
    assert!(!ok, "luacheck accepted bad.lua:\n{out}");
    assert!(
        out.contains("sl.sreplyy"),
        "luacheck did not name sreplyy:\n{out}"
    );
    assert!(out.contains("inf"), "luacheck did not name KSR.inf:\n{out}");
}

#[test]
fn luacheck_accepts_the_committed_stubs() {
    let stubs = committed_stubs();
    let (ok, out) = lua_stub_ok(&stubs);
    assert!(ok, "the committed Lua stubs do not load or check:\n{out}");
    let (ok, out) = luacheck(&stubs, &sample("committed.lua"));
    assert!(ok, "luacheck rejected committed.lua:\n{out}");
}

#[test]
fn luacheck_accepts_stubs_of_every_kamailio_export_and_awkward_names() {
    let dir = temp_dir("luacheck-kamailio");
    let stubs = write_stubs(&wide_submodules(), &dir);
    let (ok, out) = lua_stub_ok(&stubs);
    assert!(
        ok,
        "the Kamailio-wide Lua stubs do not load or check:\n{out}"
    );
}

// ---- Ruby ----

#[test]
fn rbs_and_typeprof_accept_a_good_script_and_report_misspelt_and_mistyped_calls() {
    let dir = temp_dir("ruby");
    let stubs = write_stubs(&test_submodules(), &dir);

    let (ok, out) = rbs_validate(&stubs);
    assert!(ok, "rbs rejected ksr.rbs:\n{out}");

    let (ok, out) = typeprof(&stubs, &sample("good.rb"));
    assert!(ok, "typeprof reported errors in good.rb:\n{out}");

    let (ok, out) = typeprof(&stubs, &sample("bad.rb"));
    assert!(!ok, "typeprof found nothing wrong in bad.rb:\n{out}");
    assert!(
        out.contains("sreplyy"),
        "typeprof did not name sreplyy:\n{out}"
    );

    let (ok, out) = typeprof(&stubs, &sample("bad_types.rb"));
    assert!(!ok, "typeprof found nothing wrong in bad_types.rb:\n{out}");
    assert!(out.contains("bad_types.rb:3"), "no error on line 3:\n{out}");
}

#[test]
fn rbs_accepts_the_committed_signatures() {
    let stubs = committed_stubs();
    let (ok, out) = rbs_validate(&stubs);
    assert!(ok, "rbs rejected the committed ksr.rbs:\n{out}");
    let (ok, out) = typeprof(&stubs, &sample("committed.rb"));
    assert!(ok, "typeprof reported errors in committed.rb:\n{out}");
}

#[test]
fn rbs_accepts_signatures_of_every_kamailio_export_and_awkward_names() {
    let dir = temp_dir("ruby-kamailio");
    let stubs = write_stubs(&wide_submodules(), &dir);
    let (ok, out) = rbs_validate(&stubs);
    assert!(ok, "rbs rejected the Kamailio-wide ksr.rbs:\n{out}");
}

// ---- Every Kamailio export, plus awkward names and doc text ----

/// Every Kamailio export as a registry, plus [`AWKWARD`].
fn wide_submodules() -> Vec<&'static Submodule> {
    let mut subs = kamailio_submodules();
    subs.push(&AWKWARD);
    subs
}

/// Reserved words as parameter and function names, and doc text full of
/// the comment and string delimiters of the four languages.
static AWKWARD: Submodule = Submodule {
    name: "awkward",
    doc: "Doc with \"\"\" and */ and ]] and --[[ and #{x} and a \\ backslash.",
    exports: &[
        Export {
            module: "awkward",
            name: "delete",
            ret: ReturnKind::Xval,
            params: &[
                Param {
                    name: "end",
                    kind: ParamKind::Str,
                },
                Param {
                    name: "function",
                    kind: ParamKind::Int,
                },
                Param {
                    name: "class",
                    kind: ParamKind::Long,
                },
                Param {
                    name: "from",
                    kind: ParamKind::Str,
                },
            ],
            doc: "Ends with a backslash \\\nHas \"\"\"triple quotes\"\"\", a */ comment end,\n\
                  a ]] long-bracket end, a --[[ long comment and #{interpolation}.",
            file: file!(),
            line: line!(),
            call: dummy,
        },
        Export {
            module: "awkward",
            name: "end",
            ret: ReturnKind::None,
            params: &[],
            doc: "",
            file: file!(),
            line: line!(),
            call: dummy,
        },
    ],
};
