//! Parsing pseudo-variable names (`$ru`, `$var(x)`, `$(hdr(Via)[1])`,
//! `$xavp(a[1]=>b)`...) into a [`PvSpec`]. Parsing is pure: no message or
//! store is touched, so a spec can be cached and reused for any message.

use std::fmt;

/// Why a pseudo-variable name was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PvError(pub String);

impl fmt::Display for PvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PvError {}

pub(crate) fn err<T>(text: impl Into<String>) -> Result<T, PvError> {
    Err(PvError(text.into()))
}

/// Which item of a multi-valued variable a spec designates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Index {
    /// No index written: the first (most recent) item.
    #[default]
    First,
    /// `[n]`: the n-th item, counted from the end when negative.
    At(i32),
    /// `[*]`: every item.
    All,
}

impl Index {
    /// The item number for reads: `First` is 0.
    pub fn pos(self) -> i32 {
        match self {
            Index::At(n) => n,
            Index::First | Index::All => 0,
        }
    }
}

/// The three extended-AVP families, which differ in name matching and in
/// what assignment does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XavKind {
    /// `$xavp`: assignment adds a new item on top.
    Xavp,
    /// `$xavu`: one item per name; assignment overwrites it.
    Xavu,
    /// `$xavi`: like `$xavp`, names compared case-insensitively.
    Xavi,
}

/// A parsed pseudo-variable.
#[derive(Clone, Debug, PartialEq)]
pub enum PvSpec {
    /// `$null`: always null; assigning to it is refused.
    Null,
    /// `$T_reply_code`: the status of the reply tm's route runs for.
    TReplyCode,
    /// `$T_reply_reason`.
    TReplyReason,
    /// `$T_branch_idx`: the branch tm's route runs for.
    TBranchIdx,
    /// `$T_reply_last`: the last reply code the branch received, in the
    /// onreply and failure routes.
    TReplyLast,
    /// `$T_req(pv)`: `pv` evaluated on the transaction's request.
    TReq(Box<PvSpec>),
    /// `$T_rpl(pv)`: `pv` evaluated on the transaction's reply.
    TRpl(Box<PvSpec>),
    /// `$ru`: the Request-URI (the new one if set).
    Ru,
    /// `$rU`: its user part.
    RUser,
    /// `$rd`: its host.
    RDomain,
    /// `$rp`: its port (0 when absent).
    RPort,
    /// `$rz`: its scheme.
    RScheme,
    /// `$ruid`: the location record id a lookup set.
    Ruid,
    /// `$du`: the destination URI.
    Du,
    Fu,
    FUser,
    FDomain,
    /// `$fn`: the From display name.
    FName,
    FTag,
    Tu,
    TUser,
    TDomain,
    TName,
    TTag,
    /// `$ci`: Call-ID.
    CallId,
    /// `$cs`: CSeq number.
    CSeq,
    /// `$rm`: method (from CSeq in replies).
    Method,
    /// `$rs`: reply status.
    Status,
    /// `$rr`: reply reason.
    Reason,
    /// `$si`, `$sp`: source address and port.
    SrcIp,
    SrcPort,
    /// `$Ri`, `$Rp`: the local address and port the message came in on.
    RcvIp,
    RcvPort,
    /// `$pr`, `$proto`: protocol name.
    Proto,
    /// `$ua`: User-Agent.
    UserAgent,
    /// `$ml`: message length.
    MsgLen,
    /// `$mb`: the whole message buffer.
    MsgBuf,
    /// `$rb`: the body.
    Body,
    /// `$hdr(name)`, `$(hdr(name)[i])`.
    Hdr {
        name: String,
        idx: Index,
    },
    /// `$hdrc(name)`: how many headers have the name.
    HdrCount(String),
    /// `$var(name)`: per-worker script variable.
    Var(String),
    /// `$shv(name)`: variable shared by all workers.
    Shv(String),
    /// `$avp(name)`, `$(avp(name)[i])`.
    Avp {
        name: String,
        idx: Index,
    },
    /// `$xavp(root[i]=>child[j])` and its `$xavu`/`$xavi` siblings.
    Xav {
        kind: XavKind,
        root: String,
        idx: Index,
        child: Option<(String, Index)>,
    },
    /// `$sbranch(key)`: a field of the worker's static branch.
    Sbranch(String),
}

/// True for the characters a pseudo-variable class name is made of.
fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The length of the parenthesised group starting at `s[0] == '('`,
/// brackets included; nested parentheses are balanced.
fn group_len(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses a whole string as exactly one pseudo-variable.
pub fn parse(name: &str) -> Result<PvSpec, PvError> {
    let (spec, used) = parse_prefix(name)?;
    if used != name.len() {
        return err(format!("invalid pv name '{name}': trailing text"));
    }
    Ok(spec)
}

/// Parses the pseudo-variable at the start of `s` (which begins with `$`),
/// returning it and how many bytes it took; for format strings, where text
/// follows.
pub fn parse_prefix(s: &str) -> Result<(PvSpec, usize), PvError> {
    let Some(rest) = s.strip_prefix('$') else {
        return err(format!("invalid pv name '{s}': no leading '$'"));
    };
    if rest.starts_with('(') {
        // `$(inner)`: the long form, where an index may follow the name.
        let len = group_len(rest).ok_or_else(|| PvError(format!("unbalanced '$(' in '{s}'")))?;
        let inner = &rest[1..len - 1];
        let (body, idx) = split_index(inner)?;
        if body.contains('{') {
            return err(format!("transformations are not supported: '{s}'"));
        }
        let (class, args, used) = class_and_args(body)?;
        if used != body.len() {
            return err(format!("invalid pv name '{s}'"));
        }
        let spec = build(class, args, idx, s)?;
        return Ok((spec, len + 1));
    }
    let (class, args, used) = class_and_args(rest)?;
    let spec = build(class, args, None, s)?;
    Ok((spec, used + 1))
}

/// Splits `name(args)` at the start of `s`: the class, the inside of the
/// parentheses if any, and the bytes used.
fn class_and_args(s: &str) -> Result<(&str, Option<&str>, usize), PvError> {
    let end = s.bytes().position(|b| !is_name_char(b)).unwrap_or(s.len());
    if end == 0 {
        return err(format!("missing pv class name in '${s}'"));
    }
    let class = &s[..end];
    let after = &s[end..];
    if after.starts_with('(') {
        let len = group_len(after).ok_or_else(|| PvError(format!("unbalanced '(' in '${s}'")))?;
        Ok((class, Some(&after[1..len - 1]), end + len))
    } else {
        Ok((class, None, end))
    }
}

/// Splits a trailing `[index]` off `s`.
fn split_index(s: &str) -> Result<(&str, Option<Index>), PvError> {
    if !s.ends_with(']') {
        return Ok((s, None));
    }
    let open = s
        .rfind('[')
        .ok_or_else(|| PvError(format!("unbalanced ']' in '{s}'")))?;
    let idx = parse_index(&s[open + 1..s.len() - 1])?;
    Ok((&s[..open], Some(idx)))
}

fn parse_index(text: &str) -> Result<Index, PvError> {
    let text = text.trim();
    if text == "*" {
        return Ok(Index::All);
    }
    text.parse::<i32>().map(Index::At).map_err(|_| {
        PvError(format!(
            "invalid index '[{text}]' (dynamic indexes are not supported)"
        ))
    })
}

fn non_empty(args: Option<&str>, class: &str) -> Result<String, PvError> {
    match args.map(str::trim) {
        Some(a) if !a.is_empty() => Ok(a.to_string()),
        _ => err(format!("${class} needs a name: ${class}(name)")),
    }
}

/// `name[i]` inside an xavp spec.
fn xav_part(part: &str) -> Result<(String, Index), PvError> {
    let (name, idx) = split_index(part.trim())?;
    let name = name.trim();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| is_name_char(b) || b == b'-' || b == b'.')
    {
        return err(format!("invalid xavp name '{part}'"));
    }
    Ok((name.to_string(), idx.unwrap_or_default()))
}

fn build(
    class: &str,
    args: Option<&str>,
    idx: Option<Index>,
    whole: &str,
) -> Result<PvSpec, PvError> {
    let fixed = match class {
        "null" => Some(PvSpec::Null),
        "ru" => Some(PvSpec::Ru),
        "rU" => Some(PvSpec::RUser),
        "rd" => Some(PvSpec::RDomain),
        "rp" => Some(PvSpec::RPort),
        "rz" => Some(PvSpec::RScheme),
        "ruid" => Some(PvSpec::Ruid),
        "du" => Some(PvSpec::Du),
        "fu" => Some(PvSpec::Fu),
        "fU" => Some(PvSpec::FUser),
        "fd" => Some(PvSpec::FDomain),
        "fn" => Some(PvSpec::FName),
        "ft" => Some(PvSpec::FTag),
        "tu" => Some(PvSpec::Tu),
        "tU" => Some(PvSpec::TUser),
        "td" => Some(PvSpec::TDomain),
        "tn" => Some(PvSpec::TName),
        "tt" => Some(PvSpec::TTag),
        "ci" => Some(PvSpec::CallId),
        "cs" => Some(PvSpec::CSeq),
        "rm" => Some(PvSpec::Method),
        "rs" => Some(PvSpec::Status),
        "rr" => Some(PvSpec::Reason),
        "si" => Some(PvSpec::SrcIp),
        "sp" => Some(PvSpec::SrcPort),
        "Ri" => Some(PvSpec::RcvIp),
        "Rp" => Some(PvSpec::RcvPort),
        "pr" | "proto" => Some(PvSpec::Proto),
        "ua" => Some(PvSpec::UserAgent),
        "ml" => Some(PvSpec::MsgLen),
        "mb" => Some(PvSpec::MsgBuf),
        "rb" => Some(PvSpec::Body),
        "T_reply_code" => Some(PvSpec::TReplyCode),
        "T_reply_reason" => Some(PvSpec::TReplyReason),
        "T_branch_idx" => Some(PvSpec::TBranchIdx),
        "T_reply_last" => Some(PvSpec::TReplyLast),
        _ => None,
    };
    if let Some(spec) = fixed {
        if args.is_some() || idx.is_some() {
            return err(format!("${class} takes no name or index: '{whole}'"));
        }
        return Ok(spec);
    }
    // Only the multi-valued classes accept an index in the `$(...)` form.
    let no_index = |spec: PvSpec| {
        if idx.is_some() {
            err(format!("${class} takes no index: '{whole}'"))
        } else {
            Ok(spec)
        }
    };
    match class {
        "hdr" => Ok(PvSpec::Hdr {
            name: non_empty(args, class)?,
            idx: idx.unwrap_or_default(),
        }),
        "hdrc" => no_index(PvSpec::HdrCount(non_empty(args, class)?)),
        // `$T(name)`: the same facts as the `$T_name` variables.
        "T" => match non_empty(args, class)?.as_str() {
            "reply_code" => no_index(PvSpec::TReplyCode),
            "reply_reason" => no_index(PvSpec::TReplyReason),
            "reply_last" => no_index(PvSpec::TReplyLast),
            "branch_index" => no_index(PvSpec::TBranchIdx),
            other => err(format!(
                "$T({other}) is not supported (known: reply_code, reply_reason, reply_last, branch_index)"
            )),
        },
        "T_req" | "T_rpl" => {
            let inner = non_empty(args, class)?;
            let inner = parse(inner.trim())?;
            no_index(if class == "T_req" {
                PvSpec::TReq(Box::new(inner))
            } else {
                PvSpec::TRpl(Box::new(inner))
            })
        }
        "var" => no_index(PvSpec::Var(non_empty(args, class)?)),
        "shv" => no_index(PvSpec::Shv(non_empty(args, class)?)),
        "sbranch" => no_index(PvSpec::Sbranch(non_empty(args, class)?)),
        "avp" => {
            let name = non_empty(args, class)?;
            // `$avp(x[1])` is accepted as well as `$(avp(x)[1])`.
            let (name, inner) = split_index(&name)?;
            let name = name.trim();
            // Kamailio's `s:` prefix only says the name is a string.
            let name = name.strip_prefix("s:").unwrap_or(name);
            if name.is_empty() {
                return err(format!("$avp needs a name: '{whole}'"));
            }
            Ok(PvSpec::Avp {
                name: name.to_string(),
                idx: inner.or(idx).unwrap_or_default(),
            })
        }
        "xavp" | "xavu" | "xavi" => {
            if idx.is_some() {
                return err(format!("put the index inside the name: '{whole}'"));
            }
            let kind = match class {
                "xavp" => XavKind::Xavp,
                "xavu" => XavKind::Xavu,
                _ => XavKind::Xavi,
            };
            let text = non_empty(args, class)?;
            let (root, child) = match text.split_once("=>") {
                Some((r, c)) => (r, Some(xav_part(c)?)),
                None => (text.as_str(), None),
            };
            let (root, idx) = xav_part(root)?;
            if kind == XavKind::Xavu
                && (idx != Index::First || child.as_ref().is_some_and(|c| c.1 != Index::First))
            {
                return err(format!("$xavu has one value per name, no index: '{whole}'"));
            }
            Ok(PvSpec::Xav {
                kind,
                root,
                idx,
                child,
            })
        }
        _ => err(format!("unknown pv class '${class}' in '{whole}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_names() {
        assert_eq!(parse("$ru"), Ok(PvSpec::Ru));
        assert_eq!(parse("$rU"), Ok(PvSpec::RUser));
        assert_eq!(parse("$proto"), Ok(PvSpec::Proto));
        assert_eq!(parse("$Ri"), Ok(PvSpec::RcvIp));
        assert_eq!(parse("$(ru)"), Ok(PvSpec::Ru));
        assert_eq!(parse("$T_reply_last"), Ok(PvSpec::TReplyLast));
    }

    #[test]
    fn t_names() {
        assert_eq!(parse("$T(reply_code)"), Ok(PvSpec::TReplyCode));
        assert_eq!(parse("$T(reply_reason)"), Ok(PvSpec::TReplyReason));
        assert_eq!(parse("$T(reply_last)"), Ok(PvSpec::TReplyLast));
        assert_eq!(parse("$T(branch_index)"), Ok(PvSpec::TBranchIdx));
        let e = parse("$T(id_label)").unwrap_err();
        assert!(e.0.contains("not supported"), "{e:?}");
        assert!(parse("$T()").is_err());
    }

    #[test]
    fn named_classes() {
        assert_eq!(parse("$var(x)"), Ok(PvSpec::Var("x".into())));
        assert_eq!(parse("$shv(count)"), Ok(PvSpec::Shv("count".into())));
        assert_eq!(parse("$hdrc(Via)"), Ok(PvSpec::HdrCount("Via".into())));
        assert_eq!(
            parse("$hdr(X-Foo)"),
            Ok(PvSpec::Hdr {
                name: "X-Foo".into(),
                idx: Index::First
            })
        );
        assert_eq!(
            parse("$(hdr(Via)[-1])"),
            Ok(PvSpec::Hdr {
                name: "Via".into(),
                idx: Index::At(-1)
            })
        );
        assert_eq!(
            parse("$(avp(a)[*])"),
            Ok(PvSpec::Avp {
                name: "a".into(),
                idx: Index::All
            })
        );
        assert_eq!(
            parse("$avp(s:a[2])"),
            Ok(PvSpec::Avp {
                name: "a".into(),
                idx: Index::At(2)
            })
        );
    }

    #[test]
    fn xavp_forms() {
        assert_eq!(
            parse("$xavp(a)"),
            Ok(PvSpec::Xav {
                kind: XavKind::Xavp,
                root: "a".into(),
                idx: Index::First,
                child: None
            })
        );
        assert_eq!(
            parse("$xavp(a[1]=>b)"),
            Ok(PvSpec::Xav {
                kind: XavKind::Xavp,
                root: "a".into(),
                idx: Index::At(1),
                child: Some(("b".into(), Index::First)),
            })
        );
        assert_eq!(
            parse("$xavi(A=>b[*])"),
            Ok(PvSpec::Xav {
                kind: XavKind::Xavi,
                root: "A".into(),
                idx: Index::First,
                child: Some(("b".into(), Index::All)),
            })
        );
        assert!(parse("$xavu(a[1])").is_err());
        assert!(parse("$xavp(=>b)").is_err());
    }

    #[test]
    fn bad_names_are_errors() {
        for bad in [
            "",
            "ru",
            "$",
            "$nope",
            "$ru(x)",
            "$var",
            "$var()",
            "$var(x",
            "$(ru",
            "$ru x",
            "$(hdr(a)[x])",
            "$(ru{s.len})",
            "$hdrc(a)[1]",
            "$(var(x)[1])",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn prefix_stops_at_text() {
        assert_eq!(parse_prefix("$ru is"), Ok((PvSpec::Ru, 3)));
        assert_eq!(parse_prefix("$var(x)/"), Ok((PvSpec::Var("x".into()), 7)));
        assert_eq!(
            parse_prefix("$(hdr(a)[1]):"),
            Ok((
                PvSpec::Hdr {
                    name: "a".into(),
                    idx: Index::At(1)
                },
                12
            ))
        );
    }
}
