//! Adding one annotated function makes it appear, with no other edit, in
//! the registry, the reference, the parity table and all four stub sets:
//! as a new module (the proxy's registry with and without a module whose
//! only function carries `#[kemi_export]`), and as one more function of a
//! module that already exists (the same module source expanded with and
//! without the added function).

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

/// One module's source, written once: `demo_module!()` is the module as it
/// is, `demo_module!(fn ...)` the same source with functions added to its
/// `#[kemi_module]` block. Nothing else differs, the `ModuleDef` included.
macro_rules! demo_module {
    ($name:ident, $def:ident; $($added:tt)*) => {
        /// A module that is already there.
        #[kemi_module(name = "demo")]
        pub mod $name {
            /// Was there before.
            #[kemi_export]
            pub fn existing(n: i32) -> i32 {
                n
            }

            $($added)*
        }

        static $def: ModuleDef = ModuleDef {
            name: "demo",
            summary: "a module that is already there",
            kemi: Some(&$name::SUBMODULE),
            params: &[],
            rpc: &[],
        };
    };
}

demo_module!(demo_before, DEMO_BEFORE;);
demo_module!(demo_after, DEMO_AFTER;
    /// Added to a module that already existed.
    #[kemi_export]
    pub fn t_added(label: &str, count: i32) -> i32 {
        i32::try_from(label.len())
            .unwrap_or(i32::MAX)
            .saturating_add(count)
    }
);

#[test]
fn one_export_added_to_an_existing_module_shows_up_everywhere() {
    let production = kemi_proxy::module_table::MODULES.to_vec();
    let before = Registry::new(&[production.as_slice(), &[&DEMO_BEFORE]].concat());
    let after = Registry::new(&[production.as_slice(), &[&DEMO_AFTER]].concat());
    let signature = "int KSR.demo.t_added(str label, int count)";

    // Registry: one more function, no new submodule.
    assert!(before.find("demo", "t_added").is_none());
    assert_eq!(
        after
            .find("demo", "t_added")
            .map(Export::signature)
            .as_deref(),
        Some(signature)
    );
    assert!(after.find("demo", "existing").is_some());
    assert_eq!(after.exports().count(), before.exports().count() + 1);
    assert_eq!(after.submodules().len(), before.submodules().len());

    let kam = common::kamailio();
    let old = render_all(before.submodules(), &kam, &repo_root());
    let new = render_all(after.submodules(), &kam, &repo_root());

    // Reference: the module's existing page gains the function, and the
    // index its count.
    let old_page = file(&old, "docs/api/demo.md");
    let page = file(&new, "docs/api/demo.md");
    assert!(!old_page.contains("t_added"));
    assert!(page.contains("int KSR.demo.existing(int n)"), "{page}");
    assert!(page.contains(signature), "{page}");
    assert!(page.contains("Added to a module that already existed."));
    assert!(page.contains("<a id=\"t_added\"></a>"));
    assert!(page.contains("KSR::DEMO.t_added(label, count)"));
    assert!(file(&old, "docs/api/README.md").contains("| [`KSR.demo`](demo.md) | 1 |"));
    let index = file(&new, "docs/api/README.md");
    assert!(index.contains("| [`KSR.demo`](demo.md) | 2 |"), "{index}");

    // Parity: listed among ours only.
    assert!(!file(&old, "docs/api/parity.md").contains("t_added"));
    let parity = file(&new, "docs/api/parity.md");
    assert!(
        parity.contains(&format!("| `{signature}` | [demo.md](demo.md#t_added) |")),
        "{parity}"
    );

    // Stubs, inside the module's existing namespace in each language.
    let expected = [
        (
            "stubs/lua/KSR.lua",
            "KSR.demo.t_added = function(label, count) end",
        ),
        ("stubs/lua/ksr_luacheck.lua", "t_added = {},"),
        (
            "stubs/python/KSR/demo.pyi",
            "def t_added(label: str, count: int) -> int:",
        ),
        (
            "stubs/typescript/KSR.d.ts",
            "function t_added(label: string, count: number): number;",
        ),
        (
            "stubs/ruby/ksr.rbs",
            "def self.t_added: (String label, Integer count) -> Integer",
        ),
    ];
    for (path, needle) in expected {
        let text = file(&new, path);
        assert!(text.contains(needle), "{path} lacks `{needle}`:\n{text}");
        assert!(
            !file(&old, path).contains("t_added"),
            "{path} had it before"
        );
    }
    let rbs = file(&new, "stubs/ruby/ksr.rbs");
    assert_eq!(rbs.matches("module DEMO").count(), 1, "{rbs}");
    let dts = file(&new, "stubs/typescript/KSR.d.ts");
    assert_eq!(dts.matches("namespace demo {").count(), 1, "{dts}");

    // Exactly those files change; every other generated file is the same.
    let mut changed: Vec<&str> = new
        .iter()
        .filter(|f| old.iter().find(|o| o.path == f.path).map(|o| &o.contents) != Some(&f.contents))
        .map(|f| f.path.as_str())
        .collect();
    changed.sort_unstable();
    assert_eq!(old.len(), new.len());
    assert_eq!(
        changed,
        [
            "docs/api/README.md",
            "docs/api/demo.md",
            "docs/api/parity.md",
            "stubs/lua/KSR.lua",
            "stubs/lua/ksr_luacheck.lua",
            "stubs/python/KSR/demo.pyi",
            "stubs/ruby/ksr.rbs",
            "stubs/typescript/KSR.d.ts",
        ]
    );
}
