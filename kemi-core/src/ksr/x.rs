//! `KSR.x`: the functions each script engine provides itself rather than a
//! module, so they are not in the [`Registry`](crate::Registry).
//!
//! This is the one list of them: every engine builds its `KSR.x` by going
//! through its own list here (and fails to start on a name it has no body
//! for), and kemi-docs renders the reference and the stubs from the same
//! lists, so the documentation cannot drift from what the engines define.

use crate::{ParamKind, ReturnKind};

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
    doc: "Runs a function of the native configuration language by name, with string\n\
          arguments, and gives back its integer result (-1 when it cannot be run).\n\
          Prefer a dedicated KSR function when there is one.",
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
