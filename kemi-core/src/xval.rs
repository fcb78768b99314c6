//! `Xval`: the extended value a KEMI function may return.

use std::borrow::Cow;

/// An extended KEMI value: int, long, str or null, plus dict and array for
/// the few functions that return structures.
#[derive(Clone, Debug, PartialEq)]
pub enum Xval {
    Null,
    Int(i32),
    Long(i64),
    Str(Cow<'static, str>),
    /// Named items in order (Kamailio keeps a linked list, so order matters).
    Dict(Vec<(Cow<'static, str>, Xval)>),
    Array(Vec<Xval>),
}

/// How a getter reports a missing value. Kamailio's naming convention:
/// `get*` gives null, `getw*` gives `"<null>"`, `gete*` gives `""`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NullMode {
    /// null: `nil`, `None`, `null`.
    Null,
    /// The printable string `"<null>"`.
    Print,
    /// The empty string.
    Empty,
    /// The integer 0.
    Zero,
}

/// The printable form of a missing value.
pub const NULL_PRINT: &str = "<null>";

impl Xval {
    /// The value standing for "missing" in the given mode.
    pub fn null(mode: NullMode) -> Xval {
        match mode {
            NullMode::Null => Xval::Null,
            NullMode::Print => Xval::Str(Cow::Borrowed(NULL_PRINT)),
            NullMode::Empty => Xval::Str(Cow::Borrowed("")),
            NullMode::Zero => Xval::Int(0),
        }
    }

    /// `Some(v)` as a value, `None` as the missing value of `mode`.
    pub fn or_null<T: Into<Xval>>(value: Option<T>, mode: NullMode) -> Xval {
        value.map_or_else(|| Xval::null(mode), Into::into)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Xval::Null)
    }

    /// The string content, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Xval::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl From<i32> for Xval {
    fn from(n: i32) -> Self {
        Xval::Int(n)
    }
}
impl From<i64> for Xval {
    fn from(n: i64) -> Self {
        Xval::Long(n)
    }
}
impl From<String> for Xval {
    fn from(s: String) -> Self {
        Xval::Str(Cow::Owned(s))
    }
}
impl From<&'static str> for Xval {
    fn from(s: &'static str) -> Self {
        Xval::Str(Cow::Borrowed(s))
    }
}
impl From<Cow<'static, str>> for Xval {
    fn from(s: Cow<'static, str>) -> Self {
        Xval::Str(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_modes_follow_the_get_family_convention() {
        assert_eq!(Xval::or_null(None::<String>, NullMode::Null), Xval::Null);
        assert_eq!(
            Xval::or_null(None::<String>, NullMode::Print),
            Xval::from("<null>")
        );
        assert_eq!(
            Xval::or_null(None::<String>, NullMode::Empty),
            Xval::from("")
        );
        assert_eq!(Xval::or_null(None::<i32>, NullMode::Zero), Xval::Int(0));
        assert_eq!(
            Xval::or_null(Some("x".to_string()), NullMode::Print),
            Xval::from("x")
        );
    }
}
