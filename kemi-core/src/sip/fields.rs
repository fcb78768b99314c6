//! Single-value header fields: CSeq, Max-Forwards, Content-Length, Expires,
//! Content-Type, Date, Call-ID.

use super::error::ParseError;
use super::method::Method;
use super::params::{parse_header_params, Params};
use super::scan::{is_token, parse_decimal, skip_lws, token_end, trim_lws};

/// Largest CSeq number (RFC 3261 8.1.1.5: less than 2**31).
pub const MAX_CSEQ: u32 = (1 << 31) - 1;

/// A CSeq value: sequence number and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq<'a> {
    pub number: u32,
    pub method: Method,
    /// The method as received.
    pub method_str: &'a str,
}

impl<'a> CSeq<'a> {
    pub fn parse(s: &'a str) -> Result<CSeq<'a>, ParseError> {
        let s = trim_lws(s);
        let b = s.as_bytes();
        let mut i = 0;
        while b.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        let digits = s.get(..i).unwrap_or_default();
        if digits.is_empty() {
            return Err(ParseError::header("CSeq", "missing sequence number"));
        }
        let number = parse_decimal(digits, u64::from(MAX_CSEQ))
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                ParseError::header(
                    "CSeq",
                    format!("sequence number {} larger than 2**31-1", clip(digits)),
                )
            })?;
        let m = skip_lws(b, i);
        if m == i {
            return Err(ParseError::header("CSeq", "missing method"));
        }
        let e = token_end(b, m);
        if e == m || e != s.len() {
            return Err(ParseError::header("CSeq", "bad method"));
        }
        let method_str = s.get(m..e).unwrap_or_default();
        Ok(CSeq {
            number,
            method: Method::from_token(method_str),
            method_str,
        })
    }
}

fn clip(s: &str) -> &str {
    s.get(..40).unwrap_or(s)
}

/// Max-Forwards: 0 to 255 (RFC 3261 20.22).
pub fn parse_max_forwards(s: &str) -> Result<u8, ParseError> {
    let s = trim_lws(s);
    parse_decimal(s, 255)
        .and_then(|v| u8::try_from(v).ok())
        .ok_or_else(|| {
            ParseError::header(
                "Max-Forwards",
                format!("{:?} is not a number from 0 to 255", clip(s)),
            )
        })
}

/// Content-Length: a non-negative decimal number.
pub fn parse_content_length(s: &str) -> Result<usize, ParseError> {
    let s = trim_lws(s);
    if s.is_empty() {
        return Err(ParseError::BadContentLength(String::new(), "empty value"));
    }
    if s.starts_with('-') {
        return Err(ParseError::BadContentLength(clip(s).to_owned(), "negative"));
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::BadContentLength(
            clip(s).to_owned(),
            "not a number",
        ));
    }
    parse_decimal(s, u64::from(u32::MAX))
        .and_then(|v| usize::try_from(v).ok())
        .ok_or_else(|| ParseError::BadContentLength(clip(s).to_owned(), "too large"))
}

/// Expires (and other delta-seconds): 0 to 2**32-1 (RFC 3261 20.19, 25.1).
pub fn parse_expires(s: &str) -> Result<u32, ParseError> {
    let s = trim_lws(s);
    parse_decimal(s, u64::from(u32::MAX))
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| {
            ParseError::header(
                "Expires",
                format!("{:?} is not a number of seconds below 2**32", clip(s)),
            )
        })
}

/// Call-ID: `word ["@" word]`, no white space.
pub fn parse_call_id(s: &str) -> Result<&str, ParseError> {
    let s = trim_lws(s);
    if s.is_empty() {
        return Err(ParseError::header("Call-ID", "empty value"));
    }
    if s.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(ParseError::header(
            "Call-ID",
            "white space or control character",
        ));
    }
    Ok(s)
}

/// A media type with parameters (Content-Type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType<'a> {
    pub mtype: &'a str,
    pub subtype: &'a str,
    pub params: Params<'a>,
}

impl<'a> MediaType<'a> {
    pub fn parse(s: &'a str) -> Result<MediaType<'a>, ParseError> {
        let s = trim_lws(s);
        let b = s.as_bytes();
        let bad = || ParseError::header("Content-Type", "expected type/subtype");
        let t = token_end(b, 0);
        let slash = skip_lws(b, t);
        if t == 0 || b.get(slash) != Some(&b'/') {
            return Err(bad());
        }
        let st = skip_lws(b, slash + 1);
        let st_end = token_end(b, st);
        if st_end == st {
            return Err(bad());
        }
        let (params, end) = parse_header_params(s, st_end, "Content-Type")?;
        if end != s.len() {
            return Err(ParseError::header("Content-Type", "unexpected text"));
        }
        Ok(MediaType {
            mtype: s.get(..t).unwrap_or_default(),
            subtype: s.get(st..st_end).unwrap_or_default(),
            params,
        })
    }

    /// True if this is `type/subtype`, case-insensitively.
    pub fn is(&self, mtype: &str, subtype: &str) -> bool {
        self.mtype.eq_ignore_ascii_case(mtype) && self.subtype.eq_ignore_ascii_case(subtype)
    }
}

/// Checks a Date value: `rfc1123-date` with the time zone "GMT" (RFC 3261
/// 20.17), e.g. `Sat, 13 Nov 2010 23:29:00 GMT`.
pub fn check_date(s: &str) -> Result<(), ParseError> {
    let s = trim_lws(s);
    let bad = |r: &'static str| ParseError::header("Date", r);
    let mut words = s.split([' ', '\t']).filter(|w| !w.is_empty());
    let wkday = words.next().ok_or_else(|| bad("empty value"))?;
    const DAYS: [&str; 7] = ["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if !DAYS.contains(&wkday) {
        return Err(bad("expected a week day like \"Mon,\""));
    }
    let day = words.next().unwrap_or_default();
    let month = words.next().unwrap_or_default();
    let year = words.next().unwrap_or_default();
    let time = words.next().unwrap_or_default();
    let zone = words.next().unwrap_or_default();
    let digits = |w: &str, n: usize| w.len() == n && w.bytes().all(|c| c.is_ascii_digit());
    if !digits(day, 2) || !MONTHS.contains(&month) || !digits(year, 4) {
        return Err(bad("expected a date like \"13 Nov 2010\""));
    }
    let t: Vec<&str> = time.split(':').collect();
    if t.len() != 3 || !t.iter().all(|p| digits(p, 2)) {
        return Err(bad("expected a time like 23:29:00"));
    }
    if zone != "GMT" {
        return Err(bad("time zone must be GMT"));
    }
    if words.next().is_some() {
        return Err(bad("unexpected text after the time zone"));
    }
    Ok(())
}

/// True if `s` (a method from a request line) is a token.
pub(crate) fn is_method_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cseq() {
        let c = CSeq::parse("0009\r\n  INVITE").unwrap();
        assert_eq!(c.number, 9);
        assert_eq!(c.method, Method::Invite);
        let c = CSeq::parse("139122385 !interesting-Method0123456789_*+`.%indeed'~").unwrap();
        assert_eq!(c.method_str, "!interesting-Method0123456789_*+`.%indeed'~");
        for bad in [
            "36893488147419103232 REGISTER",
            "2147483648 INVITE",
            "INVITE",
            "1",
            "1INVITE",
            "1 INVITE x",
            "",
        ] {
            assert!(CSeq::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(CSeq::parse("2147483647 ACK").unwrap().number, MAX_CSEQ);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_max_forwards("0068").unwrap(), 68);
        assert!(parse_max_forwards("300").is_err());
        assert_eq!(parse_content_length(" 150 ").unwrap(), 150);
        assert!(matches!(
            parse_content_length("-999"),
            Err(ParseError::BadContentLength(_, "negative"))
        ));
        assert!(parse_content_length("abc").is_err());
        assert!(parse_content_length("99999999999999999999").is_err());
        assert_eq!(parse_expires("3600").unwrap(), 3600);
        assert!(parse_expires("10000000000000000000000").is_err());
        assert!(parse_call_id("a b").is_err());
        assert_eq!(parse_call_id(" x@y ").unwrap(), "x@y");
    }

    #[test]
    fn media_type() {
        let m = MediaType::parse("multipart/mixed;boundary=7a9cbec02ceef655").unwrap();
        assert!(m.is("Multipart", "MIXED"));
        assert_eq!(m.params.value("boundary"), Some("7a9cbec02ceef655"));
        assert!(MediaType::parse("application").is_err());
    }

    #[test]
    fn dates() {
        check_date("Sat, 15 Oct 2005 04:44:56 GMT").unwrap();
        assert!(check_date("Fri, 01 Jan 2010 16:00:00 EST").is_err());
        assert!(check_date("yesterday").is_err());
    }
}
