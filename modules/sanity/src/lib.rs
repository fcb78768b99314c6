//! `sanity`: syntax and semantics checks of requests (`KSR.sanity.*`).
//!
//! The checks and their bit values are Kamailio's, so scripts pass the same
//! numbers. When a check fails the module records the reply it calls for
//! (code and reason, also what `KSR.sl.sl_reply_error()` and
//! `KSR.sanity.sanity_reply()` send) and sends it at once unless the
//! `noreply` parameter is set. From KEMI a failure is always -1; the
//! `autodrop` parameter only matters to native scripts and is accepted for
//! config compatibility.

use kemi_core::sip::{HeaderName, Message, Scheme, Uri};
use kemi_core::{kemi_module, Context, ModParam, ModParamKind, ModuleDef};

/// `msg_checks` bits.
pub const RURI_SIP_VERSION: i32 = 1 << 0;
pub const RURI_SCHEME: i32 = 1 << 1;
pub const REQUIRED_HEADERS: i32 = 1 << 2;
pub const VIA_SIP_VERSION: i32 = 1 << 3;
pub const VIA_PROTOCOL: i32 = 1 << 4;
pub const CSEQ_METHOD: i32 = 1 << 5;
pub const CSEQ_VALUE: i32 = 1 << 6;
pub const CL: i32 = 1 << 7;
pub const EXPIRES_VALUE: i32 = 1 << 8;
pub const PROXY_REQUIRE: i32 = 1 << 9;
pub const PARSE_URIS: i32 = 1 << 10;
pub const CHECK_DIGEST: i32 = 1 << 11;
pub const CHECK_DUPTAGS: i32 = 1 << 12;
pub const CHECK_AUTHORIZATION: i32 = 1 << 13;
/// Kamailio's `default_checks`: everything but the Via checks, URI parsing,
/// duplicate tags and the Authorization syntax check.
pub const DEFAULT_CHECKS: i32 = RURI_SIP_VERSION
    | RURI_SCHEME
    | REQUIRED_HEADERS
    | CSEQ_METHOD
    | CSEQ_VALUE
    | CL
    | EXPIRES_VALUE
    | PROXY_REQUIRE
    | CHECK_DIGEST;

/// `uri_checks` bits (which URIs `PARSE_URIS` parses).
pub const URI_RURI: i32 = 1 << 0;
pub const URI_FROM: i32 = 1 << 1;
pub const URI_TO: i32 = 1 << 2;
pub const URI_CONTACT: i32 = 1 << 3;
pub const DEFAULT_URI_CHECKS: i32 = URI_RURI | URI_FROM | URI_TO;

/// A failed check: the reply it calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: u16,
    pub reason: &'static str,
    /// Extra header lines for the reply (420's Unsupported).
    pub headers: String,
}

fn fail(code: u16, reason: &'static str) -> Result<(), Failure> {
    Err(Failure {
        code,
        reason,
        headers: String::new(),
    })
}

/// Module parameters as the config gives them.
struct Params {
    default_checks: i32,
    uri_checks: i32,
    noreply: bool,
    proxy_require: Vec<String>,
}

fn params(ctx: &Context) -> Params {
    let m = ctx.runtime().config().module("sanity");
    let int = |name: &str, default: i32| {
        m.and_then(|m| m.param(name))
            .and_then(|v| v.as_int())
            .and_then(|v| i32::try_from(v).ok())
            .unwrap_or(default)
    };
    let proxy_require = m
        .and_then(|m| m.param("proxy_require"))
        .and_then(|v| v.as_str())
        .map(|s| {
            s.split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default();
    Params {
        default_checks: int("default_checks", DEFAULT_CHECKS),
        uri_checks: int("uri_checks", DEFAULT_URI_CHECKS),
        noreply: int("noreply", 0) != 0,
        proxy_require,
    }
}

fn check_uri(text: &str, reason: &'static str) -> Result<(), Failure> {
    match Uri::parse(text) {
        Ok(_) => Ok(()),
        Err(_) => fail(400, reason),
    }
}

/// Digest credentials need username, realm, nonce, uri and response.
fn digest_ok(value: &str) -> bool {
    let v = value.trim_start();
    let Some(rest) = v
        .get(..6)
        .filter(|s| s.eq_ignore_ascii_case("digest"))
        .and_then(|_| v.get(6..))
    else {
        // Other schemes are not checked.
        return true;
    };
    let names: Vec<String> = rest
        .split(',')
        .filter_map(|p| p.split_once('='))
        .map(|(n, _)| n.trim().to_ascii_lowercase())
        .collect();
    ["username", "realm", "nonce", "uri", "response"]
        .iter()
        .all(|want| names.iter().any(|n| n == want))
}

/// Credentials are `scheme` then `name=value` pairs (RFC 3261 25.1).
fn authorization_ok(value: &str) -> bool {
    let v = value.trim();
    let scheme_end = v.find(|c: char| c.is_whitespace()).unwrap_or(v.len());
    let scheme = v.get(..scheme_end).unwrap_or_default();
    if scheme.is_empty() || !kemi_core::sip::scan::is_token_str(scheme) {
        return false;
    }
    let rest = v.get(scheme_end..).unwrap_or_default().trim();
    rest.is_empty()
        || kemi_core::sip::scan::split_commas(rest)
            .iter()
            .all(|p| p.contains('='))
}

/// Runs the checks selected by `msg_checks` (and `uri_checks` for URI
/// parsing) on `msg`; the first failure wins.
pub fn check(
    msg: &Message,
    msg_checks: i32,
    uri_checks: i32,
    proxy_require: &[String],
    stream: bool,
) -> Result<(), Failure> {
    let on = |bit: i32| msg_checks & bit != 0;
    let request = msg.is_request();
    if request && on(RURI_SIP_VERSION) && !msg.version().eq_ignore_ascii_case("SIP/2.0") {
        return fail(505, "Version Not Supported (R-URI)");
    }
    if request && on(RURI_SCHEME) {
        match msg.parsed_request_uri() {
            Ok(u) if matches!(u.scheme, Scheme::Sip | Scheme::Sips | Scheme::Tel) => {}
            Ok(u)
                if ["tels", "urn"]
                    .iter()
                    .any(|s| u.scheme_str.eq_ignore_ascii_case(s)) => {}
            Ok(_) => return fail(416, "Unsupported URI Scheme in Request URI"),
            Err(_) => return fail(400, "Bad Request URI"),
        }
    }
    if on(REQUIRED_HEADERS) {
        for h in [
            HeaderName::From,
            HeaderName::To,
            HeaderName::CallId,
            HeaderName::CSeq,
        ] {
            if msg.header(h).is_none() {
                return fail(400, "Missing Required Header in Request");
            }
        }
    }
    if on(VIA_SIP_VERSION) || on(VIA_PROTOCOL) {
        let via = match msg.top_via() {
            Ok(v) => v,
            Err(_) => return fail(400, "Missing or Malformed Via"),
        };
        if on(VIA_SIP_VERSION) && via.version != "2.0" {
            return fail(505, "Version Not Supported (Via)");
        }
        if on(VIA_PROTOCOL) && kemi_core::net::Proto::parse(via.transport).is_none() {
            return fail(400, "Unsupported Transport in Topmost Via");
        }
    }
    if on(CSEQ_METHOD) || on(CSEQ_VALUE) {
        if msg.header(HeaderName::CSeq).is_none() {
            return fail(400, "Missing CSeq Header");
        }
        let Ok(cseq) = msg.cseq() else {
            return fail(400, "CSeq number is illegal");
        };
        if request && on(CSEQ_METHOD) && cseq.method_str != msg.method_str() {
            return fail(400, "CSeq method does not match request method");
        }
    }
    if on(CL) {
        let lengths: Vec<&str> = msg
            .headers_of(HeaderName::ContentLength)
            .map(|h| h.value.trim())
            .collect();
        match lengths.first() {
            None if stream => return fail(400, "Content-Length mis-match"),
            None => {}
            Some(first) => {
                let ok = first.parse::<usize>().is_ok_and(|n| n == msg.body().len())
                    && lengths.iter().all(|l| l == first);
                if !ok {
                    return fail(400, "Content-Length mis-match");
                }
            }
        }
    }
    if on(EXPIRES_VALUE) && msg.expires().is_err() {
        return fail(400, "Expires value is illegal");
    }
    if request && on(PROXY_REQUIRE) {
        let unsupported: Vec<String> = msg
            .headers_of(HeaderName::ProxyRequire)
            .flat_map(|h| {
                kemi_core::sip::scan::split_commas(h.value)
                    .into_iter()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .filter(|t| !t.is_empty() && !proxy_require.contains(&t.to_ascii_lowercase()))
            .collect();
        if !unsupported.is_empty() {
            return Err(Failure {
                code: 420,
                reason: "Bad Extension",
                headers: format!("Unsupported: {}\r\n", unsupported.join(", ")),
            });
        }
    }
    if on(PARSE_URIS) {
        if request && uri_checks & URI_RURI != 0 {
            check_uri(msg.request_uri().unwrap_or_default(), "Bad Request URI")?;
        }
        if uri_checks & URI_FROM != 0 && msg.from().is_err() {
            return fail(400, "Bad From URI");
        }
        if uri_checks & URI_TO != 0 && msg.to().is_err() {
            return fail(400, "Bad To URI");
        }
        if uri_checks & URI_CONTACT != 0
            && msg.header(HeaderName::Contact).is_some()
            && msg.contacts().is_err()
        {
            return fail(400, "Bad Contact URI");
        }
    }
    if on(CHECK_DIGEST) {
        let creds = msg
            .headers_of(HeaderName::Authorization)
            .chain(msg.headers_of(HeaderName::ProxyAuthorization));
        for h in creds {
            if !digest_ok(&h.unfolded()) {
                return fail(400, "Malformed Credentials");
            }
        }
    }
    if on(CHECK_DUPTAGS) {
        for addr in [msg.from(), msg.to()].into_iter().flatten() {
            if addr
                .params
                .iter()
                .filter(|p| p.name.eq_ignore_ascii_case("tag"))
                .count()
                > 1
            {
                return fail(400, "Duplicate Tag Parameter");
            }
        }
    }
    if on(CHECK_AUTHORIZATION) {
        let creds = msg
            .headers_of(HeaderName::Authorization)
            .chain(msg.headers_of(HeaderName::ProxyAuthorization));
        for h in creds {
            if !authorization_ok(&h.unfolded()) {
                return fail(400, "Bad Authorization Header");
            }
        }
    }
    Ok(())
}

fn send(ctx: &mut Context, f: &Failure) -> i32 {
    kemi_mod_sl::send_stateless(ctx, i32::from(f.code), f.reason, &f.headers, b"")
}

fn run(ctx: &mut Context, msg_checks: i32, uri_checks: i32) -> i32 {
    let p = params(ctx);
    let stream = ctx.recv.proto != kemi_core::net::Proto::Udp;
    match check(&ctx.msg, msg_checks, uri_checks, &p.proxy_require, stream) {
        Ok(()) => 1,
        Err(f) => {
            tracing::debug!("sanity: {} {}", f.code, f.reason);
            ctx.error_reply = Some((f.code, f.reason.to_string()));
            ctx.error_reply_headers = f.headers.clone();
            if !p.noreply && ctx.msg.is_request() {
                send(ctx, &f);
            }
            -1
        }
    }
}

/// Request sanity checks.
#[kemi_module(name = "sanity")]
pub mod kemi {
    use super::*;

    /// Runs the checks whose bits are set in `mflags` (Kamailio's values:
    /// 1 R-URI version, 2 R-URI scheme, 4 required headers, 8 Via version,
    /// 16 Via transport, 32 CSeq method, 64 CSeq number, 128
    /// Content-Length, 256 Expires, 512 Proxy-Require, 1024 URI parsing,
    /// 2048 digest credentials, 4096 duplicate tags, 8192 Authorization
    /// syntax), `uflags` choosing the URIs parsed (1 R-URI, 2 From, 4 To,
    /// 8 Contact). 1 when all pass; -1 after sending the error reply
    /// (unless `noreply` is set).
    #[kemi_export]
    pub fn sanity_check(ctx: &mut Context, mflags: i32, uflags: i32) -> i32 {
        run(ctx, mflags, uflags)
    }

    /// `sanity_check` with the `default_checks` and `uri_checks`
    /// parameters.
    #[kemi_export]
    pub fn sanity_check_defaults(ctx: &mut Context) -> i32 {
        let p = params(ctx);
        run(ctx, p.default_checks, p.uri_checks)
    }

    /// Sends the error reply of the last failed check on this message
    /// (for `noreply` setups). -1 when no check failed or nothing was sent.
    #[kemi_export]
    pub fn sanity_reply(ctx: &mut Context) -> i32 {
        let Some((code, reason)) = ctx.error_reply.clone() else {
            return -1;
        };
        let headers = ctx.error_reply_headers.clone();
        kemi_mod_sl::send_stateless(ctx, i32::from(code), &reason, &headers, b"")
    }
}

pub static MODULE: ModuleDef = ModuleDef {
    name: "sanity",
    summary: "syntax and semantics checks of requests",
    kemi: Some(&kemi::SUBMODULE),
    params: &[
        ModParam {
            name: "default_checks",
            kind: ModParamKind::Int,
            repeatable: false,
            doc: "Checks `sanity_check_defaults` runs (bit mask, default 3047).",
        },
        ModParam {
            name: "uri_checks",
            kind: ModParamKind::Int,
            repeatable: false,
            doc: "URIs parsed by the URI check (1 R-URI, 2 From, 4 To, 8 Contact; default 7).",
        },
        ModParam {
            name: "autodrop",
            kind: ModParamKind::Int,
            repeatable: false,
            doc: "Native scripts stop on failure when set; KEMI functions return -1 either way.",
        },
        ModParam {
            name: "noreply",
            kind: ModParamKind::Int,
            repeatable: false,
            doc: "When 1, failed checks send no reply (use `sanity_reply`).",
        },
        ModParam {
            name: "proxy_require",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "Comma-separated extensions accepted in Proxy-Require (default none).",
        },
    ],
    rpc: &[],
};
