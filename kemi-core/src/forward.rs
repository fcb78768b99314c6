//! Stateless forwarding (RFC 3261 16.11): requests go to their next hop
//! with this proxy's Via on top; replies whose top Via is ours go to the
//! next Via after that Via is removed (18.2.2).
//!
//! Used by `KSR.forward()`/`KSR.forward_uri()` and by the proxy for the
//! replies it receives (`forward_reply`). Nothing here keeps state: the
//! Via branch is a hash of the request, so a retransmission is forwarded
//! with the same branch, and a CANCEL or a non-2xx ACK gets the branch
//! of the INVITE it belongs to.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use crate::context::{Context, Outgoing};
use crate::myself::{self, Target};
use crate::net::Proto;
use crate::pv::{XavpList, XavpValue};
use crate::sip::{HeaderName, HeaderPos, Message, Scheme, Uri, Via};

/// Why a message was not forwarded.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("no next hop: {0}")]
    NoNextHop(String),
    #[error("cannot resolve {0}")]
    Resolve(String),
    #[error("bad message: {0}")]
    BadMessage(String),
    /// A reply whose top Via is not this proxy's (or with no Via left).
    #[error("reply not for this proxy")]
    NotForUs,
    #[error("send failed: {0}")]
    Send(#[from] std::io::Error),
}

/// Where a message goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextHop {
    pub proto: Proto,
    pub dst: SocketAddr,
}

/// The default port of a transport (RFC 3261 19.1.2; RFC 7118 for WS).
pub fn default_port(proto: Proto) -> u16 {
    match proto {
        Proto::Tls | Proto::Wss => 5061,
        _ => 5060,
    }
}

/// The transport a URI asks for: its `transport` parameter, else TLS
/// for `sips:`, else UDP.
pub fn uri_proto(uri: &Uri<'_>) -> Proto {
    match uri.params.value("transport").and_then(Proto::parse) {
        Some(p) => p,
        None if uri.scheme == Scheme::Sips => Proto::Tls,
        None => Proto::Udp,
    }
}

/// Resolves a host (IP literal, or name through the system resolver,
/// A/AAAA only) and port to an address.
pub fn resolve_host(host: &str, port: u16) -> Result<SocketAddr, ForwardError> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    (bare, port)
        .to_socket_addrs()
        .map_err(|e| ForwardError::Resolve(format!("{bare}: {e}")))?
        .next()
        .ok_or_else(|| ForwardError::Resolve(bare.to_string()))
}

/// The next hop of a SIP URI: its host and port, resolved, and transport.
pub fn resolve_uri(uri: &str) -> Result<NextHop, ForwardError> {
    let u = Uri::parse(uri).map_err(|e| ForwardError::NoNextHop(format!("{uri}: {e}")))?;
    if !matches!(u.scheme, Scheme::Sip | Scheme::Sips) {
        return Err(ForwardError::NoNextHop(format!("not a SIP URI: {uri}")));
    }
    // An unknown transport is an error, not a silent fall-back to UDP.
    if let Some(t) = u.params.value("transport") {
        if Proto::parse(t).is_none() {
            return Err(ForwardError::NoNextHop(format!(
                "unknown transport {t}: {uri}"
            )));
        }
    }
    let proto = uri_proto(&u);
    let bare = u
        .host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(u.host);
    // A name without a port: NAPTR/SRV first (RFC 3263 4.1, 4.2).
    if u.port.is_none() && bare.parse::<IpAddr>().is_err() {
        let explicit = u.params.value("transport").and_then(Proto::parse);
        let secure = u.scheme == Scheme::Sips;
        let usable = |p: Proto| matches!(p, Proto::Udp | Proto::Tcp);
        if let Some((proto, host, port)) = crate::dns::locate(bare, explicit, secure, usable) {
            return Ok(NextHop {
                proto,
                dst: resolve_host(&host, port)?,
            });
        }
    }
    let port = u.port.unwrap_or_else(|| default_port(proto));
    Ok(NextHop {
        proto,
        dst: resolve_host(u.host, port)?,
    })
}

/// The URI a request would be forwarded to: `$du` when set, else the
/// (possibly rewritten) Request-URI.
pub fn next_hop_uri(ctx: &Context) -> &str {
    match ctx.dst_uri.as_deref() {
        Some(du) if !du.is_empty() => du,
        _ => ctx.ruri(),
    }
}

/// FNV-1a, 64 bits: stable across processes and restarts, unlike the
/// standard library's hasher, so every proxy instance computes the same
/// stateless branch.
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // Separate parts so ("ab","c") and ("a","bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The branch of the Via this proxy adds to a request forwarded
/// statelessly (RFC 3261 16.11): a hash of the received top Via's branch
/// when it is an RFC 3261 one, else of the fields that identify the
/// transaction (Call-ID, CSeq number, From tag, top Via, Request-URI).
/// The method is left out so a CANCEL matches its INVITE.
pub fn stateless_branch(msg: &Message) -> String {
    let call_id = msg.call_id().unwrap_or_default();
    let hash = match msg.top_via() {
        Ok(via) => match via.branch() {
            Some(b) if b.starts_with("z9hG4bK") => fnv1a(&[b.as_bytes(), via.host.as_bytes()]),
            _ => {
                let cseq = msg.cseq().map(|c| c.number).unwrap_or_default();
                let from = msg.from().ok();
                let from_tag = from.as_ref().and_then(|f| f.tag()).unwrap_or_default();
                fnv1a(&[
                    call_id.as_bytes(),
                    cseq.to_string().as_bytes(),
                    from_tag.as_bytes(),
                    via.raw.as_bytes(),
                    msg.request_uri().unwrap_or_default().as_bytes(),
                ])
            }
        },
        Err(_) => fnv1a(&[call_id.as_bytes()]),
    };
    format!("z9hG4bKsl{hash:016x}")
}

/// An address as a SIP host: IPv6 in brackets.
pub fn host_literal(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    }
}

/// The Via transport token of a protocol.
pub fn via_transport(proto: Proto) -> &'static str {
    match proto {
        Proto::Udp => "UDP",
        Proto::Tcp => "TCP",
        Proto::Tls => "TLS",
        Proto::Sctp => "SCTP",
        Proto::Ws => "WS",
        Proto::Wss => "WSS",
    }
}

/// The local socket to send from towards `hop`: a bound socket of the same
/// transport and address family, else the one the message arrived on.
pub fn local_socket(ctx: &Context, hop: &NextHop) -> SocketAddr {
    let v4 = hop.dst.is_ipv4();
    let sockets = ctx.runtime().sockets();
    sockets
        .iter()
        .find(|(p, a)| *p == hop.proto && a.is_ipv4() == v4 && !a.ip().is_unspecified())
        .or_else(|| {
            sockets
                .iter()
                .find(|(p, a)| *p == hop.proto && a.is_ipv4() == v4)
        })
        .map(|(_, a)| *a)
        .unwrap_or(ctx.recv.local)
}

/// The sent-by of this proxy's Via: the `address` and `port` fields of
/// the `xavp_via_fields` xavp when `KSR.corex.via_use_xavp_fields(1)` asked
/// for them, else the advertised address/port set for this message, else
/// the local socket.
fn sent_by(ctx: &Context, local: SocketAddr) -> String {
    let fields = ctx
        .via_options
        .use_xavp_fields
        .then(|| via_xavp(ctx, "xavp_via_fields"))
        .flatten();
    let field = |name: &str| match fields.and_then(|f| f.get(name, 0, false)) {
        Some(XavpValue::Str(v)) if !v.is_empty() => Some(v.clone()),
        Some(XavpValue::Int(n)) => Some(n.to_string()),
        _ => None,
    };
    let host = match field("address").or_else(|| ctx.advertised_address.clone()) {
        Some(a) if !a.is_empty() => {
            if a.contains(':') && !a.starts_with('[') {
                format!("[{a}]")
            } else {
                a
            }
        }
        _ => host_literal(local.ip()),
    };
    let port = match field("port").or_else(|| ctx.advertised_port.clone()) {
        Some(p) if !p.is_empty() => p,
        _ => local.port().to_string(),
    };
    format!("{host}:{port}")
}

/// The fields of the first xavp named by the core parameter `param`
/// (`xavp_via_params="xvia"`...), when it is set and the xavp exists.
fn via_xavp<'a>(ctx: &'a Context, param: &str) -> Option<&'a XavpList> {
    let name = ctx.runtime().config().accepted.get(param)?.as_str()?;
    match ctx.pv.xavps.get(name, 0, false)? {
        XavpValue::List(fields) if !name.is_empty() => Some(fields),
        _ => None,
    }
}

/// The xavp's scalar fields as Via parameters, `;name=value` each, in the
/// xavp's order (the newest field first), as Kamailio serialises them.
/// A field that would not make a Via parameter (a name that is not a
/// token, a value with white space, `;`, `,` or control characters) is
/// left out rather than break the header.
fn xavp_params(fields: &XavpList) -> String {
    let mut out = String::new();
    for (name, value) in fields.iter() {
        let value = match value {
            XavpValue::Str(v) => v.clone(),
            XavpValue::Int(n) => n.to_string(),
            XavpValue::List(_) => continue,
        };
        let value_ok = value
            .bytes()
            .all(|b| (b.is_ascii_graphic() && b != b';' && b != b',') || b >= 0x80);
        if !crate::sip::scan::is_token_str(name) || !value_ok {
            tracing::debug!("xavp field {name:?}={value:?} cannot be a Via parameter, left out");
            continue;
        }
        out.push_str(&format!(";{name}={value}"));
    }
    out
}

/// The parameters after the branch (and rport) of the Via this proxy adds,
/// as the script asked through corex: `srvid` with the `server_id` core
/// parameter (when not 0) after `via_add_srvid(1)`, then the fields of the
/// `xavp_via_params` xavp after `via_add_xavp_params(1)`.
pub fn via_extra_params(ctx: &Context) -> String {
    let mut out = String::new();
    if ctx.via_options.add_srvid {
        let server_id = ctx
            .runtime()
            .config()
            .accepted
            .get("server_id")
            .and_then(|v| v.as_int())
            .unwrap_or(0);
        if server_id != 0 {
            // Kamailio prints it unsigned.
            out.push_str(&format!(";srvid={}", server_id as u32));
        }
    }
    if ctx.via_options.add_xavp_params {
        if let Some(fields) = via_xavp(ctx, "xavp_via_params") {
            out.push_str(&xavp_params(fields));
        }
    }
    out
}

/// The parameters to add to the top Via of the replies this proxy builds
/// for the message (`KSR.corex.via_reply_add_xavp_params(1)`): the fields
/// of the `xavp_via_reply_params` xavp. `None` when there are none.
pub fn reply_via_params(ctx: &Context) -> Option<String> {
    if !ctx.via_options.reply_add_xavp_params {
        return None;
    }
    let params = xavp_params(via_xavp(ctx, "xavp_via_reply_params")?);
    (!params.is_empty()).then_some(params)
}

/// `reply` (a serialised message) with `params` (from
/// [`reply_via_params`]) appended to its top Via; `None` when it has no
/// Via to append to.
pub fn with_top_via_params(reply: &[u8], params: &str) -> Option<Vec<u8>> {
    let mut msg = Message::parse(reply.to_vec()).ok()?;
    let end = {
        let via = msg.top_via().ok()?;
        msg.offset_of(via.raw)? + via.raw.len()
    };
    msg.edit(crate::sip::Edit::Splice {
        start: end,
        end,
        text: params.to_string(),
    })
    .ok()?;
    Some(msg.serialize())
}

/// The bytes a request is forwarded with: the message with its edits, the
/// new Request-URI if any, and this proxy's Via on top. The context's
/// message is not changed, so forwarding twice adds one Via each time.
pub fn build_request(
    ctx: &Context,
    hop: &NextHop,
    local: SocketAddr,
) -> Result<Vec<u8>, ForwardError> {
    build_request_with_branch(ctx, hop, local, &stateless_branch(&ctx.msg))
}

/// [`build_request`] with the Via branch given (tm's are per transaction
/// and branch).
pub fn build_request_with_branch(
    ctx: &Context,
    hop: &NextHop,
    local: SocketAddr,
    branch: &str,
) -> Result<Vec<u8>, ForwardError> {
    if !ctx.msg.is_request() {
        return Err(ForwardError::BadMessage("not a request".into()));
    }
    let mut msg = ctx.msg.clone();
    if let Some(uri) = ctx.new_uri.as_deref() {
        msg.set_request_uri(uri)
            .map_err(|e| ForwardError::BadMessage(e.to_string()))?;
    }
    let mut via = format!(
        "SIP/2.0/{} {};branch={}",
        via_transport(hop.proto),
        sent_by(ctx, local),
        branch
    );
    if ctx.add_local_rport {
        via.push_str(";rport");
    }
    via.push_str(&via_extra_params(ctx));
    let pos = msg
        .headers()
        .find(|h| h.name == HeaderName::Via)
        .map(|h| HeaderPos::Before(h.index))
        .unwrap_or(HeaderPos::First);
    msg.add_header(pos, "Via", &via)
        .map_err(|e| ForwardError::BadMessage(e.to_string()))?;
    if let Some(rr) = &ctx.double_rr {
        if hop.proto != ctx.recv.proto || local != ctx.recv.local {
            double_record_route(&mut msg, rr, hop.proto, local)?;
        }
    }
    Ok(msg.serialize())
}

/// Marks the Record-Route rr added with `;r2=on` and adds one for the
/// outgoing socket above it (RFC 3261 16.6 step 4 for a multi-homed
/// proxy, as Kamailio's `enable_double_rr`).
fn double_record_route(
    msg: &mut Message,
    rr: &crate::context::DoubleRecordRoute,
    proto: Proto,
    local: SocketAddr,
) -> Result<(), ForwardError> {
    let r2 = |v: &str| match v.strip_suffix('>') {
        Some(head) => format!("{head};r2=on>"),
        None => v.to_string(),
    };
    let host = host_literal(local.ip());
    let port = if local.port() == 5060 && proto == Proto::Udp {
        String::new()
    } else {
        format!(":{}", local.port())
    };
    let transport = match proto {
        Proto::Udp => String::new(),
        other => format!(";transport={}", other.name()),
    };
    let outbound = format!("<sip:{host}{port}{transport}{};r2=on>", rr.params);
    // Header additions at the top come out in the order they were made:
    // the outgoing side's goes in just before the added one.
    let edits = msg.edits().to_vec();
    msg.clear_edits();
    for e in edits {
        let e = match e {
            crate::sip::Edit::AddHeader { name, value, pos }
                if name == "Record-Route" && value == rr.value =>
            {
                msg.add_header(pos, "Record-Route", &outbound)
                    .map_err(|e| ForwardError::BadMessage(e.to_string()))?;
                crate::sip::Edit::AddHeader {
                    value: r2(&value),
                    name,
                    pos,
                }
            }
            other => other,
        };
        msg.edit(e)
            .map_err(|e| ForwardError::BadMessage(e.to_string()))?;
    }
    Ok(())
}

/// Forwards the request statelessly to `uri`, or when `None` (or empty)
/// to `$du`, else the Request-URI. Returns where it went.
///
/// When the context defers sends ([`Context::defer_sends`], set by the
/// proxy when the script defines an onsend route), the built request is
/// recorded in [`Context::outgoing`] instead, for the caller to run the
/// onsend route on and send after the routing callback returns. The one
/// difference that makes: the result then reflects the next hop's
/// resolution and the building of the request, not the send (a send
/// error, or a drop in the onsend route, is not seen by the script).
pub fn forward(ctx: &mut Context, uri: Option<&str>) -> Result<NextHop, ForwardError> {
    let target = match uri {
        Some(u) if !u.is_empty() => u.to_string(),
        _ => next_hop_uri(ctx).to_string(),
    };
    let hop = resolve_uri(&target)?;
    let local = local_socket(ctx, &hop);
    let bytes = build_request(ctx, &hop, local)?;
    let out = Outgoing {
        proto: hop.proto,
        from: Some(local),
        dst: hop.dst,
        bytes,
        target,
        dst_uri: ctx.dst_uri.clone(),
        new_uri: ctx.new_uri.clone(),
        opts: ctx.forward_send,
    };
    if ctx.defer_sends {
        ctx.outgoing.push(out);
    } else {
        out.send(ctx.runtime())?;
    }
    Ok(hop)
}

/// A Via branch for a request this proxy sends as its own (corex's
/// `forward_uac`): unique per call and process, unrelated to the request.
pub fn fresh_branch() -> String {
    static SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let hash = fnv1a(&[
        &now.to_le_bytes(),
        &n.to_le_bytes(),
        &std::process::id().to_le_bytes(),
    ]);
    format!("z9hG4bKuac{hash:016x}{n:x}")
}

/// Forwards the request statelessly as a request this proxy starts
/// (corex's `forward_uac`): every received Via is removed and this
/// proxy's, with a [`fresh_branch`], is the only one. The next hop is
/// `uri` when given, else `$du` or the R-URI; with `branch`, that
/// destination-set entry's URI is the Request-URI and its `$du` the next
/// hop. Sent (or deferred) as [`forward`] does.
pub fn forward_uac(
    ctx: &mut Context,
    uri: Option<&str>,
    branch: Option<&crate::context::Branch>,
) -> Result<NextHop, ForwardError> {
    if !ctx.msg.is_request() {
        return Err(ForwardError::BadMessage("not a request".into()));
    }
    let mut uac = ctx.fork();
    if let Some(b) = branch {
        uac.new_uri = Some(b.uri.clone());
        uac.dst_uri = b.dst_uri.clone();
    }
    let target = match uri {
        Some(u) if !u.is_empty() => u.to_string(),
        _ => next_hop_uri(&uac).to_string(),
    };
    let hop = resolve_uri(&target)?;
    let local = local_socket(&uac, &hop);
    uac.msg.remove_headers(HeaderName::Via);
    let bytes = build_request_with_branch(&uac, &hop, local, &fresh_branch())?;
    let out = Outgoing {
        proto: hop.proto,
        from: Some(local),
        dst: hop.dst,
        bytes,
        target,
        dst_uri: uac.dst_uri,
        new_uri: uac.new_uri,
        opts: ctx.forward_send,
    };
    if ctx.defer_sends {
        ctx.outgoing.push(out);
    } else {
        out.send(ctx.runtime())?;
    }
    Ok(hop)
}

/// Where a reply goes after `via` (the Via below ours): `received` and
/// `rport` when present (RFC 3261 18.2.2, RFC 3581), else the sent-by.
pub fn reply_destination(via: &Via<'_>) -> Result<NextHop, ForwardError> {
    let proto = Proto::parse(via.transport).unwrap_or(Proto::Udp);
    let port = match via.rport() {
        Some(Some(p)) => p,
        _ => via.port.unwrap_or_else(|| default_port(proto)),
    };
    let host = via.received().unwrap_or(via.host);
    Ok(NextHop {
        proto,
        dst: resolve_host(host, port)?,
    })
}

/// Where a reply to the request goes (RFC 3261 18.2.2, RFC 3581): back to
/// the sender's address; on UDP to the Via's port unless `rport` was asked
/// for (by the client or by `KSR.force_rport()`), streams to the
/// connection's peer.
pub fn reply_address(ctx: &Context) -> SocketAddr {
    let src = ctx.recv.src;
    if ctx.recv.proto != Proto::Udp || ctx.force_rport {
        return src;
    }
    match ctx.msg.top_via() {
        Ok(via) if via.rport().is_none() => {
            let port = via.port.unwrap_or_else(|| default_port(Proto::Udp));
            SocketAddr::new(src.ip(), port)
        }
        _ => src,
    }
}

/// True when the top Via of `msg` was put there by this proxy.
fn top_via_is_ours(ctx: &Context, via: &Via<'_>) -> bool {
    let proto = Proto::parse(via.transport);
    if ctx
        .advertised_address
        .as_deref()
        .is_some_and(|a| myself::same_host(a, via.host))
    {
        return true;
    }
    myself::is_myself(
        ctx,
        &Target {
            host: via.host,
            port: via.port,
            proto,
            any_port: false,
        },
    )
}

/// Forwards a received reply statelessly: if its top Via is this proxy's,
/// that Via is removed and the reply goes to the next one. Replies not for
/// this proxy are refused with [`ForwardError::NotForUs`] (drop them).
pub fn forward_reply(ctx: &mut Context) -> Result<NextHop, ForwardError> {
    forward_reply_status(ctx, None, None)
}

/// [`forward_reply`] with the status code and/or the reason phrase of the
/// status line replaced (`KSR.sl.sl_forward_reply`).
pub fn forward_reply_status(
    ctx: &mut Context,
    code: Option<u16>,
    reason: Option<&str>,
) -> Result<NextHop, ForwardError> {
    let (hop, msg) = strip_our_via(ctx)?;
    let mut bytes = msg.serialize();
    if code.is_some() || reason.is_some() {
        bytes = replace_status_line(ctx, &bytes, code, reason);
    }
    let local = local_socket(ctx, &hop);
    // Either set of options applies to a relayed reply, as in Kamailio.
    let opts = ctx.forward_send.union(ctx.reply_send);
    ctx.runtime()
        .transport()
        .send_with(hop.proto, Some(local), hop.dst, &bytes, opts)?;
    Ok(hop)
}

/// For a received reply whose top Via is this proxy's: the reply with that
/// Via removed, and where the next Via says it goes. Replies not for this
/// proxy are refused with [`ForwardError::NotForUs`].
pub fn strip_our_via(ctx: &Context) -> Result<(NextHop, Message), ForwardError> {
    if !ctx.msg.is_response() {
        return Err(ForwardError::BadMessage("not a reply".into()));
    }
    let hop = {
        let vias = ctx
            .msg
            .vias()
            .map_err(|e| ForwardError::BadMessage(e.to_string()))?;
        let (Some(top), Some(next)) = (vias.first(), vias.get(1)) else {
            return Err(ForwardError::NotForUs);
        };
        if !top_via_is_ours(ctx, top) {
            return Err(ForwardError::NotForUs);
        }
        reply_destination(next)?
    };
    Ok((hop, remove_top_via(&ctx.msg)?))
}

/// The message with its first Via removed (a header line of its own, or
/// the first value of a comma-joined line). Refused when it has fewer
/// than two Vias: a reply needs one left to travel on.
pub fn remove_top_via(msg: &Message) -> Result<Message, ForwardError> {
    let vias = msg
        .vias()
        .map_err(|e| ForwardError::BadMessage(e.to_string()))?;
    let (Some(top), Some(next)) = (vias.first(), vias.get(1)) else {
        return Err(ForwardError::NotForUs);
    };
    let header = msg
        .headers_of(HeaderName::Via)
        .next()
        .ok_or(ForwardError::NotForUs)?;
    // The top Via may share its header line with the next one.
    let same_line = msg
        .offset_of(next.raw)
        .zip(msg.offset_of(header.value))
        .is_some_and(|(n, h)| n < h + header.value.len());
    let mut out = msg.clone();
    if same_line {
        let (Some(start), Some(end)) = (msg.offset_of(top.raw), msg.offset_of(next.raw)) else {
            return Err(ForwardError::BadMessage("Via offsets".into()));
        };
        out.edit(crate::sip::Edit::Splice {
            start,
            end,
            text: String::new(),
        })
    } else {
        out.remove_header(header.index)
    }
    .map_err(|e| ForwardError::BadMessage(e.to_string()))?;
    Ok(out)
}

/// `bytes` (a serialised reply) with a new status line built from the
/// received one and the replacements.
fn replace_status_line(
    ctx: &Context,
    bytes: &[u8],
    code: Option<u16>,
    reason: Option<&str>,
) -> Vec<u8> {
    let code = code.or(ctx.msg.status_code()).unwrap_or(500);
    let reason = reason
        .or(ctx.msg.reason())
        .unwrap_or_default()
        .replace(['\r', '\n'], " ");
    let eol = memchr::memchr(b'\n', bytes).map_or(bytes.len(), |i| i + 1);
    let mut out = format!("SIP/2.0 {code} {reason}\r\n").into_bytes();
    out.extend_from_slice(bytes.get(eol..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Value};
    use crate::net::{Capture, RecvInfo, SendOptions};
    use crate::pv::XavpList;
    use crate::runtime::Runtime;
    use std::sync::Arc;

    const INVITE: &[u8] = b"INVITE sip:bob@192.0.2.20:5070;transport=tcp SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-abc\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@example.com>;tag=f1\r\n\
To: <sip:bob@example.org>\r\n\
Call-ID: c1@host\r\n\
CSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\r\n";

    fn ctx_for(bytes: &[u8]) -> (Context, Arc<Capture>) {
        ctx_with(bytes, &[])
    }

    /// A context for `bytes` under a config with these core parameters
    /// (the accepted ones: `server_id`, `xavp_via_params`...).
    fn ctx_with(bytes: &[u8], params: &[(&str, Value)]) -> (Context, Arc<Capture>) {
        let cap = Arc::new(Capture::default());
        let mut config = Config::default();
        for (name, value) in params {
            config.accepted.insert(name.to_string(), value.clone());
        }
        let rt = Arc::new(Runtime::with_config(config, cap.clone()));
        rt.set_sockets(vec![
            (Proto::Udp, "198.51.100.1:5060".parse().unwrap()),
            (Proto::Tcp, "198.51.100.1:5060".parse().unwrap()),
        ]);
        let recv = RecvInfo {
            proto: Proto::Udp,
            src: "192.0.2.10:5062".parse().unwrap(),
            local: "198.51.100.1:5060".parse().unwrap(),
        };
        let msg = Message::parse(bytes.to_vec()).unwrap();
        (Context::for_message(rt, msg, recv), cap)
    }

    #[test]
    fn record_route_is_doubled_when_the_transport_changes() {
        // INVITE's R-URI asks for TCP; it came in over UDP.
        let (mut ctx, cap) = ctx_for(INVITE);
        let value = "<sip:198.51.100.1;lr>".to_string();
        ctx.msg
            .add_header(HeaderPos::First, "Record-Route", &value)
            .unwrap();
        ctx.double_rr = Some(crate::context::DoubleRecordRoute {
            value,
            params: ";lr".into(),
        });
        forward(&mut ctx, None).unwrap();
        let out = Message::parse(cap.take()[0].bytes.clone()).unwrap();
        let rrs: Vec<&str> = out
            .headers_of(HeaderName::RecordRoute)
            .map(|h| h.value)
            .collect();
        assert_eq!(
            rrs,
            [
                "<sip:198.51.100.1:5060;transport=tcp;lr;r2=on>",
                "<sip:198.51.100.1;lr;r2=on>"
            ]
        );

        // Same transport and socket: one Record-Route, unmarked.
        let (mut ctx, cap) = ctx_for(INVITE);
        ctx.new_uri = Some("sip:bob@192.0.2.20:5070".into());
        let value = "<sip:198.51.100.1;lr>".to_string();
        ctx.msg
            .add_header(HeaderPos::First, "Record-Route", &value)
            .unwrap();
        ctx.double_rr = Some(crate::context::DoubleRecordRoute {
            value: value.clone(),
            params: ";lr".into(),
        });
        forward(&mut ctx, None).unwrap();
        let out = Message::parse(cap.take()[0].bytes.clone()).unwrap();
        let rrs: Vec<&str> = out
            .headers_of(HeaderName::RecordRoute)
            .map(|h| h.value)
            .collect();
        assert_eq!(rrs, [value.as_str()]);
    }

    #[test]
    fn forwards_to_ruri_with_via_on_top() {
        let (mut ctx, cap) = ctx_for(INVITE);
        let hop = forward(&mut ctx, None).unwrap();
        assert_eq!(hop.proto, Proto::Tcp);
        assert_eq!(hop.dst, "192.0.2.20:5070".parse().unwrap());
        let sent = cap.take();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].from, Some("198.51.100.1:5060".parse().unwrap()));
        let out = Message::parse(sent[0].bytes.clone()).unwrap();
        let vias = out.vias().unwrap();
        assert_eq!(vias.len(), 2);
        assert_eq!(vias[0].transport, "TCP");
        assert_eq!(vias[0].host, "198.51.100.1");
        assert_eq!(vias[0].port, Some(5060));
        assert!(vias[0].branch().unwrap().starts_with("z9hG4bK"));
        assert_eq!(vias[1].branch(), Some("z9hG4bK-abc"));
        assert_eq!(out.max_forwards().unwrap(), Some(70));
        // The context's message is left as received.
        assert!(!ctx.msg.is_modified());
    }

    #[test]
    fn retransmissions_and_cancel_share_the_branch() {
        let (ctx, _) = ctx_for(INVITE);
        let cancel = String::from_utf8_lossy(INVITE)
            .replace("INVITE sip", "CANCEL sip")
            .replace("1 INVITE", "1 CANCEL");
        let c = Message::parse(cancel.into_bytes()).unwrap();
        assert_eq!(stateless_branch(&ctx.msg), stateless_branch(&ctx.msg));
        assert_eq!(stateless_branch(&ctx.msg), stateless_branch(&c));
        let other = Message::parse(
            String::from_utf8_lossy(INVITE)
                .replace("z9hG4bK-abc", "z9hG4bK-abd")
                .into_bytes(),
        )
        .unwrap();
        assert_ne!(stateless_branch(&ctx.msg), stateless_branch(&other));
    }

    #[test]
    fn du_wins_and_new_uri_is_applied_with_rport() {
        let (mut ctx, cap) = ctx_for(INVITE);
        ctx.dst_uri = Some("sip:[2001:db8::1]:5080".into());
        ctx.new_uri = Some("sip:carol@example.net".into());
        ctx.add_local_rport = true;
        let hop = forward(&mut ctx, None).unwrap();
        assert_eq!(hop.proto, Proto::Udp);
        assert_eq!(hop.dst, "[2001:db8::1]:5080".parse().unwrap());
        let sent = cap.take();
        let out = Message::parse(sent[0].bytes.clone()).unwrap();
        assert_eq!(out.request_uri(), Some("sip:carol@example.net"));
        assert_eq!(out.top_via().unwrap().rport(), Some(None));
        // No IPv6 socket: falls back to the receiving socket.
        assert_eq!(sent[0].from, Some("198.51.100.1:5060".parse().unwrap()));
    }

    #[test]
    fn explicit_uri_and_advertised_address() {
        let (mut ctx, cap) = ctx_for(INVITE);
        ctx.advertised_address = Some("proxy.example.com".into());
        ctx.advertised_port = Some("5099".into());
        let hop = forward(&mut ctx, Some("sips:192.0.2.30")).unwrap();
        assert_eq!(hop.proto, Proto::Tls);
        assert_eq!(hop.dst.port(), 5061);
        let sent = cap.take();
        let out = Message::parse(sent[0].bytes.clone()).unwrap();
        let top = out.top_via().unwrap();
        assert_eq!((top.host, top.port), ("proxy.example.com", Some(5099)));
        assert_eq!(top.transport, "TLS");
    }

    #[test]
    fn deferred_forward_is_recorded_not_sent() {
        let (mut ctx, cap) = ctx_for(INVITE);
        ctx.defer_sends = true;
        ctx.dst_uri = Some("sip:192.0.2.40:5090".into());
        let hop = forward(&mut ctx, None).unwrap();
        assert_eq!(hop.dst, "192.0.2.40:5090".parse().unwrap());
        forward(&mut ctx, Some("sip:192.0.2.41")).unwrap();
        assert!(cap.take().is_empty());
        assert_eq!(ctx.outgoing.len(), 2);
        let first = &ctx.outgoing[0];
        assert_eq!(first.target, "sip:192.0.2.40:5090");
        assert_eq!(first.dst_uri.as_deref(), Some("sip:192.0.2.40:5090"));
        assert_eq!(first.from, Some("198.51.100.1:5060".parse().unwrap()));
        assert_eq!(ctx.outgoing[1].dst, "192.0.2.41:5060".parse().unwrap());
        // Sending it later sends the same bytes.
        let out = ctx.outgoing.remove(0);
        out.send(ctx.runtime()).unwrap();
        let sent = cap.take();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].bytes, out.bytes);
        assert_eq!(sent[0].dst, out.dst);
    }

    #[test]
    fn bad_next_hop_is_an_error() {
        let (mut ctx, cap) = ctx_for(INVITE);
        assert!(forward(&mut ctx, Some("tel:+123")).is_err());
        assert!(forward(&mut ctx, Some("sip:")).is_err());
        assert!(cap.take().is_empty());
    }

    const REPLY: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKsl1\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-abc;received=192.0.2.10;rport=6000\r\n\
From: <sip:alice@example.com>;tag=f1\r\n\
To: <sip:bob@example.org>;tag=t1\r\n\
Call-ID: c1@host\r\n\
CSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\r\n";

    #[test]
    fn reply_goes_to_the_next_via() {
        let (mut ctx, cap) = ctx_for(REPLY);
        let hop = forward_reply(&mut ctx).unwrap();
        assert_eq!(hop.dst, "192.0.2.10:6000".parse().unwrap());
        let sent = cap.take();
        let out = Message::parse(sent[0].bytes.clone()).unwrap();
        let vias = out.vias().unwrap();
        assert_eq!(vias.len(), 1);
        assert_eq!(vias[0].host, "10.0.0.5");
    }

    #[test]
    fn reply_with_vias_on_one_line() {
        let text = String::from_utf8_lossy(REPLY).replace("z9hG4bKsl1\r\nVia: ", "z9hG4bKsl1, ");
        let (mut ctx, cap) = ctx_for(text.as_bytes());
        let hop = forward_reply(&mut ctx).unwrap();
        assert_eq!(hop.dst, "192.0.2.10:6000".parse().unwrap());
        let out = Message::parse(cap.take()[0].bytes.clone()).unwrap();
        let vias = out.vias().unwrap();
        assert_eq!(vias.len(), 1);
        assert_eq!(vias[0].host, "10.0.0.5");
    }

    #[test]
    fn reply_without_rport_uses_sent_by() {
        let text = String::from_utf8_lossy(REPLY).replace(";received=192.0.2.10;rport=6000", "");
        let (mut ctx, cap) = ctx_for(text.as_bytes());
        let hop = forward_reply(&mut ctx).unwrap();
        assert_eq!(hop.dst, "10.0.0.5:5062".parse().unwrap());
        assert_eq!(cap.take().len(), 1);
    }

    #[test]
    fn replies_not_for_us_are_refused() {
        let text = String::from_utf8_lossy(REPLY).replace("198.51.100.1:5060", "203.0.113.9");
        let (mut ctx, cap) = ctx_for(text.as_bytes());
        assert!(matches!(
            forward_reply(&mut ctx),
            Err(ForwardError::NotForUs)
        ));
        // Only our Via left: nowhere to go.
        let one = String::from_utf8_lossy(REPLY).replace(
            "Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-abc;received=192.0.2.10;rport=6000\r\n",
            "",
        );
        let (mut ctx, _) = ctx_for(one.as_bytes());
        assert!(matches!(
            forward_reply(&mut ctx),
            Err(ForwardError::NotForUs)
        ));
        assert!(cap.take().is_empty());
    }
    fn xavp(ctx: &mut Context, name: &str, fields: &[(&str, XavpValue)]) {
        let mut list = XavpList::default();
        for (n, v) in fields {
            list.push_front(n, v.clone());
        }
        ctx.pv.xavps.push_front(name, XavpValue::List(list));
    }

    fn str_value(v: &str) -> XavpValue {
        XavpValue::Str(v.to_string())
    }

    fn top_via_of(sent: &crate::net::Sent) -> String {
        let out = Message::parse(sent.bytes.clone()).unwrap();
        let raw = out.top_via().unwrap().raw.to_string();
        raw
    }

    fn via_params() -> Vec<(&'static str, Value)> {
        vec![
            ("server_id", Value::Int(7)),
            ("xavp_via_params", Value::Str("xvia".into())),
            ("xavp_via_fields", Value::Str("mvia".into())),
            ("xavp_via_reply_params", Value::Str("rvia".into())),
        ]
    }

    #[test]
    fn via_srvid_and_xavp_params_follow_branch_and_rport() {
        let (mut ctx, cap) = ctx_with(INVITE, &via_params());
        xavp(
            &mut ctx,
            "xvia",
            &[
                ("srvid", str_value("1")),
                ("myval", str_value("xyz")),
                ("num", XavpValue::Int(42)),
            ],
        );
        // Nothing asked: the plain Via.
        forward(&mut ctx, None).unwrap();
        let plain = top_via_of(&cap.take()[0]);
        assert!(plain.ends_with(&stateless_branch(&ctx.msg)), "{plain}");

        ctx.add_local_rport = true;
        ctx.via_options.add_srvid = true;
        ctx.via_options.add_xavp_params = true;
        forward(&mut ctx, None).unwrap();
        let via = top_via_of(&cap.take()[0]);
        // As Kamailio 5.6 writes them: rport, srvid, then the fields
        // newest first.
        assert_eq!(
            via,
            format!(
                "SIP/2.0/TCP 198.51.100.1:5060;branch={};rport;srvid=7;num=42;myval=xyz;srvid=1",
                stateless_branch(&ctx.msg)
            )
        );
    }

    #[test]
    fn via_options_need_their_core_parameters() {
        // server_id 0 (the default) and no xavp names: nothing to add.
        let (mut ctx, cap) = ctx_with(INVITE, &[("server_id", Value::Int(0))]);
        xavp(&mut ctx, "xvia", &[("a", str_value("1"))]);
        xavp(&mut ctx, "mvia", &[("address", str_value("10.10.10.10"))]);
        ctx.via_options.add_srvid = true;
        ctx.via_options.add_xavp_params = true;
        ctx.via_options.use_xavp_fields = true;
        forward(&mut ctx, None).unwrap();
        let via = top_via_of(&cap.take()[0]);
        assert_eq!(
            via,
            format!(
                "SIP/2.0/TCP 198.51.100.1:5060;branch={}",
                stateless_branch(&ctx.msg)
            )
        );
        // Named, but the xavp is missing: nothing either.
        let (mut ctx, cap) = ctx_with(INVITE, &via_params());
        ctx.via_options.add_xavp_params = true;
        ctx.via_options.use_xavp_fields = true;
        forward(&mut ctx, None).unwrap();
        let via = top_via_of(&cap.take()[0]);
        assert!(
            via.starts_with("SIP/2.0/TCP 198.51.100.1:5060;branch="),
            "{via}"
        );
        assert!(!via.contains("srvid"), "{via}");
    }

    #[test]
    fn via_fields_from_the_xavp_replace_the_sent_by() {
        let (mut ctx, cap) = ctx_with(INVITE, &via_params());
        xavp(
            &mut ctx,
            "mvia",
            &[
                ("address", str_value("10.10.10.10")),
                ("port", str_value("5099")),
            ],
        );
        ctx.advertised_address = Some("proxy.example.com".into());
        // Not asked: the advertised address.
        forward(&mut ctx, None).unwrap();
        let via = Message::parse(cap.take()[0].bytes.clone()).unwrap();
        let top = via.top_via().unwrap();
        assert_eq!((top.host, top.port), ("proxy.example.com", Some(5060)));

        ctx.via_options.use_xavp_fields = true;
        forward(&mut ctx, None).unwrap();
        let out = Message::parse(cap.take()[0].bytes.clone()).unwrap();
        let top = out.top_via().unwrap();
        assert_eq!((top.host, top.port), ("10.10.10.10", Some(5099)));

        // Only an address (IPv6): the port stays the socket's.
        let (mut ctx, cap) = ctx_with(INVITE, &via_params());
        xavp(&mut ctx, "mvia", &[("address", str_value("2001:db8::5"))]);
        ctx.via_options.use_xavp_fields = true;
        forward(&mut ctx, None).unwrap();
        let out = Message::parse(cap.take()[0].bytes.clone()).unwrap();
        let top = out.top_via().unwrap();
        assert_eq!((top.host, top.port), ("[2001:db8::5]", Some(5060)));
    }

    #[test]
    fn xavp_fields_that_cannot_be_via_params_are_left_out() {
        let (mut ctx, cap) = ctx_with(INVITE, &via_params());
        xavp(
            &mut ctx,
            "xvia",
            &[
                ("ok", str_value("1")),
                ("bad value", str_value("x")),
                ("inject", str_value("1\r\nX-Evil: yes")),
                ("list", XavpValue::List(XavpList::default())),
            ],
        );
        ctx.via_options.add_xavp_params = true;
        forward(&mut ctx, None).unwrap();
        let sent = cap.take();
        let via = top_via_of(&sent[0]);
        assert!(via.ends_with(";ok=1"), "{via}");
        assert!(!String::from_utf8_lossy(&sent[0].bytes).contains("X-Evil"));
    }

    #[test]
    fn local_replies_get_the_reply_xavp_params_on_their_top_via() {
        let (mut ctx, cap) = ctx_with(INVITE, &via_params());
        xavp(
            &mut ctx,
            "rvia",
            &[("a", str_value("1")), ("b", str_value("two"))],
        );
        let reply = crate::sip::build_reply(&ctx.msg, 200, "OK", Some("t"), "", b"").unwrap();
        let dst = ctx.recv.src;
        ctx.reply_to(dst, &reply).unwrap();
        assert_eq!(cap.take()[0].bytes, reply, "not asked: unchanged");

        ctx.via_options.reply_add_xavp_params = true;
        ctx.reply_to(dst, &reply).unwrap();
        let sent = cap.take();
        let out = Message::parse(sent[0].bytes.clone()).unwrap();
        let vias = out.vias().unwrap();
        assert_eq!(vias.len(), 1);
        assert_eq!(
            vias[0].raw,
            "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-abc;b=two;a=1"
        );
        // Everything else is as built.
        assert_eq!(out.call_id().unwrap(), "c1@host");
        assert_eq!(ctx.replies_sent, 2);
    }

    #[test]
    fn send_options_go_with_forwards_and_replies() {
        let (mut ctx, cap) = ctx_for(INVITE);
        forward(&mut ctx, None).unwrap();
        assert_eq!(cap.take()[0].opts, SendOptions::default());

        ctx.forward_send.close = true;
        ctx.reply_send.no_connect = true;
        forward(&mut ctx, None).unwrap();
        let sent = cap.take();
        assert_eq!(
            sent[0].opts,
            SendOptions {
                close: true,
                no_connect: false
            }
        );
        // Deferred forwards keep the options they were made with.
        ctx.defer_sends = true;
        forward(&mut ctx, None).unwrap();
        ctx.forward_send = SendOptions::default();
        let out = ctx.outgoing.remove(0);
        out.send(ctx.runtime()).unwrap();
        assert!(cap.take()[0].opts.close);

        // Replies to the message: the reply options.
        let dst = ctx.recv.src;
        ctx.reply_to(dst, b"SIP/2.0 200 OK\r\n\r\n").unwrap();
        assert_eq!(
            cap.take()[0].opts,
            SendOptions {
                close: false,
                no_connect: true
            }
        );

        // A relayed reply: both sets.
        let (mut ctx, cap) = ctx_for(REPLY);
        ctx.forward_send.no_connect = true;
        ctx.reply_send.close = true;
        forward_reply(&mut ctx).unwrap();
        assert_eq!(
            cap.take()[0].opts,
            SendOptions {
                close: true,
                no_connect: true
            }
        );
    }
}
