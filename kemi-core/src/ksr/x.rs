//! `KSR.x`: the functions each script engine provides itself rather than a
//! module, so they are not in the [`Registry`](crate::Registry).
//!
//! This is the one list of them: every engine builds its `KSR.x` by going
//! through its own list here (and fails to start on a name it has no body
//! for), and kemi-docs renders the reference and the stubs from the same
//! lists, so the documentation cannot drift from what the engines define.
//!
//! [`modf`] is the engine-neutral body of `KSR.x.modf`: each engine only
//! converts the script's arguments and the result or error.

use std::borrow::Cow;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::export::{convert, ArgError, CallError};
use crate::{Arg, Context, Export, ParamKind, Registry, Ret, ReturnKind, Xval};

/// A parameter of a `KSR.x` function.
#[derive(Debug, Clone, Copy)]
pub struct XParam {
    pub name: &'static str,
    pub kind: ParamKind,
    /// Takes any number of further arguments of this kind.
    pub rest: bool,
}

/// A function an engine defines under `KSR.x` (Ruby: `KSR::X`).
#[derive(Debug, Clone, Copy)]
pub struct XFunction {
    pub name: &'static str,
    pub params: &'static [XParam],
    pub ret: ReturnKind,
    /// Ends the script: the call never returns normally.
    pub never_returns: bool,
    pub doc: &'static str,
}

impl XFunction {
    /// Kamailio-style signature: `int KSR.x.modf(str fname, str ...params)`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| {
                let dots = if p.rest { "..." } else { "" };
                format!("{} {dots}{}", p.kind.kemi_name(), p.name)
            })
            .collect();
        format!(
            "{} KSR.x.{}({})",
            self.ret.kemi_name(),
            self.name,
            params.join(", ")
        )
    }
}

pub const MODF: XFunction = XFunction {
    name: "modf",
    params: &[
        XParam {
            name: "fname",
            kind: ParamKind::Str,
            rest: false,
        },
        XParam {
            name: "params",
            kind: ParamKind::Str,
            rest: true,
        },
    ],
    ret: ReturnKind::Int,
    never_returns: false,
    doc: "Runs a module or core function by its kamailio.cfg name (`sl_send_reply`,\n\
          `setflag`, `append_hf`...) with string arguments and gives back its integer\n\
          result: an int as is, a bool as 1 or -1, nothing as 1. The name is looked up\n\
          among the functions of the loaded modules (first match in load order, core\n\
          first, preferring one that takes as many arguments as given); a few native\n\
          names map to their KSR function (`append_hf` to `KSR.hdr.append`, `xlog` with\n\
          one argument to `KSR.xlog.xerr`). An unknown name logs an error and gives -1;\n\
          arguments that do not fit the function (count, a non-numeric int) are a\n\
          script error. Arguments are passed as they are: only functions that expand\n\
          pseudo-variables themselves (xlog's) do. Prefer the KSR function itself.",
};

pub const EXIT: XFunction = XFunction {
    name: "exit",
    params: &[],
    ret: ReturnKind::None,
    never_returns: true,
    doc: "Stops the running script callback at once; the engine treats this as a\n\
          normal end, not as an error.",
};

pub const DROP: XFunction = XFunction {
    name: "drop",
    params: &[],
    ret: ReturnKind::None,
    never_returns: true,
    doc: "Marks the message as dropped, then stops the script like `KSR.x.exit()`.",
};

pub const PROBE: XFunction = XFunction {
    name: "probe",
    params: &[],
    ret: ReturnKind::None,
    never_returns: false,
    doc: "Does nothing; calling it makes sure the KSR library is loaded.",
};

/// Every `KSR.x` function of any engine, in the order the reference lists them.
pub const ALL: &[XFunction] = &[MODF, EXIT, DROP, PROBE];

/// What `app_lua` defines.
pub const LUA: &[XFunction] = &[EXIT, DROP, MODF, PROBE];
/// What `app_python3` and `app_python3s` define.
pub const PYTHON: &[XFunction] = &[EXIT, DROP, MODF];
/// What `app_jsdt` defines.
pub const JAVASCRIPT: &[XFunction] = &[EXIT, DROP, MODF];
/// What `app_ruby` defines (as `KSR::X`).
pub const RUBY: &[XFunction] = &[EXIT, DROP, MODF];

/// The names in `functions`, sorted: what a test compares with the
/// members an engine's `KSR.x` really has.
pub fn sorted_names(functions: &[XFunction]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = functions.iter().map(|f| f.name).collect();
    names.sort_unstable();
    names
}

/// Native kamailio.cfg names whose KSR function is named differently, per
/// argument count: `(native name, argument count, KSR submodule, KSR name)`.
/// Only the well-known cases; the lookup tries them after the exact names.
const NATIVE_NAMES: &[(&str, usize, &str, &str)] = &[
    // textops' header functions are the core's `KSR.hdr` in KEMI.
    ("append_hf", 1, "hdr", "append"),
    ("append_hf", 2, "hdr", "append_after"),
    ("insert_hf", 1, "hdr", "insert"),
    ("insert_hf", 2, "hdr", "insert_before"),
    // `xlog("text")` logs at error level.
    ("xlog", 1, "xlog", "xerr"),
    ("mf_process_maxfwd_header", 1, "maxfwd", "process_maxfwd"),
    ("sanity_check", 0, "sanity", "sanity_check_defaults"),
    ("record_route", 1, "rr", "record_route_params"),
];

/// Why `KSR.x.modf` refused a call: the script gets it as an error, the
/// same way as wrong arguments to a KSR function.
#[derive(Clone, Debug)]
pub enum ModfError {
    /// The function name is missing or not a string.
    Name(ArgError),
    /// The arguments do not fit the function `fname` resolved to.
    Args { fname: String, error: CallError },
    /// The function panicked (a bug in its module).
    Panicked {
        fname: String,
        export: &'static Export,
    },
}

impl ModfError {
    /// What was wrong with the arguments; `None` for a panic. Engines pick
    /// the script exception class from it (count or kind).
    pub fn problem(&self) -> Option<&ArgError> {
        match self {
            ModfError::Name(problem) => Some(problem),
            ModfError::Args { error, .. } => Some(&error.problem),
            ModfError::Panicked { .. } => None,
        }
    }

    /// The 0-based index, among the script's arguments to `KSR.x.modf`
    /// (the name being 0), of the argument refused for its kind.
    pub fn bad_argument(&self) -> Option<usize> {
        match self {
            ModfError::Name(ArgError::Kind { index, .. }) => Some(*index),
            ModfError::Args {
                error:
                    CallError {
                        problem: ArgError::Kind { index, .. },
                        ..
                    },
                ..
            } => Some(index + 1),
            _ => None,
        }
    }
}

impl fmt::Display for ModfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModfError::Name(ArgError::Count { .. }) => {
                write!(f, "KSR.x.modf: expects the function name first")?
            }
            ModfError::Name(ArgError::Kind { got, .. }) => write!(
                f,
                "KSR.x.modf: argument 1 (fname) must be the function name (str), got {got}"
            )?,
            ModfError::Args { fname, error } => {
                return write!(f, "KSR.x.modf(\"{fname}\"): {error}")
            }
            ModfError::Panicked { fname, export } => {
                return write!(
                    f,
                    "KSR.x.modf(\"{fname}\"): {}: the function panicked (a bug in its module) [signature: {}]",
                    export.path(),
                    export.signature()
                )
            }
        }
        write!(f, " [signature: {}]", MODF.signature())
    }
}

impl std::error::Error for ModfError {}

/// The body of `KSR.x.modf`: `args` are the script's arguments, the
/// function name first. Finds the function among `registry`'s exports
/// (see [`resolve`]), converts the remaining arguments through
/// [`Export::invoke`] (strings to int where the function takes one, exactly
/// as many as it has parameters) and returns its result as an int (see
/// [`modf_result`]). A name that resolves to nothing is logged and gives
/// -1, as in Kamailio.
pub fn modf(ctx: &mut Context, registry: &Registry, args: &[Arg<'_>]) -> Result<i32, ModfError> {
    let (fname, params) = modf_name(args)?;
    let Some(export) = resolve(registry, &fname, params.len()) else {
        tracing::error!(
            target: "kemi",
            "KSR.x.modf(\"{fname}\"): no such function among the loaded modules"
        );
        return Ok(-1);
    };
    // Native functions take a fixed number of arguments; `invoke` alone
    // would ignore extra ones.
    if params.len() != export.params.len() {
        return Err(ModfError::Args {
            fname: fname.into_owned(),
            error: CallError {
                export,
                problem: ArgError::Count {
                    expected: export.params.len(),
                    got: params.len(),
                },
            },
        });
    }
    match catch_unwind(AssertUnwindSafe(|| export.invoke(ctx, params))) {
        Ok(Ok(ret)) => Ok(modf_result(&ret)),
        Ok(Err(error)) => Err(ModfError::Args {
            fname: fname.into_owned(),
            error,
        }),
        Err(_) => Err(ModfError::Panicked {
            fname: fname.into_owned(),
            export,
        }),
    }
}

/// Splits the script's arguments into the function name (the first, which
/// must be a string) and the function's arguments.
fn modf_name<'s, 'a>(args: &'s [Arg<'a>]) -> Result<(Cow<'a, str>, &'s [Arg<'a>]), ModfError> {
    match args.split_first() {
        Some((Arg::Str(_), params)) => convert::str(args, 0)
            .map(|name| (name, params))
            .map_err(ModfError::Name),
        Some((other, _)) => Err(ModfError::Name(ArgError::Kind {
            index: 0,
            expected: ParamKind::Str,
            got: convert::describe(other),
        })),
        None => Err(ModfError::Name(ArgError::Count {
            expected: 1,
            got: 0,
        })),
    }
}

/// The function `KSR.x.modf(fname, ...)` runs with `nargs` arguments, in
/// this order: an export named `fname` taking `nargs` arguments; the
/// [`NATIVE_NAMES`] entry for `fname` and `nargs` whose module is loaded;
/// any export named `fname` (the call then fails on the argument count).
/// Each step takes the first match in registry order (core, then modules
/// in `loadmodule` order).
pub fn resolve(registry: &Registry, fname: &str, nargs: usize) -> Option<&'static Export> {
    registry
        .exports()
        .find(|e| e.name == fname && e.params.len() == nargs)
        .or_else(|| {
            NATIVE_NAMES
                .iter()
                .filter(|(native, count, _, _)| *native == fname && *count == nargs)
                .find_map(|(_, _, module, name)| registry.find(module, name))
        })
        .or_else(|| registry.exports().find(|e| e.name == fname))
}

/// A KSR result as `KSR.x.modf` returns it: an int as is, a bool as 1 or
/// -1, nothing as 1, an xval holding an int (or a long that fits) as that
/// int, any other xval as 1.
pub fn modf_result(ret: &Ret) -> i32 {
    match ret {
        Ret::Int(n) => *n,
        Ret::Bool(true) => 1,
        Ret::Bool(false) => -1,
        Ret::None => 1,
        Ret::Xval(Xval::Int(n)) => *n,
        Ret::Xval(Xval::Long(n)) => i32::try_from(*n).unwrap_or(1),
        Ret::Xval(_) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn every_engine_function_is_documented_and_every_documented_one_exists() {
        let engines = [LUA, PYTHON, JAVASCRIPT, RUBY];
        for list in engines {
            for f in list {
                assert!(
                    ALL.iter().any(|a| a.name == f.name),
                    "KSR.x.{} is missing from ALL",
                    f.name
                );
            }
        }
        for f in ALL {
            assert!(
                engines.iter().any(|l| l.iter().any(|e| e.name == f.name)),
                "no engine defines KSR.x.{}",
                f.name
            );
        }
    }

    #[test]
    fn names_are_unique() {
        for list in [ALL, LUA, PYTHON, JAVASCRIPT, RUBY] {
            let names = sorted_names(list);
            let mut unique = names.clone();
            unique.dedup();
            assert_eq!(names, unique);
        }
    }

    #[test]
    fn signature_marks_rest_parameters() {
        assert_eq!(MODF.signature(), "int KSR.x.modf(str fname, str ...params)");
        assert_eq!(EXIT.signature(), "none KSR.x.exit()");
    }
}
