//! Registry completeness: every `#[kemi_export]` written in the ktest
//! source is in its `SUBMODULE`, in source order, with its file and line.
//! (Collection is done by `#[kemi_module]`, not by the linker, and this
//! proves nothing was lost on the way.)

use kemi_mod_ktest::kemi::SUBMODULE;

const SOURCE: &str = include_str!("../src/lib.rs");
const MARKER: &str = "#[kemi_export";

/// (script name, 1-based line of the `fn` name) for each marker in the source.
fn annotated_functions() -> Vec<(String, u32)> {
    let lines: Vec<&str> = SOURCE.lines().collect();
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let line = line.trim();
        if !line.starts_with(MARKER) {
            continue;
        }
        let renamed = line
            .split_once("name = \"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(name, _)| name.to_string());
        let (fn_index, fn_line) = lines[index + 1..]
            .iter()
            .enumerate()
            .find_map(|(offset, l)| {
                l.trim()
                    .strip_prefix("pub fn ")
                    .map(|rest| (index + 1 + offset, rest))
            })
            .expect("a function follows each marker");
        let rust_name = fn_line
            .split('(')
            .next()
            .expect("a function name")
            .to_string();
        let line_number = u32::try_from(fn_index + 1).expect("a small file");
        found.push((renamed.unwrap_or(rust_name), line_number));
    }
    found
}

#[test]
fn every_annotation_is_exported() {
    assert_eq!(SOURCE.matches(MARKER).count(), SUBMODULE.exports.len());
}

#[test]
fn exports_are_in_source_order_with_their_lines() {
    let exported: Vec<(String, u32)> = SUBMODULE
        .exports
        .iter()
        .map(|e| (e.name.to_string(), e.line))
        .collect();
    assert_eq!(exported, annotated_functions());
}
