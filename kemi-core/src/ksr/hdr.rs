//! `KSR.hdr.*`: reading and editing header fields of the current message.
//!
//! Names match the way the parser classifies them: a known header matches
//! in its full and compact forms (`f` is `From`), any other name compares
//! case-insensitively. Edits are recorded on the message and applied when
//! it is sent, so reads in the same route still see the received headers.

use crate::context::Context;
use crate::sip::scan::is_token_str;
use crate::sip::{Header, HeaderPos};
use crate::xval::{NullMode, Xval};

/// Headers Kamailio looks at when indexing (its `get_idx` refuses more).
const MAX_INDEXED: usize = 256;

/// A header name given by the script, checked: empty names or names with
/// separators cannot match any field and are script bugs.
fn checked_name(hname: &str) -> Option<&str> {
    let name = hname.trim();
    if is_token_str(name) && !name.is_empty() {
        Some(name)
    } else {
        tracing::error!(target: "script", "invalid header name '{hname}'");
        None
    }
}

/// Splits header text (`"Name: value\r\n"`, possibly several lines, folded
/// continuations allowed) into name/value pairs. The text must end with
/// CRLF, as Kamailio inserts it verbatim and a missing one would glue it to
/// the next header; it is refused here instead.
fn split_header_text(txt: &str) -> Option<Vec<(String, String)>> {
    let Some(body) = txt.strip_suffix("\r\n") else {
        tracing::error!(target: "script", "header text must end with CRLF: {txt:?}");
        return None;
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for line in body.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            // A folded continuation joins the previous value.
            let Some(last) = out.last_mut() else {
                tracing::error!(target: "script", "header text starts with white space: {txt:?}");
                return None;
            };
            last.1.push(' ');
            last.1.push_str(line.trim());
            continue;
        }
        let parsed = line
            .split_once(':')
            .map(|(n, v)| (n.trim(), v.trim()))
            .filter(|(n, v)| is_token_str(n) && !n.is_empty() && !v.contains(['\r', '\n']));
        match parsed {
            Some((n, v)) => out.push((n.to_string(), v.to_string())),
            None => {
                tracing::error!(target: "script", "not a header line: {line:?}");
                return None;
            }
        }
    }
    Some(out)
}

/// Adds header text at a position given by the message's received headers.
fn add_text(ctx: &mut Context, txt: &str, pos: HeaderPos) -> i32 {
    let Some(lines) = split_header_text(txt) else {
        return -1;
    };
    for (name, value) in &lines {
        if let Err(e) = ctx.msg.add_header(pos, name, value) {
            tracing::error!(target: "script", "cannot add header {name:?}: {e}");
            return -1;
        }
    }
    1
}

fn first_index(ctx: &Context, hname: &str) -> Option<usize> {
    ctx.msg.headers_named(hname).next().map(|h| h.index)
}

/// Removes every field named `hname`; 1 even if none was there.
fn remove_all(ctx: &mut Context, hname: &str) -> i32 {
    let Some(name) = checked_name(hname) else {
        return -1;
    };
    ctx.msg.remove_headers_named(name);
    1
}

/// The value of the `idx`-th field named `hname` (negative from the end).
fn value_at(ctx: &Context, hname: &str, idx: i32) -> Option<String> {
    let name = checked_name(hname)?;
    let found: Vec<Header<'_>> = ctx.msg.headers_named(name).take(MAX_INDEXED).collect();
    let i = if idx < 0 {
        found
            .len()
            .checked_sub(usize::try_from(idx.unsigned_abs()).ok()?)?
    } else {
        usize::try_from(idx).ok()?
    };
    found.get(i).map(|h| h.value.to_string())
}

fn value_or_null(ctx: &Context, hname: &str, idx: i32, mode: NullMode) -> Xval {
    Xval::or_null(value_at(ctx, hname, idx), mode)
}

/// One comparison of `match_content`, case-insensitive; `None` for an
/// unknown operator.
fn compare(value: &str, op: &str, mval: &str) -> Option<bool> {
    let v = value.trim().to_ascii_lowercase();
    let m = mval.to_ascii_lowercase();
    Some(match op {
        "eq" => v == m,
        "ne" => v != m,
        "sw" => v.starts_with(&m),
        "in" => v.contains(&m),
        // Kamailio does not implement regular expressions here either.
        "re" => false,
        _ => return None,
    })
}

#[crate::kemi_module(name = "hdr")]
pub mod kemi {
    //! Header fields: test, read, add and remove headers of the message.
    use super::*;

    /// Adds the header text `txt` (complete lines ending in CRLF) after the
    /// last header. 1, or -1 when the text is not header lines.
    #[kemi_export]
    pub fn append(ctx: &mut Context, txt: &str) -> i32 {
        add_text(ctx, txt, HeaderPos::Last)
    }

    /// Adds `txt` after the first header named `hname`, or after the last
    /// header when there is none.
    #[kemi_export]
    pub fn append_after(ctx: &mut Context, txt: &str, hname: &str) -> i32 {
        let Some(name) = checked_name(hname) else {
            return -1;
        };
        let pos = first_index(ctx, name).map_or(HeaderPos::Last, HeaderPos::After);
        add_text(ctx, txt, pos)
    }

    /// Adds `txt` before the first header.
    #[kemi_export]
    pub fn insert(ctx: &mut Context, txt: &str) -> i32 {
        add_text(ctx, txt, HeaderPos::First)
    }

    /// Adds `txt` before the first header named `hname`, or before the
    /// first header when there is none.
    #[kemi_export]
    pub fn insert_before(ctx: &mut Context, txt: &str, hname: &str) -> i32 {
        let Some(name) = checked_name(hname) else {
            return -1;
        };
        let pos = first_index(ctx, name).map_or(HeaderPos::First, HeaderPos::Before);
        add_text(ctx, txt, pos)
    }

    /// Removes every header named `hname` (full and compact forms alike).
    /// 1 whether or not any was there; -1 for an invalid name.
    #[kemi_export]
    pub fn remove(ctx: &mut Context, hname: &str) -> i32 {
        remove_all(ctx, hname)
    }

    /// Removes every header named `hrm`, then appends `hadd`.
    #[kemi_export]
    pub fn rmappend(ctx: &mut Context, hrm: &str, hadd: &str) -> i32 {
        if remove_all(ctx, hrm) < 0 {
            return -1;
        }
        add_text(ctx, hadd, HeaderPos::Last)
    }

    /// Removes every header named `hrm`, then inserts `hadd` first.
    #[kemi_export]
    pub fn rminsert(ctx: &mut Context, hrm: &str, hadd: &str) -> i32 {
        if remove_all(ctx, hrm) < 0 {
            return -1;
        }
        add_text(ctx, hadd, HeaderPos::First)
    }

    /// 1 when the message has a header named `hname`, else -1 (an int, not
    /// a boolean).
    #[kemi_export]
    pub fn is_present(ctx: &mut Context, hname: &str) -> i32 {
        match checked_name(hname) {
            Some(name) if ctx.msg.headers_named(name).next().is_some() => 1,
            _ => -1,
        }
    }

    /// Queues header text `txt` (lines ending in CRLF) for the replies the
    /// proxy itself builds for this message.
    #[kemi_export]
    pub fn append_to_reply(ctx: &mut Context, txt: &str) -> i32 {
        if split_header_text(txt).is_none() {
            return -1;
        }
        ctx.reply_headers.push_str(txt);
        1
    }

    /// The value of the first header named `hname`, or nil.
    #[kemi_export]
    pub fn get(ctx: &mut Context, hname: &str) -> Xval {
        super::value_or_null(ctx, hname, 0, NullMode::Null)
    }

    /// The value of the first header named `hname`, or `""`.
    #[kemi_export]
    pub fn gete(ctx: &mut Context, hname: &str) -> Xval {
        super::value_or_null(ctx, hname, 0, NullMode::Empty)
    }

    /// The value of the first header named `hname`, or `"<null>"`.
    #[kemi_export]
    pub fn getw(ctx: &mut Context, hname: &str) -> Xval {
        super::value_or_null(ctx, hname, 0, NullMode::Print)
    }

    /// The value of the `idx`-th header named `hname` (0 first, -1 last),
    /// or nil.
    #[kemi_export]
    pub fn get_idx(ctx: &mut Context, hname: &str, idx: i32) -> Xval {
        super::value_or_null(ctx, hname, idx, NullMode::Null)
    }

    /// As `get_idx`, with `""` when missing.
    #[kemi_export]
    pub fn gete_idx(ctx: &mut Context, hname: &str, idx: i32) -> Xval {
        super::value_or_null(ctx, hname, idx, NullMode::Empty)
    }

    /// As `get_idx`, with `"<null>"` when missing.
    #[kemi_export]
    pub fn getw_idx(ctx: &mut Context, hname: &str, idx: i32) -> Xval {
        super::value_or_null(ctx, hname, idx, NullMode::Print)
    }

    /// Compares the (trimmed) values of the headers named `hname` with
    /// `mval`, ignoring case. `op`: `eq`, `ne`, `sw` (starts with), `in`
    /// (contains); `re` is not implemented and is always false. `hidx`
    /// picks the headers: `f` the first, `l` the last, `a` all must match,
    /// `o` at least one. False when no header has the name.
    #[kemi_export]
    pub fn match_content(ctx: &mut Context, hname: &str, op: &str, mval: &str, hidx: &str) -> bool {
        let Some(name) = checked_name(hname) else {
            return false;
        };
        let values: Vec<&str> = ctx.msg.headers_named(name).map(|h| h.value).collect();
        let test = |v: &str| compare(v, op, mval);
        let result = match hidx.chars().next().map(|c| c.to_ascii_lowercase()) {
            Some('f') => values.first().and_then(|v| test(v)),
            Some('l') => values.last().and_then(|v| test(v)),
            Some('a') if !values.is_empty() => values
                .iter()
                .map(|v| test(v))
                .collect::<Option<Vec<bool>>>()
                .map(|r| r.iter().all(|b| *b)),
            Some('o') => values
                .iter()
                .map(|v| test(v))
                .collect::<Option<Vec<bool>>>()
                .map(|r| r.iter().any(|b| *b)),
            _ => None,
        };
        if compare("", op, "").is_none() {
            tracing::error!(target: "script", "match_content: unknown operator '{op}'");
        }
        result.unwrap_or(false)
    }
}

pub use kemi::SUBMODULE;
