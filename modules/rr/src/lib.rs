//! `rr`: record routing (`KSR.rr.*`), RFC 3261 16.6 step 4 and 16.4/16.12.
//!
//! `record_route*` put this proxy's address in a Record-Route header, as an
//! edit on the routed message, so whichever path sends it (stateless
//! forward or tm) carries it. `loose_route` consumes the Route
//! set of in-dialog (and preloaded) requests: it removes the Route that
//! names this proxy, points `$du` at the next one, and undoes a strict
//! router's Request-URI rewrite.
//!
//! When the request leaves on another transport or socket than it came in
//! on, the sending path doubles the Record-Route (`enable_double_rr`, see
//! `kemi_core::context::DoubleRecordRoute`).
//!
//! Left out: the outbound flow-token return codes (2, -2) and
//! `add_username`.

use kemi_core::myself::is_myself_parsed;
use kemi_core::net::Proto;
use kemi_core::sip::scan::split_commas;
use kemi_core::sip::{Edit, HeaderName, HeaderPos, NameAddr, Scheme, Uri};
use kemi_core::{kemi_module, Context, ModParam, ModParamKind, ModuleDef};

/// What `rr` remembers about the message being routed.
#[derive(Default, Debug)]
struct RrState {
    /// Parameters `add_rr_param` queued for the next Record-Route.
    pending: String,
    /// Values of the Record-Route headers this module added (in edits).
    added: Vec<String>,
    /// Parameters of the Route (or strict-routed R-URI) that named this
    /// proxy, with their leading `;`; `None` when not loose-routed.
    routed_params: Option<String>,
    /// Route entries (by position in the received Route set) removed.
    removed: Vec<usize>,
}

fn int_param(ctx: &Context, name: &str) -> i64 {
    ctx.runtime()
        .config()
        .module("rr")
        .and_then(|m| m.param(name))
        .and_then(|v| v.as_int())
        .unwrap_or(0)
}

/// The `;lr` parameter, `;lr=on` with `enable_full_lr`.
fn lr(ctx: &Context) -> &'static str {
    if int_param(ctx, "enable_full_lr") != 0 {
        ";lr=on"
    } else {
        ";lr"
    }
}

/// `;ftag=<From tag>` when `append_fromtag` is set and From has a tag.
/// Err when From cannot be parsed while a tag is wanted.
fn ftag(ctx: &Context) -> Result<String, ()> {
    if int_param(ctx, "append_fromtag") == 0 {
        return Ok(String::new());
    }
    match ctx.msg.from() {
        Ok(f) => Ok(f.tag().map(|t| format!(";ftag={t}")).unwrap_or_default()),
        Err(e) => {
            tracing::debug!("rr: bad From: {e}");
            Err(())
        }
    }
}

fn transport_param(proto: Proto) -> &'static str {
    match proto {
        Proto::Udp => "",
        Proto::Tcp => ";transport=tcp",
        Proto::Tls => ";transport=tls",
        Proto::Sctp => ";transport=sctp",
        Proto::Ws | Proto::Wss => ";transport=ws",
    }
}

/// `host[:port];transport=..` of the receiving socket, or of the
/// advertised address/port set for this message. As Kamailio, the port is
/// left out when it is 5060 over UDP and nothing is advertised.
fn local_address(ctx: &Context) -> String {
    let proto = ctx.recv.proto;
    let host = match ctx.advertised_address.as_deref() {
        Some(a) if !a.is_empty() => {
            if a.contains(':') && !a.starts_with('[') {
                format!("[{a}]")
            } else {
                a.to_string()
            }
        }
        _ => kemi_core::forward::host_literal(ctx.recv.local.ip()),
    };
    let port = match ctx.advertised_port.as_deref() {
        Some(p) if !p.is_empty() => format!(":{p}"),
        _ => {
            let p = ctx.recv.local.port();
            if p == 5060 && proto == Proto::Udp && ctx.advertised_address.is_none() {
                String::new()
            } else {
                format!(":{p}")
            }
        }
    };
    format!("{host}{port}{}", transport_param(proto))
}

/// Normalises script parameters to start with `;`.
fn semi(params: &str) -> String {
    if params.is_empty() || params.starts_with(';') {
        params.to_string()
    } else {
        format!(";{params}")
    }
}

/// Adds one Record-Route `<uri_head;lr[;ftag][params][pending]>`; records it
/// in the state. `extra` is appended after the ftag.
fn add_rr(ctx: &mut Context, uri_head: &str, extra: &str, double: bool) -> i32 {
    let Ok(ftag) = ftag(ctx) else { return -1 };
    let mut st: RrState = ctx.ext.take();
    let params = format!("{}{ftag}{}{}", lr(ctx), semi(extra), st.pending);
    let value = format!("<{uri_head}{params}>");
    let rc = match ctx.msg.add_header(HeaderPos::First, "Record-Route", &value) {
        Ok(()) => {
            // Doubled by the sending path if the request leaves on another
            // socket (enable_double_rr, on by default as in Kamailio).
            if double && double_rr_enabled(ctx) {
                ctx.double_rr = Some(kemi_core::context::DoubleRecordRoute {
                    value: value.clone(),
                    params,
                });
            }
            st.added.push(value);
            1
        }
        Err(e) => {
            tracing::debug!("rr: cannot add Record-Route: {e}");
            -1
        }
    };
    ctx.ext.put(st);
    rc
}

/// `enable_double_rr`: 1 unless set to 0.
fn double_rr_enabled(ctx: &Context) -> bool {
    ctx.runtime()
        .config()
        .module("rr")
        .and_then(|m| m.param("enable_double_rr"))
        .and_then(|v| v.as_int())
        .unwrap_or(1)
        != 0
}

/// `sip:` + `addr` unless it already is a SIP URI.
fn sip_uri(addr: &str) -> String {
    let l = addr.get(..5).unwrap_or(addr).to_ascii_lowercase();
    if l.starts_with("sip:") || l.starts_with("sips:") {
        addr.to_string()
    } else {
        format!("sip:{addr}")
    }
}

/// Rebuilds the message's edit list through `f` (edit kept when `f`
/// returns `Some`, possibly changed).
fn rewrite_edits(ctx: &mut Context, mut f: impl FnMut(Edit) -> Option<Edit>) {
    let edits = ctx.msg.edits().to_vec();
    ctx.msg.clear_edits();
    for e in edits {
        if let Some(e) = f(e) {
            if let Err(err) = ctx.msg.edit(e) {
                tracing::debug!("rr: could not re-apply an edit: {err}");
            }
        }
    }
}

fn is_rr_edit(e: &Edit, added: &[String]) -> Option<usize> {
    match e {
        Edit::AddHeader { name, value, .. } if name == "Record-Route" => {
            added.iter().position(|v| v == value)
        }
        _ => None,
    }
}

/// One entry of the received Route set.
struct RouteEntry {
    header: usize,
    text: String,
}

fn route_entries(ctx: &Context) -> Vec<RouteEntry> {
    let mut out = Vec::new();
    for h in ctx.msg.headers_of(HeaderName::Route) {
        for part in split_commas(h.value) {
            let t = part.trim();
            if !t.is_empty() {
                out.push(RouteEntry {
                    header: h.index,
                    text: t.to_string(),
                });
            }
        }
    }
    out
}

/// Records the removal of the entries in `st.removed`: a header whose
/// entries are all gone is removed, others get the remaining values.
fn apply_removals(ctx: &mut Context, entries: &[RouteEntry], removed: &[usize]) -> Result<(), ()> {
    let mut headers: Vec<usize> = removed
        .iter()
        .filter_map(|&i| entries.get(i).map(|e| e.header))
        .collect();
    headers.dedup();
    for h in headers {
        let left: Vec<&str> = entries
            .iter()
            .enumerate()
            .filter(|(i, e)| e.header == h && !removed.contains(i))
            .map(|(_, e)| e.text.as_str())
            .collect();
        let r = if left.is_empty() {
            ctx.msg.remove_header(h)
        } else {
            ctx.msg.replace_header_value(h, &left.join(", "))
        };
        if let Err(e) = r {
            tracing::debug!("rr: cannot remove a Route: {e}");
            return Err(());
        }
    }
    Ok(())
}

/// `;a=b;c` text of URI parameters.
fn params_text(uri: &Uri<'_>) -> String {
    let mut s = String::new();
    for p in uri.params.iter() {
        s.push(';');
        s.push_str(p.name);
        if let Some(v) = p.value {
            s.push('=');
            s.push_str(v);
        }
    }
    s
}

fn is_strict(uri: &Uri<'_>) -> bool {
    !uri.params.has("lr")
}

fn is_preloaded(ctx: &Context) -> bool {
    ctx.msg.to().map(|t| t.tag().is_none()).unwrap_or(true)
}

/// RFC 3261 16.4 / 16.12 Route processing. `mode & 1`: loose routing only,
/// no strict-router compatibility check of the Request-URI.
fn loose_route_impl(ctx: &mut Context, mode: i32) -> i32 {
    let entries = route_entries(ctx);
    if entries.is_empty() {
        return -1;
    }
    let mut uris = Vec::with_capacity(entries.len());
    for e in &entries {
        match NameAddr::parse(&e.text) {
            Ok(na) => uris.push(na.uri.raw.to_string()),
            Err(err) => {
                tracing::debug!("rr: bad Route {:?}: {err}", e.text);
                return -1;
            }
        }
    }
    let mut st: RrState = ctx.ext.take();
    let rc = route(ctx, &entries, &uris, mode, &mut st);
    ctx.ext.put(st);
    rc
}

fn route(
    ctx: &mut Context,
    entries: &[RouteEntry],
    uris: &[String],
    mode: i32,
    st: &mut RrState,
) -> i32 {
    let ruri = ctx.ruri().to_string();
    let strict_leftover = mode & 1 == 0
        && Uri::parse(&ruri).is_ok_and(|u| {
            matches!(u.scheme, Scheme::Sip | Scheme::Sips)
                && u.user.is_none()
                && is_myself_parsed(ctx, &u)
        });
    let Some(first) = uris.first() else { return -1 };
    let Ok(first_uri) = Uri::parse(first) else {
        return -1;
    };
    let mut removed = Vec::new();
    if strict_leftover {
        // The previous hop was a strict router: the R-URI is the
        // Record-Route we put, the first Route is the next hop.
        st.routed_params = Uri::parse(&ruri).ok().map(|u| params_text(&u));
        if is_strict(&first_uri) {
            ctx.new_uri = Some(first.clone());
            removed.push(0);
        } else {
            ctx.dst_uri = Some(first.clone());
            let last = uris.len() - 1;
            if let Some(l) = uris.get(last) {
                ctx.new_uri = Some(l.clone());
            }
            removed.push(last);
        }
    } else {
        let mut next = 0;
        if is_myself_parsed(ctx, &first_uri) {
            st.routed_params = Some(params_text(&first_uri));
            removed.push(0);
            next = 1;
            // A second Route of ours (double Record-Route) goes too.
            if let Some(second) = uris.get(1).and_then(|u| Uri::parse(u).ok()) {
                if second.params.value("r2").is_some() && is_myself_parsed(ctx, &second) {
                    removed.push(1);
                    next = 2;
                }
            }
            if next >= uris.len() {
                let preloaded = is_preloaded(ctx);
                if apply_removals(ctx, entries, &removed).is_err() {
                    return -1;
                }
                st.removed.extend(removed);
                return if preloaded { -1 } else { 1 };
            }
        } else {
            st.routed_params = None;
        }
        let Some(n) = uris.get(next) else { return -1 };
        let Ok(n_uri) = Uri::parse(n) else { return -1 };
        if is_strict(&n_uri) {
            // Next hop is a strict router: it gets the Route as R-URI, and
            // the R-URI is kept as the last Route.
            ctx.new_uri = Some(n.clone());
            removed.push(next);
            let last_route = entries.last().map(|e| e.header);
            let pos = last_route.map(HeaderPos::After).unwrap_or(HeaderPos::Last);
            if let Err(e) = ctx.msg.add_header(pos, "Route", &format!("<{ruri}>")) {
                tracing::debug!("rr: cannot add Route: {e}");
                return -1;
            }
        } else {
            ctx.dst_uri = Some(n.clone());
        }
    }
    if apply_removals(ctx, entries, &removed).is_err() {
        return -1;
    }
    st.removed.extend(removed);
    1
}

/// Record routing and Route processing.
#[kemi_module(name = "rr")]
pub mod kemi {
    use super::*;

    /// Adds a Record-Route naming this proxy: the address the request
    /// came in on (or the advertised address/port), its transport when not
    /// UDP, `;lr`, the From tag as `;ftag=` with `append_fromtag`, then the
    /// parameters queued with `add_rr_param`. 1, or -1 on failure.
    #[kemi_export]
    pub fn record_route(ctx: &mut Context) -> i32 {
        let head = format!("sip:{}", local_address(ctx));
        add_rr(ctx, &head, "", true)
    }

    /// As `record_route`, with `sparams` (e.g. `;nat=yes`) appended to the
    /// header's parameters.
    #[kemi_export]
    pub fn record_route_params(ctx: &mut Context, sparams: &str) -> i32 {
        let head = format!("sip:{}", local_address(ctx));
        add_rr(ctx, &head, sparams, true)
    }

    /// Processes the Route set (RFC 3261 16.4): the top Route naming this
    /// proxy is removed and `$du` is set to the next one (a strict next
    /// hop gets it as Request-URI instead); when the Request-URI is this
    /// proxy (a strict router before us), the R-URI is restored from the
    /// last Route. 1 when Routes were processed, -1 when there is none,
    /// when they are bad, or when a preloaded Route naming only us was
    /// consumed.
    #[kemi_export]
    pub fn loose_route(ctx: &mut Context) -> i32 {
        loose_route_impl(ctx, 0)
    }

    /// `loose_route` for initial requests only: 1 when the request has no
    /// To tag and its preloaded Route set was processed, -1 for in-dialog
    /// requests (left untouched) or when processing failed.
    #[kemi_export]
    pub fn loose_route_preloaded(ctx: &mut Context) -> i32 {
        if !is_preloaded(ctx) {
            return -1;
        }
        if loose_route_impl(ctx, 0) > 0 {
            1
        } else {
            -1
        }
    }

    /// `loose_route` with a mode bitmask: bit 1 (value 1) does loose
    /// routing only, without the strict-router check of the Request-URI.
    #[kemi_export]
    pub fn loose_route_mode(ctx: &mut Context, vmode: i32) -> i32 {
        loose_route_impl(ctx, vmode)
    }

    /// Drops the Record-Route headers the `record_route*` functions added
    /// to this message, and parameters queued with `add_rr_param`. 1.
    #[kemi_export]
    pub fn remove_record_route(ctx: &mut Context) -> i32 {
        let mut st: RrState = ctx.ext.take();
        let added = std::mem::take(&mut st.added);
        st.pending.clear();
        if !added.is_empty() {
            rewrite_edits(ctx, |e| match is_rr_edit(&e, &added) {
                Some(_) => None,
                None => Some(e),
            });
        }
        ctx.ext.put(st);
        1
    }

    /// Adds `sparam` (e.g. `;nat=yes`) to this proxy's Record-Route: to the
    /// headers already added, and to those added later. 1, -1 when empty.
    #[kemi_export]
    pub fn add_rr_param(ctx: &mut Context, sparam: &str) -> i32 {
        if sparam.is_empty() || sparam.contains(['\r', '\n', '>']) {
            return -1;
        }
        let param = semi(sparam);
        let mut st: RrState = ctx.ext.take();
        if !st.added.is_empty() {
            let old = st.added.clone();
            let mut new = old.clone();
            for v in new.iter_mut() {
                if let Some(body) = v.strip_suffix('>') {
                    *v = format!("{body}{param}>");
                }
            }
            rewrite_edits(ctx, |e| match is_rr_edit(&e, &old) {
                Some(i) => match e {
                    Edit::AddHeader { pos, name, .. } => Some(Edit::AddHeader {
                        pos,
                        name,
                        value: new.get(i).cloned().unwrap_or_default(),
                    }),
                    other => Some(other),
                },
                None => Some(e),
            });
            st.added = new;
        }
        st.pending.push_str(&param);
        ctx.ext.put(st);
        1
    }

    /// 1 when the parameters of the Route that `loose_route` found to be
    /// this proxy's (`;lr;ftag=..;...`) match the regular expression
    /// `sre`; -1 when not, when the message was not loose-routed, or for
    /// a bad expression.
    #[kemi_export]
    pub fn check_route_param(ctx: &mut Context, sre: &str) -> i32 {
        let Some(params) = ctx
            .ext
            .get::<RrState>()
            .and_then(|s| s.routed_params.clone())
        else {
            return -1;
        };
        match regex::Regex::new(sre) {
            Ok(re) if re.is_match(&params) => 1,
            Ok(_) => -1,
            Err(e) => {
                tracing::debug!("rr: bad regex {sre:?}: {e}");
                -1
            }
        }
    }

    /// Direction of an in-dialog request after `loose_route`: "downstream"
    /// when the From tag equals the `ftag` our Route carried (or there is
    /// none), "upstream" otherwise. 1 when `dir` matches, -1 when not or
    /// for another word. Needs `append_fromtag` for the `ftag`.
    #[kemi_export]
    pub fn is_direction(ctx: &mut Context, dir: &str) -> i32 {
        let want_up = match dir {
            "downstream" => false,
            "upstream" => true,
            _ => {
                tracing::debug!("rr: unknown direction {dir:?}");
                return -1;
            }
        };
        let ftag = ctx
            .ext
            .get::<RrState>()
            .and_then(|s| s.routed_params.as_deref())
            .and_then(|p| {
                p.split(';').find_map(|kv| {
                    let (k, v) = kv.split_once('=')?;
                    k.trim()
                        .eq_ignore_ascii_case("ftag")
                        .then(|| v.trim().to_string())
                })
            });
        let upstream = match ftag {
            None => false,
            Some(ftag) => match ctx.msg.from() {
                Ok(f) => f.tag() != Some(ftag.as_str()),
                Err(_) => return -1,
            },
        };
        if upstream == want_up {
            1
        } else {
            -1
        }
    }

    /// Adds a Record-Route with `addr1` (a `host[:port]` or SIP URI) as
    /// its address, then `;lr`, the ftag and queued parameters.
    #[kemi_export]
    pub fn record_route_preset_one(ctx: &mut Context, addr1: &str) -> i32 {
        if addr1.is_empty() {
            return -1;
        }
        add_rr(ctx, &sip_uri(addr1), "", false)
    }

    /// Adds two Record-Routes (`;r2=on`, as a double Record-Route): `addr1`
    /// for the inbound side, and `addr2` for the outbound side above it.
    /// With `addr2` empty, as `record_route_preset_one`.
    #[kemi_export]
    pub fn record_route_preset(ctx: &mut Context, addr1: &str, addr2: &str) -> i32 {
        if addr1.is_empty() {
            return -1;
        }
        if addr2.is_empty() {
            return add_rr(ctx, &sip_uri(addr1), "", false);
        }
        let r1 = add_rr(ctx, &sip_uri(addr1), ";r2=on", false);
        if r1 < 0 {
            return r1;
        }
        add_rr(ctx, &sip_uri(addr2), ";r2=on", false)
    }

    /// Adds a Record-Route with `addr` (`host[:port]`) instead of the
    /// receiving socket, keeping its transport when not UDP.
    #[kemi_export]
    pub fn record_route_advertised_address(ctx: &mut Context, addr: &str) -> i32 {
        if addr.is_empty() {
            return -1;
        }
        let head = format!("{}{}", sip_uri(addr), transport_param(ctx.recv.proto));
        add_rr(ctx, &head, "", false)
    }

    /// 1 when a Route header remains for the next hop (after what
    /// `loose_route` removed), -1 otherwise.
    #[kemi_export]
    pub fn next_hop_route(ctx: &mut Context) -> i32 {
        let total = route_entries(ctx).len();
        let removed = ctx.ext.get::<RrState>().map_or(0, |s| s.removed.len());
        if total > removed {
            1
        } else {
            -1
        }
    }
}

pub static MODULE: ModuleDef = ModuleDef {
    name: "rr",
    summary: "Record-Route insertion and Route header processing",
    kemi: Some(&kemi::SUBMODULE),
    params: &[
        ModParam {
            name: "append_fromtag",
            kind: ModParamKind::Int,
            repeatable: false,
            doc: "Add the From tag as `;ftag=` to Record-Route (needed by is_direction); default 0.",
        },
        ModParam {
            name: "enable_double_rr",
            kind: ModParamKind::Int,
            repeatable: false,
            doc: "1 (default): when a record-routed request leaves on another transport or socket than it came in on, add a second Record-Route for the outgoing side (both marked `;r2=on`). 0: never.",
        },
        ModParam {
            name: "enable_full_lr",
            kind: ModParamKind::Int,
            repeatable: false,
            doc: "Write `;lr=on` instead of `;lr` (for old routers); default 0.",
        },
    ],
    rpc: &[],
};
