//! Lexical helpers shared by the header value parsers (RFC 3261 25.1).
//!
//! Header values are handed over as the raw bytes between the colon and the
//! end of the (possibly folded) header, so a CR or LF inside a value is always
//! part of a fold: the parsers treat SP, HT, CR and LF alike as linear white
//! space. All functions work on byte indices and never index out of bounds.

const fn token_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            );
        i += 1;
    }
    t
}

static TOKEN: [bool; 256] = token_table();

/// `token` characters (RFC 3261 25.1).
#[inline]
pub fn is_token(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

/// Position of the first LF at or after `from`. Header lines are short
/// (tens of bytes), where a word-at-a-time scan beats a SIMD `memchr` call.
#[inline]
pub fn find_lf(b: &[u8], from: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const LF: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    let hay = b.get(from..)?;
    let mut chunks = hay.chunks_exact(8);
    let mut base = from;
    for chunk in &mut chunks {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let x = u64::from_le_bytes(word) ^ LF;
        // A zero byte of x is an LF; the lowest flagged byte is exact.
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(base + (found.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == b'\n')
        .map(|p| base + p)
}

/// Linear white space, folding included.
#[inline]
pub fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// True if `s` is a non-empty token.
pub fn is_token_str(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token)
}

/// Index of the first non-LWS byte at or after `i`.
#[inline]
pub fn skip_lws(s: &[u8], mut i: usize) -> usize {
    while let Some(&b) = s.get(i) {
        if !is_lws(b) {
            break;
        }
        i += 1;
    }
    i
}

/// Index just past the run of token bytes starting at `i`.
#[inline]
pub fn token_end(s: &[u8], mut i: usize) -> usize {
    while let Some(&b) = s.get(i) {
        if !is_token(b) {
            break;
        }
        i += 1;
    }
    i
}

/// `s` without leading and trailing LWS.
pub fn trim_lws(s: &str) -> &str {
    s.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n')
}

/// Given `s[i] == '"'`, the index just past the closing quote, honouring
/// `\` quoted-pairs. `None` if the string is not terminated.
pub fn quoted_end(s: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while let Some(&b) = s.get(j) {
        match b {
            b'"' => return Some(j + 1),
            b'\\' => j += 2,
            _ => j += 1,
        }
    }
    None
}

/// Removes the `\` of quoted-pairs from the inside of a quoted string.
pub fn unquote(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\\') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Splits a comma-joined header value into its elements: commas inside
/// quoted strings and `<...>` do not split. Elements are LWS-trimmed.
/// Unbalanced quotes or brackets make the rest of the value one element;
/// the element parser then reports the problem.
pub fn split_commas(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut in_angle = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => match quoted_end(b, i) {
                Some(e) => {
                    i = e;
                    continue;
                }
                None => break,
            },
            b'<' => in_angle = true,
            b'>' => in_angle = false,
            b',' if !in_angle => {
                out.push(trim_lws(s.get(start..i).unwrap_or_default()));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(trim_lws(s.get(start..).unwrap_or_default()));
    out
}

/// Removes line folding: every CRLF (or LF) followed by white space becomes a
/// single space, as RFC 3261 7.3.1 allows a recipient to do.
pub fn unfold(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['\r', '\n']) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        match c {
            '\r' | '\n' => pending_space = true,
            ' ' | '\t' if pending_space => {}
            _ => {
                if pending_space {
                    out.push(' ');
                    pending_space = false;
                }
                out.push(c);
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Parses a decimal number of at most `max`; `None` if empty, not all
/// digits, or larger than `max`.
pub fn parse_decimal(s: &str, max: u64) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        if v > max {
            return None;
        }
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas() {
        assert_eq!(
            split_commas(r#""a,b" <sip:x,y>;p=1 , <sip:z>"#),
            vec![r#""a,b" <sip:x,y>;p=1"#, "<sip:z>"]
        );
        assert_eq!(split_commas("a"), vec!["a"]);
        assert_eq!(
            split_commas(r#""unterminated, x"#),
            vec![r#""unterminated, x"#]
        );
    }

    #[test]
    fn line_feeds() {
        let s = b"0123456789abcdef\nxyz\n";
        assert_eq!(find_lf(s, 0), Some(16));
        assert_eq!(find_lf(s, 17), Some(20));
        assert_eq!(find_lf(s, 21), None);
        assert_eq!(find_lf(s, 99), None);
        for n in 0..40 {
            let mut v = vec![b'\x8a'; n];
            v.push(b'\n');
            v.extend_from_slice(b"\n\x0b");
            assert_eq!(find_lf(&v, 0), Some(n), "{n}");
            assert_eq!(find_lf(&v, n + 1), Some(n + 1));
        }
    }

    #[test]
    fn unfolding() {
        assert_eq!(unfold("a\r\n  b"), "a b");
        assert_eq!(unfold("a"), "a");
    }

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("0068", 255), Some(68));
        assert_eq!(parse_decimal("300", 255), None);
        assert_eq!(parse_decimal("-1", 255), None);
        assert_eq!(parse_decimal("", 255), None);
        assert_eq!(parse_decimal("99999999999999999999999999", u64::MAX), None);
    }

    #[test]
    fn quoted() {
        assert_eq!(quoted_end(br#""a\"b" x"#, 0), Some(6));
        assert_eq!(quoted_end(br#""a\"#, 0), None);
        assert_eq!(unquote(r#"J Rosenberg \\\""#), r#"J Rosenberg \""#);
    }
}
