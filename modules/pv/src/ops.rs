//! The work behind `KSR.pvx`: each family's operations over the stores in
//! `kemi_core::pv`, with Kamailio's return codes.

use std::net::{IpAddr, SocketAddr};

use kemi_core::config::Host;
use kemi_core::context::{Branch, SocketRef, MAX_BRANCHES};
use kemi_core::net::Proto;
use kemi_core::pv::{self, sbranch, vars, PvValue, SharedVars, XavKind, XavpList, XavpValue};
use kemi_core::{Context, NullMode, Xval};

/// A name given by the script, refused (with a log) when empty: an empty
/// name is always a script bug and could never be read back.
fn name_ok(what: &str, name: &str) -> bool {
    if name.is_empty() {
        tracing::error!(target: "script", "{what}: empty name");
        false
    } else {
        true
    }
}

fn list(ctx: &Context, kind: XavKind) -> (&XavpList, bool) {
    match kind {
        XavKind::Xavp => (&ctx.pv.xavps, false),
        XavKind::Xavu => (&ctx.pv.xavus, false),
        XavKind::Xavi => (&ctx.pv.xavis, true),
    }
}

fn list_mut(ctx: &mut Context, kind: XavKind) -> (&mut XavpList, bool) {
    match kind {
        XavKind::Xavp => (&mut ctx.pv.xavps, false),
        XavKind::Xavu => (&mut ctx.pv.xavus, false),
        XavKind::Xavi => (&mut ctx.pv.xavis, true),
    }
}

fn scalar(v: Option<&XavpValue>, mode: NullMode) -> Xval {
    Xval::or_null(v.map(|v| v.to_pv().into_xval()), mode)
}

// ----- static branch -----

pub fn sbranch_to_ruri(ctx: &mut Context) -> i32 {
    let b = sbranch::get();
    let Some(uri) = b.uri.filter(|u| !u.is_empty()) else {
        tracing::error!(target: "script", "sbranch_set_ruri: the static branch has no uri");
        return -1;
    };
    if !ctx.msg.is_request() {
        return -1;
    }
    ctx.new_uri = Some(uri);
    if let Some(du) = b.dst_uri.filter(|d| !d.is_empty()) {
        ctx.dst_uri = Some(du);
    }
    if let Some(ruid) = b.ruid {
        ctx.pv.ruid = Some(ruid);
    }
    1
}

/// Appends the static branch to the destination set (`sbranch_append`).
pub fn sbranch_to_branch(ctx: &mut Context) -> i32 {
    let b = sbranch::get();
    let Some(uri) = b.uri.filter(|u| !u.is_empty()) else {
        tracing::error!(target: "script", "sbranch_append: the static branch has no uri");
        return -1;
    };
    if !ctx.msg.is_request() {
        tracing::error!(target: "script", "sbranch_append: not a request");
        return -1;
    }
    if ctx.branches.len() + 1 >= MAX_BRANCHES {
        tracing::error!(target: "script", "sbranch_append: too many branches");
        return -1;
    }
    // Kamailio's q is in thousandths, negative meaning "not given".
    let q = match b.q {
        None => None,
        Some(q) if q < 0 => None,
        Some(q) => match u16::try_from(q).ok().filter(|q| *q <= 1000) {
            Some(q) => Some(q),
            None => {
                tracing::error!(target: "script", "sbranch_append: q {q} is not in 0..1000");
                return -1;
            }
        },
    };
    let socket = match b.send_socket.filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match local_socket(ctx, &s) {
            Some(sock) => Some(sock),
            None => {
                tracing::error!(target: "script", "sbranch_append: {s:?} is not a socket of this proxy");
                return -1;
            }
        },
    };
    let non_empty = |v: Option<String>| v.filter(|v| !v.is_empty());
    ctx.branches.push(Branch {
        uri,
        dst_uri: non_empty(b.dst_uri),
        path: non_empty(b.path),
        q,
        // Branch flags are 32 bits; higher bits have no flag to set.
        flags: u32::try_from(b.flags & 0xffff_ffff).unwrap_or(0),
        socket,
    });
    1
}

/// The local socket `[proto:]ip[:port]` names, among those the proxy has.
fn local_socket(ctx: &Context, text: &str) -> Option<SocketRef> {
    let text = text.trim();
    let (proto, rest) = match text.split_once(':') {
        Some((p, rest)) if Proto::parse(p).is_some() => (Proto::parse(p), rest),
        _ => (None, text),
    };
    let (ip, port) = match rest.parse::<SocketAddr>() {
        Ok(sa) => (sa.ip(), Some(sa.port())),
        Err(_) => {
            let bare = rest
                .strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .unwrap_or(rest);
            (bare.parse::<IpAddr>().ok()?, None)
        }
    };
    local_sockets(ctx).into_iter().find(|s| {
        s.addr.ip() == ip
            && port.is_none_or(|n| n == s.addr.port())
            && proto.is_none_or(|p| p == s.proto)
    })
}

/// The proxy's sockets: `listen` entries with an address (the global
/// `port` when they give none), then the bound ones.
fn local_sockets(ctx: &Context) -> Vec<SocketRef> {
    let cfg = ctx.runtime().config();
    let mut out = Vec::new();
    for l in &cfg.listen {
        let ip = match &l.addr {
            Host::Ipv4(a) => IpAddr::V4(*a),
            Host::Ipv6(a) => IpAddr::V6(*a),
            _ => continue,
        };
        let addr = SocketAddr::new(ip, l.port.unwrap_or(cfg.port));
        // `listen=ip` without a protocol: UDP and TCP.
        let protos = match Proto::parse(l.proto.name()) {
            Some(p) => vec![p],
            None => vec![Proto::Udp, Proto::Tcp],
        };
        for proto in protos {
            out.push(SocketRef {
                proto,
                addr,
                name: l.name.clone(),
            });
        }
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

// ----- $var, $shv -----

pub fn var_set(name: &str, value: PvValue) -> i32 {
    if !name_ok("var_set", name) {
        return -1;
    }
    vars::set(name, Some(value));
    1
}

pub fn var_read(name: &str) -> Xval {
    match vars::get(name) {
        Some(v) => v.into_xval(),
        None => {
            tracing::warn!(target: "script", "var_get: $var({name}) was never assigned, reading 0");
            Xval::Int(0)
        }
    }
}

pub fn shv_set(ctx: &Context, name: &str, value: PvValue) -> i32 {
    if !name_ok("shv_set", name) {
        return -1;
    }
    ctx.runtime().state::<SharedVars>().set(name, Some(value));
    1
}

pub fn shv_read(ctx: &Context, name: &str) -> Xval {
    ctx.runtime().state::<SharedVars>().get(name).into_xval()
}

pub fn shv_increment(ctx: &Context, name: &str) -> Xval {
    match ctx.runtime().state::<SharedVars>().increment(name) {
        Some(n) => PvValue::Int(n).into_xval(),
        None => {
            tracing::error!(target: "script", "shvinc_get: $shv({name}) holds a string");
            Xval::Null
        }
    }
}

// ----- copies and printing -----

pub fn var_to_xavp(ctx: &mut Context, varname: &str, xname: &str) -> i32 {
    if !name_ok("pv_var_to_xavp", varname) || !name_ok("pv_var_to_xavp", xname) {
        return -1;
    }
    let mut children = XavpList::default();
    if varname == "*" {
        for (name, value) in vars::all() {
            children.push_back(&name, value.into());
        }
    } else {
        let value = vars::get(varname).unwrap_or(PvValue::Int(0));
        children.push_back(varname, value.into());
    }
    ctx.pv.xavps.remove_all(xname, false);
    ctx.pv.xavps.push_front(xname, XavpValue::List(children));
    1
}

pub fn xavp_to_var(ctx: &mut Context, xname: &str) -> i32 {
    let Some(XavpValue::List(children)) = ctx.pv.xavps.get(xname, 0, false) else {
        return -1;
    };
    // The first value of each child name is the current one.
    for name in children.names() {
        if let Some(v) = children.get(name, 0, false) {
            vars::set(name, Some(v.to_pv()));
        }
    }
    1
}

pub fn print(ctx: &Context, kind: XavKind) -> i32 {
    let (l, _) = list(ctx, kind);
    let mut lines = Vec::new();
    l.dump(0, &mut lines);
    let family = match kind {
        XavKind::Xavp => "xavp",
        XavKind::Xavu => "xavu",
        XavKind::Xavi => "xavi",
    };
    tracing::info!(target: "script", "{family} list: {} item(s)", l.iter().count());
    for line in lines {
        tracing::info!(target: "script", "{family}: {line}");
    }
    1
}

// ----- parameter strings -----

pub fn params_explode(
    ctx: &mut Context,
    kind: XavKind,
    sparams: &str,
    sep: char,
    xname: &str,
) -> i32 {
    if !name_ok("params_explode", xname) {
        return -1;
    }
    let mut children = XavpList::default();
    for param in sparams.split(sep) {
        let param = param.trim();
        if param.is_empty() {
            continue;
        }
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n.trim(), v.trim()),
            None => (param, ""),
        };
        if name.is_empty() {
            tracing::error!(target: "script", "params_explode: parameter without name in {sparams:?}");
            return -1;
        }
        children.push_back(name, XavpValue::Str(value.to_string()));
    }
    if children.is_empty() {
        return -1;
    }
    let (l, ci) = list_mut(ctx, kind);
    if kind == XavKind::Xavu {
        l.set_unique(xname, XavpValue::List(children), ci);
    } else {
        l.push_front(xname, XavpValue::List(children));
    }
    1
}

pub fn params_implode(
    ctx: &mut Context,
    kind: XavKind,
    xname: &str,
    svname: &str,
    qval: bool,
) -> i32 {
    let (l, ci) = list(ctx, kind);
    let Some(XavpValue::List(children)) = l.get(xname, 0, ci) else {
        return -1;
    };
    let mut parts = Vec::new();
    for (name, value) in children.iter() {
        match value {
            XavpValue::Int(n) => parts.push(format!("{name}={n}")),
            XavpValue::Str(s) if qval => parts.push(format!("{name}=\"{s}\"")),
            XavpValue::Str(s) => parts.push(format!("{name}={s}")),
            // Nested lists have no parameter form; Kamailio skips them too.
            XavpValue::List(_) => {}
        }
    }
    let text = parts.join(";");
    match pv::set_by_name(ctx, svname, Some(PvValue::Str(text))) {
        Ok(()) => 1,
        Err(e) => {
            tracing::error!(target: "script", "params_implode: cannot assign '{svname}': {e}");
            -1
        }
    }
}

pub fn slist_explode(ctx: &mut Context, slist: &str, sep: &str, mode: &str, xname: &str) -> i32 {
    if !name_ok("xavp_slist_explode", xname) || sep.is_empty() {
        return -1;
    }
    let trim = mode.contains('t');
    let keep_empty = mode.contains('e');
    let tokens: Vec<&str> = slist
        .split(|c| sep.contains(c))
        .map(|t| if trim { t.trim() } else { t })
        .filter(|t| keep_empty || !t.is_empty())
        .collect();
    if tokens.is_empty() {
        return -1;
    }
    // Added last token first, so the first token ends up at index 0.
    for t in tokens.iter().rev() {
        ctx.pv
            .xavps
            .push_front(xname, XavpValue::Str((*t).to_string()));
    }
    1
}

// ----- xavp families -----

pub fn x_set(ctx: &mut Context, kind: XavKind, name: &str, value: PvValue) -> i32 {
    if !name_ok("xavp set", name) {
        return -1;
    }
    let (l, ci) = list_mut(ctx, kind);
    if kind == XavKind::Xavu {
        l.set_unique(name, value.into(), ci);
    } else {
        l.push_front(name, value.into());
    }
    1
}

pub fn x_get(ctx: &Context, kind: XavKind, name: &str, mode: NullMode) -> Xval {
    let (l, ci) = list(ctx, kind);
    scalar(l.get(name, 0, ci), mode)
}

/// One item as `getd` shows it: children as a dict, a scalar as itself.
fn item_xval(v: &XavpValue) -> Xval {
    v.to_xval()
}

pub fn x_getd(ctx: &Context, kind: XavKind, name: &str) -> Xval {
    let (l, ci) = list(ctx, kind);
    let items: Vec<Xval> = l.all(name, ci).into_iter().map(item_xval).collect();
    if items.is_empty() {
        Xval::Null
    } else {
        Xval::Array(items)
    }
}

pub fn x_getd_p1(ctx: &Context, kind: XavKind, name: &str, idx: i32) -> Xval {
    let (l, ci) = list(ctx, kind);
    l.get(name, idx, ci).map_or(Xval::Null, item_xval)
}

pub fn x_keys(ctx: &Context, kind: XavKind, name: &str, idx: i32) -> Xval {
    let (l, ci) = list(ctx, kind);
    match l.get(name, idx, ci) {
        Some(XavpValue::List(children)) => Xval::Array(
            children
                .names()
                .into_iter()
                .map(|n| Xval::from(n.to_string()))
                .collect(),
        ),
        _ => Xval::Null,
    }
}

pub fn x_rm(ctx: &mut Context, kind: XavKind, name: &str, all: bool) -> i32 {
    let (l, ci) = list_mut(ctx, kind);
    if all {
        l.remove_all(name, ci);
    } else {
        l.remove(name, 0, ci);
    }
    1
}

pub fn x_is_null(ctx: &Context, kind: XavKind, name: &str) -> i32 {
    let (l, ci) = list(ctx, kind);
    if l.get(name, 0, ci).is_some() {
        -1
    } else {
        1
    }
}

pub fn x_child_set(
    ctx: &mut Context,
    kind: XavKind,
    rname: &str,
    cname: &str,
    value: PvValue,
) -> i32 {
    if !name_ok("xavp child set", rname) || !name_ok("xavp child set", cname) {
        return -1;
    }
    let unique = kind == XavKind::Xavu;
    let (l, ci) = list_mut(ctx, kind);
    match l.get_mut(rname, 0, ci) {
        Some(XavpValue::List(children)) => {
            if unique {
                children.set_unique(cname, value.into(), ci);
            } else {
                children.push_front(cname, value.into());
            }
            1
        }
        Some(_) => {
            tracing::error!(target: "script", "'{rname}' holds a value, not child fields");
            -1
        }
        None => {
            let mut children = XavpList::default();
            children.push_front(cname, value.into());
            l.push_front(rname, XavpValue::List(children));
            1
        }
    }
}

fn child<'l>(l: &'l XavpList, rname: &str, cname: &str, ci: bool) -> Option<&'l XavpValue> {
    match l.get(rname, 0, ci)? {
        XavpValue::List(children) => children.get(cname, 0, ci),
        _ => None,
    }
}

pub fn x_child_rm(ctx: &mut Context, kind: XavKind, rname: &str, cname: &str) -> i32 {
    let (l, ci) = list_mut(ctx, kind);
    if let Some(XavpValue::List(children)) = l.get_mut(rname, 0, ci) {
        children.remove(cname, 0, ci);
    }
    1
}

pub fn x_child_is_null(ctx: &Context, kind: XavKind, rname: &str, cname: &str) -> i32 {
    let (l, ci) = list(ctx, kind);
    if child(l, rname, cname, ci).is_some() {
        -1
    } else {
        1
    }
}

pub fn x_child_get(ctx: &Context, kind: XavKind, rname: &str, cname: &str, mode: NullMode) -> Xval {
    let (l, ci) = list(ctx, kind);
    scalar(child(l, rname, cname, ci), mode)
}

// ----- evalx, avp -----

pub fn eval_into(ctx: &mut Context, dst: &str, fmt: &str) -> i32 {
    let text = pv::format(ctx, fmt);
    match pv::set_by_name(ctx, dst, Some(PvValue::Str(text))) {
        Ok(()) => 1,
        Err(e) => {
            tracing::error!(target: "script", "evalx: cannot assign '{dst}': {e}");
            -1
        }
    }
}

pub fn avp_set(ctx: &mut Context, name: &str, value: PvValue) -> i32 {
    if !name_ok("avp set", name) {
        return -1;
    }
    ctx.pv.avps.push_front(name, value.into());
    1
}

pub fn avp_read(ctx: &Context, name: &str, mode: NullMode) -> Xval {
    scalar(ctx.pv.avps.get(name, 0, false), mode)
}

pub fn avp_remove(ctx: &mut Context, name: &str) -> i32 {
    ctx.pv.avps.remove_all(name, false);
    1
}

pub fn avp_null(ctx: &Context, name: &str) -> i32 {
    if ctx.pv.avps.get(name, 0, false).is_some() {
        -1
    } else {
        1
    }
}

// ----- xavp list operations -----

pub fn copy(ctx: &mut Context, src: &str, src_idx: i32, dst: &str, dst_idx: Option<i32>) -> i32 {
    if !name_ok("xavp_copy", dst) {
        return -1;
    }
    let Some(value) = ctx.pv.xavps.get(src, src_idx, false).cloned() else {
        return -1;
    };
    match dst_idx {
        None => {
            ctx.pv.xavps.push_back(dst, value);
            1
        }
        Some(i) => {
            if ctx.pv.xavps.replace(dst, i, value, false) {
                1
            } else {
                -1
            }
        }
    }
}

pub fn lshift(ctx: &mut Context, name: &str, idx: i32) -> i32 {
    if ctx.pv.xavps.rotate(name, idx, false) {
        1
    } else {
        -1
    }
}

pub fn push_dst(ctx: &mut Context, xname: &str) -> i32 {
    let Some(XavpValue::List(children)) = ctx.pv.xavps.get(xname, 0, false) else {
        return -1;
    };
    let field = |n: &str| {
        children
            .get(n, 0, false)
            .map(|v| v.to_pv().to_string())
            .filter(|s| !s.is_empty())
    };
    let uri = field("uri");
    let du = field("dsturi").or_else(|| field("duri"));
    if uri.is_none() && du.is_none() {
        return -1;
    }
    if let Some(uri) = uri {
        if !ctx.msg.is_request() {
            return -1;
        }
        ctx.new_uri = Some(uri);
    }
    if let Some(du) = du {
        ctx.dst_uri = Some(du);
    }
    1
}
