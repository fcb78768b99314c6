//! Pseudo-variables: the `$name` values Kamailio scripts read and write
//! (`$ru`, `$fU`, `$hdr(X)`, `$var(x)`, `$avp(a)`, `$xavp(a=>b)`...).
//!
//! - [`lookup`] parses a name into a [`PvSpec`] once and keeps it in a
//!   per-thread cache, bounded at [`CACHE_CAPACITY`] names: beyond that,
//!   names are parsed on every use instead of being kept, so a script that
//!   builds names dynamically cannot grow memory without limit.
//! - [`get`], [`set`], [`unset`] read and assign a spec against a routing
//!   context; [`format`] expands every PV in a text (xlog, evalx).
//! - Stores: `$var` per worker thread ([`vars`]), `$shv` shared by all
//!   workers ([`SharedVars`], a runtime state), `$avp`/`$xavp`/`$xavu`/
//!   `$xavi` per message ([`PvState`], `ctx.pv`).

mod access;
mod spec;
mod store;
mod xavp;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

pub use access::{get, set, unset};
pub use spec::{parse, parse_prefix, Index, PvError, PvSpec, XavKind};
pub use store::{sbranch, vars, SharedVars, StaticBranch};
pub use xavp::{PvState, XavpList, XavpValue};

use crate::context::Context;
use crate::xval::{Xval, NULL_PRINT};

/// The value of a pseudo-variable: an integer or a string (null is `None`
/// wherever a value may be missing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PvValue {
    Int(i64),
    Str(String),
}

impl PvValue {
    /// The integer value; strings convert the way Kamailio's `str2sint`
    /// does (an optional sign and digits, anything else gives 0).
    pub fn as_int(&self) -> i64 {
        match self {
            PvValue::Int(n) => *n,
            PvValue::Str(s) => str_to_int(s).unwrap_or(0),
        }
    }

    /// The value as an [`Xval`]: integers that fit 32 bits stay `Int`.
    pub fn into_xval(self) -> Xval {
        match self {
            PvValue::Int(n) => match i32::try_from(n) {
                Ok(n) => Xval::Int(n),
                Err(_) => Xval::Long(n),
            },
            PvValue::Str(s) => Xval::from(s),
        }
    }
}

impl fmt::Display for PvValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PvValue::Int(n) => write!(f, "{n}"),
            PvValue::Str(s) => f.write_str(s),
        }
    }
}

impl From<i64> for PvValue {
    fn from(n: i64) -> Self {
        PvValue::Int(n)
    }
}
impl From<i32> for PvValue {
    fn from(n: i32) -> Self {
        PvValue::Int(i64::from(n))
    }
}
impl From<&str> for PvValue {
    fn from(s: &str) -> Self {
        PvValue::Str(s.to_string())
    }
}
impl From<String> for PvValue {
    fn from(s: String) -> Self {
        PvValue::Str(s)
    }
}

/// Parses a whole string as a signed decimal integer (surrounding blanks
/// allowed); `None` when it is not one.
pub fn str_to_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<i64>().ok()
}

/// How many distinct names each worker thread keeps parsed.
pub const CACHE_CAPACITY: usize = 2048;

thread_local! {
    /// Parsed specs by name. Kamailio caches every name forever; here the
    /// cache stops growing at its capacity and later names are parsed at
    /// each use, which costs time but never memory.
    static CACHE: RefCell<HashMap<Box<str>, Rc<PvSpec>>> = RefCell::new(HashMap::new());
}

/// The spec for `name`, from this thread's cache or parsed (and cached
/// while there is room). Names that do not parse are never cached.
pub fn lookup(name: &str) -> Result<Rc<PvSpec>, PvError> {
    if let Some(spec) = CACHE.with(|c| c.borrow().get(name).cloned()) {
        return Ok(spec);
    }
    let spec = Rc::new(parse(name)?);
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() < CACHE_CAPACITY {
            cache.insert(name.into(), Rc::clone(&spec));
        }
    });
    Ok(spec)
}

/// How many names this thread's cache holds.
pub fn cache_len() -> usize {
    CACHE.with(|c| c.borrow().len())
}

/// True if `name` is in this thread's cache.
pub fn is_cached(name: &str) -> bool {
    CACHE.with(|c| c.borrow().contains_key(name))
}

/// Reads the PV called `name`: `Err` if the name is not a valid PV,
/// `Ok(None)` if its value is null.
pub fn get_by_name(ctx: &Context, name: &str) -> Result<Option<PvValue>, PvError> {
    let spec = lookup(name)?;
    Ok(get(ctx, &spec))
}

/// Assigns the PV called `name` (`None` makes it null).
pub fn set_by_name(ctx: &mut Context, name: &str, value: Option<PvValue>) -> Result<(), PvError> {
    let spec = lookup(name)?;
    match value {
        Some(v) => set(ctx, &spec, v),
        None => unset(ctx, &spec),
    }
}

/// Expands every pseudo-variable in `text`: null values print as
/// `<null>`, and a `$` that does not start a valid PV stays as written.
pub fn format(ctx: &Context, text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Ok((_, used)) = parse_prefix(rest) else {
            out.push('$');
            rest = &rest[1..];
            continue;
        };
        // The same name recurs in every call of a log line, so go through
        // the cache rather than keep the freshly parsed spec.
        let name = &rest[..used];
        match lookup(name).ok().and_then(|spec| get(ctx, &spec)) {
            Some(v) => out.push_str(&v.to_string()),
            None => out.push_str(NULL_PRINT),
        }
        rest = &rest[used..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_to_int_is_strict() {
        assert_eq!(str_to_int("42"), Some(42));
        assert_eq!(str_to_int(" -7 "), Some(-7));
        assert_eq!(str_to_int("+3"), Some(3));
        assert_eq!(str_to_int("4x"), None);
        assert_eq!(str_to_int(""), None);
        assert_eq!(str_to_int("-"), None);
        assert_eq!(PvValue::from("x").as_int(), 0);
    }

    #[test]
    fn xval_conversion_keeps_small_ints() {
        assert_eq!(PvValue::Int(5).into_xval(), Xval::Int(5));
        assert_eq!(PvValue::Int(1 << 40).into_xval(), Xval::Long(1 << 40));
        assert_eq!(PvValue::from("a").into_xval(), Xval::from("a"));
    }

    #[test]
    fn cache_keeps_parsed_names_and_stops_at_capacity() {
        // A fresh thread, so other tests' names do not count.
        std::thread::spawn(|| {
            assert_eq!(cache_len(), 0);
            let a = lookup("$var(a)").unwrap_or_else(|e| panic!("{e}"));
            let b = lookup("$var(a)").unwrap_or_else(|e| panic!("{e}"));
            assert!(Rc::ptr_eq(&a, &b), "the second lookup is a cache hit");
            assert!(lookup("$nope").is_err());
            assert_eq!(cache_len(), 1, "bad names are not cached");
            for i in 0..CACHE_CAPACITY + 500 {
                let name = format!("$var(dyn{i})");
                let spec = lookup(&name).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(*spec, PvSpec::Var(format!("dyn{i}")));
            }
            assert_eq!(cache_len(), CACHE_CAPACITY);
            let late = format!("$var(dyn{})", CACHE_CAPACITY + 10);
            assert!(!is_cached(&late));
            // Uncached names still work, parsed at each use.
            let spec = lookup(&late).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(*spec, PvSpec::Var(format!("dyn{}", CACHE_CAPACITY + 10)));
            assert_eq!(cache_len(), CACHE_CAPACITY);
            assert!(is_cached("$var(a)"));
        })
        .join()
        .unwrap_or_else(|_| panic!("the cache test thread failed"));
    }
}
