//! The pre-processor's define table and `#!subst` rules.

use regex::{Regex, RegexBuilder};

/// The version the predefined `KAMAILIO_*` names claim: scripts written for
/// Kamailio 6.2 test these with `#!ifdef` and `KSR.kx.ifdef`.
pub const KAMAILIO_VERSION: (u32, u32, u32) = (6, 2, 0);

/// Defines in definition order (the order `core.ppdefines` lists them in).
/// A define has no value (`#!define X`) or a value that is re-lexed where
/// the name is used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Defines {
    entries: Vec<(String, Option<String>)>,
}

impl Defines {
    /// The names every config starts with: `KAMAILIO_6`, `KAMAILIO_6_2`,
    /// `KAMAILIO_6_2_0`, `KAMAILIO_VERSION` (6002000) and `OS_NAME`.
    pub fn predefined() -> Self {
        let (maj, min, pat) = KAMAILIO_VERSION;
        let mut d = Defines::default();
        d.set(&format!("KAMAILIO_{maj}"), None);
        d.set(&format!("KAMAILIO_{maj}_{min}"), None);
        d.set(&format!("KAMAILIO_{maj}_{min}_{pat}"), None);
        let num = u64::from(maj) * 1_000_000 + u64::from(min) * 1000 + u64::from(pat);
        d.set("KAMAILIO_VERSION", Some(num.to_string()));
        d.set("OS_NAME", Some(format!("\"{}\"", std::env::consts::OS)));
        d
    }

    pub fn is_defined(&self, name: &str) -> bool {
        self.entries.iter().any(|(n, _)| n == name)
    }

    /// `None` if not defined, `Some(None)` if defined without a value.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_deref()))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Defines or replaces `name`.
    pub(crate) fn set(&mut self, name: &str, value: Option<String>) {
        if let Some(e) = self.entries.iter_mut().find(|(n, _)| n == name) {
            e.1 = value;
        } else {
            self.entries.push((name.to_string(), value));
        }
    }

    /// Removes `name`; false if it was not defined.
    pub(crate) fn remove(&mut self, name: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|(n, _)| n != name);
        self.entries.len() != before
    }
}

/// Checks a define name: `[A-Za-z_][A-Za-z0-9_]*`. Kamailio rejects `-`
/// with its own message, so we do too.
pub(crate) fn check_define_name(name: &str) -> Result<(), String> {
    if name.contains('-') {
        return Err(format!("'-' is not allowed in a define name ('{name}')"));
    }
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return Err(format!("invalid define name '{name}'")),
    }
    if chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!("invalid define name '{name}'"))
    }
}

/// Parses a `-A NAME` or `-A NAME=VALUE` command-line argument.
pub fn parse_define_arg(arg: &str) -> Result<(String, Option<String>), String> {
    let (name, value) = match arg.split_once('=') {
        Some((n, v)) => (n.trim(), Some(v.to_string())),
        None => (arg.trim(), None),
    };
    check_define_name(name).map_err(|e| format!("-A {arg}: {e}"))?;
    Ok((name.to_string(), value))
}

/// One `#!subst` rule, applied to every later string token.
#[derive(Clone, Debug)]
pub(crate) struct Subst {
    re: Regex,
    /// In the `regex` crate's syntax (`${1}`), converted from `\1`.
    replacement: String,
    global: bool,
}

/// Bounds the compiled size of user regexes so that no config can make the
/// loader allocate without limit.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

pub(crate) fn build_regex(pattern: &str, case_insensitive: bool) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("invalid regular expression '{pattern}': {e}"))
}

impl Subst {
    /// Parses `/regex/replacement/flags`, where the first character is the
    /// delimiter and a backslash before it makes it literal.
    pub(crate) fn parse(spec: &str) -> Result<(Subst, String, String), String> {
        let mut chars = spec.chars();
        let Some(delim) = chars.next() else {
            return Err("empty substitution expression".into());
        };
        if delim.is_alphanumeric() || delim == '\\' {
            return Err(format!(
                "substitution '{spec}' must start with a delimiter like '/'"
            ));
        }
        let mut parts: Vec<String> = vec![String::new()];
        let mut escaped = false;
        for c in chars {
            if escaped {
                escaped = false;
                let last = parts.last_mut();
                if let Some(p) = last {
                    if c != delim {
                        p.push('\\');
                    }
                    p.push(c);
                }
                continue;
            }
            if c == '\\' {
                escaped = true;
            } else if c == delim {
                parts.push(String::new());
            } else if let Some(p) = parts.last_mut() {
                p.push(c);
            }
        }
        if escaped {
            if let Some(p) = parts.last_mut() {
                p.push('\\');
            }
        }
        if parts.len() != 3 {
            return Err(format!(
                "substitution '{spec}' must have the form {delim}regex{delim}replacement{delim}flags"
            ));
        }
        let flags = parts.pop().unwrap_or_default();
        let repl = parts.pop().unwrap_or_default();
        let pattern = parts.pop().unwrap_or_default();
        let mut global = false;
        let mut icase = false;
        for f in flags.chars() {
            match f {
                'g' => global = true,
                'i' => icase = true,
                's' => {}
                _ => return Err(format!("unknown substitution flag '{f}' in '{spec}'")),
            }
        }
        let re = build_regex(&pattern, icase)?;
        let replacement = convert_replacement(&repl);
        Ok((
            Subst {
                re,
                replacement,
                global,
            },
            pattern,
            repl,
        ))
    }

    pub(crate) fn apply(&self, s: &str) -> String {
        if self.global {
            self.re
                .replace_all(s, self.replacement.as_str())
                .into_owned()
        } else {
            self.re
                .replacen(s, 1, self.replacement.as_str())
                .into_owned()
        }
    }
}

/// `\1`..`\9` become `${1}`..; a literal `$` is escaped as `$$`.
fn convert_replacement(repl: &str) -> String {
    let mut out = String::new();
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    chars.next();
                    out.push_str(&format!("${{{d}}}"));
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            '$' => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subst_parse_and_apply() {
        let (s, p, r) = Subst::parse("/abc/x\\1y/g").unwrap();
        assert_eq!((p.as_str(), r.as_str()), ("abc", "x\\1y"));
        // No group 1: the reference expands to nothing.
        assert_eq!(s.apply("abcabc"), "xyxy");
        let (s, _, _) = Subst::parse("|a(b)c|[\\1]|").unwrap();
        assert_eq!(s.apply("abcabc"), "[b]abc");
        let (s, _, _) = Subst::parse("/A/\\/$/i").unwrap();
        assert_eq!(s.apply("a"), "/$");
        assert!(Subst::parse("/a/b").is_err());
        assert!(Subst::parse("/a/b/q").is_err());
        assert!(Subst::parse("/(/b/").is_err());
    }

    #[test]
    fn define_arg() {
        assert_eq!(parse_define_arg("X").unwrap(), ("X".into(), None));
        assert_eq!(
            parse_define_arg("X=\"a=b\"").unwrap(),
            ("X".into(), Some("\"a=b\"".into()))
        );
        assert!(parse_define_arg("A-B").is_err());
        assert!(parse_define_arg("").is_err());
        assert!(parse_define_arg("1X").is_err());
    }

    #[test]
    fn predefined_names() {
        let d = Defines::predefined();
        assert!(d.is_defined("KAMAILIO_6"));
        assert!(d.is_defined("KAMAILIO_6_2"));
        assert_eq!(d.get("KAMAILIO_VERSION"), Some(Some("6002000")));
    }
}
