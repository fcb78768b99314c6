//! `name-addr` / `addr-spec` values (From, To, Contact, Route, Record-Route,
//! Refer-To...): an optional display name, a URI and header parameters.

use super::error::ParseError;
use super::params::{parse_header_params, Params};
use super::scan::{is_lws, is_token, quoted_end, skip_lws, split_commas, trim_lws, unquote};
use super::uri::Uri;
use std::borrow::Cow;

/// An address with its header parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The whole element as received (LWS-trimmed).
    pub raw: &'a str,
    /// The display name: the inside of the quotes (escapes kept, see
    /// [`NameAddr::display_name_unescaped`]) or the unquoted tokens.
    pub display_name: Option<&'a str>,
    /// True if the display name was a quoted string.
    pub display_quoted: bool,
    /// True if the URI was enclosed in `<>` (name-addr form).
    pub angle: bool,
    pub uri: Uri<'a>,
    /// Header parameters after the address (`;tag=`, `;expires=`, `;q=`...).
    pub params: Params<'a>,
}

impl<'a> NameAddr<'a> {
    /// Parses one name-addr or addr-spec with its parameters.
    pub fn parse(s: &'a str) -> Result<NameAddr<'a>, ParseError> {
        Self::parse_for(s, "name-addr")
    }

    pub(crate) fn parse_for(s: &'a str, header: &'static str) -> Result<NameAddr<'a>, ParseError> {
        let s = trim_lws(s);
        let b = s.as_bytes();
        if b.is_empty() {
            return Err(ParseError::header(header, "empty value"));
        }
        let mut display_name = None;
        let mut display_quoted = false;
        let open = if b.first() == Some(&b'"') {
            let end = quoted_end(b, 0).ok_or_else(|| {
                ParseError::header(header, "unterminated quoted string in display name")
            })?;
            display_name = s.get(1..end.saturating_sub(1));
            display_quoted = true;
            let i = skip_lws(b, end);
            if b.get(i) != Some(&b'<') {
                return Err(ParseError::header(
                    header,
                    "quoted display name not followed by <URI>",
                ));
            }
            Some(i)
        } else {
            let lt = s.find('<');
            let semi = s.find(';');
            match (lt, semi) {
                (Some(p), None) => Some(p),
                (Some(p), Some(q)) if p < q => Some(p),
                _ => None,
            }
            .map(|p| {
                let name = trim_lws(s.get(..p).unwrap_or_default());
                if !name.bytes().all(|c| is_token(c) || is_lws(c)) {
                    return Err(ParseError::header(
                        header,
                        format!(
                            "display name {name:?} contains non-token characters and is not quoted"
                        ),
                    ));
                }
                if !name.is_empty() {
                    display_name = Some(name);
                }
                Ok(p)
            })
            .transpose()?
        };

        let (uri, after) = match open {
            Some(lt) => {
                let start = lt + 1;
                if b.get(start).is_some_and(|&c| is_lws(c)) {
                    return Err(ParseError::header(header, "white space after '<'"));
                }
                let close = s
                    .get(start..)
                    .and_then(|r| r.find('>'))
                    .map(|c| c + start)
                    .ok_or_else(|| ParseError::header(header, "missing '>'"))?;
                let uri_s = s.get(start..close).unwrap_or_default();
                if uri_s.bytes().last().is_some_and(is_lws) {
                    return Err(ParseError::header(header, "white space before '>'"));
                }
                (Uri::parse(uri_s)?, close + 1)
            }
            None => {
                // addr-spec: the URI ends at white space or ';' (what follows
                // are header parameters); RFC 3261 20 requires <> around a
                // URI with a comma, semicolon or question mark.
                let end = s
                    .bytes()
                    .position(|c| is_lws(c) || c == b';')
                    .unwrap_or(s.len());
                let uri_s = s.get(..end).unwrap_or_default();
                if uri_s.contains(['?', ',']) {
                    return Err(ParseError::header(
                        header,
                        "a URI with headers or commas must be enclosed in <>",
                    ));
                }
                (Uri::parse(uri_s)?, end)
            }
        };
        let (params, end) = parse_header_params(s, after, header)?;
        if end != s.len() {
            return Err(ParseError::header(
                header,
                "unexpected text after the address",
            ));
        }
        Ok(NameAddr {
            raw: s,
            display_name,
            display_quoted,
            angle: open.is_some(),
            uri,
            params,
        })
    }

    /// The `tag` parameter (From, To).
    pub fn tag(&self) -> Option<&'a str> {
        self.params.value("tag")
    }

    /// The display name with quoted-pair escapes removed.
    pub fn display_name_unescaped(&self) -> Option<Cow<'a, str>> {
        let d = self.display_name?;
        Some(if self.display_quoted {
            unquote(d)
        } else {
            Cow::Borrowed(d)
        })
    }
}

/// The value(s) of Contact headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contacts<'a> {
    /// `Contact: *` (REGISTER removing all bindings).
    Star,
    List(Vec<NameAddr<'a>>),
}

/// Parses a comma-joined list of name-addrs (Contact, Route, Record-Route).
pub(crate) fn parse_list<'a>(
    value: &'a str,
    header: &'static str,
    out: &mut Vec<NameAddr<'a>>,
) -> Result<(), ParseError> {
    for item in split_commas(value) {
        if item.is_empty() {
            return Err(ParseError::header(header, "empty list element"));
        }
        out.push(NameAddr::parse_for(item, header)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let n = NameAddr::parse(
            r#""J Rosenberg \\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8"#,
        )
        .unwrap();
        assert_eq!(n.display_name, Some(r#"J Rosenberg \\\""#));
        assert_eq!(n.display_name_unescaped().unwrap(), r#"J Rosenberg \""#);
        assert_eq!(n.tag(), Some("98asjd8"));
        assert_eq!(n.uri.host, "example.com");

        let n = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(n.display_name, Some("caller"));
        assert!(!n.display_quoted);

        let n =
            NameAddr::parse("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n").unwrap();
        assert!(!n.angle);
        assert_eq!(n.tag(), Some("1918181833n"));
        assert_eq!(n.uri.user, Some("vivekg"));

        let n =
            NameAddr::parse("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>").unwrap();
        assert_eq!(n.display_name, Some("token1~` token2'+_ token3*%!.-"));

        let n = NameAddr::parse("<sip:[2001:db8::1]:5060;lr>").unwrap();
        assert_eq!(n.uri.host, "[2001:db8::1]");
        assert!(n.uri.params.has("lr"));
    }

    #[test]
    fn rejects() {
        for bad in [
            r#""Mr. J. User <sip:j.user@example.com>"#,
            "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            r#""Watson, Thomas" < sip:t.watson@example.org >"#,
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "<sip:joe@example.org>;;;;",
            "<sip:joe@example.org",
            "<sip:a@b> junk",
            "",
        ] {
            assert!(NameAddr::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lists() {
        let mut v = Vec::new();
        parse_list(r#""a, b" <sip:a@b>;q=0.5, <sip:c@d>"#, "Contact", &mut v).unwrap();
        assert_eq!(v.len(), 2);
        assert!(parse_list("<sip:a@b>,,<sip:c@d>", "Contact", &mut Vec::new()).is_err());
    }
}
