//! Reading and assigning a parsed [`PvSpec`] against a routing context.

use std::net::SocketAddr;

use super::spec::{err, Index, PvError, PvSpec, XavKind};
use super::store::{sbranch, vars, SharedVars};
use super::xavp::{XavpList, XavpValue};
use super::PvValue;
use crate::context::{Context, RouteKind};
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
        PvSpec::TReplyLast => match ctx.route {
            RouteKind::OnReply | RouteKind::Failure | RouteKind::BranchFailure => {
                Some(ctx.tm.reply_code).filter(|c| *c != 0).and_then(int)
            }
            _ => None,
        },
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

/// Replaces one part of the From or To header (`$fu`, `$tU`, `$fn`...)
/// in the message as it will be sent; the tag and other parameters stay.
/// Later assignments build on earlier ones (`$fU` then `$fd` changes
/// both), while reads keep seeing the received header, as in Kamailio.
/// Null removes the user part or the display name; the URI and the domain
/// cannot be null.
fn set_addr_part(
    ctx: &mut Context,
    header: HeaderName,
    part: AddrPart,
    value: Option<PvValue>,
) -> Result<(), PvError> {
    let hname = header.as_str();
    let (index, current) = {
        let Some(h) = ctx.msg.headers_of(header).next() else {
            return err(format!("the message has no {hname} header"));
        };
        // An earlier assignment recorded the value to build on.
        let edited = ctx.msg.edits().iter().rev().find_map(|e| match e {
            crate::sip::Edit::ReplaceValue { index, value } if *index == h.index => {
                Some(value.clone())
            }
            _ => None,
        });
        (h.index, edited.unwrap_or_else(|| h.unfolded().into_owned()))
    };
    let text = value.map(|v| v.to_string()).filter(|v| !v.is_empty());
    let new = rewrite_addr(&current, part, text.as_deref())
        .map_err(|e| PvError(format!("{hname}: {}", e.0)))?;
    ctx.msg
        .replace_header_value(index, &new)
        .map_err(|e| PvError(format!("{hname}: {e}")))
}

/// `current` (a From/To value) with one part replaced; `None` removes it.
fn rewrite_addr(current: &str, part: AddrPart, value: Option<&str>) -> Result<String, PvError> {
    if value.is_some_and(|v| v.contains(['\r', '\n'])) {
        return err("a header value cannot span lines");
    }
    let na =
        NameAddr::parse(current).map_err(|e| PvError(format!("cannot parse '{current}': {e}")))?;
    let at = |sub: &str| offset_in(current, sub).ok_or_else(|| PvError("part not located".into()));
    let uri_at = at(na.uri.raw)?;
    let uri_end = uri_at + na.uri.raw.len();
    let (start, end, text) = match part {
        AddrPart::Uri => {
            let Some(v) = value else {
                return err("the URI cannot be null");
            };
            if na.angle {
                (uri_at, uri_end, v.to_string())
            } else {
                // A bare URI gets brackets: the new one may have parameters.
                (uri_at, uri_end, format!("<{v}>"))
            }
        }
        AddrPart::User => {
            if na.uri.host.is_empty() {
                return err(format!("'{}' has no host part to edit", na.uri.raw));
            }
            let host_at = at(na.uri.host)?;
            // The userinfo (user, password, '@') ends right before the host.
            let user_at = match na.uri.user {
                Some(u) => at(u)?,
                None => host_at,
            };
            let text = value.map(|v| format!("{v}@")).unwrap_or_default();
            (user_at, host_at, text)
        }
        AddrPart::Domain => {
            let Some(v) = value else {
                return err("the domain cannot be null");
            };
            if na.uri.host.is_empty() {
                return err(format!("'{}' has no host part to edit", na.uri.raw));
            }
            let host_at = at(na.uri.host)?;
            (host_at, host_at + na.uri.host.len(), v.to_string())
        }
        AddrPart::Name => {
            let raw_at = at(na.raw)?;
            let quoted = value.map(|v| {
                let escaped = v.replace('\\', "\\\\").replace('"', "\\\"");
                format!("\"{escaped}\" ")
            });
            if na.angle {
                // Everything before '<' is the display name.
                let lt = uri_at.saturating_sub(1);
                (raw_at, lt, quoted.unwrap_or_default())
            } else {
                match quoted {
                    Some(q) => (uri_at, uri_end, format!("{q}<{}>", na.uri.raw)),
                    None => (uri_at, uri_at, String::new()),
                }
            }
        }
        AddrPart::Tag => return err("the tag cannot be changed"),
    };
    let mut out = String::with_capacity(current.len() + text.len());
    out.push_str(&current[..start]);
    out.push_str(&text);
    out.push_str(&current[end..]);
    Ok(out)
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
        PvSpec::Fu => set_addr_part(ctx, HeaderName::From, AddrPart::Uri, value),
        PvSpec::FUser => set_addr_part(ctx, HeaderName::From, AddrPart::User, value),
        PvSpec::FDomain => set_addr_part(ctx, HeaderName::From, AddrPart::Domain, value),
        PvSpec::FName => set_addr_part(ctx, HeaderName::From, AddrPart::Name, value),
        PvSpec::Tu => set_addr_part(ctx, HeaderName::To, AddrPart::Uri, value),
        PvSpec::TUser => set_addr_part(ctx, HeaderName::To, AddrPart::User, value),
        PvSpec::TDomain => set_addr_part(ctx, HeaderName::To, AddrPart::Domain, value),
        PvSpec::TName => set_addr_part(ctx, HeaderName::To, AddrPart::Name, value),
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
                err(format!(
                    "unknown $sbranch key '{key}' (known: {})",
                    sbranch::KEYS.join(", ")
                ))
            }
        }
        PvSpec::Avp { name, idx } => put(
            &mut ctx.pv.avps,
            name,
            *idx,
            value.map(Into::into),
            false,
            false,
        ),
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
                    Some(XavpValue::List(children)) => {
                        put(children, cname, *cidx, value, unique, ci)
                    }
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

    #[test]
    fn from_to_rewrites() {
        let ok = |r: Result<String, PvError>| r.unwrap_or_else(|e| panic!("{e}"));
        let v = "\"Alice\" <sip:alice:pw@example.org:5070;user=phone>;tag=a1;x";
        assert_eq!(
            ok(rewrite_addr(v, AddrPart::Uri, Some("sip:bob@b.net"))),
            "\"Alice\" <sip:bob@b.net>;tag=a1;x"
        );
        assert_eq!(
            ok(rewrite_addr(v, AddrPart::User, Some("carol"))),
            "\"Alice\" <sip:carol@example.org:5070;user=phone>;tag=a1;x"
        );
        assert_eq!(
            ok(rewrite_addr(v, AddrPart::User, None)),
            "\"Alice\" <sip:example.org:5070;user=phone>;tag=a1;x"
        );
        assert_eq!(
            ok(rewrite_addr(v, AddrPart::Domain, Some("c.org"))),
            "\"Alice\" <sip:alice:pw@c.org:5070;user=phone>;tag=a1;x"
        );
        assert_eq!(
            ok(rewrite_addr(v, AddrPart::Name, Some("A \"B\""))),
            "\"A \\\"B\\\"\" <sip:alice:pw@example.org:5070;user=phone>;tag=a1;x"
        );
        assert_eq!(
            ok(rewrite_addr(v, AddrPart::Name, None)),
            "<sip:alice:pw@example.org:5070;user=phone>;tag=a1;x"
        );
        // Bare URIs: brackets where the result needs them.
        let bare = "sip:a@b.org;tag=t";
        assert_eq!(
            ok(rewrite_addr(
                bare,
                AddrPart::Uri,
                Some("sip:c@d;transport=tcp")
            )),
            "<sip:c@d;transport=tcp>;tag=t"
        );
        assert_eq!(
            ok(rewrite_addr(bare, AddrPart::Name, Some("Bob"))),
            "\"Bob\" <sip:a@b.org>;tag=t"
        );
        assert_eq!(ok(rewrite_addr(bare, AddrPart::Name, None)), bare);
        assert_eq!(
            ok(rewrite_addr("Bob <sip:b.org>", AddrPart::User, Some("u"))),
            "Bob <sip:u@b.org>"
        );
        assert!(rewrite_addr(v, AddrPart::Uri, None).is_err());
        assert!(rewrite_addr(v, AddrPart::Domain, None).is_err());
        assert!(rewrite_addr(v, AddrPart::User, Some("a\r\nX: 1")).is_err());
        assert!(rewrite_addr("<broken", AddrPart::User, Some("u")).is_err());
    }
}
