//! `;name=value` parameters: header parameters (Via, name-addr, Content-Type)
//! with white space allowed around `;` and `=`, as RFC 3261's SEMI and EQUAL.

use super::error::ParseError;
use super::scan::{is_lws, quoted_end, skip_lws, token_end, unquote};
use std::borrow::Cow;

/// One parameter. Names compare case-insensitively; `value` is as received
/// (a quoted value keeps its quotes, see [`Param::unquoted_value`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    pub name: &'a str,
    pub value: Option<&'a str>,
}

impl<'a> Param<'a> {
    /// The value without surrounding quotes and quoted-pair escapes.
    pub fn unquoted_value(&self) -> Option<Cow<'a, str>> {
        let v = self.value?;
        match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            Some(inner) => Some(unquote(inner)),
            None => Some(Cow::Borrowed(v)),
        }
    }
}

/// An ordered list of parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params<'a> {
    pub list: Vec<Param<'a>>,
}

impl<'a> Params<'a> {
    /// The first parameter with this name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Param<'a>> {
        self.list.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// True if a parameter with this name is present (with or without value).
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The value of the first parameter with this name, if it has one.
    pub fn value(&self, name: &str) -> Option<&'a str> {
        self.get(name).and_then(|p| p.value)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Param<'a>> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// Parses `*( SEMI param )` of a header value starting at byte `i` of `s`.
/// Returns the parameters and the index of the first byte after them (LWS
/// skipped). `header` names the header in errors.
pub fn parse_header_params<'a>(
    s: &'a str,
    mut i: usize,
    header: &'static str,
) -> Result<(Params<'a>, usize), ParseError> {
    let b = s.as_bytes();
    let mut list = Vec::new();
    loop {
        i = skip_lws(b, i);
        if b.get(i) != Some(&b';') {
            return Ok((Params { list }, i));
        }
        i = skip_lws(b, i + 1);
        let name_end = token_end(b, i);
        if name_end == i {
            return Err(ParseError::header(header, "empty parameter"));
        }
        let name = s.get(i..name_end).unwrap_or_default();
        let j = skip_lws(b, name_end);
        if b.get(j) == Some(&b'=') {
            let v = skip_lws(b, j + 1);
            let v_end = if b.get(v) == Some(&b'"') {
                quoted_end(b, v).ok_or_else(|| {
                    ParseError::header(
                        header,
                        format!("unterminated quoted string in parameter {name:?}"),
                    )
                })?
            } else {
                let mut e = v;
                while let Some(&c) = b.get(e) {
                    if is_lws(c) || matches!(c, b';' | b',' | b'"') {
                        break;
                    }
                    e += 1;
                }
                e
            };
            if v_end == v {
                return Err(ParseError::header(
                    header,
                    format!("parameter {name:?} has '=' but no value"),
                ));
            }
            list.push(Param {
                name,
                value: s.get(v..v_end),
            });
            i = v_end;
        } else {
            list.push(Param { name, value: None });
            i = name_end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_lws() {
        let s = " ;   tag    = 1918181833n ;\r\n  x ; q = \"a;b\"";
        let (p, end) = parse_header_params(s, 0, "To").unwrap();
        assert_eq!(end, s.len());
        assert_eq!(p.value("TAG"), Some("1918181833n"));
        assert!(p.has("x"));
        assert_eq!(p.get("q").unwrap().unquoted_value().unwrap(), "a;b");
    }

    #[test]
    fn errors() {
        assert!(parse_header_params(";;", 0, "Via").is_err());
        assert!(parse_header_params(";a=", 0, "Via").is_err());
        assert!(parse_header_params(";a=\"x", 0, "Via").is_err());
    }
}
