//! Ruby signatures in RBS: `stubs/ruby/ksr.rbs`, `module KSR` with the core
//! functions as singleton methods and one upper-cased module per submodule
//! (`KSR::SL`, `KSR::PV`, `KSR::X`).

use std::fmt::Write as _;

use kemi_core::Export;

use crate::lang::{doc_lines, ruby_const, Group, Lang, ENGINE_X, GENERATED_NOTE, REGENERATE};
use crate::Output;

const R: Lang = Lang::Ruby;

pub fn render(groups: &[Group]) -> Vec<Output> {
    let mut s = format!("# {GENERATED_NOTE}\n# Regenerate with `{REGENERATE}`.\n\n");
    s.push_str("# The routing API of kemi-proxy.\nmodule KSR\n");
    for g in groups.iter().filter(|g| g.name.is_empty()) {
        for e in &g.exports {
            function(&mut s, "  ", e);
        }
    }
    for g in groups.iter().filter(|g| !g.name.is_empty()) {
        comment(&mut s, "  ", &doc_lines(g.doc));
        let _ = writeln!(s, "  module {}", ruby_const(g.name));
        for e in &g.exports {
            function(&mut s, "    ", e);
        }
        s.push_str("  end\n");
    }
    if !groups.iter().any(|g| g.name == "x") {
        s.push_str("  # Functions of the Ruby engine itself.\n  module X\n");
        for f in ENGINE_X.iter().filter(|f| R.has_x(f)) {
            comment(&mut s, "    ", &doc_lines(f.doc));
            let params: Vec<String> = f
                .params
                .iter()
                .map(|p| {
                    let star = if p.rest { "*" } else { "" };
                    format!("{star}{} {}", R.param_type(p.kind), p.name)
                })
                .collect();
            let ret = if f.never_returns {
                "bot"
            } else {
                R.return_type(f.ret)
            };
            let _ = writeln!(
                s,
                "    def self.{}: ({}) -> {ret}",
                f.name,
                params.join(", ")
            );
        }
        s.push_str("  end\n");
    }
    s.push_str("end\n");
    vec![Output::new("stubs/ruby/ksr.rbs", s)]
}

fn comment(s: &mut String, indent: &str, lines: &[&str]) {
    for line in lines {
        if line.is_empty() {
            let _ = writeln!(s, "{indent}#");
        } else {
            let _ = writeln!(s, "{indent}# {line}");
        }
    }
}

fn function(s: &mut String, indent: &str, e: &Export) {
    let mut lines = doc_lines(e.doc);
    let signature = format!("Kamailio signature: `{}`", e.signature());
    if !lines.is_empty() {
        lines.push("");
    }
    lines.push(&signature);
    comment(s, indent, &lines);
    let params: Vec<String> = e
        .params
        .iter()
        .map(|p| format!("{} {}", R.param_type(p.kind), R.ident(p.name)))
        .collect();
    let _ = writeln!(
        s,
        "{indent}def self.{}: ({}) -> {}",
        e.name,
        params.join(", "),
        R.return_type(e.ret)
    );
}
