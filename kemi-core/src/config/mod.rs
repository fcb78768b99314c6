//! Loading a `kamailio.cfg`: pre-processor, global parameters, `loadmodule`,
//! `modparam` and `cfgengine`.
//!
//! A KEMI deployment's `kamailio.cfg` loads unchanged: the subset of the
//! Kamailio config language it uses is parsed here (see
//! `shared/spec/kemi-reference.md` §6), and anything outside that subset is
//! reported rather than ignored. The module table is passed in by the
//! caller (the proxy owns it), so this crate does not depend on the proxy.
//!
//! What is supported, in short:
//!
//! - Lexing as Kamailio does: `#` and `//` comments (but `#!`/`!!` start a
//!   directive), nested `/* */`, `"..."` strings with escapes and adjacent
//!   literals joined, raw `'...'` strings, decimal/hex/octal/binary numbers,
//!   `yes`/`no`/`on`/`off`/`true`/`false`/`enable`/`disable` as 1/0, and
//!   identifiers replaced by their define's value, which is lexed again.
//! - Pre-processor: `#!KAMAILIO` (and the other mode lines), `#!define`,
//!   `#!trydef`, `#!redefine`, `#!undef`, `#!tryundef`, `#!ifdef`,
//!   `#!ifndef`, `#!ifexp`, `#!else`, `#!endif` (nesting up to 512),
//!   `#!defexp(s)`, `#!(try)defenv(s)`, `#!subst`, `#!substdef(s)`,
//!   `include_file`/`import_file` (depth 10), `-A NAME[=VALUE]` defines,
//!   predefined `KAMAILIO_6`, `KAMAILIO_6_2`, `KAMAILIO_VERSION`, `OS_NAME`
//!   and `MOD_<name>` after each `loadmodule`.
//! - Statements: core parameters (`name = value`, see `core_params.rs` for
//!   which are applied to [`Config`] fields and which are only accepted),
//!   `listen`, `alias`, `socket { }`, `loadpath`/`mpath` (logged only),
//!   `loadmodule`, `modparam` (regex module names, types checked against
//!   each module's declared parameters), `cfgengine`, and `group.var = value`
//!   custom variables.
//!
//! Deliberate differences from Kamailio, each stricter where Kamailio would
//! silently misbehave:
//!
//! - An unknown `#!word` directive is an error (Kamailio reads the line as a
//!   comment, which hides typos such as `#!ifdfe`); `#!` followed by a
//!   non-letter is still a comment.
//! - Text after `#!else`/`#!endif` is an error at that line (Kamailio turns
//!   the whole line into a comment and then reports unbalanced blocks).
//! - A define that expands into itself is an error, not an endless loop.
//! - A native `request_route` is an error (it would replace the KEMI
//!   script); other native route blocks are skipped with a warning.
//! - Multi-homed `listen` groups `(a, b)` and variables in `loadmodulex` /
//!   `modparamx` are rejected as unsupported.
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

pub use core_params::syslog_facility;
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
    cfg.file = name.to_string();
    cfg.defines = p.lx.defines;
    if p.lx.errors.is_empty() {
        Ok(cfg)
    } else {
        Err(ConfigErrors {
            errors: p.lx.errors,
        })
    }
}
