//! Loading a `kamailio.cfg`: pre-processor, global parameters, `loadmodule`,
//! `modparam` and `cfgengine`.
//!
//! A KEMI deployment's `kamailio.cfg` loads unchanged: the subset of the
//! Kamailio config language it uses is parsed here (see
//! `shared/spec/kemi-reference.md` §6), and anything outside that subset is
//! reported rather than ignored. The module table is passed in by the
//! caller (the proxy owns it), so this crate does not depend on the proxy.
//!
//! ```no_run
//! # use kemi_core::config;
//! # let modules: &[&'static kemi_core::ModuleDef] = &[];
//! match config::load(std::path::Path::new("kamailio.cfg"), modules, &[]) {
//!     Ok(cfg) => println!("engine: {:?}", cfg.engine),
//!     Err(errors) => eprintln!("{errors}"), // one `file:line: message` per line
//! }
//! ```

mod core_params;
mod defines;
mod error;
mod expr;
mod lexer;
mod listen;
mod model;
mod parser;

use std::path::{Path, PathBuf};

pub use defines::{parse_define_arg, Defines, KAMAILIO_VERSION};
pub use error::{ConfigError, ConfigErrors, ErrorKind};
pub use model::{
    Advertise, Alias, CfgVar, Config, Host, KemiCallbacks, Latency, ListenSpec, LoadedModule,
    NativeRoute, Proto, Value,
};

use crate::module::ModuleDef;

/// What errors name for problems with `-A` defines.
pub const COMMAND_LINE: &str = "command line";

/// Loads the config file at `path`.
///
/// `modules` is the table of compiled-in modules `loadmodule` picks from;
/// `defines` are the `-A NAME[=VALUE]` defines from the command line (see
/// [`parse_define_arg`]). On failure every error found is returned.
pub fn load(
    path: &Path,
    modules: &[&'static ModuleDef],
    defines: &[(String, Option<String>)],
) -> Result<Config, ConfigErrors> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ConfigErrors {
        errors: vec![ConfigError::new(
            &name,
            0,
            ErrorKind::Io,
            format!("cannot read the config file: {e}"),
        )],
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse(&text, &name, dir, modules, defines)
}

/// Parses config text; `name` is how errors name the file, and relative
/// includes are also looked up in its directory.
pub fn parse_str(
    text: &str,
    name: &str,
    modules: &[&'static ModuleDef],
    defines: &[(String, Option<String>)],
) -> Result<Config, ConfigErrors> {
    let dir = Path::new(name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    parse(text, name, dir, modules, defines)
}

fn parse(
    text: &str,
    name: &str,
    dir: PathBuf,
    modules: &[&'static ModuleDef],
    defines: &[(String, Option<String>)],
) -> Result<Config, ConfigErrors> {
    let mut table = Defines::predefined();
    let mut errors = Vec::new();
    for (n, v) in defines {
        let problem = match defines::check_define_name(n) {
            Err(e) => Some(e),
            Ok(()) if table.is_defined(n) => Some(format!("'{n}' is already defined")),
            Ok(()) => None,
        };
        match problem {
            Some(e) => errors.push(ConfigError::new(
                COMMAND_LINE,
                0,
                ErrorKind::Preprocessor,
                format!("-A {n}: {e}"),
            )),
            None => table.set(n, v.clone()),
        }
    }
    let mut lx = lexer::Lexer::new(table, core_params::is_keyword);
    lx.errors = errors;
    lx.push_file(name, text, dir);
    let mut p = parser::Parser::new(lx, modules);
    p.run();
    let mut cfg = p.cfg;
    cfg.defines = p.lx.defines;
    if p.lx.errors.is_empty() {
        Ok(cfg)
    } else {
        Err(ConfigErrors {
            errors: p.lx.errors,
        })
    }
}
