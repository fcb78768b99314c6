//! Every exported function of the core (`KSR.*`, `KSR.hdr`, `KSR.pv`) and of
//! the stateless modules is called from a Lua test: this fails, naming
//! them, when one is exported without a Lua test or loses its last one.
//!
//! The Lua test sources are the modules' test directories: `.lua` scripts,
//! and Rust test files that run Lua through `LuaTest`. A function counts as
//! called when a script calls `KSR.<sub>.<name>(...)`, calls it through a
//! local alias of its submodule (`local s = KSR.siputils ... s.is_uri(...)`),
//! or puts it in a table of functions it then calls (`{ WS = KSR.to_WS }`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use kemi_core::Registry;
use kemi_proxy::module_table::MODULES;

/// The guarded submodules: core, then the stateless modules' KSR names.
const GUARDED: &[&str] = &[
    "", "hdr", "pv", "sl", "maxfwd", "kx", "pvx", "xlog", "sanity", "siputils", "textops",
    "textopsx", "corex",
];

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The Lua test sources of every module, with their paths.
fn lua_test_sources() -> Vec<(PathBuf, String)> {
    let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../modules");
    let mut files = Vec::new();
    for entry in fs::read_dir(&modules).unwrap().flatten() {
        files_under(&entry.path().join("tests"), &mut files);
    }
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let ext = path.extension()?.to_str()?.to_string();
            let text = fs::read_to_string(&path).ok()?;
            let lua = ext == "lua" || (ext == "rs" && text.contains("LuaTest"));
            lua.then_some((path, text))
        })
        .collect()
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifier at the start of `s`.
fn ident(s: &str) -> &str {
    let end = s.find(|c| !is_ident_char(c)).unwrap_or(s.len());
    &s[..end]
}

/// The dotted path after `KSR.` at the start of `s` (`sl.sreply`, `is_UDP`)
/// and the length it takes.
fn dotted_path(s: &str) -> (Vec<&str>, usize) {
    let mut segments = Vec::new();
    let mut at = 0;
    loop {
        let name = ident(&s[at..]);
        if name.is_empty() {
            break;
        }
        segments.push(name);
        at += name.len();
        if s[at..].starts_with('.') && !ident(&s[at + 1..]).is_empty() {
            at += 1;
        } else {
            break;
        }
    }
    (segments, at)
}

/// Whether the text before `at` ends with `=` (blanks skipped), but not
/// `==`, `~=`, `<=` or `>=`.
fn assigned(text: &str, at: usize) -> bool {
    let before = text[..at].trim_end();
    before.ends_with('=')
        && !before.ends_with("==")
        && !before.ends_with("~=")
        && !before.ends_with("<=")
        && !before.ends_with(">=")
}

/// `sub.name` (`.name` for the root) of every function `text` calls.
fn calls_in(text: &str) -> BTreeSet<String> {
    let mut calls = BTreeSet::new();
    // Local aliases of submodules: alias name -> submodule.
    let mut aliases: Vec<(&str, &str)> = Vec::new();
    for (at, _) in text.match_indices("KSR.") {
        if text[..at].ends_with(is_ident_char) {
            continue;
        }
        let (path, len) = dotted_path(&text[at + 4..]);
        let after = text[at + 4 + len..].trim_start();
        let key = match path.as_slice() {
            [name] => format!(".{name}"),
            [sub, name] => format!("{sub}.{name}"),
            _ => continue,
        };
        let called = after.starts_with('(');
        let collected = assigned(text, at) && (after.starts_with(',') || after.starts_with('}'));
        if called || collected {
            calls.insert(key);
        }
        // `local s = KSR.siputils`
        if let [sub] = path.as_slice() {
            let before = text[..at].trim_end();
            if let Some(lhs) = before.strip_suffix('=') {
                let lhs = lhs.trim_end();
                let name_start = lhs.rfind(|c| !is_ident_char(c)).map_or(0, |i| i + 1);
                let alias = &lhs[name_start..];
                if !alias.is_empty() && lhs[..name_start].trim_end().ends_with("local") {
                    aliases.push((alias, sub));
                }
            }
        }
    }
    for (alias, sub) in aliases {
        let needle = format!("{alias}.");
        for (at, _) in text.match_indices(&needle) {
            let prefix = &text[..at];
            if prefix.ends_with(is_ident_char) || prefix.ends_with('.') {
                continue;
            }
            let rest = &text[at + needle.len()..];
            let name = ident(rest);
            if !name.is_empty() && rest[name.len()..].trim_start().starts_with('(') {
                calls.insert(format!("{sub}.{name}"));
            }
        }
    }
    calls
}

#[test]
fn the_scanner_sees_direct_aliased_and_collected_calls() {
    let lua = r#"
        assert(KSR.sl.sreply(200, "OK") == 1)
        KSR.info ("x")
        local s = KSR.siputils
        assert(s.is_uri("sip:a@b"))
        local fns = { WS = KSR.to_WS, UDP = KSR.to_UDP }
        if KSR.pv.get == nil then end
        -- KSR.textops.search is only mentioned
        local n = MYKSR.sl.foo()
    "#;
    let calls = calls_in(lua);
    let expected = [".info", ".to_UDP", ".to_WS", "siputils.is_uri", "sl.sreply"];
    assert_eq!(calls, expected.iter().map(|s| s.to_string()).collect());
}

#[test]
fn every_guarded_export_is_called_from_a_lua_test() {
    let sources = lua_test_sources();
    assert!(
        sources.len() >= 12,
        "found only {} Lua test sources: {:?}",
        sources.len(),
        sources.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    let mut called = BTreeSet::new();
    for (_, text) in &sources {
        called.extend(calls_in(text));
    }

    let registry = Registry::new(MODULES);
    let mut missing = Vec::new();
    let mut checked = 0;
    for sub in GUARDED {
        let exports: Vec<_> = registry.exports().filter(|e| e.module == *sub).collect();
        assert!(!exports.is_empty(), "KSR.{sub} is not in the registry");
        for export in exports {
            checked += 1;
            if !called.contains(&format!("{sub}.{}", export.name)) {
                missing.push(export.path());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {checked} exports have no Lua test calling them (add one under modules/<module>/tests): {}",
        missing.len(),
        missing.join(", ")
    );
}
