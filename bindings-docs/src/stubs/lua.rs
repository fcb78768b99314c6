//! Lua stubs: `stubs/lua/KSR.lua` with LuaLS (lua-language-server)
//! annotations, and `stubs/lua/ksr_luacheck.lua`, a luacheck configuration
//! declaring `KSR` and its fields so misspelt names are reported.

use std::fmt::Write as _;

use kemi_core::{Export, ReturnKind};

use crate::lang::{doc_lines, Group, Lang, ENGINE_X, GENERATED_NOTE, REGENERATE};
use crate::Output;

const L: Lang = Lang::Lua;

pub fn render(groups: &[Group]) -> Vec<Output> {
    vec![
        Output::new("stubs/lua/KSR.lua", annotations(groups)),
        Output::new("stubs/lua/ksr_luacheck.lua", luacheck(groups)),
    ]
}

/// `KSR.sl.name` or `KSR.sl["name"]` when `name` is not a plain identifier.
fn member(owner: &str, name: &str) -> String {
    if L.is_plain_name(name) {
        format!("{owner}.{name}")
    } else {
        format!("{owner}[{name:?}]")
    }
}

/// A table key: `name` or `["name"]`.
fn key(name: &str) -> String {
    if L.is_plain_name(name) {
        name.to_string()
    } else {
        format!("[{name:?}]")
    }
}

fn doc_comment(s: &mut String, indent: &str, doc: &str) {
    for line in doc_lines(doc) {
        let _ = writeln!(s, "{indent}---{line}");
    }
}

fn function(s: &mut String, owner: &str, e: &Export) {
    doc_comment(s, "", e.doc);
    if !e.doc.trim().is_empty() {
        s.push_str("---\n");
    }
    let _ = writeln!(s, "---`{}`", e.signature());
    let mut names = Vec::new();
    for p in e.params {
        let name = L.ident(p.name);
        let _ = writeln!(s, "---@param {name} {}", L.param_type(p.kind));
        names.push(name);
    }
    if e.ret != ReturnKind::None {
        let _ = writeln!(s, "---@return {}", L.return_type(e.ret));
    }
    let target = member(owner, e.name);
    let _ = writeln!(s, "{target} = function({}) end\n", names.join(", "));
}

fn annotations(groups: &[Group]) -> String {
    let mut s = format!("---@meta\n-- {GENERATED_NOTE}\n-- Regenerate with `{REGENERATE}`.\n\n");
    s.push_str("---The routing API of kemi-proxy.\n---@class KSR\nKSR = {}\n\n");
    for g in groups.iter().filter(|g| g.name.is_empty()) {
        for e in &g.exports {
            function(&mut s, "KSR", e);
        }
    }
    for g in groups.iter().filter(|g| !g.name.is_empty()) {
        doc_comment(&mut s, "", g.doc);
        let owner = member("KSR", g.name);
        let _ = writeln!(s, "---@class KSR.{}\n{owner} = {{}}\n", g.name);
        for e in &g.exports {
            function(&mut s, &owner, e);
        }
    }
    if !groups.iter().any(|g| g.name == "x") {
        s.push_str("---Functions of the Lua engine itself.\n---@class KSR.x\nKSR.x = {}\n\n");
        for f in ENGINE_X.iter().filter(|f| L.has_x(f)) {
            doc_comment(&mut s, "", f.doc);
            let mut names = Vec::new();
            for p in f.params {
                if p.rest {
                    let _ = writeln!(s, "---@param ... {}", L.param_type(p.kind));
                    names.push("...".to_string());
                } else {
                    let _ = writeln!(s, "---@param {} {}", p.name, L.param_type(p.kind));
                    names.push(p.name.to_string());
                }
            }
            if !f.never_returns && f.ret != ReturnKind::None {
                let _ = writeln!(s, "---@return {}", L.return_type(f.ret));
            }
            let _ = writeln!(s, "KSR.x.{} = function({}) end\n", f.name, names.join(", "));
        }
    }
    s
}

fn luacheck(groups: &[Group]) -> String {
    let mut s = format!("-- {GENERATED_NOTE}\n-- Regenerate with `{REGENERATE}`.\n");
    s.push_str(
        "--\n-- luacheck configuration declaring the KSR global and its fields, so that a\n\
         -- misspelt KSR function is reported. Use it as\n\
         --   luacheck --config stubs/lua/ksr_luacheck.lua script.lua\n\
         -- Scripts define their callbacks (ksr_request_route, ...) as globals at the\n\
         -- top level for the engine to call, so defining globals there is allowed and\n\
         -- not reported as unused (warning 131).\n\n\
         allow_defined_top = true\nignore = { \"131\" }\n\nread_globals = {\n  KSR = {\n    fields = {\n",
    );
    for g in groups.iter().filter(|g| g.name.is_empty()) {
        for e in &g.exports {
            let _ = writeln!(s, "      {} = {{}},", key(e.name));
        }
    }
    for g in groups.iter().filter(|g| !g.name.is_empty()) {
        let _ = writeln!(s, "      {} = {{\n        fields = {{", key(g.name));
        for e in &g.exports {
            let _ = writeln!(s, "          {} = {{}},", key(e.name));
        }
        s.push_str("        },\n      },\n");
    }
    if !groups.iter().any(|g| g.name == "x") {
        s.push_str("      x = {\n        fields = {\n");
        for f in ENGINE_X.iter().filter(|f| L.has_x(f)) {
            let _ = writeln!(s, "          {} = {{}},", f.name);
        }
        s.push_str("        },\n      },\n");
    }
    s.push_str("    },\n  },\n}\n");
    s
}
