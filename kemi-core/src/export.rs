//! Export descriptors: what `#[kemi_export]` generates for each function, and
//! the engine-neutral calling convention every script engine uses.
//!
//! An engine turns the script's arguments into a slice of [`Arg`] (borrowing
//! the engine's own strings, so the common cases do not allocate), calls
//! [`Export::call`], and converts the [`Ret`] back into a script value. There
//! is no per-function code in any engine.

use std::borrow::Cow;
use std::fmt;

use crate::context::Context;
use crate::xval::Xval;

/// The kind of one KEMI parameter, as Kamailio names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamKind {
    /// A 32-bit integer (`int`); Rust type `i32`.
    Int,
    /// A 64-bit integer (`long`); Rust type `i64`.
    Long,
    /// A string (`str`); Rust type `&str` or `String`.
    Str,
}

impl ParamKind {
    /// The name used in signatures and in the `api_list` RPC.
    pub const fn kemi_name(self) -> &'static str {
        match self {
            ParamKind::Int => "int",
            ParamKind::Long => "long",
            ParamKind::Str => "str",
        }
    }
}

/// The kind of value a KEMI function returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReturnKind {
    /// Nothing meaningful (`none`); Rust `()`.
    None,
    /// A KEMI int (`int`): >0 true, <0 false, 0 stops the script; Rust `i32`.
    Int,
    /// A boolean (`bool`); Rust `bool`.
    Bool,
    /// An extended value (`xval`): int, long, str, null, dict or array; Rust [`Xval`].
    Xval,
}

impl ReturnKind {
    /// The name used in signatures and in the `api_list` RPC.
    pub const fn kemi_name(self) -> &'static str {
        match self {
            ReturnKind::None => "none",
            ReturnKind::Int => "int",
            ReturnKind::Bool => "bool",
            ReturnKind::Xval => "xval",
        }
    }
}

/// One declared parameter of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub kind: ParamKind,
}

/// The generated call glue: checks and converts `args`, calls the Rust
/// function, converts its result.
pub type Thunk = fn(&mut Context, &[Arg<'_>]) -> Result<Ret, ArgError>;

/// The static descriptor of one exported function.
#[derive(Clone, Copy)]
pub struct Export {
    /// KSR submodule (`"sl"` for `KSR.sl.*`); empty for functions on `KSR` itself.
    pub module: &'static str,
    /// Name as scripts call it.
    pub name: &'static str,
    pub ret: ReturnKind,
    /// Script-visible parameters (the routing context is not one of them).
    pub params: &'static [Param],
    /// The function's `///` documentation.
    pub doc: &'static str,
    /// Source file and line of the Rust function.
    pub file: &'static str,
    pub line: u32,
    /// The call glue; prefer [`Export::invoke`], which adds the function's
    /// name and signature to argument errors.
    pub call: Thunk,
}

impl Export {
    /// The script path, `KSR.sl.sreply` or `KSR.dbg`.
    pub fn path(&self) -> String {
        if self.module.is_empty() {
            format!("KSR.{}", self.name)
        } else {
            format!("KSR.{}.{}", self.module, self.name)
        }
    }

    /// The signature in Kamailio's notation: `int KSR.sl.sreply(int code, str reason)`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{} {}", p.kind.kemi_name(), p.name))
            .collect();
        format!(
            "{} {}({})",
            self.ret.kemi_name(),
            self.path(),
            params.join(", ")
        )
    }

    /// The parameter types as the `api_list` RPC lists them: `"int, str"`, or `"none"`.
    pub fn params_list(&self) -> String {
        if self.params.is_empty() {
            return "none".to_string();
        }
        let kinds: Vec<&str> = self.params.iter().map(|p| p.kind.kemi_name()).collect();
        kinds.join(", ")
    }

    /// Calls the function with script arguments. An argument error comes back
    /// as a [`CallError`] whose message names the function and its signature.
    /// With `latency_limit_action` set, a call slower than that is logged.
    pub fn invoke(&'static self, ctx: &mut Context, args: &[Arg<'_>]) -> Result<Ret, CallError> {
        // Off by default: then a call costs no clock reads.
        let timed = ctx.runtime().config().latency.limit_action > 0;
        let start = timed.then(std::time::Instant::now);
        let result = (self.call)(ctx, args).map_err(|problem| CallError {
            export: self,
            problem,
        });
        if let Some(start) = start {
            crate::log::slow_call(ctx, || self.path(), start.elapsed());
        }
        result
    }
}

impl fmt::Debug for Export {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Export")
            .field("signature", &self.signature())
            .field("file", &self.file)
            .field("line", &self.line)
            .finish()
    }
}

/// One script argument as an engine hands it over, borrowing the engine's data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Arg<'a> {
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A string's bytes (script strings need not be UTF-8).
    Str(&'a [u8]),
    /// Any other value; carries the script language's own type name
    /// (`"nil"`, `"None"`, `"table"`, `"undefined"`...) for error messages.
    Other(&'static str),
}

/// What a function returned, before the engine converts it.
#[derive(Clone, Debug, PartialEq)]
pub enum Ret {
    None,
    Int(i32),
    Bool(bool),
    Xval(Xval),
}

/// Converts a Rust return value into a [`Ret`]; implemented for the four
/// allowed return types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned by a KEMI export",
    label = "return i32, bool, kemi_core::Xval or nothing"
)]
pub trait IntoRet {
    fn into_ret(self) -> Ret;
}

impl IntoRet for () {
    fn into_ret(self) -> Ret {
        Ret::None
    }
}
impl IntoRet for i32 {
    fn into_ret(self) -> Ret {
        Ret::Int(self)
    }
}
impl IntoRet for bool {
    fn into_ret(self) -> Ret {
        Ret::Bool(self)
    }
}
impl IntoRet for Xval {
    fn into_ret(self) -> Ret {
        Ret::Xval(self)
    }
}

/// Why a call's arguments were refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgError {
    /// Too few arguments, or any argument to a function that takes none.
    Count { expected: usize, got: usize },
    /// Argument `index` (0-based) cannot be converted to the declared kind.
    Kind {
        index: usize,
        expected: ParamKind,
        got: Cow<'static, str>,
    },
}

/// An [`ArgError`] together with the function it was raised for.
#[derive(Clone, Debug)]
pub struct CallError {
    pub export: &'static Export,
    pub problem: ArgError,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.export;
        match &self.problem {
            ArgError::Count { expected, got } => write!(
                f,
                "{}: expects {} argument{}, got {}",
                e.path(),
                expected,
                if *expected == 1 { "" } else { "s" },
                got
            )?,
            ArgError::Kind {
                index,
                expected,
                got,
            } => {
                let name = e.params.get(*index).map_or("?", |p| p.name);
                write!(
                    f,
                    "{}: argument {} ({}) must be {}, got {}",
                    e.path(),
                    index + 1,
                    name,
                    expected.kemi_name(),
                    got
                )?
            }
        }
        write!(f, " [signature: {}]", e.signature())
    }
}

impl std::error::Error for CallError {}

/// Argument conversion used by generated thunks. The rules follow what
/// Kamailio's engines accept, made the same for every engine:
/// - int/long: integers, integral floats, booleans (1/0) and numeric strings;
/// - str: strings (invalid UTF-8 replaced, which only then allocates),
///   integers and floats (formatted as the script language would print them);
/// - too few arguments is an error; extra arguments are ignored except for
///   functions without parameters, as in Kamailio.
pub mod convert {
    use super::*;

    /// Checks the argument count for a function with `n` parameters.
    #[inline]
    pub fn arity(args: &[Arg<'_>], n: usize) -> Result<(), ArgError> {
        if args.len() < n || (n == 0 && !args.is_empty()) {
            return Err(ArgError::Count {
                expected: n,
                got: args.len(),
            });
        }
        Ok(())
    }

    fn kind_error(index: usize, expected: ParamKind, got: Cow<'static, str>) -> ArgError {
        ArgError::Kind {
            index,
            expected,
            got,
        }
    }

    /// How an argument is named in error messages: `integer 5`, `string "abc"`, `nil`.
    pub(crate) fn describe(arg: &Arg<'_>) -> Cow<'static, str> {
        match arg {
            Arg::Int(n) => format!("integer {n}").into(),
            Arg::Float(x) => format!("number {x}").into(),
            Arg::Bool(b) => format!("boolean {b}").into(),
            Arg::Str(s) => {
                let text = String::from_utf8_lossy(s);
                let shown: String = text.chars().take(40).collect();
                format!("string {shown:?}").into()
            }
            Arg::Other(name) => Cow::Borrowed(name),
        }
    }

    /// Converts argument `i` to an `i64`, or explains why it cannot be.
    pub fn long(args: &[Arg<'_>], i: usize) -> Result<i64, ArgError> {
        let arg = nth(args, i)?;
        to_long(arg).ok_or_else(|| kind_error(i, ParamKind::Long, describe(arg)))
    }

    /// Converts argument `i` to an `i32`, or explains why it cannot be.
    pub fn int(args: &[Arg<'_>], i: usize) -> Result<i32, ArgError> {
        let arg = nth(args, i)?;
        to_long(arg)
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| kind_error(i, ParamKind::Int, describe(arg)))
    }

    /// Converts argument `i` to a string, borrowing when it can.
    pub fn str<'a>(args: &[Arg<'a>], i: usize) -> Result<Cow<'a, str>, ArgError> {
        match *nth(args, i)? {
            Arg::Str(bytes) => Ok(String::from_utf8_lossy(bytes)),
            Arg::Int(n) => Ok(Cow::Owned(n.to_string())),
            Arg::Float(x) => Ok(Cow::Owned(format_float(x))),
            ref other => Err(kind_error(i, ParamKind::Str, describe(other))),
        }
    }

    /// Argument `i`; thunks check the count first, so a missing one is
    /// only reported, never indexed past.
    fn nth<'s, 'a>(args: &'s [Arg<'a>], i: usize) -> Result<&'s Arg<'a>, ArgError> {
        args.get(i).ok_or(ArgError::Count {
            expected: i + 1,
            got: args.len(),
        })
    }

    fn to_long(arg: &Arg<'_>) -> Option<i64> {
        match *arg {
            Arg::Int(n) => Some(n),
            Arg::Float(x) if x.fract() == 0.0 && x.abs() < 9.2e18 => Some(x as i64),
            Arg::Bool(b) => Some(i64::from(b)),
            Arg::Str(s) => std::str::from_utf8(s).ok()?.trim().parse().ok(),
            _ => None,
        }
    }

    fn format_float(x: f64) -> String {
        if x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{}", x as i64)
        } else {
            x.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::convert::*;
    use super::*;

    #[test]
    fn int_accepts_numbers_and_numeric_strings() {
        let args = [
            Arg::Int(200),
            Arg::Str(b"486"),
            Arg::Float(3.0),
            Arg::Bool(true),
            Arg::Str(b" 7 "),
        ];
        assert_eq!(int(&args, 0), Ok(200));
        assert_eq!(int(&args, 1), Ok(486));
        assert_eq!(int(&args, 2), Ok(3));
        assert_eq!(int(&args, 3), Ok(1));
        assert_eq!(int(&args, 4), Ok(7));
    }

    #[test]
    fn int_refuses_what_is_not_an_integer() {
        let args = [
            Arg::Str(b"abc"),
            Arg::Other("nil"),
            Arg::Float(1.5),
            Arg::Int(1 << 40),
        ];
        for i in 0..args.len() {
            let err = int(&args, i).unwrap_err();
            assert!(
                matches!(err, ArgError::Kind { index, expected: ParamKind::Int, .. } if index == i)
            );
        }
        assert_eq!(long(&args, 3), Ok(1 << 40));
    }

    #[test]
    fn str_borrows_valid_utf8_and_formats_numbers() {
        let args = [
            Arg::Str(b"OK"),
            Arg::Int(42),
            Arg::Float(2.5),
            Arg::Str(b"a\xffb"),
        ];
        assert!(matches!(str(&args, 0), Ok(Cow::Borrowed("OK"))));
        assert_eq!(str(&args, 1).unwrap(), "42");
        assert_eq!(str(&args, 2).unwrap(), "2.5");
        assert_eq!(str(&args, 3).unwrap(), "a\u{fffd}b");
        let nil = [Arg::Other("nil")];
        assert_eq!(
            str(&nil, 0),
            Err(ArgError::Kind {
                index: 0,
                expected: ParamKind::Str,
                got: "nil".into()
            })
        );
    }

    #[test]
    fn a_missing_argument_is_an_error_not_a_panic() {
        assert_eq!(
            int(&[], 0),
            Err(ArgError::Count {
                expected: 1,
                got: 0
            })
        );
        assert_eq!(
            str(&[Arg::Int(1)], 1),
            Err(ArgError::Count {
                expected: 2,
                got: 1
            })
        );
    }

    #[test]
    fn arity_follows_kamailio() {
        assert!(arity(&[], 0).is_ok());
        assert_eq!(
            arity(&[Arg::Int(1)], 0),
            Err(ArgError::Count {
                expected: 0,
                got: 1
            })
        );
        assert_eq!(
            arity(&[Arg::Int(1)], 2),
            Err(ArgError::Count {
                expected: 2,
                got: 1
            })
        );
        assert!(arity(&[Arg::Int(1), Arg::Int(2), Arg::Int(3)], 2).is_ok());
    }
}
