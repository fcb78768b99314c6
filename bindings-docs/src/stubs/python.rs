//! Python stubs: the stub package `stubs/python/KSR/`, with the core
//! functions in `__init__.pyi` and one `.pyi` per submodule (`sl.pyi`,
//! `x.pyi`...). Point `MYPYPATH` (or the editor's stub path) at `stubs/python`.

use std::fmt::Write as _;

use kemi_core::{Export, ReturnKind};

use crate::lang::{doc_lines, Group, Lang, ENGINE_X, GENERATED_NOTE, REGENERATE};
use crate::Output;

const P: Lang = Lang::Python;
const DIR: &str = "stubs/python/KSR";

pub fn render(groups: &[Group]) -> Vec<Output> {
    let subs: Vec<&Group> = groups.iter().filter(|g| !g.name.is_empty()).collect();
    let has_x = subs.iter().any(|g| g.name == "x");
    let core: Vec<&Export> = groups
        .iter()
        .filter(|g| g.name.is_empty())
        .flat_map(|g| g.exports.iter().copied())
        .collect();

    let mut init = header("The KSR module: the routing API of kemi-proxy.");
    let mut names: Vec<&str> = subs.iter().map(|g| g.name).collect();
    if !has_x {
        names.push("x");
    }
    names.sort_unstable();
    init.push_str(&typing_import(&core));
    for name in &names {
        let _ = writeln!(init, "from . import {name} as {name}");
    }
    init.push('\n');
    for e in &core {
        function(&mut init, e);
    }

    let mut out = vec![Output::new(format!("{DIR}/__init__.pyi"), init)];
    for g in &subs {
        let title = format!("KSR.{}", g.name);
        let doc = doc_lines(g.doc).join("\n");
        let mut s = header(if doc.is_empty() { &title } else { &doc });
        s.push_str(&typing_import(&g.exports));
        s.push('\n');
        for e in &g.exports {
            function(&mut s, e);
        }
        out.push(Output::new(format!("{DIR}/{}.pyi", g.name), s));
    }
    if !has_x {
        out.push(Output::new(format!("{DIR}/x.pyi"), engine_x()));
    }
    out
}

fn header(doc: &str) -> String {
    format!(
        "# {GENERATED_NOTE}\n# Regenerate with `{REGENERATE}`.\n\"\"\"{}\"\"\"\n\n",
        docstring(doc)
    )
}

fn typing_import(exports: &[&Export]) -> String {
    if exports.iter().any(|e| e.ret == ReturnKind::Xval) {
        "from typing import Any, Dict, List, Optional, Union\n".to_string()
    } else {
        String::new()
    }
}

/// Text made safe inside a `"""` docstring.
fn docstring(text: &str) -> String {
    text.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"")
}

fn function(s: &mut String, e: &Export) {
    let params: Vec<String> = e
        .params
        .iter()
        .map(|p| format!("{}: {}", P.ident(p.name), P.param_type(p.kind)))
        .collect();
    let _ = writeln!(
        s,
        "def {}({}) -> {}:",
        P.ident(e.name),
        params.join(", "),
        P.return_type(e.ret)
    );
    let mut doc: Vec<String> = doc_lines(e.doc).iter().map(|l| docstring(l)).collect();
    if !doc.is_empty() {
        doc.push(String::new());
    }
    doc.push(format!("Kamailio signature: ``{}``", e.signature()));
    if P.ident(e.name) != e.name {
        doc.push(Lang::renamed_note(e.name));
    }
    let _ = writeln!(s, "    \"\"\"");
    for line in doc {
        if line.is_empty() {
            s.push('\n');
        } else {
            let _ = writeln!(s, "    {line}");
        }
    }
    let _ = writeln!(s, "    \"\"\"\n    ...\n");
}

fn engine_x() -> String {
    let mut s = header("KSR.x: functions of the Python engine itself.");
    let fns: Vec<_> = ENGINE_X.iter().filter(|f| P.has_x(f)).collect();
    if fns.iter().any(|f| f.never_returns) {
        s.push_str("from typing import NoReturn\n\n");
    }
    for f in fns {
        let params: Vec<String> = f
            .params
            .iter()
            .map(|p| {
                let star = if p.rest { "*" } else { "" };
                format!("{star}{}: {}", p.name, P.param_type(p.kind))
            })
            .collect();
        let ret = if f.never_returns {
            "NoReturn"
        } else {
            P.return_type(f.ret)
        };
        let _ = writeln!(
            s,
            "def {}({}) -> {ret}:\n    \"\"\"\n    {}\n    \"\"\"\n    ...\n",
            f.name,
            params.join(", "),
            docstring(&doc_lines(f.doc).join("\n    "))
        );
    }
    s
}
