//! corex: core extensions (`KSR.corex`): the destination set
//! (`append_branch`), extended flags, picking local sockets, raw sends,
//! file reading and writing, and a few message checks.

use std::net::{IpAddr, SocketAddr};

use kemi_core::config::Host;
use kemi_core::context::SocketRef;
use kemi_core::net::Proto;
use kemi_core::{kemi_module, Context, ModuleDef};

/// Core extensions: branches, extended flags, socket selection, raw
/// sends, files, message checks.
#[kemi_module(name = "corex")]
pub mod kemi {
    use kemi_core::context::{Branch, MAX_BRANCHES};
    use kemi_core::sip::{HeaderName, Uri};
    use kemi_core::{Context, NullMode, Xval};
    use tracing::{error, warn};

    use super::{find_socket, named_socket, parse_q, parse_socket, resolve_uri};

    /// Adds a branch to the destination set. With `uri` the branch goes
    /// there (keeping `$du` and the forced socket); without, the current
    /// R-URI moves into the set with its `$du`, branch flags and socket,
    /// which are then reset for the R-URI. 1 on success, -1 when the set is
    /// full (MAX_BRANCHES including the R-URI) or `q` is not a q-value.
    fn push(ctx: &mut Context, uri: Option<&str>, q: Option<&str>) -> i32 {
        let q = match q {
            Some(s) => match parse_q(s) {
                Some(q) => Some(q),
                None => {
                    error!("append_branch: bad q value {s:?}");
                    return -1;
                }
            },
            None => None,
        };
        if ctx.branches.len() + 1 >= MAX_BRANCHES {
            error!("append_branch: too many branches");
            return -1;
        }
        let uri = uri.filter(|u| !u.is_empty());
        let from_ruri = uri.is_none();
        let target = match uri {
            Some(u) => u.to_string(),
            None => {
                if !ctx.msg.is_request() {
                    error!("append_branch: no R-URI in a reply");
                    return -1;
                }
                ctx.ruri().to_string()
            }
        };
        ctx.branches.push(Branch {
            uri: target,
            dst_uri: ctx.dst_uri.clone(),
            path: None,
            q,
            flags: ctx.bflags[0],
            socket: ctx.send_socket.clone(),
        });
        if from_ruri {
            // The R-URI's attributes went with it into the branch.
            ctx.dst_uri = None;
            ctx.bflags[0] = 0;
            ctx.send_socket = None;
        }
        1
    }

    /// Moves the current R-URI (with `$du`, branch flags and forced
    /// socket) into the destination set for parallel forking; those
    /// attributes are then cleared. 1 on success, -1 if the set is full.
    #[kemi_export]
    pub fn append_branch(ctx: &mut Context) -> i32 {
        push(ctx, None, None)
    }

    /// Adds a branch to `uri` (an empty `uri` means the R-URI, as in
    /// `append_branch`). 1 on success, -1 if the set is full.
    #[kemi_export]
    pub fn append_branch_uri(ctx: &mut Context, uri: &str) -> i32 {
        push(ctx, Some(uri), None)
    }

    /// Adds a branch to `uri` with q-value `q` (`"0.5"`, `"1"`...). 1 on
    /// success, -1 if the set is full or `q` is not in 0..1.
    #[kemi_export]
    pub fn append_branch_uri_q(ctx: &mut Context, uri: &str, q: &str) -> i32 {
        push(ctx, Some(uri), Some(q))
    }

    fn xbit(fval: i32) -> Option<u64> {
        u32::try_from(fval)
            .ok()
            .filter(|f| *f < 64)
            .map(|f| 1u64 << f)
    }

    /// Sets extended flag `fval` (0..63). 1, or -1 out of range.
    #[kemi_export]
    pub fn setxflag(ctx: &mut Context, fval: i32) -> i32 {
        match xbit(fval) {
            Some(b) => {
                ctx.xflags |= b;
                1
            }
            None => -1,
        }
    }

    /// Clears extended flag `fval` (0..63). 1, or -1 out of range.
    #[kemi_export]
    pub fn resetxflag(ctx: &mut Context, fval: i32) -> i32 {
        match xbit(fval) {
            Some(b) => {
                ctx.xflags &= !b;
                1
            }
            None => -1,
        }
    }

    /// 1 if extended flag `fval` is set, -1 if not or out of range.
    #[kemi_export]
    pub fn isxflagset(ctx: &Context, fval: i32) -> i32 {
        match xbit(fval) {
            Some(b) if ctx.xflags & b != 0 => 1,
            _ => -1,
        }
    }

    /// Forces the local socket to send from, given as `[proto:]ip[:port]`;
    /// an empty string clears it. 1 on success, -1 if it does not parse or
    /// is not one of this proxy's sockets.
    #[kemi_export]
    pub fn set_send_socket(ctx: &mut Context, ssock: &str) -> i32 {
        if ssock.is_empty() {
            ctx.send_socket = None;
            return 1;
        }
        match parse_socket(ssock).and_then(|s| find_socket(ctx, s)) {
            Some(s) => {
                ctx.send_socket = Some(s);
                1
            }
            None => {
                warn!("set_send_socket: no local socket matches {ssock:?}");
                -1
            }
        }
    }

    /// Forces the local socket to send from by its config `name`. 1 on
    /// success, -1 if no socket has that name.
    #[kemi_export]
    pub fn set_send_socket_name(ctx: &mut Context, ssock: &str) -> i32 {
        match named_socket(ctx, ssock) {
            Some(s) => {
                ctx.send_socket = Some(s);
                1
            }
            None => {
                warn!("set_send_socket_name: no socket named {ssock:?}");
                -1
            }
        }
    }

    /// Makes the message look received on another local socket
    /// (`[proto:]ip[:port]`): later sends from "the receiving socket" and
    /// `$Ri`/`$Rp` use it. 1 on success, -1 if it is not a local socket.
    #[kemi_export]
    pub fn set_recv_socket(ctx: &mut Context, ssock: &str) -> i32 {
        match parse_socket(ssock).and_then(|s| find_socket(ctx, s)) {
            Some(s) => {
                ctx.recv.local = s.addr;
                ctx.recv.proto = s.proto;
                1
            }
            None => {
                warn!("set_recv_socket: no local socket matches {ssock:?}");
                -1
            }
        }
    }

    /// Like `set_recv_socket`, naming the socket by its config `name`.
    #[kemi_export]
    pub fn set_recv_socket_name(ctx: &mut Context, ssock: &str) -> i32 {
        match named_socket(ctx, ssock) {
            Some(s) => {
                ctx.recv.local = s.addr;
                ctx.recv.proto = s.proto;
                1
            }
            None => {
                warn!("set_recv_socket_name: no socket named {ssock:?}");
                -1
            }
        }
    }

    /// Replaces the source address of the message (`$si`/`$sp`) with
    /// `[proto:]ip:port`; the protocol is not changed. 1 on success, -1 if
    /// it does not parse or has no port.
    #[kemi_export]
    pub fn set_source_address(ctx: &mut Context, saddr: &str) -> i32 {
        match parse_socket(saddr) {
            Some((_, ip, Some(port))) => {
                ctx.recv.src = std::net::SocketAddr::new(ip, port);
                1
            }
            _ => {
                error!("set_source_address: bad address {saddr:?}");
                -1
            }
        }
    }

    /// Asks for the `srvid` parameter (the `server_id` core parameter,
    /// when not 0) in the Via this proxy adds to the requests it forwards
    /// for this message (non-zero `fval`), or not. Always 1.
    #[kemi_export]
    pub fn via_add_srvid(ctx: &mut Context, fval: i32) -> i32 {
        ctx.via_options.add_srvid = fval != 0;
        1
    }

    /// Asks for the fields of the xavp named by the `xavp_via_params` core
    /// parameter as `;name=value` parameters of the Via this proxy adds
    /// (non-zero `fval`), or not. Always 1.
    #[kemi_export]
    pub fn via_add_xavp_params(ctx: &mut Context, fval: i32) -> i32 {
        ctx.via_options.add_xavp_params = fval != 0;
        1
    }

    /// Asks for the host and port of the Via this proxy adds to be taken
    /// from the `address` and `port` fields of the xavp named by the
    /// `xavp_via_fields` core parameter (non-zero `fval`), or not.
    /// Always 1.
    #[kemi_export]
    pub fn via_use_xavp_fields(ctx: &mut Context, fval: i32) -> i32 {
        ctx.via_options.use_xavp_fields = fval != 0;
        1
    }

    /// Asks for the fields of the xavp named by the `xavp_via_reply_params`
    /// core parameter as parameters of the top Via of the replies this
    /// proxy sends for the message (non-zero `fval`), or not. Always 1.
    #[kemi_export]
    pub fn via_reply_add_xavp_params(ctx: &mut Context, fval: i32) -> i32 {
        ctx.via_options.reply_add_xavp_params = fval != 0;
        1
    }

    /// 1 if the R-URI has a user part, -1 otherwise (and for replies).
    #[kemi_export]
    pub fn has_ruri_user(ctx: &Context) -> i32 {
        if !ctx.msg.is_request() {
            return -1;
        }
        match Uri::parse(ctx.ruri()) {
            Ok(u) if u.user.is_some_and(|u| !u.is_empty()) => 1,
            _ => -1,
        }
    }

    /// 1 if the message has a User-Agent header, -1 otherwise.
    #[kemi_export]
    pub fn has_user_agent(ctx: &Context) -> i32 {
        if ctx.msg.header(HeaderName::UserAgent).is_some() {
            1
        } else {
            -1
        }
    }

    /// Sends `data` as is to the address of SIP URI `uri` (host, port,
    /// `transport` parameter; names are resolved), from a socket the
    /// transport picks. 1 if sent, -1 otherwise.
    #[kemi_export]
    pub fn send_data(ctx: &Context, uri: &str, data: &str) -> i32 {
        let Some((proto, dst)) = resolve_uri(uri) else {
            error!("send_data: cannot resolve {uri:?}");
            return -1;
        };
        match ctx
            .runtime()
            .transport()
            .send(proto, None, dst, data.as_bytes())
        {
            Ok(()) => 1,
            Err(e) => {
                error!("send_data: sending to {dst} failed: {e}");
                -1
            }
        }
    }

    /// Sends `data` to the address of `uri` from local socket `sock`
    /// (`proto:ip:port`, or a socket name); the socket's protocol is used.
    /// 1 if sent, -1 otherwise.
    #[kemi_export]
    pub fn sendx(ctx: &Context, uri: &str, sock: &str, data: &str) -> i32 {
        let Some((_, dst)) = resolve_uri(uri) else {
            error!("sendx: cannot resolve {uri:?}");
            return -1;
        };
        let Some(local) = parse_socket(sock)
            .and_then(|s| find_socket(ctx, s))
            .or_else(|| named_socket(ctx, sock))
        else {
            error!("sendx: no local socket matches {sock:?}");
            return -1;
        };
        match ctx
            .runtime()
            .transport()
            .send(local.proto, Some(local.addr), dst, data.as_bytes())
        {
            Ok(()) => 1,
            Err(e) => {
                error!("sendx: sending to {dst} failed: {e}");
                -1
            }
        }
    }

    /// 1 if the message is the stand-in one KSR calls get outside any
    /// real message (start-up, timers), -1 otherwise.
    #[kemi_export]
    pub fn is_faked_msg(ctx: &Context) -> i32 {
        if ctx.faked {
            1
        } else {
            -1
        }
    }

    /// The content of file `fname` as a string (invalid UTF-8 replaced);
    /// null if it cannot be read.
    #[kemi_export]
    pub fn file_read(fname: &str) -> Xval {
        match std::fs::read(fname) {
            Ok(b) => Xval::from(String::from_utf8_lossy(&b).into_owned()),
            Err(e) => {
                error!("file_read: cannot read {fname:?}: {e}");
                Xval::null(NullMode::Null)
            }
        }
    }

    /// Writes `fdata` to file `fname`, replacing its content. 1 on
    /// success, -1 otherwise.
    #[kemi_export]
    pub fn file_write(fname: &str, fdata: &str) -> i32 {
        match std::fs::write(fname, fdata) {
            Ok(()) => 1,
            Err(e) => {
                error!("file_write: cannot write {fname:?}: {e}");
                -1
            }
        }
    }

    /// 1 if a listening socket has the config name `sockname`, -1
    /// otherwise.
    #[kemi_export]
    pub fn is_socket_name(ctx: &Context, sockname: &str) -> i32 {
        let named = ctx
            .runtime()
            .config()
            .listen
            .iter()
            .any(|l| l.name.as_deref() == Some(sockname));
        if named && !sockname.is_empty() {
            1
        } else {
            -1
        }
    }

    /// Forwards the request statelessly as if this proxy started it:
    /// the received Vias are removed and this proxy's, with a new branch,
    /// is the only one, so replies end here. Goes to `$du`, else the
    /// R-URI. 1 when sent, -1 otherwise.
    #[kemi_export]
    pub fn forward_uac(ctx: &mut Context) -> i32 {
        uac_send(ctx, "forward_uac", None, None)
    }

    /// `forward_uac` for entry `bindex` (from 0) of the destination set
    /// (`append_branch`...): its URI is the Request-URI, its `$du` the
    /// next hop. -1 when there is no such branch.
    #[kemi_export]
    pub fn forward_uac_branch(ctx: &mut Context, bindex: i32) -> i32 {
        uac_send(ctx, "forward_uac_branch", None, Some(bindex))
    }

    /// `forward_uac` to the SIP URI `vuri` instead of `$du`/the R-URI
    /// (an empty `vuri` means those).
    #[kemi_export]
    pub fn forward_uac_uri(ctx: &mut Context, vuri: &str) -> i32 {
        uac_send(ctx, "forward_uac_uri", Some(vuri), None)
    }

    /// `forward_uac_branch` sent to the SIP URI `vuri` instead of the
    /// branch's own next hop.
    #[kemi_export]
    pub fn forward_uac_uri_branch(ctx: &mut Context, vuri: &str, bindex: i32) -> i32 {
        uac_send(ctx, "forward_uac_uri_branch", Some(vuri), Some(bindex))
    }

    fn uac_send(ctx: &mut Context, what: &str, vuri: Option<&str>, bindex: Option<i32>) -> i32 {
        let branch = match bindex {
            None => None,
            Some(i) => match usize::try_from(i).ok().and_then(|i| ctx.branches.get(i)) {
                Some(b) => Some(b.clone()),
                None => {
                    error!("{what}: no branch {i} in the destination set");
                    return -1;
                }
            },
        };
        match kemi_core::forward::forward_uac(ctx, vuri, branch.as_ref()) {
            Ok(_) => 1,
            Err(e) => {
                error!("{what}: {e}");
                -1
            }
        }
    }
}

/// A q-value (`0`, `0.5`, `1.000`) in thousandths.
fn parse_q(s: &str) -> Option<u16> {
    let s = s.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u16 = match int {
        "0" => 0,
        "1" => 1,
        _ => return None,
    };
    let mut thousandths: u16 = 0;
    for (i, b) in frac.bytes().enumerate() {
        let scale = [100, 10, 1].get(i).copied().unwrap_or(0);
        thousandths += u16::from(b - b'0') * scale;
    }
    let q = whole * 1000 + thousandths;
    (q <= 1000).then_some(q)
}

/// Parses `[proto:]ip[:port]` (IPv6 in brackets when a port follows).
fn parse_socket(s: &str) -> Option<(Option<Proto>, IpAddr, Option<u16>)> {
    let s = s.trim();
    let (proto, rest) = match s.split_once(':') {
        Some((p, rest)) if Proto::parse(p).is_some() => (Proto::parse(p), rest),
        _ => (None, s),
    };
    if let Ok(ip) = rest.parse::<IpAddr>() {
        return Some((proto, ip, None));
    }
    if let Ok(sa) = rest.parse::<SocketAddr>() {
        return Some((proto, sa.ip(), Some(sa.port())));
    }
    let ip = rest.strip_prefix('[')?.strip_suffix(']')?.parse().ok()?;
    Some((proto, ip, None))
}

/// Every local socket: bound ones, and `listen` entries with a concrete
/// address (the global `port` when none is given).
fn local_sockets(ctx: &Context) -> Vec<SocketRef> {
    let cfg = ctx.runtime().config();
    let mut out: Vec<SocketRef> = Vec::new();
    for l in &cfg.listen {
        let ip = match &l.addr {
            Host::Ipv4(a) => IpAddr::V4(*a),
            Host::Ipv6(a) => IpAddr::V6(*a),
            _ => continue,
        };
        let Some(proto) = Proto::parse(l.proto.name()) else {
            // `listen=ip` without protocol: one socket per usual transport.
            for proto in [Proto::Udp, Proto::Tcp] {
                out.push(SocketRef {
                    proto,
                    addr: SocketAddr::new(ip, l.port.unwrap_or(cfg.port)),
                    name: l.name.clone(),
                });
            }
            continue;
        };
        out.push(SocketRef {
            proto,
            addr: SocketAddr::new(ip, l.port.unwrap_or(cfg.port)),
            name: l.name.clone(),
        });
    }
    for (proto, addr) in ctx.runtime().sockets() {
        if !out.iter().any(|s| s.proto == proto && s.addr == addr) {
            out.push(SocketRef {
                proto,
                addr,
                name: None,
            });
        }
    }
    out
}

/// The local socket matching a parsed `[proto:]ip[:port]`.
fn find_socket(
    ctx: &Context,
    (proto, ip, port): (Option<Proto>, IpAddr, Option<u16>),
) -> Option<SocketRef> {
    local_sockets(ctx).into_iter().find(|s| {
        s.addr.ip() == ip
            && port.is_none_or(|p| p == s.addr.port())
            && proto.is_none_or(|p| p == s.proto)
    })
}

fn named_socket(ctx: &Context, name: &str) -> Option<SocketRef> {
    if name.is_empty() {
        return None;
    }
    local_sockets(ctx)
        .into_iter()
        .find(|s| s.name.as_deref() == Some(name))
}

/// The protocol and address a SIP URI leads to (the same resolution as
/// stateless forwarding; failures are logged at debug by the caller's -1).
fn resolve_uri(uri: &str) -> Option<(Proto, SocketAddr)> {
    kemi_core::forward::resolve_uri(uri)
        .map(|hop| (hop.proto, hop.dst))
        .ok()
}

pub static MODULE: ModuleDef = ModuleDef {
    name: "corex",
    summary: "core extensions: branches, extended flags, socket selection, raw sends, files",
    kemi: Some(&kemi::SUBMODULE),
    params: &[],
    rpc: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_values() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("0.5"), Some(500));
        assert_eq!(parse_q("0.125"), Some(125));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("1.5"), None);
        assert_eq!(parse_q("0.1234"), None);
        assert_eq!(parse_q("x"), None);
        assert_eq!(parse_q(""), None);
        assert_eq!(parse_q(".5"), None);
    }

    #[test]
    fn socket_strings() {
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(
            parse_socket("udp:10.0.0.1:5060"),
            Some((Some(Proto::Udp), v4, Some(5060)))
        );
        assert_eq!(parse_socket("10.0.0.1"), Some((None, v4, None)));
        assert_eq!(
            parse_socket("tcp:10.0.0.1"),
            Some((Some(Proto::Tcp), v4, None))
        );
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            parse_socket("tls:[2001:db8::1]:5061"),
            Some((Some(Proto::Tls), v6, Some(5061)))
        );
        assert_eq!(parse_socket("[2001:db8::1]"), Some((None, v6, None)));
        assert_eq!(parse_socket("udp:host.example:5060"), None);
        assert_eq!(parse_socket(""), None);
    }
}
