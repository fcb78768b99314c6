//! What the renderers write for the fixed test registry: the reference
//! pages, the index counts, the parity classification and the stub types.

mod common;

use common::*;
use kemi_core::ReturnKind;
use kemi_docs::lang::group;
use kemi_docs::parity::{classify, parse_tsv, Status};
use kemi_docs::{render_all, repo_root, Output};

fn render() -> Vec<Output> {
    render_all(&test_submodules(), &kamailio(), &repo_root())
}

fn file<'a>(files: &'a [Output], path: &str) -> &'a str {
    files
        .iter()
        .find(|f| f.path == path)
        .map(|f| f.contents.as_str())
        .unwrap_or_else(|| panic!("{path} was not generated"))
}

#[test]
fn signatures_use_kamailio_notation() {
    let sig = |sub: &kemi_core::Submodule, i: usize| sub.exports[i].signature();
    assert_eq!(sig(&SL, 0), "int KSR.sl.sreply(int code, str reason)");
    assert_eq!(sig(&CORE, 0), "none KSR.info(str msg)");
    assert_eq!(sig(&CORE, 1), "bool KSR.is_INVITE()");
    assert_eq!(sig(&PV, 0), "xval KSR.pv.get(str name)");
    assert_eq!(sig(&PV, 2), "bool KSR.pv.setl(str name, long value)");
}

#[test]
fn one_page_per_submodule_plus_index_parity_and_engine_page() {
    let files = render();
    let mut pages: Vec<&str> = files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| p.starts_with("docs/api/"))
        .collect();
    pages.sort_unstable();
    assert_eq!(
        pages,
        [
            "docs/api/README.md",
            "docs/api/core.md",
            "docs/api/hdr.md",
            "docs/api/parity.md",
            "docs/api/pv.md",
            "docs/api/sl.md",
            "docs/api/x.md"
        ]
    );
}

#[test]
fn index_counts_functions_and_links_parity() {
    let files = render();
    let index = file(&files, "docs/api/README.md");
    assert!(
        index.contains("4 submodules, 8 functions in total"),
        "{index}"
    );
    for row in [
        "| [`KSR`](core.md) | 2 | Functions on `KSR` itself. |",
        "| [`KSR.pv`](pv.md) | 3 | Pseudo-variables. |",
        "| [`KSR.hdr`](hdr.md) | 1 | Headers. |",
        "| [`KSR.sl`](sl.md) | 2 | Stateless replies. |",
        "| **Total** | **8** | |",
    ] {
        assert!(index.contains(row), "index lacks {row}:\n{index}");
    }
    assert!(index.contains("(parity.md)"));
    assert!(index.contains("(x.md)"));
}

#[test]
fn a_function_entry_has_everything() {
    let files = render();
    let page = file(&files, "docs/api/sl.md");
    let entry = page
        .split("<a id=\"sreply\"></a>")
        .nth(1)
        .and_then(|rest| rest.split("<a id=").next())
        .unwrap_or_else(|| panic!("no sreply anchor:\n{page}"));
    assert!(entry.contains("## `KSR.sl.sreply`"));
    assert!(entry.contains("```text\nint KSR.sl.sreply(int code, str reason)\n```"));
    assert!(entry.contains("Sends a stateless reply with `code` and `reason`."));
    assert!(entry.contains("**Returns** `int`: a status code."));
    assert!(entry.contains("Zero means processing of the message is over"));
    for row in [
        "| Lua | `KSR.sl.sreply(code, reason)` |",
        "| Python | `KSR.sl.sreply(code, reason)` |",
        "| JavaScript | `KSR.sl.sreply(code, reason)` |",
        "| Ruby | `KSR::SL.sreply(code, reason)` |",
    ] {
        assert!(entry.contains(row), "entry lacks {row}:\n{entry}");
    }
    let line = SL.exports[0].line;
    let link = format!(
        "Source: [bindings-docs/tests/common/mod.rs:{line}](../../bindings-docs/tests/common/mod.rs#L{line})"
    );
    assert!(entry.contains(&link), "entry lacks {link}:\n{entry}");
    assert!(page.contains("- [`sreply`](#sreply) — Sends a stateless reply"));
}

#[test]
fn core_functions_are_on_ksr_in_every_language() {
    let files = render();
    let page = file(&files, "docs/api/core.md");
    assert!(page.contains("# `KSR`"));
    assert!(page.contains("| Ruby | `KSR.info(msg)` |"));
    assert!(page.contains("| Lua | `KSR.is_INVITE()` |"));
    assert!(page.contains("**Returns** `bool`"));
    assert!(page.contains("**Returns** `none`"));
    let pv = file(&files, "docs/api/pv.md");
    assert!(pv.contains("**Returns** `xval`"));
    assert!(pv.contains("| Ruby | `KSR::PV.get(name)` |"));
    // Multi-line docs are kept as written.
    assert!(pv.contains("The value of pseudo-variable `name`,\nor null when it has none."));
}

#[test]
fn parity_classifies_present_missing_and_different() {
    let groups = group(&test_submodules());
    let kam = parse_tsv(
        "ksr_path\tsubmodule\tfunction\treturn\tparams\tkamailio_module\n\
         KSR.info\t\tinfo\tnone\tstr txt\tcore\n\
         KSR.sl.send_reply\tsl\tsend_reply\tint\tint code, str reason\tsl\n\
         KSR.hdr.append\thdr\tappend\tint\tstr txt\tcore\n\
         KSR.hdr.remove\thdr\tremove\tint\tstr hname\tcore\n\
         KSR.pv.get\tpv\tget\tint\tstr pvn\tcore\n\
         KSR.pv.setl\tpv\tsetl\tbool\tstr pvn, int v\tcore\n",
        "test",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let find = |m: &str, n: &str| {
        groups
            .iter()
            .filter(|g| g.name == m)
            .flat_map(|g| g.exports.iter().copied())
            .find(|e| e.name == n)
    };
    let statuses: Vec<Status> = kam
        .iter()
        .map(|k| classify(k, find(&k.submodule, &k.function)))
        .collect();
    assert_eq!(
        statuses,
        vec![
            // Parameter names differ (msg/txt): still present.
            Status::Present,
            Status::Different("bool KSR.sl.send_reply(str code)".to_string()),
            Status::Present,
            Status::Missing,
            // Same parameters, other return kind.
            Status::Different("xval KSR.pv.get(str name)".to_string()),
            // Same return kind, long vs int parameter.
            Status::Different("bool KSR.pv.setl(str name, long value)".to_string()),
        ]
    );
    assert_eq!(SL.exports[1].ret, ReturnKind::Bool);
}

#[test]
fn parity_page_has_totals_rows_and_our_extras() {
    let files = render();
    let parity = file(&files, "docs/api/parity.md");
    let kam = kamailio();
    let total = kam.len();
    // Present: KSR.info, KSR.is_INVITE, KSR.pv.get, KSR.pv.setl, KSR.hdr.append;
    // different: KSR.sl.send_reply, KSR.pv.seti (Kamailio's returns bool).
    let present = 5;
    let overall = format!(
        "Overall: **{present}/{total} present ({})**, 2 different, {} missing; 1 of our exports are not in Kamailio.",
        kemi_docs::parity::percent(present, total),
        total - present - 2
    );
    assert!(parity.contains(&overall), "no `{overall}`:\n{parity}");
    assert!(parity.contains("| [`KSR.sl`](#ksr-sl) | sl | 0/6 | 1 | 5 | 0.0% |"));
    assert!(
        parity.contains("| [`KSR.pv`](#ksr-pv) | core | 2/12 | 1 | 9 | 16.7% |"),
        "{parity}"
    );
    assert!(parity.contains(
        "| `int KSR.sl.send_reply(int code, str reason)` | **different** | \
         [`bool KSR.sl.send_reply(str code)`](sl.md#send_reply) |"
    ));
    assert!(
        parity.contains("| `bool KSR.is_INVITE()` | present | [reference](core.md#is_INVITE) |")
    );
    assert!(
        parity.contains("| `int KSR.sl.sl_send_reply(int code, str reason)` | **missing** |  |")
    );
    assert!(
        parity.contains("| `int KSR.sl.sreply(int code, str reason)` | [sl.md](sl.md#sreply) |")
    );
    assert!(parity.contains(&format!(
        "| **All** | | **{present}/{total}** | **2** | **{}** |",
        total - present - 2
    )));
    assert!(parity.contains(
        "| `bool KSR.pv.seti(str pvn, int ival)` | **different** | [`none KSR.pv.seti(str name, int value)`](pv.md#seti) |"
    ));
}

#[test]
fn stub_types_follow_each_language() {
    let files = render();
    let lua = file(&files, "stubs/lua/KSR.lua");
    assert!(lua.starts_with("---@meta"));
    assert!(lua.contains("---@param code integer\n---@param reason string\n---@return integer\nKSR.sl.sreply = function(code, reason) end"));
    assert!(lua.contains("---@return integer|string|table|nil\nKSR.pv.get = function(name) end"));
    assert!(lua.contains("---@class KSR.sl\nKSR.sl = {}"));
    assert!(lua.contains("---Sends a stateless reply with `code` and `reason`."));

    let py_init = file(&files, "stubs/python/KSR/__init__.pyi");
    assert!(py_init.contains("def info(msg: str) -> None:"));
    assert!(py_init.contains("def is_INVITE() -> bool:"));
    for sub in ["hdr", "pv", "sl", "x"] {
        assert!(py_init.contains(&format!("from . import {sub} as {sub}")));
    }
    let py_pv = file(&files, "stubs/python/KSR/pv.pyi");
    assert!(py_pv.contains("from typing import Any, Dict, List, Optional, Union"));
    assert!(py_pv
        .contains("def get(name: str) -> Optional[Union[int, str, Dict[str, Any], List[Any]]]:"));
    assert!(py_pv.contains("def setl(name: str, value: int) -> bool:"));
    assert!(file(&files, "stubs/python/KSR/x.pyi")
        .contains("def modf(fname: str, *params: str) -> int:"));

    let ts = file(&files, "stubs/typescript/KSR.d.ts");
    assert!(ts.contains("declare namespace KSR {"));
    assert!(ts.contains("    function info(msg: string): void;"));
    assert!(ts.contains("        function get(name: string): number | string | { [key: string]: unknown } | unknown[] | null;"));
    assert!(ts.contains("        function exit(): never;"));

    let rbs = file(&files, "stubs/ruby/ksr.rbs");
    assert!(rbs.contains("module KSR\n"));
    assert!(rbs.contains("  def self.info: (String msg) -> void"));
    assert!(rbs.contains("  module SL\n"));
    assert!(rbs.contains("    def self.sreply: (Integer code, String reason) -> Integer"));
    assert!(rbs.contains("    def self.get: (String name) -> (Integer | String | Hash[String, untyped] | Array[untyped] | nil)"));
    assert!(rbs.contains("  module X\n"));
    assert!(rbs.contains("    # Sends a stateless reply with `code` and `reason`."));
}
