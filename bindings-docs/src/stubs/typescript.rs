//! TypeScript declarations for JavaScript scripts: `stubs/typescript/KSR.d.ts`,
//! one `declare namespace KSR` with a nested namespace per submodule.

use std::fmt::Write as _;

use kemi_core::Export;

use crate::lang::{doc_lines, Group, Lang, ENGINE_X, GENERATED_NOTE, REGENERATE};
use crate::Output;

const T: Lang = Lang::JavaScript;

pub fn render(groups: &[Group]) -> Vec<Output> {
    let mut s = format!("// {GENERATED_NOTE}\n// Regenerate with `{REGENERATE}`.\n\n");
    s.push_str("/** The routing API of kemi-proxy. */\ndeclare namespace KSR {\n");
    for g in groups.iter().filter(|g| g.name.is_empty()) {
        for e in &g.exports {
            function(&mut s, "    ", e);
        }
    }
    for g in groups.iter().filter(|g| !g.name.is_empty()) {
        jsdoc(&mut s, "    ", &doc_lines(g.doc));
        let _ = writeln!(s, "    namespace {} {{", T.ident(g.name));
        for e in &g.exports {
            function(&mut s, "        ", e);
        }
        s.push_str("    }\n");
    }
    if !groups.iter().any(|g| g.name == "x") {
        s.push_str("    /** Functions of the JavaScript engine itself. */\n    namespace x {\n");
        for f in ENGINE_X.iter().filter(|f| T.has_x(f)) {
            jsdoc(&mut s, "        ", &doc_lines(f.doc));
            let params: Vec<String> = f
                .params
                .iter()
                .map(|p| {
                    if p.rest {
                        format!("...{}: {}[]", p.name, T.param_type(p.kind))
                    } else {
                        format!("{}: {}", p.name, T.param_type(p.kind))
                    }
                })
                .collect();
            let ret = if f.never_returns {
                "never"
            } else {
                T.return_type(f.ret)
            };
            let _ = writeln!(
                s,
                "        function {}({}): {ret};",
                f.name,
                params.join(", ")
            );
        }
        s.push_str("    }\n");
    }
    s.push_str("}\n");
    vec![Output::new("stubs/typescript/KSR.d.ts", s)]
}

fn jsdoc(s: &mut String, indent: &str, lines: &[&str]) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(s, "{indent}/**");
    for line in lines {
        let line = line.replace("*/", "*\\/");
        if line.is_empty() {
            let _ = writeln!(s, "{indent} *");
        } else {
            let _ = writeln!(s, "{indent} * {line}");
        }
    }
    let _ = writeln!(s, "{indent} */");
}

fn function(s: &mut String, indent: &str, e: &Export) {
    let name = T.ident(e.name);
    let mut lines = doc_lines(e.doc);
    let signature = format!("Kamailio signature: `{}`", e.signature());
    let note = Lang::renamed_note(e.name);
    if !lines.is_empty() {
        lines.push("");
    }
    lines.push(&signature);
    if name != e.name {
        lines.push(&note);
    }
    jsdoc(s, indent, &lines);
    let params: Vec<String> = e
        .params
        .iter()
        .map(|p| format!("{}: {}", T.ident(p.name), T.param_type(p.kind)))
        .collect();
    let _ = writeln!(
        s,
        "{indent}function {name}({}): {};",
        params.join(", "),
        T.return_type(e.ret)
    );
}
