//! Typed editor stubs for the four script languages, and `stubs/README.md`
//! saying how to use and check each set.

pub mod lua;
pub mod python;
pub mod ruby;
pub mod typescript;

use crate::lang::{Group, GENERATED_NOTE, REGENERATE};
use crate::Output;

/// Every stub file, the README first.
pub fn render(groups: &[Group]) -> Vec<Output> {
    let mut out = vec![Output::new("stubs/README.md", readme())];
    out.extend(lua::render(groups));
    out.extend(python::render(groups));
    out.extend(typescript::render(groups));
    out.extend(ruby::render(groups));
    out
}

fn readme() -> String {
    format!(
        "<!-- {GENERATED_NOTE} Regenerate with `{REGENERATE}`. -->\n\n\
# Editor stubs for KSR

Type declarations of the `KSR` object for editors and type checkers, one set
per script language, made from the same registry as the
[API reference](../docs/api/README.md). Each function carries its
documentation and its Kamailio signature.

| Language | Files | Use |
|---|---|---|
| Lua | `lua/KSR.lua` | lua-language-server: add `stubs/lua` to `workspace.library` |
| Lua | `lua/ksr_luacheck.lua` | `luacheck --config stubs/lua/ksr_luacheck.lua script.lua` reports misspelt `KSR` fields |
| Python | `python/KSR/*.pyi` | `MYPYPATH=stubs/python mypy script.py`, or add `stubs/python` to the editor's stub path |
| JavaScript | `typescript/KSR.d.ts` | `tsc --noEmit --allowJs --checkJs stubs/typescript/KSR.d.ts script.js` (or reference it from `jsconfig.json`) |
| Ruby | `ruby/ksr.rbs` | `rbs -I stubs/ruby validate`; `typeprof --show-errors stubs/ruby/ksr.rbs script.rb` |

`KSR.x` is provided by each engine rather than by a module, so each stub set
declares only the `KSR.x` functions of its own language.
"
    )
}
