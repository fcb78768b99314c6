//! siputils: SIP checks and small message helpers (`KSR.siputils`):
//! message kind, value checks, R-URI parameters, URI and header-name
//! comparison, OPTIONS keepalive replies, Contact encoding, Date checks.

mod util;

use kemi_core::{kemi_module, ModParam, ModParamKind, ModuleDef};

/// SIP checks and helpers: message kind, value syntax, R-URI parameters,
/// URI comparison, OPTIONS replies, Contact encoding.
#[kemi_module(name = "siputils")]
pub mod kemi {
    use kemi_core::sip::{build_reply, HeaderName, Uri};
    use kemi_core::Context;
    use tracing::{debug, error, warn};

    use crate::util;

    /// 1 if the To header has a tag (an in-dialog request), -1 otherwise.
    #[kemi_export]
    pub fn has_totag(ctx: &Context) -> i32 {
        match ctx.msg.to() {
            Ok(to) if to.tag().is_some_and(|t| !t.is_empty()) => 1,
            Ok(_) => -1,
            Err(e) => {
                debug!("has_totag: no usable To header: {e}");
                -1
            }
        }
    }

    /// 1 for a request, -1 for a reply.
    #[kemi_export]
    pub fn is_request(ctx: &Context) -> i32 {
        if ctx.msg.is_request() {
            1
        } else {
            -1
        }
    }

    /// 1 for a reply, -1 for a request.
    #[kemi_export]
    pub fn is_reply(ctx: &Context) -> i32 {
        if ctx.msg.is_response() {
            1
        } else {
            -1
        }
    }

    /// 1: every message routed here is SIP (the parser refuses others).
    #[kemi_export]
    pub fn is_sip(_ctx: &Context) -> i32 {
        1
    }

    /// -1: HTTP messages never reach the script (there is no xhttp
    /// transport), so the routed message is never HTTP.
    #[kemi_export]
    pub fn is_http(_ctx: &Context) -> i32 {
        -1
    }

    /// Best-effort guess whether this proxy is the first hop after the
    /// sender: see [`is_first_hop_mode`] with mode 0.
    #[kemi_export]
    pub fn is_first_hop(ctx: &Context) -> i32 {
        is_first_hop_mode(ctx, 0)
    }

    /// Best-effort guess whether this proxy is the first hop after the
    /// original sender: a request must carry a single Via (a reply two,
    /// ours and the sender's). Unless bit 1 of `mode` is set, the
    /// Record-Route set is checked too: it must be empty, or its entry next
    /// to the sender (the only one for a request, the last one for a reply)
    /// must be this proxy. 1 if first hop, -1 otherwise.
    #[kemi_export]
    pub fn is_first_hop_mode(ctx: &Context, mode: i32) -> i32 {
        let vias = match ctx.msg.vias() {
            Ok(v) => v.len(),
            Err(e) => {
                error!("is_first_hop: bad Via: {e}");
                return -1;
            }
        };
        let want = if ctx.msg.is_request() { 1 } else { 2 };
        if vias != want {
            debug!("is_first_hop: {vias} Via bodies");
            return -1;
        }
        if mode & 1 != 0 {
            return 1;
        }
        let rrs = match ctx.msg.record_routes() {
            Ok(r) => r,
            Err(e) => {
                error!("is_first_hop: bad Record-Route: {e}");
                return -1;
            }
        };
        let edge = if ctx.msg.is_request() {
            if rrs.len() > 1 {
                return -1;
            }
            rrs.first()
        } else {
            rrs.last()
        };
        match edge {
            None => 1,
            Some(rr) if util::is_myself(ctx, &rr.uri) => 1,
            Some(_) => -1,
        }
    }

    /// 1 if `suri` is a valid URI of a scheme SIP uses (sip, sips, tel,
    /// tels, urn), -1 otherwise.
    #[kemi_export]
    pub fn is_uri(suri: &str) -> i32 {
        if util::parse_uri(suri).is_some() {
            1
        } else {
            -1
        }
    }

    /// Compares `suser` with the user name of the credentials the auth
    /// module has verified. There is no auth module yet, so no credentials
    /// are ever verified: -1 with an error log, as Kamailio does when
    /// called before authentication.
    #[kemi_export]
    pub fn is_user(ctx: &Context, suser: &str) -> i32 {
        let _ = (ctx, suser);
        error!("is_user: no authorized credentials found (the auth module is not available)");
        -1
    }

    /// 1 if the R-URI has parameter `sparam` without a value, -1 otherwise
    /// (also when it has the parameter with a value).
    #[kemi_export]
    pub fn uri_param(ctx: &Context, sparam: &str) -> i32 {
        util::ruri_param_check(ctx, sparam, util::ParamCheck::NoValue)
    }

    /// 1 if the R-URI has parameter `sparam` with value `svalue`
    /// (case-sensitive), -1 otherwise.
    #[kemi_export]
    pub fn uri_param_value(ctx: &Context, sparam: &str, svalue: &str) -> i32 {
        util::ruri_param_check(ctx, sparam, util::ParamCheck::Value(svalue))
    }

    /// 1 if the R-URI has parameter `sparam`, with or without a value.
    #[kemi_export]
    pub fn uri_param_any(ctx: &Context, sparam: &str) -> i32 {
        util::ruri_param_check(ctx, sparam, util::ParamCheck::Any)
    }

    /// Removes every `sparam` parameter from the R-URI (the new R-URI is
    /// what forwarding uses). 1 also when there was none; -1 if the R-URI
    /// does not parse or this is a reply.
    #[kemi_export]
    pub fn uri_param_rm(ctx: &mut Context, sparam: &str) -> i32 {
        let Some(new) = util::ruri_without_param(ctx, sparam) else {
            return -1;
        };
        if let Some(new) = new {
            ctx.new_uri = Some(new);
        }
        1
    }

    /// 1 if `tval` is a telephone number: an optional `+` followed by
    /// digits (the first one not 0 after `+`); -2 otherwise.
    #[kemi_export]
    pub fn is_tel_number(tval: &str) -> i32 {
        let digits = match tval.strip_prefix('+') {
            Some(rest) => {
                if !rest.starts_with(|c: char| ('1'..='9').contains(&c)) {
                    return -2;
                }
                rest
            }
            None => tval,
        };
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            1
        } else {
            -2
        }
    }

    /// 1 if `tval` is made of decimal digits only; -2 otherwise (or empty).
    #[kemi_export]
    pub fn is_numeric(tval: &str) -> i32 {
        if !tval.is_empty() && tval.bytes().all(|b| b.is_ascii_digit()) {
            1
        } else {
            -2
        }
    }

    /// 1 if `tval` is made of ASCII letters and digits only; -2 otherwise.
    #[kemi_export]
    pub fn is_alphanum(tval: &str) -> i32 {
        if !tval.is_empty() && tval.bytes().all(|b| b.is_ascii_alphanumeric()) {
            1
        } else {
            -2
        }
    }

    /// 1 if `tval` is made of ASCII letters, digits and characters of
    /// `eset`; -2 otherwise.
    #[kemi_export]
    pub fn is_alphanumex(tval: &str, eset: &str) -> i32 {
        let ok = !tval.is_empty()
            && tval
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || eset.as_bytes().contains(&b));
        if ok {
            1
        } else {
            -2
        }
    }

    /// Answers an OPTIONS request addressed to this server (R-URI without
    /// a user) with 200 OK, advertising Allow, Accept, Accept-Encoding,
    /// Accept-Language and Supported (the last four from modparams, left
    /// out when empty). -1 for other requests or if the reply cannot be
    /// built or sent; 1 when sent.
    #[kemi_export]
    pub fn options_reply(ctx: &mut Context) -> i32 {
        if !ctx.msg.is_request() || ctx.msg.method_str() != "OPTIONS" {
            error!("options_reply: not an OPTIONS request");
            return -1;
        }
        match ctx.msg.parsed_request_uri() {
            Ok(uri) if uri.user.is_some_and(|u| !u.is_empty()) => {
                error!("options_reply: the R-URI has a user part, not for this server");
                return -1;
            }
            Ok(_) => {}
            Err(e) => {
                error!("options_reply: bad R-URI: {e}");
                return -1;
            }
        }
        let headers = util::options_headers(ctx) + &ctx.runtime().signature().server;
        // The reply's top Via carries received/rport like any stateless
        // reply; work on a copy so the request itself is not changed.
        let mut req = ctx.msg.clone();
        if let Err(e) =
            req.add_via_receive_params(ctx.recv.src.ip(), ctx.recv.src.port(), ctx.force_rport)
        {
            debug!("options_reply: cannot add received to Via: {e}");
        }
        let tag = util::to_tag(&ctx.msg);
        let reply = match build_reply(&req, 200, "OK", Some(&tag), &headers, b"") {
            Ok(r) => r,
            Err(e) => {
                error!("options_reply: cannot build the reply: {e}");
                return -1;
            }
        };
        match ctx.reply(&reply) {
            Ok(()) => 1,
            Err(e) => {
                error!("options_reply: cannot send the reply: {e}");
                -1
            }
        }
    }

    /// Rewrites each Contact URI `sip:user:pass@host:port;transport=p` as
    /// `sip:<eprefix>*user*pass*host*port*p@<eaddr>` (other URI parameters
    /// kept), so a NATed contact can be routed through `eaddr` and restored
    /// with `decode_contact`. 1 on success, -1 without Contact or on a bad
    /// one.
    #[kemi_export]
    pub fn encode_contact(ctx: &mut Context, eprefix: &str, eaddr: &str) -> i32 {
        if eprefix.is_empty() || eaddr.is_empty() {
            error!("encode_contact: empty prefix or address");
            return -1;
        }
        let sep = util::separator(ctx);
        let r = util::rewrite_contacts(&mut ctx.msg, |uri| {
            util::encode_uri(uri, eprefix, eaddr, sep)
        });
        util::rewrite_result("encode_contact", r)
    }

    /// Restores an R-URI made by `encode_contact` (the user part holds the
    /// original fields); the decoded URI becomes the new R-URI. 1 on
    /// success, -1 if the R-URI is not encoded or does not parse.
    #[kemi_export]
    pub fn decode_contact(ctx: &mut Context) -> i32 {
        if !ctx.msg.is_request() {
            return -1;
        }
        let sep = util::separator(ctx);
        let decoded = Uri::parse(ctx.ruri())
            .ok()
            .and_then(|u| util::decode_uri(&u, sep));
        match decoded {
            Some(new) => {
                ctx.new_uri = Some(new);
                1
            }
            None => {
                debug!("decode_contact: the R-URI is not an encoded contact");
                -1
            }
        }
    }

    /// Restores the Contact URIs made by `encode_contact`; URIs that are
    /// not encoded are left as they are. 1 on success, -1 without Contact
    /// or on a bad one.
    #[kemi_export]
    pub fn decode_contact_header(ctx: &mut Context) -> i32 {
        let sep = util::separator(ctx);
        let r = util::rewrite_contacts(&mut ctx.msg, |uri| util::decode_uri(uri, sep));
        util::rewrite_result("decode_contact_header", r)
    }

    /// Replaces each Contact URI by `saddr` with a parameter `nparam`
    /// holding the original URI in base64url, for `contact_param_decode`
    /// to restore. `saddr` must be a SIP URI. 1 on success, -1 otherwise.
    #[kemi_export]
    pub fn contact_param_encode(ctx: &mut Context, nparam: &str, saddr: &str) -> i32 {
        if nparam.is_empty() || util::parse_uri(saddr).is_none() {
            error!("contact_param_encode: bad parameter name or address {saddr:?}");
            return -1;
        }
        let r = util::rewrite_contacts(&mut ctx.msg, |uri| {
            Some(util::param_encode(uri.raw, nparam, saddr))
        });
        util::rewrite_result("contact_param_encode", r)
    }

    /// Like `contact_param_encode`, with the sender's address added to the
    /// encoded URI as `;alias=ip~port~protoid` first, so the decoded URI
    /// leads back through the NAT binding.
    #[kemi_export]
    pub fn contact_param_encode_alias(ctx: &mut Context, nparam: &str, saddr: &str) -> i32 {
        if nparam.is_empty() || util::parse_uri(saddr).is_none() {
            error!("contact_param_encode_alias: bad parameter name or address {saddr:?}");
            return -1;
        }
        let alias = format!(
            "alias={}~{}~{}",
            ctx.recv.src.ip(),
            ctx.recv.src.port(),
            ctx.recv.proto.id()
        );
        let r = util::rewrite_contacts(&mut ctx.msg, |uri| {
            let with_alias = util::add_param(uri.raw, &alias);
            Some(util::param_encode(&with_alias, nparam, saddr))
        });
        util::rewrite_result("contact_param_encode_alias", r)
    }

    /// Replaces each Contact URI that has parameter `nparam` by the URI
    /// encoded in it (base64url); others are left alone. 1 on success, -1
    /// without Contact, on a bad one, or on a value that does not decode.
    #[kemi_export]
    pub fn contact_param_decode(ctx: &mut Context, nparam: &str) -> i32 {
        let mut bad = false;
        let r = util::rewrite_contacts(&mut ctx.msg, |uri| {
            let v = uri.params.value(nparam)?;
            let decoded = util::b64url_decode(v).and_then(|b| String::from_utf8(b).ok());
            if decoded.is_none() {
                bad = true;
            }
            decoded
        });
        if bad {
            warn!("contact_param_decode: a {nparam} value does not decode");
            return -1;
        }
        util::rewrite_result("contact_param_decode", r)
    }

    /// Makes the URI encoded in R-URI parameter `nparam` the new R-URI.
    /// 1 on success; -1 if the parameter is missing or does not decode.
    #[kemi_export]
    pub fn contact_param_decode_ruri(ctx: &mut Context, nparam: &str) -> i32 {
        if !ctx.msg.is_request() {
            return -1;
        }
        let decoded = Uri::parse(ctx.ruri()).ok().and_then(|u| {
            let v = u.params.value(nparam)?;
            util::b64url_decode(v).and_then(|b| String::from_utf8(b).ok())
        });
        match decoded {
            Some(uri) if util::parse_uri(&uri).is_some() => {
                ctx.new_uri = Some(uri);
                1
            }
            _ => {
                debug!("contact_param_decode_ruri: no decodable {nparam} parameter");
                -1
            }
        }
    }

    /// Removes parameter `nparam` from every Contact URI. 1 on success, -1
    /// without Contact or on a bad one.
    #[kemi_export]
    pub fn contact_param_rm(ctx: &mut Context, nparam: &str) -> i32 {
        let r = util::rewrite_contacts(&mut ctx.msg, |uri| {
            uri.params
                .has(nparam)
                .then(|| util::remove_param(uri, nparam))
        });
        util::rewrite_result("contact_param_rm", r)
    }

    /// 1 if a Contact URI has parameter `nparam`, -1 otherwise.
    #[kemi_export]
    pub fn contact_param_check(ctx: &Context, nparam: &str) -> i32 {
        match ctx.msg.contacts() {
            Ok(kemi_core::sip::Contacts::List(list))
                if list.iter().any(|c| c.uri.params.has(nparam)) =>
            {
                1
            }
            _ => -1,
        }
    }

    /// Checks the Date header against the clock: 1 if it is at most
    /// `tdiff` seconds old; -1 if there is no Date or it does not parse,
    /// -3 if it is older.
    #[kemi_export]
    pub fn hdr_date_check(ctx: &Context, tdiff: i32) -> i32 {
        let Some(value) = ctx.msg.header(HeaderName::Date) else {
            error!("hdr_date_check: no Date header");
            return -1;
        };
        let Some(date) = util::parse_date(value) else {
            error!("hdr_date_check: cannot parse Date {value:?}");
            return -1;
        };
        if util::now() > date + i64::from(tdiff) {
            debug!("hdr_date_check: Date {value:?} is older than {tdiff}s");
            return -3;
        }
        1
    }

    /// Compares two URIs with the rules of RFC 3261 19.1.4 (case-sensitive
    /// user, case-insensitive host, ports and the transport/user/ttl/
    /// method/maddr parameters must agree, other parameters only when both
    /// have them). 1 if they match, -1 if not, -2 if one does not parse.
    #[kemi_export]
    pub fn cmp_uri(uri1: &str, uri2: &str) -> i32 {
        match (util::parse_uri(uri1), util::parse_uri(uri2)) {
            (Some(a), Some(b)) => {
                if util::uri_eq(&a, &b) {
                    1
                } else {
                    -1
                }
            }
            _ => -2,
        }
    }

    /// Compares two URIs as addresses of record: user (case-sensitive),
    /// host (case-insensitive) and port (an absent port is the scheme's
    /// default). 1 if they match, -1 if not, -2 if one does not parse.
    #[kemi_export]
    pub fn cmp_aor(uri1: &str, uri2: &str) -> i32 {
        match (util::parse_uri(uri1), util::parse_uri(uri2)) {
            (Some(a), Some(b)) => {
                if util::aor_eq(&a, &b) {
                    1
                } else {
                    -1
                }
            }
            _ => -2,
        }
    }

    /// 1 if the two strings name the same header (case-insensitively, a
    /// compact form matching its full name: `f` and `From`), -1 otherwise.
    #[kemi_export]
    pub fn cmp_hdr_name(shname1: &str, shname2: &str) -> i32 {
        let (a, b) = (shname1.trim(), shname2.trim());
        if a.is_empty() || b.is_empty() {
            return -1;
        }
        let (ha, hb) = (HeaderName::parse(a), HeaderName::parse(b));
        let same = match ha {
            HeaderName::Other => hb == HeaderName::Other && a.eq_ignore_ascii_case(b),
            _ => ha == hb,
        };
        if same {
            1
        } else {
            -1
        }
    }

    /// Whether the R-URI is a GRUU (RFC 5627): 1 for a public GRUU (`gr`
    /// parameter with a value), 2 for a temporary one (`gr` without value),
    /// -1 if it is not a GRUU or does not parse.
    #[kemi_export]
    pub fn is_gruu(ctx: &Context) -> i32 {
        if !ctx.msg.is_request() {
            return -1;
        }
        let Ok(uri) = Uri::parse(ctx.ruri()) else {
            return -1;
        };
        match uri.params.get("gr") {
            Some(p) if p.value.is_some_and(|v| !v.is_empty()) => 1,
            Some(_) => 2,
            None => -1,
        }
    }

    /// Appends `;param` (`name` or `name=value`) to the R-URI's parameters;
    /// it becomes the new R-URI. 1 on success (also for an empty `param`,
    /// which changes nothing); -1 for replies or a bad R-URI.
    #[kemi_export]
    pub fn add_uri_param(ctx: &mut Context, param: &str) -> i32 {
        if !ctx.msg.is_request() {
            return -1;
        }
        if param.is_empty() {
            return 1;
        }
        if param.bytes().any(|b| b <= b' ' || b == 0x7f) {
            error!("add_uri_param: white space in {param:?}");
            return -1;
        }
        if util::parse_uri(ctx.ruri()).is_none() {
            error!("add_uri_param: bad R-URI");
            return -1;
        }
        let new = util::add_param(ctx.ruri(), param);
        ctx.new_uri = Some(new);
        1
    }

    /// Parses every header field the core knows the grammar of (Via,
    /// From, To, CSeq, Contact, Route...). 1 if all parse, -1 otherwise.
    #[kemi_export]
    pub fn sip_parse_headers(ctx: &Context) -> i32 {
        match ctx.msg.validate() {
            Ok(()) => 1,
            Err(e) => {
                debug!("sip_parse_headers: {e}");
                -1
            }
        }
    }
}

pub static MODULE: ModuleDef = ModuleDef {
    name: "siputils",
    summary:
        "SIP checks and helpers: message kind, URI parameters, OPTIONS replies, Contact encoding",
    kemi: Some(&kemi::SUBMODULE),
    params: &[
        ModParam {
            name: "options_accept",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "Accept header value of options_reply (default \"*/*\")",
        },
        ModParam {
            name: "options_accept_encoding",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "Accept-Encoding header value of options_reply (default empty: not sent)",
        },
        ModParam {
            name: "options_accept_language",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "Accept-Language header value of options_reply (default \"en\")",
        },
        ModParam {
            name: "options_support",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "Supported header value of options_reply (default empty: not sent)",
        },
        ModParam {
            name: "contact_flds_separator",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "separator of the fields encode_contact packs into the user part (default \"*\")",
        },
    ],
    rpc: &[],
};
