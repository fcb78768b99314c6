//! kemix: `KSR.kx`, direct getters for what scripts would otherwise read
//! through pseudo-variables (`$ru`, `$fU`, `$si`...), plus the config's
//! pre-processor defines and the process environment.
//!
//! Getters come in up to three flavours that differ only in what a
//! missing value gives: `get_*` null (`nil`), `getw_*` the string
//! `"<null>"`, `gete_*` the empty string.

use std::net::{IpAddr, SocketAddr};

use kemi_core::config::{Config, Host};
use kemi_core::net::Proto;
use kemi_core::{kemi_module, Context, ModuleDef};

/// Getters for message attributes (R-URI, From/To, source and local
/// addresses, body...), config defines and environment variables.
#[kemi_module(name = "kx")]
pub mod kemi {
    use std::time::{SystemTime, UNIX_EPOCH};

    use kemi_core::sip::{Contacts, HeaderName, Message, Uri};
    use kemi_core::{Context, NullMode, Xval};

    use super::{listen_for, proto_of, sock_string};

    fn text(s: Option<&str>, mode: NullMode) -> Xval {
        Xval::or_null(s.map(str::to_string), mode)
    }

    /// The R-URI the script sees (`None` for replies).
    fn ruri(ctx: &Context) -> Option<&str> {
        if ctx.msg.is_request() {
            Some(ctx.ruri())
        } else {
            None
        }
    }

    fn ruri_user(ctx: &Context) -> Option<String> {
        let uri = Uri::parse(ruri(ctx)?).ok()?;
        uri.user.filter(|u| !u.is_empty()).map(str::to_string)
    }

    fn ruri_host(ctx: &Context) -> Option<String> {
        let uri = Uri::parse(ruri(ctx)?).ok()?;
        Some(uri.host.to_string()).filter(|h| !h.is_empty())
    }

    /// The URI of From (`to == false`) or To, parsed from the message.
    fn addr_uri(msg: &Message, to: bool) -> Option<(String, Option<String>, String)> {
        let na = if to { msg.to() } else { msg.from() }.ok()?;
        Some((
            na.uri.raw.to_string(),
            na.uri.user.filter(|u| !u.is_empty()).map(str::to_string),
            na.uri.host.to_string(),
        ))
    }

    fn contact_uri(msg: &Message) -> Option<String> {
        match msg.contacts().ok()? {
            Contacts::Star => None,
            Contacts::List(list) => list.first().map(|c| c.uri.raw.to_string()),
        }
    }

    fn user_agent(msg: &Message) -> Option<String> {
        msg.header(HeaderName::UserAgent)
            .map(|v| kemi_core::sip::scan::unfold(v).trim().to_string())
    }

    /// The user name of the credentials, from Proxy-Authorization if the
    /// request has one, else Authorization; never for ACK and CANCEL.
    fn auth_user(msg: &Message) -> Option<String> {
        if !msg.is_request() || matches!(msg.method_str(), "ACK" | "CANCEL") {
            return None;
        }
        let value = msg
            .header(HeaderName::ProxyAuthorization)
            .or_else(|| msg.header(HeaderName::Authorization))?;
        let user = super::digest_param(value, "username")?;
        // `$au` is the user part: `alice@example.com` gives `alice`.
        let user = user.split('@').next().unwrap_or_default().to_string();
        Some(user).filter(|u| !u.is_empty())
    }

    fn body(msg: &Message) -> Option<String> {
        let b = msg.body();
        (!b.is_empty()).then(|| String::from_utf8_lossy(b).into_owned())
    }

    fn clamp(n: usize) -> i32 {
        i32::try_from(n).unwrap_or(i32::MAX)
    }

    /// The R-URI: the one the script set if any, else the received one;
    /// null for replies.
    #[kemi_export]
    pub fn get_ruri(ctx: &Context) -> Xval {
        text(ruri(ctx), NullMode::Null)
    }

    /// The user part of the R-URI (`$rU`); null when it has none.
    #[kemi_export]
    pub fn get_ruser(ctx: &Context) -> Xval {
        Xval::or_null(ruri_user(ctx), NullMode::Null)
    }

    /// The user part of the R-URI; `"<null>"` when it has none.
    #[kemi_export]
    pub fn getw_ruser(ctx: &Context) -> Xval {
        Xval::or_null(ruri_user(ctx), NullMode::Print)
    }

    /// The user part of the R-URI; `""` when it has none.
    #[kemi_export]
    pub fn gete_ruser(ctx: &Context) -> Xval {
        Xval::or_null(ruri_user(ctx), NullMode::Empty)
    }

    /// The host of the R-URI (`$rd`); null for replies or a bad URI.
    #[kemi_export]
    pub fn get_rhost(ctx: &Context) -> Xval {
        Xval::or_null(ruri_host(ctx), NullMode::Null)
    }

    /// The host of the R-URI; `"<null>"` when missing.
    #[kemi_export]
    pub fn getw_rhost(ctx: &Context) -> Xval {
        Xval::or_null(ruri_host(ctx), NullMode::Print)
    }

    /// The host of the R-URI; `""` when missing.
    #[kemi_export]
    pub fn gete_rhost(ctx: &Context) -> Xval {
        Xval::or_null(ruri_host(ctx), NullMode::Empty)
    }

    /// The R-URI as received, ignoring changes made by the script (`$ou`);
    /// null for replies.
    #[kemi_export]
    pub fn get_ouri(ctx: &Context) -> Xval {
        text(ctx.msg.request_uri(), NullMode::Null)
    }

    /// The From URI (`$fu`); null if From is missing or does not parse.
    #[kemi_export]
    pub fn get_furi(ctx: &Context) -> Xval {
        Xval::or_null(addr_uri(&ctx.msg, false).map(|a| a.0), NullMode::Null)
    }

    /// The user part of the From URI (`$fU`); null when it has none.
    #[kemi_export]
    pub fn get_fuser(ctx: &Context) -> Xval {
        Xval::or_null(addr_uri(&ctx.msg, false).and_then(|a| a.1), NullMode::Null)
    }

    /// The user part of the From URI; `"<null>"` when it has none.
    #[kemi_export]
    pub fn getw_fuser(ctx: &Context) -> Xval {
        Xval::or_null(addr_uri(&ctx.msg, false).and_then(|a| a.1), NullMode::Print)
    }

    /// The user part of the From URI; `""` when it has none.
    #[kemi_export]
    pub fn gete_fuser(ctx: &Context) -> Xval {
        Xval::or_null(addr_uri(&ctx.msg, false).and_then(|a| a.1), NullMode::Empty)
    }

    /// The host of the From URI (`$fd`); null when missing.
    #[kemi_export]
    pub fn get_fhost(ctx: &Context) -> Xval {
        Xval::or_null(addr_uri(&ctx.msg, false).map(|a| a.2), NullMode::Null)
    }

    /// The host of the From URI; `"<null>"` when missing.
    #[kemi_export]
    pub fn getw_fhost(ctx: &Context) -> Xval {
        Xval::or_null(addr_uri(&ctx.msg, false).map(|a| a.2), NullMode::Print)
    }

    /// The host of the From URI; `""` when missing.
    #[kemi_export]
    pub fn gete_fhost(ctx: &Context) -> Xval {
        Xval::or_null(addr_uri(&ctx.msg, false).map(|a| a.2), NullMode::Empty)
    }

    /// The To URI (`$tu`); null if To is missing or does not parse.
    #[kemi_export]
    pub fn get_turi(ctx: &Context) -> Xval {
        Xval::or_null(addr_uri(&ctx.msg, true).map(|a| a.0), NullMode::Null)
    }

    /// The user part of the To URI (`$tU`); null when it has none.
    #[kemi_export]
    pub fn get_tuser(ctx: &Context) -> Xval {
        Xval::or_null(addr_uri(&ctx.msg, true).and_then(|a| a.1), NullMode::Null)
    }

    /// The user part of the To URI; `""` when it has none.
    #[kemi_export]
    pub fn gete_tuser(ctx: &Context) -> Xval {
        Xval::or_null(addr_uri(&ctx.msg, true).and_then(|a| a.1), NullMode::Empty)
    }

    /// The user part of the To URI; `"<null>"` when it has none.
    #[kemi_export]
    pub fn getw_tuser(ctx: &Context) -> Xval {
        Xval::or_null(addr_uri(&ctx.msg, true).and_then(|a| a.1), NullMode::Print)
    }

    /// The host of the To URI (`$td`); null when missing.
    #[kemi_export]
    pub fn get_thost(ctx: &Context) -> Xval {
        Xval::or_null(addr_uri(&ctx.msg, true).map(|a| a.2), NullMode::Null)
    }

    /// The host of the To URI; `""` when missing.
    #[kemi_export]
    pub fn gete_thost(ctx: &Context) -> Xval {
        Xval::or_null(addr_uri(&ctx.msg, true).map(|a| a.2), NullMode::Empty)
    }

    /// The host of the To URI; `"<null>"` when missing.
    #[kemi_export]
    pub fn getw_thost(ctx: &Context) -> Xval {
        Xval::or_null(addr_uri(&ctx.msg, true).map(|a| a.2), NullMode::Print)
    }

    /// The destination URI (`$du`); null when not set.
    #[kemi_export]
    pub fn get_duri(ctx: &Context) -> Xval {
        text(ctx.dst_uri.as_deref(), NullMode::Null)
    }

    /// The destination URI; `""` when not set.
    #[kemi_export]
    pub fn gete_duri(ctx: &Context) -> Xval {
        text(ctx.dst_uri.as_deref(), NullMode::Empty)
    }

    /// The destination URI; `"<null>"` when not set.
    #[kemi_export]
    pub fn getw_duri(ctx: &Context) -> Xval {
        text(ctx.dst_uri.as_deref(), NullMode::Print)
    }

    /// The URI of the first Contact (`$ct` without the name-addr); null
    /// without Contact, for `Contact: *`, or if it does not parse.
    #[kemi_export]
    pub fn get_cturi(ctx: &Context) -> Xval {
        Xval::or_null(contact_uri(&ctx.msg), NullMode::Null)
    }

    /// The URI of the first Contact; `""` when there is none.
    #[kemi_export]
    pub fn gete_cturi(ctx: &Context) -> Xval {
        Xval::or_null(contact_uri(&ctx.msg), NullMode::Empty)
    }

    /// The URI of the first Contact; `"<null>"` when there is none.
    #[kemi_export]
    pub fn getw_cturi(ctx: &Context) -> Xval {
        Xval::or_null(contact_uri(&ctx.msg), NullMode::Print)
    }

    /// The next-hop URI: `$du` if set, else the R-URI; null for replies
    /// without `$du`.
    #[kemi_export]
    pub fn get_nhuri(ctx: &Context) -> Xval {
        match &ctx.dst_uri {
            Some(du) => Xval::from(du.clone()),
            None => text(ruri(ctx), NullMode::Null),
        }
    }

    /// The sender as a SIP URI (`$su`): `sip:ip:port`, with
    /// `;transport=...` unless the message came over UDP.
    #[kemi_export]
    pub fn get_srcuri(ctx: &Context) -> Xval {
        let src = ctx.recv.src;
        let mut uri = format!("sip:{src}");
        if ctx.recv.proto != kemi_core::net::Proto::Udp {
            uri.push_str(";transport=");
            uri.push_str(ctx.recv.proto.name());
        }
        Xval::from(uri)
    }

    /// The sender as a socket string, `proto:ip:port` (`$sas`).
    #[kemi_export]
    pub fn get_srcaddr_sock(ctx: &Context) -> Xval {
        Xval::from(sock_string(ctx.recv.proto, ctx.recv.src))
    }

    /// The User-Agent header value (`$ua`); null when missing.
    #[kemi_export]
    pub fn get_ua(ctx: &Context) -> Xval {
        Xval::or_null(user_agent(&ctx.msg), NullMode::Null)
    }

    /// The User-Agent header value; `""` when missing.
    #[kemi_export]
    pub fn gete_ua(ctx: &Context) -> Xval {
        Xval::or_null(user_agent(&ctx.msg), NullMode::Empty)
    }

    /// The User-Agent header value; `"<null>"` when missing.
    #[kemi_export]
    pub fn getw_ua(ctx: &Context) -> Xval {
        Xval::or_null(user_agent(&ctx.msg), NullMode::Print)
    }

    /// The sender's IP address (`$si`), IPv6 without brackets.
    #[kemi_export]
    pub fn get_srcip(ctx: &Context) -> Xval {
        Xval::from(ctx.recv.src.ip().to_string())
    }

    /// The sender's port (`$sp`), as an integer.
    #[kemi_export]
    pub fn get_srcport(ctx: &Context) -> Xval {
        Xval::Int(i32::from(ctx.recv.src.port()))
    }

    /// The forced send socket (`proto:ip:port`, `$fs`); null when none
    /// was forced.
    #[kemi_export]
    pub fn get_send_sock(ctx: &Context) -> Xval {
        Xval::or_null(
            ctx.send_socket.as_ref().map(|s| s.to_socket_string()),
            NullMode::Null,
        )
    }

    /// The name of the forced send socket; null when none was forced or
    /// it has no name.
    #[kemi_export]
    pub fn get_send_sock_name(ctx: &Context) -> Xval {
        Xval::or_null(
            ctx.send_socket.as_ref().and_then(|s| s.name.clone()),
            NullMode::Null,
        )
    }

    /// The port of the forced send socket; 0 when none was forced.
    #[kemi_export]
    pub fn get_send_sock_port(ctx: &Context) -> i32 {
        ctx.send_socket
            .as_ref()
            .map_or(0, |s| i32::from(s.addr.port()))
    }

    /// The local IP address the message arrived on (`$Ri`).
    #[kemi_export]
    pub fn get_rcvip(ctx: &Context) -> Xval {
        Xval::from(ctx.recv.local.ip().to_string())
    }

    /// The config name of the socket the message arrived on; null when
    /// that socket has no name.
    #[kemi_export]
    pub fn get_rcv_sock_name(ctx: &Context) -> Xval {
        let cfg = ctx.runtime().config();
        Xval::or_null(
            listen_for(cfg, proto_of(ctx), ctx.recv.local).and_then(|l| l.name.clone()),
            NullMode::Null,
        )
    }

    /// The local port the message arrived on (`$Rp`), as an integer.
    #[kemi_export]
    pub fn get_rcvport(ctx: &Context) -> Xval {
        Xval::Int(i32::from(ctx.recv.local.port()))
    }

    /// The address advertised for the receiving socket (`advertise` in
    /// `listen`), or its IP when it advertises none.
    #[kemi_export]
    pub fn get_rcvadvip(ctx: &Context) -> Xval {
        let cfg = ctx.runtime().config();
        let adv = listen_for(cfg, proto_of(ctx), ctx.recv.local)
            .and_then(|l| l.advertise.as_ref())
            // IPv6 comes in brackets, as in a URI host.
            .map(|a| a.addr.to_string());
        Xval::from(adv.unwrap_or_else(|| ctx.recv.local.ip().to_string()))
    }

    /// The port advertised for the receiving socket, or its real port.
    #[kemi_export]
    pub fn get_rcvadvport(ctx: &Context) -> Xval {
        let cfg = ctx.runtime().config();
        let port = listen_for(cfg, proto_of(ctx), ctx.recv.local)
            .and_then(|l| l.advertise.as_ref())
            .and_then(|a| a.port)
            .unwrap_or(ctx.recv.local.port());
        Xval::Int(i32::from(port))
    }

    /// The receiving socket as `proto:ip:port`.
    #[kemi_export]
    pub fn get_rcvaddr_sock(ctx: &Context) -> Xval {
        Xval::from(sock_string(ctx.recv.proto, ctx.recv.local))
    }

    /// The transport the message arrived over: `udp`, `tcp`, `tls`,
    /// `sctp`, `ws` or `wss` (`$pr`).
    #[kemi_export]
    pub fn get_proto(ctx: &Context) -> Xval {
        Xval::from(ctx.recv.proto.name())
    }

    /// Kamailio's number for the arrival transport (1 udp, 2 tcp, 3 tls,
    /// 4 sctp, 5 ws, 6 wss).
    #[kemi_export]
    pub fn get_protoid(ctx: &Context) -> i32 {
        ctx.recv.proto.id()
    }

    /// The user name of the credentials (`$au`): from Proxy-Authorization
    /// if present, else Authorization, without any `@domain`; null for ACK,
    /// CANCEL, replies and requests without credentials.
    #[kemi_export]
    pub fn get_au(ctx: &Context) -> Xval {
        Xval::or_null(auth_user(&ctx.msg), NullMode::Null)
    }

    /// The credentials' user name; `"<null>"` when missing.
    #[kemi_export]
    pub fn getw_au(ctx: &Context) -> Xval {
        Xval::or_null(auth_user(&ctx.msg), NullMode::Print)
    }

    /// The credentials' user name; `""` when missing.
    #[kemi_export]
    pub fn gete_au(ctx: &Context) -> Xval {
        Xval::or_null(auth_user(&ctx.msg), NullMode::Empty)
    }

    /// The method (`$rm`): the request's, or the CSeq method of a reply.
    #[kemi_export]
    pub fn get_method(ctx: &Context) -> Xval {
        Xval::from(ctx.msg.method_str().to_string())
    }

    /// The status code of a reply (`$rs`); -1 for requests.
    #[kemi_export]
    pub fn get_status(ctx: &Context) -> i32 {
        ctx.msg.status_code().map_or(-1, i32::from)
    }

    /// The status code of a reply as a string; null for requests.
    #[kemi_export]
    pub fn gets_status(ctx: &Context) -> Xval {
        Xval::or_null(ctx.msg.status_code().map(|c| c.to_string()), NullMode::Null)
    }

    /// The message body (`$rb`); null when the message has none.
    #[kemi_export]
    pub fn get_body(ctx: &Context) -> Xval {
        Xval::or_null(body(&ctx.msg), NullMode::Null)
    }

    /// The message body; `"<null>"` when the message has none.
    #[kemi_export]
    pub fn getw_body(ctx: &Context) -> Xval {
        Xval::or_null(body(&ctx.msg), NullMode::Print)
    }

    /// The message body; `""` when the message has none.
    #[kemi_export]
    pub fn gete_body(ctx: &Context) -> Xval {
        Xval::or_null(body(&ctx.msg), NullMode::Empty)
    }

    /// The body length in bytes (0 without body).
    #[kemi_export]
    pub fn get_bodylen(ctx: &Context) -> i32 {
        clamp(ctx.msg.body().len())
    }

    /// The current Unix time in seconds.
    #[kemi_export]
    pub fn get_timestamp() -> i32 {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        i32::try_from(secs).unwrap_or(i32::MAX)
    }

    /// The Call-ID value (`$ci`); `""` when missing.
    #[kemi_export]
    pub fn get_callid(ctx: &Context) -> Xval {
        Xval::from(ctx.msg.call_id().unwrap_or("").to_string())
    }

    /// The id of the TCP/TLS/WS connection the message came over (`$conid`).
    /// The transport layer does not expose connection ids to scripts yet,
    /// so this is -1 as for UDP.
    #[kemi_export]
    pub fn get_conid(_ctx: &Context) -> i32 {
        -1
    }

    /// The message as received (`$mb`).
    #[kemi_export]
    pub fn get_msgbuf(ctx: &Context) -> Xval {
        Xval::from(String::from_utf8_lossy(ctx.msg.as_bytes()).into_owned())
    }

    /// The length of the received message in bytes (`$ml`).
    #[kemi_export]
    pub fn get_msglen(ctx: &Context) -> i32 {
        clamp(ctx.msg.as_bytes().len())
    }

    /// 1 for a request, 2 for a reply.
    #[kemi_export]
    pub fn get_msgtype(ctx: &Context) -> i32 {
        if ctx.msg.is_request() {
            1
        } else {
            2
        }
    }

    /// The value of the config define `dname` (`#!define`): `""` when it is
    /// defined without a value, null when it is not defined.
    #[kemi_export]
    pub fn get_def(ctx: &Context, dname: &str) -> Xval {
        match ctx.runtime().config().defines.get(dname) {
            Some(v) => Xval::from(v.unwrap_or("").to_string()),
            None => Xval::Null,
        }
    }

    /// The value of the config define `dname` as an integer; 0 when it is
    /// undefined, has no value or is not a number.
    #[kemi_export]
    pub fn get_defn(ctx: &Context, dname: &str) -> i32 {
        ctx.runtime()
            .config()
            .defines
            .get(dname)
            .flatten()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// True if `dname` is defined in the config (with or without value).
    #[kemi_export]
    pub fn ifdef(ctx: &Context, dname: &str) -> bool {
        ctx.runtime().config().defines.is_defined(dname)
    }

    /// True if `dname` is not defined in the config.
    #[kemi_export]
    pub fn ifndef(ctx: &Context, dname: &str) -> bool {
        !ctx.runtime().config().defines.is_defined(dname)
    }

    /// The value of the environment variable `envname`; null when unset
    /// (or not valid Unicode).
    #[kemi_export]
    pub fn get_env(envname: &str) -> Xval {
        Xval::or_null(std::env::var(envname).ok(), NullMode::Null)
    }

    /// The environment variable `envname` as an integer; 0 when unset or
    /// not a number.
    #[kemi_export]
    pub fn get_envn(envname: &str) -> i32 {
        std::env::var(envname)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }
}

/// `proto:ip:port`, IPv6 in brackets, as Kamailio writes sockets.
fn sock_string(proto: Proto, addr: SocketAddr) -> String {
    format!("{}:{}", proto.name(), addr)
}

fn proto_of(ctx: &Context) -> Proto {
    ctx.recv.proto
}

/// The `listen` entry that describes the local socket `addr`, if any: same
/// protocol, same port (the global `port` when not given), and the same IP
/// or a wildcard address.
fn listen_for(
    cfg: &Config,
    proto: Proto,
    addr: SocketAddr,
) -> Option<&kemi_core::config::ListenSpec> {
    cfg.listen.iter().find(|l| {
        let port = l.port.unwrap_or(cfg.port);
        let ip_ok = match &l.addr {
            Host::Ipv4(ip) => IpAddr::V4(*ip) == addr.ip(),
            Host::Ipv6(ip) => IpAddr::V6(*ip) == addr.ip(),
            Host::Any => true,
            Host::Name(_) => false,
        };
        let proto_ok = l.proto == kemi_core::config::Proto::Any || l.proto.name() == proto.name();
        proto_ok && port == addr.port() && ip_ok
    })
}

/// The value of a Digest credentials parameter, unquoted.
fn digest_param(value: &str, name: &str) -> Option<String> {
    let v = value.trim_start();
    // Skip the scheme ("Digest").
    let rest = v.split_once(char::is_whitespace).map(|(_, r)| r)?;
    let mut s = rest;
    loop {
        s = s.trim_start_matches([' ', '\t', ',', '\r', '\n']);
        if s.is_empty() {
            return None;
        }
        let eq = s.find('=')?;
        let key = s.get(..eq)?.trim();
        let after = s.get(eq + 1..)?.trim_start();
        let (val, next) = if let Some(q) = after.strip_prefix('"') {
            let end = quoted_end(q)?;
            (q.get(..end)?.replace("\\\"", "\""), q.get(end + 1..)?)
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after.get(..end)?.trim().to_string(), after.get(end..)?)
        };
        if key.eq_ignore_ascii_case(name) {
            return Some(val);
        }
        s = next;
    }
}

/// Index of the closing quote in `s` (which starts after the opening one).
fn quoted_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

pub static MODULE: ModuleDef = ModuleDef {
    name: "kemix",
    summary: "KSR.kx: getters for message attributes, config defines and environment variables",
    kemi: Some(&kemi::SUBMODULE),
    params: &[],
    rpc: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_username() {
        let v = r#"Digest realm="example.com", username="al\"ice@x", nonce="n""#;
        assert_eq!(digest_param(v, "username").as_deref(), Some("al\"ice@x"));
        assert_eq!(digest_param(v, "nonce").as_deref(), Some("n"));
        assert_eq!(digest_param(v, "uri"), None);
        assert_eq!(digest_param("Digest", "username"), None);
        assert_eq!(
            digest_param("Digest username=bob,realm=r", "username").as_deref(),
            Some("bob")
        );
    }
}
