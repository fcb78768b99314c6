//! The Markdown API reference: `docs/api/README.md` (the index), one page
//! per submodule (`core.md` for `KSR.*`) and `x.md` for the engine's `KSR.x`.

use std::fmt::Write as _;
use std::path::Path;

use kemi_core::{Export, ReturnKind};

use crate::lang::{doc_lines, summary, Group, Lang, ENGINE_X, GENERATED_NOTE, REGENERATE};
use crate::Output;

/// Where the reference lives, relative to the repository root.
pub const DIR: &str = "docs/api";

/// Renders the index and every page.
pub fn render(groups: &[Group], repo_root: &Path) -> Vec<Output> {
    let mut out = vec![Output::new(format!("{DIR}/README.md"), index(groups))];
    for g in groups {
        out.push(Output::new(
            format!("{DIR}/{}", g.page()),
            page(g, repo_root),
        ));
    }
    out.push(Output::new(format!("{DIR}/x.md"), engine_page()));
    out
}

fn header() -> String {
    format!("<!-- {GENERATED_NOTE} Regenerate with `{REGENERATE}`. -->\n\n")
}

fn index(groups: &[Group]) -> String {
    let total: usize = groups.iter().map(|g| g.exports.len()).sum();
    let mut s = header();
    s.push_str("# KSR API reference\n\n");
    let _ = writeln!(
        s,
        "The functions a routing script can call on `KSR`: {} submodules, {} functions in total \
         (core and every module compiled into the proxy).\n",
        groups.len(),
        total
    );
    s.push_str(
        "How each function is reached from Lua, Python, JavaScript and Ruby is shown on its \
         page. See also:\n\n\
         - [Parity with Kamailio](parity.md): which Kamailio exports exist here, are missing, \
         or differ;\n\
         - [`KSR.x`](x.md): the functions the script engines add themselves;\n\
         - the editor stubs under [`stubs/`](../../stubs/README.md).\n\n",
    );
    s.push_str("| Submodule | Functions | Description |\n|---|---:|---|\n");
    for g in groups {
        let _ = writeln!(
            s,
            "| [`{}`]({}) | {} | {} |",
            g.title(),
            g.page(),
            g.exports.len(),
            table_cell(&summary(g.doc))
        );
    }
    let _ = writeln!(s, "| **Total** | **{total}** | |");
    s
}

fn page(g: &Group, repo_root: &Path) -> String {
    let mut s = header();
    let _ = writeln!(s, "# `{}`\n", g.title());
    let doc = doc_lines(g.doc);
    if !doc.is_empty() {
        let _ = writeln!(s, "{}\n", doc.join("\n"));
    }
    let _ = writeln!(
        s,
        "Ruby scripts reach these functions as `{}`. Back to the [index](README.md).\n",
        Lang::Ruby.owner(g.name)
    );
    if g.exports.is_empty() {
        s.push_str("No functions are exported here yet.\n");
        return s;
    }
    let _ = writeln!(s, "{} functions:\n", g.exports.len());
    for e in &g.exports {
        let _ = writeln!(
            s,
            "- [`{}`](#{}) — {}",
            e.name,
            anchor(e),
            inline(&summary(e.doc))
        );
    }
    for e in &g.exports {
        s.push('\n');
        s.push_str(&function(e, repo_root));
    }
    s
}

/// The anchor of a function on its submodule's page: its name, as is
/// (names differing only in case are distinct exports).
pub fn anchor(e: &Export) -> &'static str {
    e.name
}

fn function(e: &Export, repo_root: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "<a id=\"{}\"></a>\n", anchor(e));
    let _ = writeln!(s, "## `{}`\n", e.path());
    let _ = writeln!(s, "```text\n{}\n```\n", e.signature());
    let doc = doc_lines(e.doc);
    if doc.is_empty() {
        s.push_str("_No description yet._\n\n");
    } else {
        let _ = writeln!(s, "{}\n", doc.join("\n"));
    }
    let _ = writeln!(
        s,
        "**Returns** `{}`: {}\n",
        e.ret.kemi_name(),
        return_meaning(e.ret)
    );
    s.push_str("| Language | Call |\n|---|---|\n");
    for lang in Lang::ALL {
        let _ = writeln!(s, "| {} | `{}` |", lang.title(), lang.call_export(e));
    }
    let (shown, link) = source(e.file, e.line, repo_root);
    match link {
        Some(target) => {
            let _ = writeln!(s, "\nSource: [{shown}]({target})");
        }
        None => {
            let _ = writeln!(s, "\nSource: `{shown}`");
        }
    }
    s
}

/// What a return value of `kind` means to the script.
pub fn return_meaning(kind: ReturnKind) -> &'static str {
    match kind {
        ReturnKind::Int => {
            "a status code. Above zero means it worked (true in a test), below zero means it \
             failed (false). Zero means processing of the message is over: unlike the native \
             config language, a script is not stopped for it, so it must return or call \
             `KSR.x.exit()` itself."
        }
        ReturnKind::Bool => {
            "true or false, as the language's own boolean (`True`/`False` in Python)."
        }
        ReturnKind::Xval => {
            "a value whose type varies: an integer (long values included), a string, or null \
             when there is nothing to give (`nil` in Lua and Ruby, `None` in Python, `null` in \
             JavaScript). A few functions can also return a dictionary or an array, which Lua \
             receives as a table; the stubs of the other languages allow for the matching \
             dict/list, object/array and Hash/Array."
        }
        ReturnKind::None => "nothing useful; do not test the result.",
    }
}

/// The source location as shown (`modules/sl/src/lib.rs:12`) and, when the
/// file is inside the repository, a link to it from a page of `docs/api/`.
pub fn source(file: &str, line: u32, repo_root: &Path) -> (String, Option<String>) {
    let path = Path::new(file);
    let relative = if path.is_absolute() {
        path.strip_prefix(repo_root).ok()
    } else {
        Some(path)
    };
    match relative {
        Some(rel) => {
            let rel = rel.to_string_lossy().replace('\\', "/");
            (
                format!("{rel}:{line}"),
                Some(format!("../../{rel}#L{line}")),
            )
        }
        None => (format!("{file}:{line}"), None),
    }
}

fn engine_page() -> String {
    let mut s = header();
    s.push_str("# `KSR.x`\n\n");
    s.push_str(
        "These functions come from the script engine, not from a module, so they are not in \
         the registry and each language has only some of them. Ruby reaches them as `KSR::X`.\n\n\
         Back to the [index](README.md).\n\n",
    );
    s.push_str("| Function | Lua | Python | JavaScript | Ruby |\n|---|:-:|:-:|:-:|:-:|\n");
    for f in ENGINE_X {
        let _ = write!(s, "| [`{}`](#{}) |", f.name, f.name);
        for lang in Lang::ALL {
            s.push_str(if lang.has_x(f) { " yes |" } else { " — |" });
        }
        s.push('\n');
    }
    for f in ENGINE_X {
        let _ = writeln!(s, "\n<a id=\"{}\"></a>\n", f.name);
        let _ = writeln!(s, "## `KSR.x.{}`\n", f.name);
        let _ = writeln!(s, "```text\n{}\n```\n", f.signature());
        let _ = writeln!(s, "{}\n", f.doc);
        if f.never_returns {
            s.push_str("**Returns**: never; the script stops here.\n\n");
        } else {
            let _ = writeln!(
                s,
                "**Returns** `{}`: {}\n",
                f.ret.kemi_name(),
                return_meaning(f.ret)
            );
        }
        s.push_str("| Language | Call |\n|---|---|\n");
        for lang in Lang::ALL.into_iter().filter(|l| l.has_x(f)) {
            let names: Vec<&str> = f
                .params
                .iter()
                .map(|p| if p.rest { "..." } else { p.name })
                .collect();
            let call = format!("{}.{}({})", lang.owner("x"), f.name, names.join(", "));
            let _ = writeln!(s, "| {} | `{}` |", lang.title(), call);
        }
    }
    s
}

/// Text made safe for one Markdown table cell.
fn table_cell(text: &str) -> String {
    inline(text).replace('|', "\\|")
}

/// Text made safe for one line.
fn inline(text: &str) -> String {
    text.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_sources_link_from_docs_api() {
        let root = Path::new("/repo");
        assert_eq!(
            source("modules/sl/src/lib.rs", 12, root),
            (
                "modules/sl/src/lib.rs:12".to_string(),
                Some("../../modules/sl/src/lib.rs#L12".to_string())
            )
        );
        assert_eq!(
            source("/repo/kemi-core/src/ksr/core.rs", 3, root).0,
            "kemi-core/src/ksr/core.rs:3"
        );
        assert_eq!(
            source("/elsewhere/x.rs", 1, root),
            ("/elsewhere/x.rs:1".to_string(), None)
        );
    }

    #[test]
    fn int_meaning_mentions_the_zero_rule() {
        let text = return_meaning(ReturnKind::Int);
        assert!(text.contains("Zero"));
        assert!(text.contains("KSR.x.exit()"));
        assert!(return_meaning(ReturnKind::Xval).contains("table"));
    }
}
