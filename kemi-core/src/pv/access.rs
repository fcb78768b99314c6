//! Reading and assigning a parsed [`PvSpec`] against a routing context.

use std::net::SocketAddr;

use super::spec::{err, Index, PvError, PvSpec, XavKind};
use super::store::{sbranch, vars, SharedVars};
use super::xavp::{XavpList, XavpValue};
use super::PvValue;
use crate::context::Context;
use crate::sip::{Header, HeaderName, NameAddr, Uri};

fn s(v: &str) -> Option<PvValue> {
    Some(PvValue::Str(v.to_string()))
}

fn int(n: impl Into<i64>) -> Option<PvValue> {
    Some(PvValue::Int(n.into()))
}

fn ip(addr: SocketAddr) -> Option<PvValue> {
    Some(PvValue::Str(addr.ip().to_string()))
}

/// Which part of a From/To field.
#[derive(Clone, Copy)]
enum AddrPart {
    Uri,
    User,
    Domain,
    Name,
    Tag,
}

fn addr_part(na: Result<NameAddr<'_>, crate::sip::ParseError>, part: AddrPart) -> Option<PvValue> {
    // A missing or malformed field reads as null, as Kamailio's getters do
    // when parsing fails.
    let na = na.ok()?;
    match part {
        AddrPart::Uri => s(na.uri.raw),
        AddrPart::User => na.uri.user.and_then(s),
        AddrPart::Domain => (!na.uri.host.is_empty()).then(|| s(na.uri.host)).flatten(),
        AddrPart::Name => na.display_name.filter(|d| !d.is_empty()).and_then(s),
        AddrPart::Tag => na.tag().and_then(s),
    }
}

/// The header field chosen by `idx` among those named `name`.
fn nth_header<'m>(headers: &[Header<'m>], idx: i32) -> Option<Header<'m>> {
    let i = if idx < 0 {
        headers
            .len()
            .checked_sub(usize::try_from(idx.unsigned_abs()).ok()?)?
    } else {
        usize::try_from(idx).ok()?
    };
    headers.get(i).copied()
}

fn list_of(ctx: &Context, kind: XavKind) -> (&XavpList, bool) {
    match kind {
        XavKind::Xavp => (&ctx.pv.xavps, false),
        XavKind::Xavu => (&ctx.pv.xavus, false),
        XavKind::Xavi => (&ctx.pv.xavis, true),
    }
}

fn list_of_mut(ctx: &mut Context, kind: XavKind) -> (&mut XavpList, bool) {
    match kind {
        XavKind::Xavp => (&mut ctx.pv.xavps, false),
        XavKind::Xavu => (&mut ctx.pv.xavus, false),
        XavKind::Xavi => (&mut ctx.pv.xavis, true),
    }
}

/// Joins every value of a multi-valued read (`[*]`) with commas.
fn join(values: Vec<PvValue>) -> Option<PvValue> {
    if values.is_empty() {
        return None;
    }
    let parts: Vec<String> = values.iter().map(ToString::to_string).collect();
    Some(PvValue::Str(parts.join(",")))
}

fn read_list(list: &XavpList, name: &str, idx: Index, ci: bool) -> Option<PvValue> {
    match idx {
        Index::All => join(
            list.all(name, ci)
                .into_iter()
                .map(XavpValue::to_pv)
                .collect(),
        ),
        other => list.get(name, other.pos(), ci).map(XavpValue::to_pv),
    }
}

/// A context holding `msg` (for `$T_req`/`$T_rpl`), otherwise like `ctx`.
fn on_message(ctx: &Context, msg: &crate::sip::Message) -> Context {
    let mut other = ctx.fork();
    other.msg = msg.clone();
    other.tm = Default::default();
    other
}

/// The value of `spec` for this message; `None` when it is null (missing
/// header, unset AVP, unparsable field...).
pub fn get(ctx: &Context, spec: &PvSpec) -> Option<PvValue> {
    let msg = &ctx.msg;
    match spec {
        PvSpec::Null => None,
        PvSpec::TReplyCode => match ctx.tm.reply_code {
            0 => ctx.msg.status_code().and_then(int),
            code => int(code),
        },
        PvSpec::TReplyReason => match ctx.tm.reply_code {
            0 => ctx.msg.reason().and_then(s),
            _ => s(&ctx.tm.reply_reason),
        },
        PvSpec::TBranchIdx => int(ctx.tm.branch_index),
        PvSpec::TReq(inner) => {
            // In the request and failure routes the message is the request.
            match &ctx.tm.request {
                Some(req) => get(&on_message(ctx, req), inner),
                None if ctx.msg.is_request() => get(ctx, inner),
                None => None,
            }
        }
        PvSpec::TRpl(inner) => match &ctx.tm.reply {
            Some(rpl) => get(&on_message(ctx, rpl), inner),
            None if ctx.msg.is_response() => get(ctx, inner),
            None => None,
        },
        PvSpec::Ru => Some(ctx.ruri()).filter(|u| !u.is_empty()).and_then(s),
        PvSpec::RUser => Uri::parse(ctx.ruri()).ok()?.user.and_then(s),
        PvSpec::RDomain => {
            let uri = Uri::parse(ctx.ruri()).ok()?;
            (!uri.host.is_empty()).then(|| s(uri.host)).flatten()
        }
        // No port in the URI reads as 0, like Kamailio's parsed port number.
        PvSpec::RPort => int(Uri::parse(ctx.ruri()).ok()?.port.unwrap_or(0)),
        PvSpec::RScheme => s(Uri::parse(ctx.ruri()).ok()?.scheme_str),
        PvSpec::Ruid => ctx.pv.ruid.as_deref().and_then(s),
        PvSpec::Du => ctx.dst_uri.as_deref().filter(|d| !d.is_empty()).and_then(s),
        PvSpec::Fu => addr_part(msg.from(), AddrPart::Uri),
        PvSpec::FUser => addr_part(msg.from(), AddrPart::User),
        PvSpec::FDomain => addr_part(msg.from(), AddrPart::Domain),
        PvSpec::FName => addr_part(msg.from(), AddrPart::Name),
        PvSpec::FTag => addr_part(msg.from(), AddrPart::Tag),
        PvSpec::Tu => addr_part(msg.to(), AddrPart::Uri),
        PvSpec::TUser => addr_part(msg.to(), AddrPart::User),
        PvSpec::TDomain => addr_part(msg.to(), AddrPart::Domain),
        PvSpec::TName => addr_part(msg.to(), AddrPart::Name),
        PvSpec::TTag => addr_part(msg.to(), AddrPart::Tag),
        PvSpec::CallId => msg.call_id().ok().and_then(s),
        PvSpec::CSeq => int(msg.cseq().ok()?.number),
        PvSpec::Method => {
            if msg.is_request() {
                s(msg.method_str())
            } else {
                s(msg.cseq().ok()?.method_str)
            }
        }
        PvSpec::Status => int(msg.status_code()?),
        PvSpec::Reason => msg.reason().and_then(s),
        PvSpec::SrcIp => ip(ctx.recv.src),
        PvSpec::SrcPort => int(ctx.recv.src.port()),
        PvSpec::RcvIp => ip(ctx.recv.local),
        PvSpec::RcvPort => int(ctx.recv.local.port()),
        PvSpec::Proto => s(ctx.recv.proto.name()),
        PvSpec::UserAgent => msg.header(HeaderName::UserAgent).and_then(s),
        PvSpec::MsgLen => int(i64::try_from(msg.as_bytes().len()).ok()?),
        PvSpec::MsgBuf => s(&String::from_utf8_lossy(msg.as_bytes())),
        PvSpec::Body => s(&String::from_utf8_lossy(msg.body())),
        PvSpec::Hdr { name, idx } => {
            let found: Vec<Header<'_>> = msg.headers_named(name).collect();
            match idx {
                Index::All => join(
                    found
                        .iter()
                        .map(|h| PvValue::Str(h.value.to_string()))
                        .collect(),
                ),
                other => nth_header(&found, other.pos()).and_then(|h| s(h.value)),
            }
        }
        PvSpec::HdrCount(name) => int(i64::try_from(msg.headers_named(name).count()).ok()?),
        // Never-assigned variables read as 0 (Kamailio creates them so).
        PvSpec::Var(name) => Some(vars::get(name).unwrap_or(PvValue::Int(0))),
        PvSpec::Shv(name) => Some(ctx.runtime().state::<SharedVars>().get(name)),
        PvSpec::Sbranch(key) => sbranch::field(key),
        PvSpec::Avp { name, idx } => read_list(&ctx.pv.avps, name, *idx, false),
        PvSpec::Xav {
            kind,
            root,
            idx,
            child,
        } => {
            let (list, ci) = list_of(ctx, *kind);
            match child {
                None => read_list(list, root, *idx, ci),
                Some((cname, cidx)) => match list.get(root, idx.pos(), ci)? {
                    XavpValue::List(children) => read_list(children, cname, *cidx, ci),
                    _ => None,
                },
            }
        }
    }
}

/// Assigns `value` to `spec`. Read-only PVs and values the field cannot
/// take are refused with an error saying why.
pub fn set(ctx: &mut Context, spec: &PvSpec, value: PvValue) -> Result<(), PvError> {
    assign(ctx, spec, Some(value))
}

/// Makes `spec` null: deletes AVPs/XAVPs, clears `$du`, resets `$var`/`$shv`
/// to 0, removes the user or port from the R-URI.
pub fn unset(ctx: &mut Context, spec: &PvSpec) -> Result<(), PvError> {
    assign(ctx, spec, None)
}

/// Where an R-URI part sits in the URI text, to splice a new value in.
#[derive(Clone, Copy)]
enum UriPart {
    User,
    Host,
    Port,
}

/// Byte range of `part` inside `whole`, when `part` is a sub-slice of it.
fn offset_in(whole: &str, part: &str) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start + part.len() <= whole.len()).then_some(start)
}

/// The R-URI with one part replaced (`None` removes the user or port).
fn rewrite_uri(current: &str, part: UriPart, value: Option<&str>) -> Result<String, PvError> {
    let uri = Uri::parse(current).map_err(|e| PvError(format!("cannot parse the R-URI: {e}")))?;
    if uri.host.is_empty() {
        return err(format!("the R-URI '{current}' has no host part to edit"));
    }
    let host_at =
        offset_in(current, uri.host).ok_or_else(|| PvError("R-URI host not located".into()))?;
    let host_end = host_at + uri.host.len();
    let (start, end, text) = match part {
        UriPart::User => {
            // The userinfo (user, password and '@') ends right before the host.
            let user_at = match uri.user {
                Some(u) => {
                    offset_in(current, u).ok_or_else(|| PvError("R-URI user not located".into()))?
                }
                None => host_at,
            };
            let text = match value {
                Some(v) if !v.is_empty() => format!("{v}@"),
                _ => String::new(),
            };
            (user_at, host_at, text)
        }
        UriPart::Host => match value {
            Some(v) if !v.is_empty() => (host_at, host_end, v.to_string()),
            _ => return err("the R-URI host cannot be removed"),
        },
        UriPart::Port => {
            let after = &current[host_end..];
            let port_len = match after.strip_prefix(':') {
                Some(p) => 1 + p.bytes().take_while(u8::is_ascii_digit).count(),
                None => 0,
            };
            let text = match value {
                Some(v) if !v.is_empty() => {
                    if v.parse::<u16>().is_err() {
                        return err(format!("bad port '{v}'"));
                    }
                    format!(":{v}")
                }
                _ => String::new(),
            };
            (host_end, host_end + port_len, text)
        }
    };
    let mut out = String::with_capacity(current.len() + text.len());
    out.push_str(&current[..start]);
    out.push_str(&text);
    out.push_str(&current[end..]);
    Ok(out)
}

fn set_ruri_part(ctx: &mut Context, part: UriPart, value: Option<PvValue>) -> Result<(), PvError> {
    if !ctx.msg.is_request() {
        return err("the R-URI can only be changed in requests");
    }
    let text = value.map(|v| v.to_string());
    let new = rewrite_uri(ctx.ruri(), part, text.as_deref())?;
    ctx.new_uri = Some(new);
    Ok(())
}

/// Assigns a scalar into a list the way the family wants: `$xavu` and
/// explicit indexes overwrite, others add on top.
fn put(
    list: &mut XavpList,
    name: &str,
    idx: Index,
    value: Option<XavpValue>,
    unique: bool,
    ci: bool,
) -> Result<(), PvError> {
    match value {
        None => {
            match idx {
                Index::All => {
                    list.remove_all(name, ci);
                }
                other => {
                    list.remove(name, other.pos(), ci);
                }
            }
            Ok(())
        }
        Some(v) => match idx {
            Index::All => err(format!("cannot assign to every '{name}' at once")),
            _ if unique => {
                list.set_unique(name, v, ci);
                Ok(())
            }
            Index::First => {
                list.push_front(name, v);
                Ok(())
            }
            Index::At(n) => {
                if list.replace(name, n, v, ci) {
                    Ok(())
                } else {
                    err(format!("no '{name}' at index {n}"))
                }
            }
        },
    }
}

fn assign(ctx: &mut Context, spec: &PvSpec, value: Option<PvValue>) -> Result<(), PvError> {
    match spec {
        PvSpec::Ru => match value {
            Some(v) => {
                if !ctx.msg.is_request() {
                    return err("$ru can only be set in requests");
                }
                let text = v.to_string();
                if text.is_empty() {
                    return err("$ru cannot be set to an empty URI");
                }
                ctx.new_uri = Some(text);
                Ok(())
            }
            None => err("$ru cannot be set to null"),
        },
        PvSpec::RUser => set_ruri_part(ctx, UriPart::User, value),
        PvSpec::RDomain => set_ruri_part(ctx, UriPart::Host, value),
        PvSpec::RPort => set_ruri_part(ctx, UriPart::Port, value),
        PvSpec::Du => {
            ctx.dst_uri = value.map(|v| v.to_string()).filter(|d| !d.is_empty());
            Ok(())
        }
        PvSpec::Ruid => {
            ctx.pv.ruid = value.map(|v| v.to_string());
            Ok(())
        }
        PvSpec::Fu
        | PvSpec::FUser
        | PvSpec::FDomain
        | PvSpec::FName
        | PvSpec::Tu
        | PvSpec::TUser
        | PvSpec::TDomain
        | PvSpec::TName => err(
            "changing From/To through PVs is not supported; edit the header with KSR.hdr or textops",
        ),
        PvSpec::Var(name) => {
            vars::set(name, value);
            Ok(())
        }
        PvSpec::Shv(name) => {
            ctx.runtime().state::<SharedVars>().set(name, value);
            Ok(())
        }
        PvSpec::Sbranch(key) => {
            if sbranch::set_field(key, value) {
                Ok(())
            } else {
                err(format!("unknown $sbranch key '{key}' (known: {})", sbranch::KEYS.join(", ")))
            }
        }
        PvSpec::Avp { name, idx } => put(&mut ctx.pv.avps, name, *idx, value.map(Into::into), false, false),
        PvSpec::Xav {
            kind,
            root,
            idx,
            child,
        } => {
            let unique = *kind == XavKind::Xavu;
            let (list, ci) = list_of_mut(ctx, *kind);
            let value = value.map(XavpValue::from);
            match child {
                None => put(list, root, *idx, value, unique, ci),
                Some((cname, cidx)) => match list.get_mut(root, idx.pos(), ci) {
                    Some(XavpValue::List(children)) => put(children, cname, *cidx, value, unique, ci),
                    Some(_) => err(format!("'{root}' holds a value, not child fields")),
                    None => match value {
                        // Assigning a child of a missing root creates the root.
                        Some(v) if *idx == Index::First || *idx == Index::At(0) => {
                            let mut children = XavpList::default();
                            children.push_front(cname, v);
                            list.push_front(root, XavpValue::List(children));
                            Ok(())
                        }
                        Some(_) => err(format!("no '{root}' at that index")),
                        None => Ok(()),
                    },
                },
            }
        }
        _ => err("this pv is read-only"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_rewrites() {
        let u = "sip:alice:pw@example.com:5070;transport=tcp";
        let ok = |r: Result<String, PvError>| r.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            ok(rewrite_uri(u, UriPart::User, Some("bob"))),
            "sip:bob@example.com:5070;transport=tcp"
        );
        assert_eq!(
            ok(rewrite_uri(u, UriPart::User, None)),
            "sip:example.com:5070;transport=tcp"
        );
        assert_eq!(
            ok(rewrite_uri(u, UriPart::Host, Some("h.org"))),
            "sip:alice:pw@h.org:5070;transport=tcp"
        );
        assert_eq!(
            ok(rewrite_uri(u, UriPart::Port, Some("5080"))),
            "sip:alice:pw@example.com:5080;transport=tcp"
        );
        assert_eq!(
            ok(rewrite_uri(u, UriPart::Port, None)),
            "sip:alice:pw@example.com;transport=tcp"
        );
        assert_eq!(
            ok(rewrite_uri("sip:example.com", UriPart::User, Some("u"))),
            "sip:u@example.com"
        );
        assert_eq!(
            ok(rewrite_uri("sip:[::1]", UriPart::Port, Some("1"))),
            "sip:[::1]:1"
        );
        assert!(rewrite_uri("sip:a@b", UriPart::Port, Some("x")).is_err());
        assert!(rewrite_uri("sip:a@b", UriPart::Host, None).is_err());
        assert!(rewrite_uri("tel:+123", UriPart::User, Some("x")).is_err());
        assert!(rewrite_uri("", UriPart::User, Some("x")).is_err());
    }
}
