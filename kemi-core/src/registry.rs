//! The registry: the `KSR` surface of one running proxy, assembled from the
//! core submodules and the loaded modules in a fixed order (core `KSR.*`,
//! then `KSR.pv`, `KSR.hdr`, then modules in `loadmodule` order), as Kamailio
//! builds it. Engines, `api_list` and the docs all read it from here.

use crate::export::Export;
use crate::ksr;
use crate::module::{ModuleDef, Submodule};

/// The submodules the core always exports, in registry order.
pub fn core_submodules() -> [&'static Submodule; 3] {
    [
        &ksr::core::SUBMODULE,
        &ksr::pv::SUBMODULE,
        &ksr::hdr::SUBMODULE,
    ]
}

/// The assembled `KSR` surface.
#[derive(Debug, Clone)]
pub struct Registry {
    submodules: Vec<&'static Submodule>,
}

impl Registry {
    /// Assembles the core submodules followed by those of `loaded`, in load
    /// order. A module listed twice contributes once.
    pub fn new(loaded: &[&'static ModuleDef]) -> Self {
        let mut submodules: Vec<&'static Submodule> = core_submodules().to_vec();
        for module in loaded {
            if let Some(sub) = module.kemi {
                if !submodules.iter().any(|s| std::ptr::eq(*s, sub)) {
                    submodules.push(sub);
                }
            }
        }
        Registry { submodules }
    }

    /// Submodules in registry order; the first is `KSR` itself (name `""`).
    pub fn submodules(&self) -> &[&'static Submodule] {
        &self.submodules
    }

    /// Every export in registry order.
    pub fn exports(&self) -> impl Iterator<Item = &'static Export> + '_ {
        self.submodules.iter().flat_map(|s| s.exports.iter())
    }

    /// Finds `KSR.<module>.<name>` (`module` empty for `KSR.<name>`).
    pub fn find(&self, module: &str, name: &str) -> Option<&'static Export> {
        self.submodules
            .iter()
            .filter(|s| s.name == module)
            .flat_map(|s| s.exports.iter())
            .find(|e| e.name == name)
    }

    /// The `<engine>.api_list` RPC result, in Kamailio's JSON shape:
    /// `{"msize": N, "methods": [{"func": {"ret", "module", "name", "params"}}]}`.
    pub fn api_list(&self) -> serde_json::Value {
        let methods: Vec<serde_json::Value> = self
            .exports()
            .map(|e| {
                serde_json::json!({"func": {
                    "ret": e.ret.kemi_name(),
                    "module": e.module,
                    "name": e.name,
                    "params": e.params_list(),
                }})
            })
            .collect();
        serde_json::json!({"msize": methods.len(), "methods": methods})
    }
}
