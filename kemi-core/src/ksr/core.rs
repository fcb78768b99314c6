//! Functions on `KSR` itself: logging, flags, the destination URI, send
//! options, the method/protocol tests, `is_myself*`, Request-URI rewriting
//! and stateless forwarding. Every script has them, whatever modules are
//! loaded.

use std::net::IpAddr;

use crate::context::{flag_bit, Context, RouteKind, MAX_BRANCHES};
use crate::forward;
use crate::myself::{self, Target};
use crate::net::Proto;
use crate::sip::{Scheme, Uri};

/// Writes a script's log line at `level` (with the config's `log_prefix`).
fn script_log(ctx: &Context, level: LogLevel, text: &str) {
    let level = match level {
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Info | LogLevel::Notice => tracing::Level::INFO,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Error | LogLevel::Critical => tracing::Level::ERROR,
    };
    crate::log::script_line(ctx, level, text)
}

/// Kamailio's log levels, as `KSR.log` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LogLevel {
    Debug,
    Info,
    Notice,
    Warn,
    Error,
    Critical,
}

impl LogLevel {
    /// `KSR.log`'s level names; anything else logs as an error, as in Kamailio.
    fn from_name(name: &str) -> LogLevel {
        match name.to_ascii_lowercase().as_str() {
            "dbg" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "notice" => LogLevel::Notice,
            "warn" => LogLevel::Warn,
            "crit" => LogLevel::Critical,
            _ => LogLevel::Error,
        }
    }
}

fn set_bit(word: &mut u32, flag: i32, on: bool) -> bool {
    match flag_bit(flag) {
        Some(bit) if on => *word |= bit,
        Some(bit) => *word &= !bit,
        None => return false,
    }
    true
}

fn test_bit(word: u32, flag: i32) -> bool {
    flag_bit(flag).is_some_and(|bit| word & bit != 0)
}

fn branch_flags(ctx: &mut Context, branch: i32) -> Option<&mut u32> {
    usize::try_from(branch)
        .ok()
        .filter(|b| *b < MAX_BRANCHES)
        .map(|b| &mut ctx.bflags[b])
}

/// The method a test looks at: the request's, or the CSeq method of a reply.
fn msg_method(ctx: &Context) -> Option<&str> {
    if ctx.msg.is_request() {
        Some(ctx.msg.method_str())
    } else {
        ctx.msg.cseq().ok().map(|c| c.method_str)
    }
}

fn method_is(ctx: &Context, name: &str) -> bool {
    msg_method(ctx).is_some_and(|m| m.eq_ignore_ascii_case(name))
}

/// The methods `is_method` accepts in a `|` list (Kamailio's method ids).
const KNOWN_METHODS: &[&str] = &[
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "REGISTER",
    "OPTIONS",
    "INFO",
    "PRACK",
    "UPDATE",
    "SUBSCRIBE",
    "NOTIFY",
    "REFER",
    "MESSAGE",
    "PUBLISH",
    "KDMQ",
    "GET",
    "POST",
    "PUT",
    "DELETE",
];

/// `is_method_in` letters.
fn method_letter(c: char) -> Option<&'static str> {
    Some(match c.to_ascii_uppercase() {
        'I' => "INVITE",
        'A' => "ACK",
        'B' => "BYE",
        'C' => "CANCEL",
        'M' => "MESSAGE",
        'R' => "REGISTER",
        'E' => "PRACK",
        'P' => "PUBLISH",
        'S' => "SUBSCRIBE",
        'N' => "NOTIFY",
        'O' => "OPTIONS",
        'F' => "REFER",
        'G' => "GET",
        'U' => "UPDATE",
        'K' => "KDMQ",
        'D' => "DELETE",
        'T' => "POST",
        'V' => "PUT",
        _ => return None,
    })
}

fn recv_proto_in(ctx: &Context, protos: &[Proto]) -> bool {
    protos.contains(&ctx.recv.proto)
}

/// Where the message would go next, as (transport, host): for replies the
/// second Via (its `received` when present); for requests `$du`, else the
/// new R-URI, else the R-URI.
fn outgoing(ctx: &Context) -> Option<(Proto, String)> {
    if ctx.msg.is_response() {
        let vias = ctx.msg.vias().ok()?;
        let via = vias.get(1)?;
        let proto = Proto::parse(via.transport)?;
        let host = via.received().unwrap_or(via.host_unbracketed());
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        return Some((proto, host.to_string()));
    }
    let uri = Uri::parse(forward::next_hop_uri(ctx)).ok()?;
    if !matches!(uri.scheme, Scheme::Sip | Scheme::Sips) {
        return None;
    }
    Some((forward::uri_proto(&uri), uri.host_unbracketed().to_string()))
}

fn to_proto_in(ctx: &Context, protos: &[Proto]) -> bool {
    outgoing(ctx).is_some_and(|(p, _)| protos.contains(&p))
}

fn to_family(ctx: &Context, v4: bool) -> bool {
    outgoing(ctx)
        .and_then(|(_, host)| host.parse::<IpAddr>().ok())
        .is_some_and(|ip| ip.is_ipv4() == v4)
}

/// Which parts of the R-URI a rewrite replaces.
enum UriPart<'a> {
    User(&'a str),
    Host(&'a str),
}

/// The R-URI with its user or host replaced; the rest (password, port,
/// parameters, headers) kept as written.
fn rewrite_ruri(current: &str, part: UriPart<'_>) -> Option<String> {
    let uri = Uri::parse(current).ok()?;
    if !matches!(uri.scheme, Scheme::Sip | Scheme::Sips) {
        return None;
    }
    let base = current.as_ptr() as usize;
    let offset = |s: &str| (s.as_ptr() as usize).checked_sub(base);
    let host_start = offset(uri.host)?;
    let scheme_end = uri.scheme_str.len() + 1;
    let out = match part {
        UriPart::User(user) => {
            // Keep ":password" if there was one.
            let userinfo_tail = match uri.password {
                Some(pw) => format!(":{pw}"),
                None => String::new(),
            };
            let head = current.get(..scheme_end)?;
            let tail = current.get(host_start..)?;
            if user.is_empty() {
                format!("{head}{tail}")
            } else {
                format!("{head}{user}{userinfo_tail}@{tail}")
            }
        }
        UriPart::Host(host) => {
            if host.is_empty() {
                return None;
            }
            let host_end = host_start + uri.host.len();
            let host = if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]")
            } else {
                host.to_string()
            };
            format!(
                "{}{}{}",
                current.get(..host_start)?,
                host,
                current.get(host_end..)?
            )
        }
    };
    Uri::parse(&out).ok()?;
    Some(out)
}

fn myself_opt(ctx: &Context, uri: Option<&str>) -> bool {
    uri.is_some_and(|u| !u.is_empty() && myself::is_myself_uri(ctx, u))
}

#[crate::kemi_module(name = "")]
pub mod kemi {
    //! Functions on `KSR` itself: logging, flags, the destination URI and
    //! send options.
    use super::*;

    /// Logs `text` at debug level.
    #[kemi_export]
    pub fn dbg(ctx: &mut Context, text: &str) {
        script_log(ctx, LogLevel::Debug, text)
    }

    /// Logs `text` at error level.
    #[kemi_export]
    pub fn err(ctx: &mut Context, text: &str) {
        script_log(ctx, LogLevel::Error, text)
    }

    /// Logs `text` at info level.
    #[kemi_export]
    pub fn info(ctx: &mut Context, text: &str) {
        script_log(ctx, LogLevel::Info, text)
    }

    /// Logs `text` at warning level.
    #[kemi_export]
    pub fn warn(ctx: &mut Context, text: &str) {
        script_log(ctx, LogLevel::Warn, text)
    }

    /// Logs `text` at notice level.
    #[kemi_export]
    pub fn notice(ctx: &mut Context, text: &str) {
        script_log(ctx, LogLevel::Notice, text)
    }

    /// Logs `text` at critical level.
    #[kemi_export]
    pub fn crit(ctx: &mut Context, text: &str) {
        script_log(ctx, LogLevel::Critical, text)
    }

    /// Logs `text` at the level named by `level`: `dbg`, `info`, `notice`,
    /// `warn`, `err` or `crit` (any other name logs as an error).
    #[kemi_export]
    pub fn log(ctx: &mut Context, level: &str, text: &str) {
        script_log(ctx, LogLevel::from_name(level), text)
    }

    /// Marks the message to be dropped when the current callback ends. It
    /// does not stop the script, and has no effect in the request route,
    /// where not relaying is how a request is dropped.
    #[kemi_export]
    pub fn set_drop(ctx: &mut Context) {
        if ctx.route != RouteKind::Request {
            ctx.drop = true;
        }
    }

    /// Sets message flag `flag` (0..31). False when out of range.
    #[kemi_export]
    pub fn setflag(ctx: &mut Context, flag: i32) -> bool {
        set_bit(&mut ctx.flags, flag, true)
    }

    /// Clears message flag `flag` (0..31). False when out of range.
    #[kemi_export]
    pub fn resetflag(ctx: &mut Context, flag: i32) -> bool {
        set_bit(&mut ctx.flags, flag, false)
    }

    /// True when message flag `flag` is set.
    #[kemi_export]
    pub fn isflagset(ctx: &mut Context, flag: i32) -> bool {
        test_bit(ctx.flags, flag)
    }

    /// Sets branch flag `flag` on the first branch.
    #[kemi_export]
    pub fn setbflag(ctx: &mut Context, flag: i32) -> bool {
        setbiflag(ctx, flag, 0)
    }

    /// Clears branch flag `flag` on the first branch.
    #[kemi_export]
    pub fn resetbflag(ctx: &mut Context, flag: i32) -> bool {
        resetbiflag(ctx, flag, 0)
    }

    /// True when branch flag `flag` is set on the first branch.
    #[kemi_export]
    pub fn isbflagset(ctx: &mut Context, flag: i32) -> bool {
        isbiflagset(ctx, flag, 0)
    }

    /// Sets branch flag `flag` on branch number `branch`.
    #[kemi_export]
    pub fn setbiflag(ctx: &mut Context, flag: i32, branch: i32) -> bool {
        branch_flags(ctx, branch).is_some_and(|word| set_bit(word, flag, true))
    }

    /// Clears branch flag `flag` on branch number `branch`.
    #[kemi_export]
    pub fn resetbiflag(ctx: &mut Context, flag: i32, branch: i32) -> bool {
        branch_flags(ctx, branch).is_some_and(|word| set_bit(word, flag, false))
    }

    /// True when branch flag `flag` is set on branch number `branch`.
    #[kemi_export]
    pub fn isbiflagset(ctx: &mut Context, flag: i32, branch: i32) -> bool {
        branch_flags(ctx, branch).is_some_and(|word| test_bit(*word, flag))
    }

    /// Sets script flag `flag`. Script flags start cleared in every callback.
    #[kemi_export]
    pub fn setsflag(ctx: &mut Context, flag: i32) -> bool {
        set_bit(&mut ctx.sflags, flag, true)
    }

    /// Clears script flag `flag`.
    #[kemi_export]
    pub fn resetsflag(ctx: &mut Context, flag: i32) -> bool {
        set_bit(&mut ctx.sflags, flag, false)
    }

    /// True when script flag `flag` is set.
    #[kemi_export]
    pub fn issflagset(ctx: &mut Context, flag: i32) -> bool {
        test_bit(ctx.sflags, flag)
    }

    /// Sets the destination URI (`$du`): where the request is sent,
    /// whatever its Request-URI says.
    #[kemi_export]
    pub fn setdsturi(ctx: &mut Context, uri: &str) -> bool {
        ctx.dst_uri = Some(uri.to_string());
        true
    }

    /// Clears the destination URI (`$du`).
    #[kemi_export]
    pub fn resetdsturi(ctx: &mut Context) -> bool {
        ctx.dst_uri = None;
        true
    }

    /// True when a non-empty destination URI (`$du`) is set.
    #[kemi_export]
    pub fn isdsturiset(ctx: &mut Context) -> bool {
        ctx.dst_uri.as_deref().is_some_and(|u| !u.is_empty())
    }

    /// Answers to the request's source port and records it in the top Via's
    /// `rport` (RFC 3581), as if the client had asked for it.
    #[kemi_export]
    pub fn force_rport(ctx: &mut Context) -> bool {
        ctx.force_rport = true;
        true
    }

    /// Adds `rport` to the Via this proxy puts on the request it forwards.
    #[kemi_export]
    pub fn add_local_rport(ctx: &mut Context) -> bool {
        ctx.add_local_rport = true;
        true
    }

    /// Closes the TCP connection once the forwarded request is sent.
    #[kemi_export]
    pub fn set_forward_close(ctx: &mut Context) -> bool {
        ctx.forward_send.close = true;
        true
    }

    /// Forwards only over an existing TCP connection, never opening one.
    #[kemi_export]
    pub fn set_forward_no_connect(ctx: &mut Context) -> bool {
        ctx.forward_send.no_connect = true;
        true
    }

    /// Closes the TCP connection once the reply is sent.
    #[kemi_export]
    pub fn set_reply_close(ctx: &mut Context) -> bool {
        ctx.reply_send.close = true;
        true
    }

    /// Sends replies only over an existing TCP connection.
    #[kemi_export]
    pub fn set_reply_no_connect(ctx: &mut Context) -> bool {
        ctx.reply_send.no_connect = true;
        true
    }

    /// True when `uri` names this proxy: a `sip:`/`sips:` URI is checked by
    /// host, port and transport against the listening sockets and the
    /// aliases; any other text is taken as a host (optionally `host:port`).
    #[kemi_export]
    pub fn is_myself(ctx: &mut Context, uri: &str) -> bool {
        myself::is_myself_text(ctx, uri)
    }

    /// True when the Request-URI (the rewritten one if set) is this proxy.
    /// False for replies.
    #[kemi_export]
    pub fn is_myself_ruri(ctx: &mut Context) -> bool {
        ctx.msg.is_request() && myself::is_myself_uri(ctx, ctx.ruri())
    }

    /// True when the destination URI (`$du`) is set and is this proxy.
    #[kemi_export]
    pub fn is_myself_duri(ctx: &mut Context) -> bool {
        myself_opt(ctx, ctx.dst_uri.as_deref())
    }

    /// True when the next hop (`$du` if set, else the Request-URI) is this
    /// proxy.
    #[kemi_export]
    pub fn is_myself_nhuri(ctx: &mut Context) -> bool {
        if !ctx.msg.is_request() && ctx.dst_uri.is_none() {
            return false;
        }
        myself_opt(ctx, Some(forward::next_hop_uri(ctx)))
    }

    /// True when the From URI is this proxy.
    #[kemi_export]
    pub fn is_myself_furi(ctx: &mut Context) -> bool {
        match ctx.msg.from() {
            Ok(from) => myself::is_myself_parsed(ctx, &from.uri),
            Err(_) => false,
        }
    }

    /// True when the To URI is this proxy.
    #[kemi_export]
    pub fn is_myself_turi(ctx: &mut Context) -> bool {
        match ctx.msg.to() {
            Ok(to) => myself::is_myself_parsed(ctx, &to.uri),
            Err(_) => false,
        }
    }

    /// True when the source of the message (its address, port and
    /// transport) is one of this proxy's sockets: it looped back.
    #[kemi_export]
    pub fn is_myself_suri(ctx: &mut Context) -> bool {
        let host = ctx.recv.src.ip().to_string();
        myself::is_myself(
            ctx,
            &Target {
                host: &host,
                port: Some(ctx.recv.src.port()),
                proto: Some(ctx.recv.proto),
                any_port: false,
            },
        )
    }

    /// True when the source IP address is one of this proxy's, whatever
    /// the port.
    #[kemi_export]
    pub fn is_myself_srcip(ctx: &mut Context) -> bool {
        let host = ctx.recv.src.ip().to_string();
        myself::is_myself(
            ctx,
            &Target {
                host: &host,
                port: None,
                proto: None,
                any_port: true,
            },
        )
    }

    /// Replaces the Request-URI (`$ru`). False when `uri` is not a valid URI.
    #[kemi_export]
    pub fn seturi(ctx: &mut Context, uri: &str) -> bool {
        if Uri::parse(uri).is_err() {
            tracing::debug!("seturi: invalid URI {uri:?}");
            return false;
        }
        ctx.new_uri = Some(uri.to_string());
        true
    }

    /// Replaces the user part of the Request-URI; an empty `user` removes
    /// it. The password, port and parameters are kept.
    #[kemi_export]
    pub fn setuser(ctx: &mut Context, user: &str) -> bool {
        match rewrite_ruri(ctx.ruri(), UriPart::User(user)) {
            Some(uri) => {
                ctx.new_uri = Some(uri);
                true
            }
            None => false,
        }
    }

    /// Replaces the host part of the Request-URI (the port is kept).
    #[kemi_export]
    pub fn sethost(ctx: &mut Context, host: &str) -> bool {
        match rewrite_ruri(ctx.ruri(), UriPart::Host(host)) {
            Some(uri) => {
                ctx.new_uri = Some(uri);
                true
            }
            None => false,
        }
    }

    /// True when the method is `vmethod` (any case). `vmethod` may also be
    /// a `|`-separated list of standard methods (`"INVITE|BYE"`), true when
    /// any matches; an unknown name in a list makes it false. Replies are
    /// tested on their CSeq method.
    #[kemi_export]
    pub fn is_method(ctx: &mut Context, vmethod: &str) -> bool {
        if vmethod.contains('|') {
            let names: Vec<&str> = vmethod.split('|').map(str::trim).collect();
            if names
                .iter()
                .any(|n| !KNOWN_METHODS.iter().any(|k| k.eq_ignore_ascii_case(n)))
            {
                return false;
            }
            names.iter().any(|n| method_is(ctx, n))
        } else {
            method_is(ctx, vmethod)
        }
    }

    /// True when the method is one of the letters of `vmethod`: I INVITE,
    /// A ACK, B BYE, C CANCEL, M MESSAGE, R REGISTER, E PRACK, P PUBLISH,
    /// S SUBSCRIBE, N NOTIFY, O OPTIONS, F REFER, U UPDATE, K KDMQ, G GET,
    /// T POST, V PUT, D DELETE (any case).
    #[kemi_export]
    pub fn is_method_in(ctx: &mut Context, vmethod: &str) -> bool {
        vmethod
            .chars()
            .filter_map(method_letter)
            .any(|m| method_is(ctx, m))
    }

    /// Forwards the request statelessly to `$du` if set, else to the
    /// Request-URI, with this proxy's Via on top. 1 when sent, -1 on error.
    /// When the script has an onsend route, the request is sent after the
    /// request route returns and the onsend route lets it go: 1 then means
    /// the next hop resolved and the request was built.
    #[kemi_export]
    pub fn forward(ctx: &mut Context) -> i32 {
        match forward::forward(ctx, None) {
            Ok(_) => 1,
            Err(e) => {
                tracing::warn!("forward: {e}");
                -1
            }
        }
    }

    /// Forwards the request statelessly to `vuri` (an empty one works like
    /// `KSR.forward()`). 1 when sent, -1 on error; with an onsend route, as
    /// `KSR.forward()`, 1 means resolved and built, sent afterwards.
    #[kemi_export]
    pub fn forward_uri(ctx: &mut Context, vuri: &str) -> i32 {
        match forward::forward(ctx, Some(vuri)) {
            Ok(_) => 1,
            Err(e) => {
                tracing::warn!("forward_uri: {e}");
                -1
            }
        }
    }

    /// Advertises `addr` instead of the socket address in what this proxy
    /// adds to this message (its Via). 1 when set, 0 for an empty address.
    #[kemi_export]
    pub fn set_advertised_address(ctx: &mut Context, addr: &str) -> i32 {
        if addr.is_empty() || addr.len() > 127 {
            return 0;
        }
        ctx.advertised_address = Some(addr.to_string());
        1
    }

    /// Advertises `port` with the address above. 1 when set, 0 when it is
    /// not a port number.
    #[kemi_export]
    pub fn set_advertised_port(ctx: &mut Context, port: &str) -> i32 {
        match port.parse::<u16>() {
            Ok(p) if p > 0 => {
                ctx.advertised_port = Some(p.to_string());
                1
            }
            _ => 0,
        }
    }

    /// For a message received over a stream (TCP, TLS, WS, WSS): lets the
    /// connection also stand for the sender's address with `port`, so
    /// what is sent there (requests, replies) goes over this connection
    /// instead of a new one. 1 when the transport took the alias, 0
    /// otherwise (not a stream, bad port, connection gone).
    #[kemi_export]
    pub fn add_tcp_alias(ctx: &mut Context, port: i32) -> i32 {
        let is_stream = recv_proto_in(ctx, &[Proto::Tcp, Proto::Tls, Proto::Ws, Proto::Wss]);
        let port = match u16::try_from(port) {
            Ok(p) if p > 0 && is_stream => p,
            _ => return 0,
        };
        // The sender's own address only: an alias for another host would
        // let any client draw that host's traffic onto its connection.
        let alias = std::net::SocketAddr::new(ctx.recv.src.ip(), port);
        let added = ctx
            .runtime()
            .transport()
            .add_alias(ctx.recv.proto, ctx.recv.src, alias);
        match added {
            Ok(()) => {
                ctx.tcp_alias_port = Some(port);
                1
            }
            Err(e) => {
                tracing::debug!(peer = %ctx.recv.src, "add_tcp_alias({port}): {e}");
                0
            }
        }
    }

    /// Like `KSR.add_tcp_alias()` with the port of the top Via's sent-by
    /// (its transport's default port when the Via has none).
    #[kemi_export]
    pub fn add_tcp_alias_via(ctx: &mut Context) -> i32 {
        let port = match ctx.msg.top_via() {
            Ok(via) => {
                let proto = Proto::parse(via.transport).unwrap_or(Proto::Udp);
                via.port.unwrap_or_else(|| forward::default_port(proto))
            }
            Err(_) => return 0,
        };
        add_tcp_alias(ctx, i32::from(port))
    }

    /// True for INVITE (requests: the method; replies: the CSeq method).
    #[kemi_export(name = "is_INVITE")]
    pub fn is_invite(ctx: &mut Context) -> bool {
        method_is(ctx, "INVITE")
    }

    /// True for ACK.
    #[kemi_export(name = "is_ACK")]
    pub fn is_ack(ctx: &mut Context) -> bool {
        method_is(ctx, "ACK")
    }

    /// True for BYE.
    #[kemi_export(name = "is_BYE")]
    pub fn is_bye(ctx: &mut Context) -> bool {
        method_is(ctx, "BYE")
    }

    /// True for CANCEL.
    #[kemi_export(name = "is_CANCEL")]
    pub fn is_cancel(ctx: &mut Context) -> bool {
        method_is(ctx, "CANCEL")
    }

    /// True for REGISTER.
    #[kemi_export(name = "is_REGISTER")]
    pub fn is_register(ctx: &mut Context) -> bool {
        method_is(ctx, "REGISTER")
    }

    /// True for OPTIONS.
    #[kemi_export(name = "is_OPTIONS")]
    pub fn is_options(ctx: &mut Context) -> bool {
        method_is(ctx, "OPTIONS")
    }

    /// True for SUBSCRIBE.
    #[kemi_export(name = "is_SUBSCRIBE")]
    pub fn is_subscribe(ctx: &mut Context) -> bool {
        method_is(ctx, "SUBSCRIBE")
    }

    /// True for PUBLISH.
    #[kemi_export(name = "is_PUBLISH")]
    pub fn is_publish(ctx: &mut Context) -> bool {
        method_is(ctx, "PUBLISH")
    }

    /// True for NOTIFY.
    #[kemi_export(name = "is_NOTIFY")]
    pub fn is_notify(ctx: &mut Context) -> bool {
        method_is(ctx, "NOTIFY")
    }

    /// True for REFER.
    #[kemi_export(name = "is_REFER")]
    pub fn is_refer(ctx: &mut Context) -> bool {
        method_is(ctx, "REFER")
    }

    /// True for INFO.
    #[kemi_export(name = "is_INFO")]
    pub fn is_info(ctx: &mut Context) -> bool {
        method_is(ctx, "INFO")
    }

    /// True for UPDATE.
    #[kemi_export(name = "is_UPDATE")]
    pub fn is_update(ctx: &mut Context) -> bool {
        method_is(ctx, "UPDATE")
    }

    /// True for PRACK.
    #[kemi_export(name = "is_PRACK")]
    pub fn is_prack(ctx: &mut Context) -> bool {
        method_is(ctx, "PRACK")
    }

    /// True for MESSAGE.
    #[kemi_export(name = "is_MESSAGE")]
    pub fn is_message(ctx: &mut Context) -> bool {
        method_is(ctx, "MESSAGE")
    }

    /// True for KDMQ (Kamailio's distributed message queue).
    #[kemi_export(name = "is_KDMQ")]
    pub fn is_kdmq(ctx: &mut Context) -> bool {
        method_is(ctx, "KDMQ")
    }

    /// True for an HTTP GET.
    #[kemi_export(name = "is_GET")]
    pub fn is_get(ctx: &mut Context) -> bool {
        method_is(ctx, "GET")
    }

    /// True for an HTTP POST.
    #[kemi_export(name = "is_POST")]
    pub fn is_post(ctx: &mut Context) -> bool {
        method_is(ctx, "POST")
    }

    /// True for an HTTP PUT.
    #[kemi_export(name = "is_PUT")]
    pub fn is_put(ctx: &mut Context) -> bool {
        method_is(ctx, "PUT")
    }

    /// True for an HTTP DELETE.
    #[kemi_export(name = "is_DELETE")]
    pub fn is_delete(ctx: &mut Context) -> bool {
        method_is(ctx, "DELETE")
    }

    /// True when the message arrived over UDP.
    #[kemi_export(name = "is_UDP")]
    pub fn is_udp(ctx: &mut Context) -> bool {
        recv_proto_in(ctx, &[Proto::Udp])
    }

    /// True when the message arrived over plain TCP (not TLS or WS).
    #[kemi_export(name = "is_TCP")]
    pub fn is_tcp(ctx: &mut Context) -> bool {
        recv_proto_in(ctx, &[Proto::Tcp])
    }

    /// True when the message arrived over a TCP-based transport: TCP, TLS,
    /// WS or WSS.
    #[kemi_export(name = "is_TCPX")]
    pub fn is_tcpx(ctx: &mut Context) -> bool {
        recv_proto_in(ctx, &[Proto::Tcp, Proto::Tls, Proto::Ws, Proto::Wss])
    }

    /// True when the message arrived over TLS.
    #[kemi_export(name = "is_TLS")]
    pub fn is_tls(ctx: &mut Context) -> bool {
        recv_proto_in(ctx, &[Proto::Tls])
    }

    /// True when the message arrived over WebSocket.
    #[kemi_export(name = "is_WS")]
    pub fn is_ws(ctx: &mut Context) -> bool {
        recv_proto_in(ctx, &[Proto::Ws])
    }

    /// True when the message arrived over secure WebSocket.
    #[kemi_export(name = "is_WSS")]
    pub fn is_wss(ctx: &mut Context) -> bool {
        recv_proto_in(ctx, &[Proto::Wss])
    }

    /// True when the message arrived over WS or WSS.
    #[kemi_export(name = "is_WSX")]
    pub fn is_wsx(ctx: &mut Context) -> bool {
        recv_proto_in(ctx, &[Proto::Ws, Proto::Wss])
    }

    /// True when the message arrived over SCTP.
    #[kemi_export(name = "is_SCTP")]
    pub fn is_sctp(ctx: &mut Context) -> bool {
        recv_proto_in(ctx, &[Proto::Sctp])
    }

    /// True when the receiving transport is one of the letters of `sproto`:
    /// u UDP, t TCP, e TLS, s SCTP, v WS, w WSS (any case).
    #[kemi_export]
    pub fn is_proto(ctx: &mut Context, sproto: &str) -> bool {
        sproto.chars().any(|c| {
            let p = match c.to_ascii_lowercase() {
                'u' => Proto::Udp,
                't' => Proto::Tcp,
                'e' => Proto::Tls,
                's' => Proto::Sctp,
                'v' => Proto::Ws,
                'w' => Proto::Wss,
                _ => return false,
            };
            ctx.recv.proto == p
        })
    }

    /// True when the message arrived on an IPv4 socket.
    #[kemi_export(name = "is_IPv4")]
    pub fn is_ipv4(ctx: &mut Context) -> bool {
        ctx.recv.local.is_ipv4()
    }

    /// True when the message arrived on an IPv6 socket.
    #[kemi_export(name = "is_IPv6")]
    pub fn is_ipv6(ctx: &mut Context) -> bool {
        ctx.recv.local.is_ipv6()
    }

    /// True when the message will leave over UDP: for requests per `$du`,
    /// else the Request-URI (its `transport`); for replies per the next Via.
    #[kemi_export(name = "to_UDP")]
    pub fn to_udp(ctx: &mut Context) -> bool {
        to_proto_in(ctx, &[Proto::Udp])
    }

    /// True when the message will leave over TCP.
    #[kemi_export(name = "to_TCP")]
    pub fn to_tcp(ctx: &mut Context) -> bool {
        to_proto_in(ctx, &[Proto::Tcp])
    }

    /// True when the message will leave over TLS.
    #[kemi_export(name = "to_TLS")]
    pub fn to_tls(ctx: &mut Context) -> bool {
        to_proto_in(ctx, &[Proto::Tls])
    }

    /// True when the message will leave over SCTP.
    #[kemi_export(name = "to_SCTP")]
    pub fn to_sctp(ctx: &mut Context) -> bool {
        to_proto_in(ctx, &[Proto::Sctp])
    }

    /// True when the message will leave over WebSocket.
    #[kemi_export(name = "to_WS")]
    pub fn to_ws(ctx: &mut Context) -> bool {
        to_proto_in(ctx, &[Proto::Ws])
    }

    /// True when the message will leave over secure WebSocket.
    #[kemi_export(name = "to_WSS")]
    pub fn to_wss(ctx: &mut Context) -> bool {
        to_proto_in(ctx, &[Proto::Wss])
    }

    /// True when the message will leave over WS or WSS.
    #[kemi_export(name = "to_WSX")]
    pub fn to_wsx(ctx: &mut Context) -> bool {
        to_proto_in(ctx, &[Proto::Ws, Proto::Wss])
    }

    /// True when the next hop's host is an IPv4 address literal.
    #[kemi_export(name = "to_IPv4")]
    pub fn to_ipv4(ctx: &mut Context) -> bool {
        to_family(ctx, true)
    }

    /// True when the next hop's host is an IPv6 address literal.
    #[kemi_export(name = "to_IPv6")]
    pub fn to_ipv6(ctx: &mut Context) -> bool {
        to_family(ctx, false)
    }

    /// True when the message came from source port `vport`.
    #[kemi_export]
    pub fn is_src_port(ctx: &mut Context, vport: i32) -> bool {
        i32::from(ctx.recv.src.port()) == vport
    }

    /// True when the message arrived on local port `vport`.
    #[kemi_export]
    pub fn is_dst_port(ctx: &mut Context, vport: i32) -> bool {
        i32::from(ctx.recv.local.port()) == vport
    }

    /// Would run the native `route[name]` block of kamailio.cfg; this proxy
    /// has none (routing is all in the script), so it logs and returns -1,
    /// Kamailio's code for a missing route.
    #[kemi_export]
    pub fn route(ctx: &mut Context, route: &str) -> i32 {
        let _ = ctx;
        tracing::warn!("KSR.route({route:?}): native route blocks are not supported; call a script function instead");
        -1
    }

    /// The current `debug=` level of the config.
    #[kemi_export]
    pub fn get_debug(ctx: &mut Context) -> i32 {
        ctx.runtime().debug_level()
    }
}

pub use kemi::SUBMODULE;
