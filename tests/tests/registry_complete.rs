//! Every `#[kemi_export]` in the source tree reaches the registry the proxy
//! builds from its module table. Link-time registries have silently lost
//! entries; ours is built by `#[kemi_module]`, and this test keeps it honest
//! by counting annotations in the source and exports in the registry.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use kemi_core::Registry;
use kemi_proxy::module_table::MODULES;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n != "tests" && n != "target")
            {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Counts `#[kemi_export` annotations per `#[kemi_module(name = "...")]`,
/// attributing each to the module attribute above it in the same file.
fn annotated_per_submodule() -> BTreeMap<String, usize> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_files(&root.join("kemi-core/src"), &mut files);
    rust_files(&root.join("modules"), &mut files);
    let mut counts = BTreeMap::new();
    for file in files {
        let text = fs::read_to_string(&file).unwrap_or_default();
        let mut current: Option<String> = None;
        for line in text.lines().map(str::trim) {
            if line.starts_with("//") {
                continue;
            }
            if let Some(rest) = line
                .strip_prefix("#[kemi_module(")
                .or_else(|| line.strip_prefix("#[crate::kemi_module("))
            {
                let name = rest.split('"').nth(1).unwrap_or_default().to_string();
                counts.entry(name.clone()).or_insert(0);
                current = Some(name);
            } else if line.starts_with("#[kemi_export") {
                let module = current.clone().unwrap_or_else(|| {
                    panic!(
                        "{}: #[kemi_export] outside a #[kemi_module]",
                        file.display()
                    )
                });
                *counts.entry(module).or_insert(0) += 1;
            }
        }
    }
    counts
}

#[test]
fn every_annotated_function_is_in_the_registry() {
    let registry = Registry::new(MODULES);
    let registered: BTreeMap<String, usize> = registry
        .submodules()
        .iter()
        .map(|s| (s.name.to_string(), s.exports.len()))
        .collect();
    let annotated = annotated_per_submodule();
    assert!(
        annotated.values().sum::<usize>() > 30,
        "the scan found too little: {annotated:?}"
    );
    assert_eq!(
        registered, annotated,
        "registry (left) vs annotations in the source (right)"
    );
}

#[test]
fn module_and_submodule_names_are_unique() {
    let mut names: Vec<&str> = MODULES.iter().map(|m| m.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), MODULES.len(), "a module name is listed twice");
    let registry = Registry::new(MODULES);
    let mut subs: Vec<&str> = registry.submodules().iter().map(|s| s.name).collect();
    subs.sort_unstable();
    subs.dedup();
    assert_eq!(
        subs.len(),
        registry.submodules().len(),
        "two modules export the same KSR submodule"
    );
}
