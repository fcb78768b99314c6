//! The order `KSR` is assembled in: core first (`KSR.*`, `KSR.pv`,
//! `KSR.hdr`), then the modules' submodules in `loadmodule` order, each
//! once, whatever the config repeats.

use kemi_core::config;
use kemi_core::{kemi_module, ModuleDef, Registry};

#[kemi_module(name = "alpha")]
mod alpha {
    /// Returns 1.
    #[kemi_export]
    pub fn one() -> i32 {
        1
    }
}

#[kemi_module(name = "beta")]
mod beta {
    /// Returns 2.
    #[kemi_export]
    pub fn two() -> i32 {
        2
    }
}

#[kemi_module(name = "gamma")]
mod gamma {
    /// Returns 3.
    #[kemi_export]
    pub fn three() -> i32 {
        3
    }
}

const fn module(name: &'static str, kemi: &'static kemi_core::Submodule) -> ModuleDef {
    ModuleDef {
        name,
        summary: "registry order test module",
        kemi: Some(kemi),
        params: &[],
        rpc: &[],
    }
}

static ALPHA: ModuleDef = module("alpha", &alpha::SUBMODULE);
static BETA: ModuleDef = module("beta", &beta::SUBMODULE);
static GAMMA: ModuleDef = module("gamma", &gamma::SUBMODULE);
/// A module with no KSR functions: loaded, but not in `KSR`.
static QUIET: ModuleDef = ModuleDef {
    name: "quiet",
    summary: "no KSR functions",
    kemi: None,
    params: &[],
    rpc: &[],
};

/// The table `loadmodule` picks from, deliberately in another order than
/// either config loads them.
static TABLE: [&ModuleDef; 4] = [&GAMMA, &QUIET, &BETA, &ALPHA];

fn names(registry: &Registry) -> Vec<&'static str> {
    registry.submodules().iter().map(|s| s.name).collect()
}

fn registry_of(cfg: &str) -> Registry {
    let config = match config::parse_str(cfg, "order.cfg", &TABLE, &[]) {
        Ok(c) => c,
        Err(e) => panic!("config refused: {e}"),
    };
    Registry::new(&config.module_defs())
}

#[test]
fn modules_follow_core_in_loadmodule_order() {
    let first = registry_of(
        "loadmodule \"alpha.so\"\nloadmodule \"quiet.so\"\nloadmodule \"beta.so\"\nloadmodule \"gamma.so\"\n",
    );
    let second = registry_of(
        "loadmodule \"gamma.so\"\nloadmodule \"beta.so\"\nloadmodule \"quiet.so\"\nloadmodule \"alpha.so\"\n",
    );
    assert_eq!(names(&first), ["", "pv", "hdr", "alpha", "beta", "gamma"]);
    assert_eq!(names(&second), ["", "pv", "hdr", "gamma", "beta", "alpha"]);

    // Exports follow the same order: the core's first, then each module's.
    let tail: Vec<String> = second
        .exports()
        .skip_while(|e| ["", "pv", "hdr"].contains(&e.module))
        .map(|e| e.path())
        .collect();
    assert_eq!(tail, ["KSR.gamma.three", "KSR.beta.two", "KSR.alpha.one"]);
}

#[test]
fn a_module_loaded_twice_appears_once_at_its_first_place() {
    let registry = registry_of(
        "loadmodule \"beta.so\"\nloadmodule \"alpha.so\"\nloadmodule \"/usr/lib/kamailio/modules/beta.so\"\n",
    );
    assert_eq!(names(&registry), ["", "pv", "hdr", "beta", "alpha"]);
    assert_eq!(
        registry
            .exports()
            .filter(|e| e.path() == "KSR.beta.two")
            .count(),
        1
    );
}

#[test]
fn the_registry_itself_keeps_the_first_of_a_repeated_module() {
    // Registry::new is also called with hand-made lists (tests, kemi-docs):
    // repeats there are dropped the same way.
    let registry = Registry::new(&[&GAMMA, &ALPHA, &GAMMA, &QUIET, &ALPHA]);
    assert_eq!(names(&registry), ["", "pv", "hdr", "gamma", "alpha"]);
}
