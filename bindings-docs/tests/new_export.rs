//! Adding one annotated function to a module makes it appear, with no other
//! edit, in the registry, the reference, the parity table and all four stub
//! sets. The test compares the proxy's registry with and without a module
//! whose only function carries `#[kemi_export]`.

mod common;

use kemi_core::{kemi_module, Export, ModuleDef, Registry};
use kemi_docs::{render_all, repo_root, Output};

/// A module added by the test.
#[kemi_module(name = "extra")]
pub mod extra {
    /// Does something no module did before.
    #[kemi_export]
    pub fn t_brand_new(label: &str, count: i32) -> i32 {
        i32::try_from(label.len())
            .unwrap_or(i32::MAX)
            .saturating_add(count)
    }
}

static EXTRA: ModuleDef = ModuleDef {
    name: "extra",
    summary: "a module added by the test",
    kemi: Some(&extra::SUBMODULE),
    params: &[],
    rpc: &[],
};

fn file<'a>(files: &'a [Output], path: &str) -> &'a str {
    files
        .iter()
        .find(|f| f.path == path)
        .map(|f| f.contents.as_str())
        .unwrap_or_else(|| panic!("{path} was not generated"))
}

#[test]
fn one_added_export_shows_up_everywhere() {
    let mut modules: Vec<&'static ModuleDef> = kemi_proxy::module_table::MODULES.to_vec();
    let before = Registry::new(&modules);
    modules.push(&EXTRA);
    let after = Registry::new(&modules);

    // Registry.
    assert!(before.find("extra", "t_brand_new").is_none());
    let found = after.find("extra", "t_brand_new");
    assert_eq!(
        found.map(Export::signature).as_deref(),
        Some("int KSR.extra.t_brand_new(str label, int count)")
    );
    assert_eq!(after.exports().count(), before.exports().count() + 1);

    let kam = common::kamailio();
    let old = render_all(before.submodules(), &kam, &repo_root());
    let new = render_all(after.submodules(), &kam, &repo_root());
    let signature = "int KSR.extra.t_brand_new(str label, int count)";

    // Reference: a new page, listed in the index with its count.
    assert!(!old.iter().any(|f| f.path == "docs/api/extra.md"));
    let page = file(&new, "docs/api/extra.md");
    assert!(page.contains(signature), "{page}");
    assert!(page.contains("Does something no module did before."));
    assert!(page.contains("<a id=\"t_brand_new\"></a>"));
    assert!(page.contains("KSR::EXTRA.t_brand_new(label, count)"));
    let index = file(&new, "docs/api/README.md");
    assert!(index.contains("| [`KSR.extra`](extra.md) | 1 |"), "{index}");

    // Parity: listed among ours only.
    let parity = file(&new, "docs/api/parity.md");
    assert!(!file(&old, "docs/api/parity.md").contains("t_brand_new"));
    assert!(
        parity.contains(&format!(
            "| `{signature}` | [extra.md](extra.md#t_brand_new) |"
        )),
        "{parity}"
    );

    // Stubs, in each language's own spelling.
    let expected = [
        (
            "stubs/lua/KSR.lua",
            "KSR.extra.t_brand_new = function(label, count) end",
        ),
        ("stubs/lua/ksr_luacheck.lua", "t_brand_new = {},"),
        (
            "stubs/python/KSR/extra.pyi",
            "def t_brand_new(label: str, count: int) -> int:",
        ),
        (
            "stubs/python/KSR/__init__.pyi",
            "from . import extra as extra",
        ),
        (
            "stubs/typescript/KSR.d.ts",
            "function t_brand_new(label: string, count: number): number;",
        ),
        (
            "stubs/ruby/ksr.rbs",
            "def self.t_brand_new: (String label, Integer count) -> Integer",
        ),
    ];
    for (path, needle) in expected {
        let text = file(&new, path);
        assert!(text.contains(needle), "{path} lacks `{needle}`:\n{text}");
        let old_text = old
            .iter()
            .find(|f| f.path == path)
            .map_or("", |f| f.contents.as_str());
        assert!(!old_text.contains("t_brand_new"), "{path} had it before");
    }
    assert!(file(&new, "stubs/ruby/ksr.rbs").contains("module EXTRA"));
    assert!(file(&new, "stubs/typescript/KSR.d.ts").contains("namespace extra {"));
}
