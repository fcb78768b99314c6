//! The registry: the `KSR` surface of one running proxy, assembled from the
//! core submodules and the loaded modules in a fixed order (core `KSR.*`,
//! then `KSR.pv`, `KSR.hdr`, then modules in `loadmodule` order), as Kamailio
//! builds it. Engines, `api_list` and the docs all read it from here.

use crate::export::{Export, ParamKind};
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

/// The `params` member of one `api_list` entry, as Kamailio prints it.
fn api_list_params(e: &Export) -> serde_json::Value {
    if e.params.iter().any(|p| p.kind == ParamKind::Long) {
        serde_json::Value::Null
    } else {
        serde_json::Value::from(e.params_list())
    }
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
    /// `params` is null for a function with a `long` parameter
    /// (`pv.setl`): Kamailio's table of type names has no entry for it.
    pub fn api_list(&self) -> serde_json::Value {
        let methods: Vec<serde_json::Value> = self
            .exports()
            .map(|e| {
                serde_json::json!({"func": {
                    "ret": e.ret.kemi_name(),
                    "module": e.module,
                    "name": e.name,
                    "params": api_list_params(e),
                }})
            })
            .collect();
        serde_json::json!({"msize": methods.len(), "methods": methods})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entry of `KSR.<module>.<name>` in the api_list JSON.
    fn entry(api: &serde_json::Value, module: &str, name: &str) -> serde_json::Value {
        api["methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["func"].clone())
            .find(|f| f["module"] == module && f["name"] == name)
            .unwrap_or_else(|| panic!("{module}.{name} not listed"))
    }

    #[test]
    fn api_list_params_as_kamailio_prints_them() {
        let api = Registry::new(&[]).api_list();
        // `long` has no name in Kamailio's type map: the whole list is null.
        assert_eq!(
            entry(&api, "pv", "setl"),
            serde_json::json!({"ret": "bool", "module": "pv", "name": "setl", "params": null})
        );
        assert_eq!(entry(&api, "pv", "seti")["params"], "str, int");
        assert_eq!(entry(&api, "pv", "sets")["params"], "str, str");
        assert_eq!(entry(&api, "", "set_drop")["params"], "none");
        assert_eq!(entry(&api, "hdr", "append")["params"], "str");
        // pv.setl is the only core function with a long parameter.
        let nulls = api["methods"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["func"]["params"].is_null())
            .count();
        assert_eq!(nulls, 1);
    }
}
