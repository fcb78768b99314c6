//! textops: regular-expression search and replace over the SIP message,
//! header field removal and tests, body and multipart helpers, and string
//! tests for scripts (`KSR.textops.*`).
//!
//! Searches read the message as received; changes are recorded as edits and
//! applied when the message is sent (or by `KSR.textopsx.msg_apply_changes`).

use kemi_core::{kemi_module, ModuleDef};

pub mod util;

/// Regex search and replace over the message, header removal, bodies and
/// multipart parts, string tests.
#[kemi_module(name = "textops")]
pub mod kemi {
    use kemi_core::sip::{HeaderName, Message};
    use kemi_core::Context;

    use crate::util::{self, Lines};

    fn code(ok: bool) -> i32 {
        if ok {
            1
        } else {
            -1
        }
    }

    /// Which of the named header fields a `search_hf`/`subst_hf` applies to.
    fn pick_fields(msg: &Message, hname: &str, flags: &str) -> Vec<usize> {
        let all = util::named_indices(msg, hname);
        if flags.contains('f') {
            all.into_iter().take(1).collect()
        } else if flags.contains('l') {
            all.last().copied().into_iter().collect()
        } else {
            all
        }
    }

    /// Records regex replacements over `base..base+hay.len()` of the message.
    fn replace_in(msg: &mut Message, base: usize, cuts: Vec<(usize, usize, Vec<u8>)>) -> bool {
        if cuts.is_empty() {
            return false;
        }
        // All or nothing: a match across the body start, or a replacement
        // that is not text, fails the call before anything is recorded.
        let body = util::body_offset(msg);
        if cuts.iter().any(|(s, e, t)| {
            (base + s < body && base + e > body) || std::str::from_utf8(t).is_err()
        }) {
            tracing::error!("textops: a match spans the body start or yields non-text bytes");
            return false;
        }
        let mut ok = true;
        for (s, e, t) in cuts {
            ok &= util::splice(msg, base + s, base + e, t);
        }
        ok
    }

    /// The matches of `re` in `hay`: the first, or all.
    fn re_cuts(
        re: &regex::bytes::Regex,
        hay: &[u8],
        repl: &str,
        all: bool,
    ) -> Vec<(usize, usize, Vec<u8>)> {
        let mut out = Vec::new();
        for m in re.find_iter(hay) {
            out.push((m.start(), m.end(), repl.as_bytes().to_vec()));
            if !all {
                break;
            }
        }
        out
    }

    /// Length of the first line and header fields.
    fn head_len(msg: &Message) -> usize {
        util::headers_end(msg)
    }

    /// Literal matches of `key` in `hay` (first only for mode "f", all for
    /// "a"); any other mode is an error.
    fn str_cuts(
        hay: &[u8],
        key: &str,
        rval: &str,
        mode: &str,
    ) -> Option<Vec<(usize, usize, Vec<u8>)>> {
        let all = match mode {
            "" | "f" | "F" => false,
            "a" | "A" => true,
            _ => {
                tracing::error!("textops: unknown replace mode {mode:?} (f or a)");
                return None;
            }
        };
        if key.is_empty() {
            return Some(Vec::new());
        }
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(p) = hay.get(i..).and_then(|h| util::find(h, key.as_bytes())) {
            out.push((i + p, i + p + key.len(), rval.as_bytes().to_vec()));
            i += p + key.len();
            if !all {
                break;
            }
        }
        Some(out)
    }

    /// Searches the whole message (as received) for `sre`, case-insensitive
    /// and line by line; 1 if found, -1 if not or if the regex is bad.
    #[kemi_export]
    pub fn search(ctx: &mut Context, sre: &str) -> i32 {
        let Some(re) = util::compile_search(sre) else {
            return -1;
        };
        code(re.is_match(ctx.msg.as_bytes()))
    }

    /// Searches the body for `sre`; 1 if found, -1 if not, no body, or bad regex.
    #[kemi_export]
    pub fn search_body(ctx: &mut Context, sre: &str) -> i32 {
        let Some(re) = util::compile_search(sre) else {
            return -1;
        };
        let body = ctx.msg.body();
        code(!body.is_empty() && re.is_match(body))
    }

    /// Searches the values of the `hname` header fields for `sre`; flags
    /// `f` only the first field, `l` only the last, otherwise all. 1 if any
    /// matches.
    #[kemi_export]
    pub fn search_hf(ctx: &mut Context, hname: &str, sre: &str, flags: &str) -> i32 {
        let Some(re) = util::compile_search(sre) else {
            return -1;
        };
        let msg = &ctx.msg;
        let found = pick_fields(msg, hname, flags)
            .into_iter()
            .filter_map(|i| msg.header_at(i))
            .any(|h| re.is_match(h.value.as_bytes()));
        code(found)
    }

    /// Inserts `val` right after the first match of `ematch` in the
    /// message; 1 if inserted, -1 if no match.
    #[kemi_export]
    pub fn search_append(ctx: &mut Context, ematch: &str, val: &str) -> i32 {
        let Some(re) = util::compile_search(ematch) else {
            return -1;
        };
        let Some(end) = re.find(ctx.msg.as_bytes()).map(|m| m.end()) else {
            return -1;
        };
        code(util::splice(
            &mut ctx.msg,
            end,
            end,
            val.as_bytes().to_vec(),
        ))
    }

    /// Inserts `val` right after the first match of `ematch` in the body;
    /// Content-Length follows. 1 if inserted, -1 if no match.
    #[kemi_export]
    pub fn search_append_body(ctx: &mut Context, ematch: &str, val: &str) -> i32 {
        let Some(re) = util::compile_search(ematch) else {
            return -1;
        };
        let base = util::body_offset(&ctx.msg);
        let Some(end) = re.find(ctx.msg.body()).map(|m| m.end()) else {
            return -1;
        };
        code(util::splice(
            &mut ctx.msg,
            base + end,
            base + end,
            val.as_bytes().to_vec(),
        ))
    }

    /// 1 if a header field named `hname` is present (compact and full forms
    /// are the same header), -1 otherwise.
    #[kemi_export]
    pub fn is_present_hf(ctx: &mut Context, hname: &str) -> i32 {
        code(ctx.msg.headers_named(hname.trim()).next().is_some())
    }

    /// 1 if the name of some header field matches the regex `ematch`.
    #[kemi_export]
    pub fn is_present_hf_re(ctx: &mut Context, ematch: &str) -> i32 {
        let Some(re) = util::compile_search(ematch) else {
            return -1;
        };
        code(
            ctx.msg
                .headers()
                .any(|h| re.is_match(h.raw_name.as_bytes())),
        )
    }

    /// Applies the sed-like `/re/repl/flags` to the whole message (first
    /// line, headers and body; a match may not span the body start). 1 if
    /// something was replaced.
    #[kemi_export]
    pub fn subst(ctx: &mut Context, subst: &str) -> i32 {
        let Some(s) = util::parse_subst(subst) else {
            return -1;
        };
        let cuts = s.matches(ctx.msg.as_bytes());
        code(replace_in(&mut ctx.msg, 0, cuts))
    }

    /// Applies `/re/repl/flags` to the Request-URI (the new one if set) and
    /// makes the result the new R-URI. 1 if it matched.
    #[kemi_export]
    pub fn subst_uri(ctx: &mut Context, subst: &str) -> i32 {
        if !ctx.msg.is_request() {
            return -1;
        }
        let Some(s) = util::parse_subst(subst) else {
            return -1;
        };
        let Some(new) = s.apply(ctx.ruri().as_bytes()) else {
            return -1;
        };
        match String::from_utf8(new) {
            Ok(uri) if !uri.is_empty() => {
                ctx.new_uri = Some(uri);
                1
            }
            _ => {
                tracing::error!("textops: subst_uri produced an unusable URI");
                -1
            }
        }
    }

    /// Applies `/re/repl/flags` to the user part of the Request-URI (an
    /// empty user if there is none) and rewrites it. 1 if it matched.
    #[kemi_export]
    pub fn subst_user(ctx: &mut Context, subst: &str) -> i32 {
        if !ctx.msg.is_request() {
            return -1;
        }
        let Some(s) = util::parse_subst(subst) else {
            return -1;
        };
        let uri = ctx.ruri().to_owned();
        let Some(colon) = uri.find(':') else {
            return -1;
        };
        let (scheme, rest) = uri.split_at(colon + 1);
        // The userinfo ends at the '@' before any parameter or header.
        let stop = rest.find([';', '?']).unwrap_or(rest.len());
        let at = rest.get(..stop).and_then(|r| r.rfind('@'));
        let (userinfo, hostpart) = match at {
            Some(a) => (
                rest.get(..a).unwrap_or_default(),
                rest.get(a + 1..).unwrap_or_default(),
            ),
            None => ("", rest),
        };
        let (user, password) = match userinfo.find(':') {
            Some(p) => userinfo.split_at(p),
            None => (userinfo, ""),
        };
        let Some(new_user) = s.apply(user.as_bytes()) else {
            return -1;
        };
        let Ok(new_user) = String::from_utf8(new_user) else {
            return -1;
        };
        let new = if new_user.is_empty() {
            format!("{scheme}{hostpart}")
        } else {
            format!("{scheme}{new_user}{password}@{hostpart}")
        };
        ctx.new_uri = Some(new);
        1
    }

    /// Applies `/re/repl/flags` to the body; Content-Length follows. 1 if
    /// something was replaced.
    #[kemi_export]
    pub fn subst_body(ctx: &mut Context, subst: &str) -> i32 {
        let Some(s) = util::parse_subst(subst) else {
            return -1;
        };
        let base = util::body_offset(&ctx.msg);
        let cuts = s.matches(ctx.msg.body());
        code(replace_in(&mut ctx.msg, base, cuts))
    }

    /// Applies `/re/repl/flags` to the values of the `hname` fields (flags
    /// `f` first only, `l` last only, else all). 1 if something changed.
    #[kemi_export]
    pub fn subst_hf(ctx: &mut Context, hname: &str, subst: &str, flags: &str) -> i32 {
        let Some(s) = util::parse_subst(subst) else {
            return -1;
        };
        let mut cuts = Vec::new();
        for i in pick_fields(&ctx.msg, hname, flags) {
            let Some(h) = ctx.msg.header_at(i) else {
                continue;
            };
            let Some((vs, _)) = util::value_span(&ctx.msg, &h) else {
                continue;
            };
            cuts.extend(
                s.matches(h.value.as_bytes())
                    .into_iter()
                    .map(|(a, b, t)| (vs + a, vs + b, t)),
            );
        }
        code(replace_in(&mut ctx.msg, 0, cuts))
    }

    /// Applies `/re/repl/flags` to `itext` and stores the result in the
    /// pseudo-variable `opv`; -1 when the expression is bad, nothing
    /// matched or `opv` cannot be written.
    #[kemi_export]
    pub fn subst_v(ctx: &mut Context, itext: &str, subex: &str, opv: &str) -> i32 {
        let Some(s) = util::parse_subst(subex) else {
            return -1;
        };
        let Some(out) = s.apply(itext.as_bytes()) else {
            return -1;
        };
        code(util::pv_set(ctx, opv, &out))
    }

    /// Removes every header field named `hname`; returns how many (-1 if none).
    #[kemi_export]
    pub fn remove_hf(ctx: &mut Context, hname: &str) -> i32 {
        let n = ctx.msg.remove_headers_named(hname.trim());
        if n == 0 {
            -1
        } else {
            i32::try_from(n).unwrap_or(i32::MAX)
        }
    }

    /// Removes the fields whose name matches `keep(name)`; returns how many
    /// (-1 if none).
    fn remove_where(msg: &mut Message, keep: impl Fn(&str) -> bool) -> i32 {
        let found: Vec<usize> = msg
            .headers()
            .filter(|h| keep(h.raw_name))
            .map(|h| h.index)
            .collect();
        let mut n = 0;
        for i in found {
            if util::remove_header(msg, i) {
                n += 1;
            }
        }
        if n == 0 {
            -1
        } else {
            n
        }
    }

    /// Removes every header field whose name matches the regex `ematch`
    /// (case-insensitive); returns how many, -1 if none.
    #[kemi_export]
    pub fn remove_hf_re(ctx: &mut Context, ematch: &str) -> i32 {
        let Some(re) = util::compile_search(ematch) else {
            return -1;
        };
        remove_where(&mut ctx.msg, |n| re.is_match(n.as_bytes()))
    }

    /// Removes the `idx`-th field named `hname` (0 is the first, -1 the
    /// last). 1 if removed, -1 if there is no such field.
    #[kemi_export]
    pub fn remove_hf_idx(ctx: &mut Context, hname: &str, idx: i32) -> i32 {
        let all = util::named_indices(&ctx.msg, hname);
        let pos = if idx < 0 {
            all.len().checked_sub(idx.unsigned_abs() as usize)
        } else {
            Some(idx as usize)
        };
        match pos.and_then(|p| all.get(p)) {
            Some(&i) => code(util::remove_header(&mut ctx.msg, i)),
            None => -1,
        }
    }

    /// Removes every field whose name matches `ematch` but not `eskip`;
    /// returns how many, -1 if none.
    #[kemi_export]
    pub fn remove_hf_exp(ctx: &mut Context, ematch: &str, eskip: &str) -> i32 {
        let (Some(m), Some(s)) = (util::compile_search(ematch), util::compile_search(eskip)) else {
            return -1;
        };
        remove_where(&mut ctx.msg, |n| {
            m.is_match(n.as_bytes()) && !s.is_match(n.as_bytes())
        })
    }

    /// Removes the fields named `hname` whose value satisfies `op` against
    /// `expr`: `eq`/`ne` (string equal or not), `in` (contains), `sw`
    /// (starts with), `ew` (ends with), `re`/`rn` (regex matches or not).
    /// Returns how many were removed, -1 if none or on a bad `op`.
    #[kemi_export]
    pub fn remove_hf_match(ctx: &mut Context, hname: &str, op: &str, expr: &str) -> i32 {
        let re = if matches!(op, "re" | "rn") {
            match util::compile_search(expr) {
                Some(r) => Some(r),
                None => return -1,
            }
        } else {
            None
        };
        let test = |v: &str| -> Option<bool> {
            Some(match op {
                "eq" => v == expr,
                "ne" => v != expr,
                "in" => v.contains(expr),
                "sw" => v.starts_with(expr),
                "ew" => v.ends_with(expr),
                "re" => re.as_ref()?.is_match(v.as_bytes()),
                "rn" => !re.as_ref()?.is_match(v.as_bytes()),
                _ => return None,
            })
        };
        if test("").is_none() {
            tracing::error!("textops: remove_hf_match: unknown operator {op:?}");
            return -1;
        }
        let found: Vec<usize> = ctx
            .msg
            .headers_named(hname.trim())
            .filter(|h| test(h.value) == Some(true))
            .map(|h| h.index)
            .collect();
        let mut n = 0;
        for i in found {
            if util::remove_header(&mut ctx.msg, i) {
                n += 1;
            }
        }
        if n == 0 {
            -1
        } else {
            n
        }
    }

    /// Replaces the first match of `sre` in the message by `sval`
    /// (literally). 1 if replaced.
    #[kemi_export]
    pub fn replace(ctx: &mut Context, sre: &str, sval: &str) -> i32 {
        let Some(re) = util::compile_search(sre) else {
            return -1;
        };
        let cuts = re_cuts(&re, ctx.msg.as_bytes(), sval, false);
        code(replace_in(&mut ctx.msg, 0, cuts))
    }

    /// Replaces the string `mkey` in the message by `rval`, the first
    /// occurrence (`rmode` "f") or all ("a"). 1 if replaced.
    #[kemi_export]
    pub fn replace_str(ctx: &mut Context, mkey: &str, rval: &str, rmode: &str) -> i32 {
        let Some(cuts) = str_cuts(ctx.msg.as_bytes(), mkey, rval, rmode) else {
            return -1;
        };
        code(replace_in(&mut ctx.msg, 0, cuts))
    }

    /// Replaces every match of `sre` in the message by `sval`. 1 if any.
    #[kemi_export]
    pub fn replace_all(ctx: &mut Context, sre: &str, sval: &str) -> i32 {
        let Some(re) = util::compile_search(sre) else {
            return -1;
        };
        let cuts = re_cuts(&re, ctx.msg.as_bytes(), sval, true);
        code(replace_in(&mut ctx.msg, 0, cuts))
    }

    /// Replaces the first match of `sre` in the body by `sval`. 1 if replaced.
    #[kemi_export]
    pub fn replace_body(ctx: &mut Context, sre: &str, sval: &str) -> i32 {
        let Some(re) = util::compile_search(sre) else {
            return -1;
        };
        let base = util::body_offset(&ctx.msg);
        let cuts = re_cuts(&re, ctx.msg.body(), sval, false);
        code(replace_in(&mut ctx.msg, base, cuts))
    }

    /// Replaces the string `mkey` in the body by `rval` (`rmode` "f" first,
    /// "a" all). 1 if replaced.
    #[kemi_export]
    pub fn replace_body_str(ctx: &mut Context, mkey: &str, rval: &str, rmode: &str) -> i32 {
        let base = util::body_offset(&ctx.msg);
        let Some(cuts) = str_cuts(ctx.msg.body(), mkey, rval, rmode) else {
            return -1;
        };
        code(replace_in(&mut ctx.msg, base, cuts))
    }

    /// Replaces the first match of `sre` in the first line and header
    /// fields by `sval`. 1 if replaced.
    #[kemi_export]
    pub fn replace_hdrs(ctx: &mut Context, sre: &str, sval: &str) -> i32 {
        let Some(re) = util::compile_search(sre) else {
            return -1;
        };
        let end = head_len(&ctx.msg);
        let cuts = re_cuts(
            &re,
            ctx.msg.as_bytes().get(..end).unwrap_or_default(),
            sval,
            false,
        );
        code(replace_in(&mut ctx.msg, 0, cuts))
    }

    /// Replaces the string `mkey` in the first line and header fields by
    /// `rval` (`rmode` "f" first, "a" all). 1 if replaced.
    #[kemi_export]
    pub fn replace_hdrs_str(ctx: &mut Context, mkey: &str, rval: &str, rmode: &str) -> i32 {
        let end = head_len(&ctx.msg);
        let head = ctx.msg.as_bytes().get(..end).unwrap_or_default();
        let Some(cuts) = str_cuts(head, mkey, rval, rmode) else {
            return -1;
        };
        code(replace_in(&mut ctx.msg, 0, cuts))
    }

    /// Replaces every match of `sre` in the body by `sval`. 1 if any.
    #[kemi_export]
    pub fn replace_body_all(ctx: &mut Context, sre: &str, sval: &str) -> i32 {
        let Some(re) = util::compile_search(sre) else {
            return -1;
        };
        let base = util::body_offset(&ctx.msg);
        let cuts = re_cuts(&re, ctx.msg.body(), sval, true);
        code(replace_in(&mut ctx.msg, base, cuts))
    }

    /// Replaces every match of `sre` in the body by `sval`, building the
    /// new body in one go (the whole body is replaced). 1 if any matched.
    #[kemi_export]
    pub fn replace_body_atonce(ctx: &mut Context, sre: &str, sval: &str) -> i32 {
        let Some(re) = util::compile_search(sre) else {
            return -1;
        };
        let body = ctx.msg.body();
        let cuts = re_cuts(&re, body, sval, true);
        if cuts.is_empty() {
            return -1;
        }
        let new = util::splice_bytes(body, &cuts);
        ctx.msg.set_body(new);
        1
    }

    /// Sets the body to `nb` and the Content-Type to `nc` (Content-Length
    /// follows). -1 if `nb` is empty.
    #[kemi_export]
    pub fn set_body(ctx: &mut Context, nb: &str, nc: &str) -> i32 {
        set_body_bytes(&mut ctx.msg, nb.as_bytes().to_vec(), nc)
    }

    fn set_body_bytes(msg: &mut Message, nb: Vec<u8>, nc: &str) -> i32 {
        if nb.is_empty() {
            tracing::error!("textops: set_body: empty body");
            return -1;
        }
        msg.set_body(nb);
        code(util::set_content_type(msg, nc))
    }

    /// Like `set_body`, the body given as hex digits. -1 if they are malformed.
    #[kemi_export]
    pub fn set_body_hex(ctx: &mut Context, htxt: &str, ct: &str) -> i32 {
        match util::hex_decode(htxt) {
            Some(b) => set_body_bytes(&mut ctx.msg, b, ct),
            None => {
                tracing::error!("textops: set_body_hex: malformed hex");
                -1
            }
        }
    }

    /// Sets the body (and its Content-Type `nc`) of the replies this
    /// proxy builds for the request: `KSR.sl.*` and tm's local replies.
    /// 1 on success; -1 for an empty body or type, a type spanning lines,
    /// or when a reply body was already set for this request (Kamailio
    /// keeps one reply body per request too).
    #[kemi_export]
    pub fn set_reply_body(ctx: &mut Context, nb: &str, nc: &str) -> i32 {
        reply_body(ctx, nb.as_bytes().to_vec(), nc, "set_reply_body")
    }

    /// Like `set_reply_body`, the body given as hex digits. -1 if they
    /// are malformed.
    #[kemi_export]
    pub fn set_reply_body_hex(ctx: &mut Context, htxt: &str, ct: &str) -> i32 {
        match util::hex_decode(htxt) {
            Some(b) => reply_body(ctx, b, ct, "set_reply_body_hex"),
            None => {
                tracing::error!("textops: set_reply_body_hex: malformed hex");
                -1
            }
        }
    }

    fn reply_body(ctx: &mut Context, body: Vec<u8>, ctype: &str, what: &str) -> i32 {
        if body.is_empty() {
            tracing::error!("textops: {what}: empty body");
            return -1;
        }
        if ctype.trim().is_empty() || ctype.contains(['\r', '\n']) {
            tracing::error!("textops: {what}: bad content type {ctype:?}");
            return -1;
        }
        if ctx.reply_body.is_some() {
            tracing::error!("textops: {what}: the reply body is already set");
            return -1;
        }
        ctx.reply_headers
            .push_str(&format!("Content-Type: {}\r\n", ctype.trim()));
        ctx.reply_body = Some(body);
        1
    }

    /// 1 if the message has a non-empty body.
    #[kemi_export]
    pub fn has_body(ctx: &mut Context) -> i32 {
        code(!ctx.msg.body().is_empty())
    }

    /// 1 if the body is of type `ctype` (`type/subtype`, `type/*`), or is
    /// multipart with a part of that type.
    #[kemi_export]
    pub fn has_body_type(ctx: &mut Context, ctype: &str) -> i32 {
        if ctx.msg.body().is_empty() {
            return -1;
        }
        let Some(ct) = ctx.msg.header(HeaderName::ContentType) else {
            // RFC 3261: a body without Content-Type is taken as SDP.
            return code(util::type_matches("application/sdp", ctype));
        };
        if util::type_matches(ct, ctype) {
            return 1;
        }
        let found = util::boundary_of(ct)
            .filter(|_| util::media_type(ct).starts_with("multipart/"))
            .and_then(|b| util::parts(ctx.msg.body(), &b))
            .is_some_and(|ps| ps.iter().any(|p| util::type_matches(&p.ctype, ctype)));
        code(found)
    }

    /// Keeps only the first part of type `content_type` of a multipart
    /// body: it becomes the whole body and its type the Content-Type. 1 if
    /// done, -1 if the body is not multipart or has no such part.
    #[kemi_export]
    pub fn filter_body(ctx: &mut Context, content_type: &str) -> i32 {
        let Some((body, _, parts)) = util::body_parts(&ctx.msg) else {
            tracing::debug!("textops: filter_body: body is not multipart");
            return -1;
        };
        let Some(p) = parts
            .iter()
            .find(|p| util::type_matches(&p.ctype, content_type))
        else {
            return -1;
        };
        let content = body.slice(p.content.clone());
        let ct = p.ctype.clone();
        ctx.msg.set_body(content);
        code(util::set_content_type(&mut ctx.msg, &ct))
    }

    /// 1 if a Privacy header lists `privacy` (none, header, session, user,
    /// id, critical; case-insensitive).
    #[kemi_export]
    pub fn is_privacy(ctx: &mut Context, privacy: &str) -> i32 {
        let want = privacy.trim();
        let found = ctx.msg.headers_of(HeaderName::Privacy).any(|h| {
            h.value
                .split([';', ','])
                .any(|v| v.trim().eq_ignore_ascii_case(want))
        });
        code(found)
    }

    /// The items of `list` separated by the first character of `vsep`,
    /// white space around them trimmed.
    fn list_items<'a>(list: &'a str, vsep: &str) -> Option<impl Iterator<Item = &'a str>> {
        let sep = vsep.chars().next()?;
        Some(list.split(sep).map(str::trim))
    }

    /// 1 if `subject` is one of the items of `list` (separated by `vsep`'s
    /// first character).
    #[kemi_export]
    pub fn in_list(subject: &str, list: &str, vsep: &str) -> i32 {
        match list_items(list, vsep) {
            Some(mut it) => code(it.any(|i| i == subject)),
            None => -1,
        }
    }

    /// 1 if some non-empty item of `list` is a prefix of `subject`.
    #[kemi_export]
    pub fn in_list_prefix(subject: &str, list: &str, vsep: &str) -> i32 {
        match list_items(list, vsep) {
            Some(mut it) => code(it.any(|i| !i.is_empty() && subject.starts_with(i))),
            None => -1,
        }
    }

    /// 1 if the strings are equal (case-sensitive).
    #[kemi_export]
    pub fn cmp_str(s1: &str, s2: &str) -> i32 {
        code(s1 == s2)
    }

    /// 1 if the strings are equal ignoring ASCII case.
    #[kemi_export]
    pub fn cmp_istr(s1: &str, s2: &str) -> i32 {
        code(s1.eq_ignore_ascii_case(s2))
    }

    /// 1 if the regex `sre` (case-insensitive) matches in `stext`.
    #[kemi_export]
    pub fn search_str(stext: &str, sre: &str) -> i32 {
        match util::compile_search(sre) {
            Some(re) => code(re.is_match(stext.as_bytes())),
            None => -1,
        }
    }

    /// 1 if `s1` starts with `s2`.
    #[kemi_export]
    pub fn starts_with(s1: &str, s2: &str) -> i32 {
        code(s1.starts_with(s2))
    }

    /// 1 if `vstr` ends with `vsuffix`.
    #[kemi_export]
    pub fn ends_with(vstr: &str, vsuffix: &str) -> i32 {
        code(vstr.ends_with(vsuffix))
    }

    /// Position + 1 of `needle` in `txt` (case-sensitive), -1 if absent.
    #[kemi_export]
    pub fn str_find(txt: &str, needle: &str) -> i32 {
        match util::find(txt.as_bytes(), needle.as_bytes()) {
            Some(p) if !needle.is_empty() => i32::try_from(p + 1).unwrap_or(i32::MAX),
            _ => -1,
        }
    }

    /// Position + 1 of `needle` in `txt` ignoring ASCII case, -1 if absent.
    #[kemi_export]
    pub fn str_ifind(txt: &str, needle: &str) -> i32 {
        let (t, n) = (txt.to_ascii_lowercase(), needle.to_ascii_lowercase());
        str_find(&t, &n)
    }

    /// 1 if any character of `clist` occurs in `txt`.
    #[kemi_export]
    pub fn str_any_in(txt: &str, clist: &str) -> i32 {
        code(!clist.is_empty() && clist.chars().any(|c| txt.contains(c)))
    }

    /// 1 if every character of `clist` occurs in `txt`.
    #[kemi_export]
    pub fn str_all_in(txt: &str, clist: &str) -> i32 {
        code(!clist.is_empty() && clist.chars().all(|c| txt.contains(c)))
    }

    /// Checks the SDP (the body, or the SDP part of a multipart body) for
    /// an audio stream on hold: 1 for the RFC 2543 way (`c=` 0.0.0.0), 2
    /// for RFC 3264 (`a=sendonly` or `a=inactive`, at session or stream
    /// level); -1 if no audio stream is on hold or there is no SDP.
    #[kemi_export]
    pub fn is_audio_on_hold(ctx: &mut Context) -> i32 {
        let body = ctx.msg.body();
        let ct = ctx
            .msg
            .header(HeaderName::ContentType)
            .unwrap_or("application/sdp");
        let sdp: &[u8] = if util::type_matches(ct, "application/sdp") {
            body
        } else if let Some(ps) = util::boundary_of(ct).and_then(|b| util::parts(body, &b)) {
            match ps
                .iter()
                .find(|p| util::type_matches(&p.ctype, "application/sdp"))
            {
                Some(p) => body.get(p.content.clone()).unwrap_or_default(),
                None => return -1,
            }
        } else {
            return -1;
        };
        sdp_hold(&String::from_utf8_lossy(sdp))
    }

    fn sdp_hold(sdp: &str) -> i32 {
        // Per section: (null connection, direction attribute on hold).
        let section_hold = |lines: &[&str]| -> (Option<bool>, Option<bool>) {
            let mut conn = None;
            let mut dir = None;
            for l in lines {
                if l.starts_with("c=") {
                    conn = Some(l.split_whitespace().nth(2) == Some("0.0.0.0"));
                } else if matches!(*l, "a=sendonly" | "a=inactive") {
                    dir = Some(true);
                } else if matches!(*l, "a=sendrecv" | "a=recvonly") {
                    dir = Some(false);
                }
            }
            (conn, dir)
        };
        let lines: Vec<&str> = sdp.lines().map(str::trim).collect();
        let mut sections: Vec<Vec<&str>> = Vec::new();
        let mut cur: Vec<&str> = Vec::new();
        for l in lines {
            if l.starts_with("m=") {
                sections.push(std::mem::take(&mut cur));
            }
            cur.push(l);
        }
        sections.push(cur);
        let Some((session, media)) = sections.split_first() else {
            return -1;
        };
        let (s_conn, s_dir) = section_hold(session);
        for m in media {
            if !m.first().is_some_and(|l| l.starts_with("m=audio ")) {
                continue;
            }
            let (conn, dir) = section_hold(m);
            if conn.or(s_conn) == Some(true) {
                return 1;
            }
            if dir.or(s_dir) == Some(true) {
                return 2;
            }
        }
        -1
    }

    /// Turns the current body into a multipart/mixed body with the default
    /// boundary (the old body becomes its single part). 1 if done, -1 if
    /// there is no body.
    #[kemi_export]
    pub fn set_body_multipart_mode(ctx: &mut Context) -> i32 {
        to_multipart(&mut ctx.msg, "", "", util::DEFAULT_BOUNDARY)
    }

    /// Like `set_body_multipart_mode` with the given `boundary`.
    #[kemi_export]
    pub fn set_body_multipart_boundary(ctx: &mut Context, boundary: &str) -> i32 {
        to_multipart(&mut ctx.msg, "", "", boundary)
    }

    /// Sets a multipart/mixed body (default boundary) whose only part is
    /// `nbody` of type `ctype`.
    #[kemi_export]
    pub fn set_body_multipart_content(ctx: &mut Context, nbody: &str, ctype: &str) -> i32 {
        to_multipart(&mut ctx.msg, nbody, ctype, util::DEFAULT_BOUNDARY)
    }

    /// Sets a multipart/mixed body with `boundary` whose only part is
    /// `nbody` of type `ctype`; with an empty `nbody`, the current body is
    /// made the single part instead.
    #[kemi_export]
    pub fn set_body_multipart(ctx: &mut Context, nbody: &str, ctype: &str, boundary: &str) -> i32 {
        to_multipart(&mut ctx.msg, nbody, ctype, boundary)
    }

    fn valid_boundary(b: &str) -> bool {
        !b.is_empty()
            && b.len() <= 70
            && b.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"'()+_,-./:=?".contains(&c))
    }

    fn to_multipart(msg: &mut Message, nbody: &str, ctype: &str, boundary: &str) -> i32 {
        let boundary = if boundary.is_empty() {
            util::DEFAULT_BOUNDARY
        } else {
            boundary
        };
        if !valid_boundary(boundary) {
            tracing::error!("textops: bad multipart boundary {boundary:?}");
            return -1;
        }
        let (content, ct) = if nbody.is_empty() {
            let body = util::pending_body(msg);
            if body.is_empty() {
                tracing::debug!("textops: no body to turn into multipart");
                return -1;
            }
            let ct = util::pending_content_type(msg).unwrap_or_else(|| "application/sdp".into());
            (body.to_vec(), ct)
        } else {
            (nbody.as_bytes().to_vec(), ctype.to_owned())
        };
        let mut out = util::part_text(boundary, &ct, "", &content);
        out.extend(util::closing(boundary));
        msg.set_body(out);
        code(util::set_content_type(
            msg,
            &format!("multipart/mixed;boundary=\"{boundary}\""),
        ))
    }

    fn append_part(msg: &mut Message, txt: &[u8], ct: &str, cd: &str) -> i32 {
        if txt.is_empty() || ct.is_empty() {
            tracing::error!("textops: append_body_part needs content and a type");
            return -1;
        }
        // A body that is not multipart yet is converted first.
        if util::body_parts(msg).is_none() {
            if util::pending_body(msg).is_empty() {
                let mut out = util::part_text(util::DEFAULT_BOUNDARY, ct, cd, txt);
                out.extend(util::closing(util::DEFAULT_BOUNDARY));
                msg.set_body(out);
                return code(util::set_content_type(
                    msg,
                    &format!("multipart/mixed;boundary=\"{}\"", util::DEFAULT_BOUNDARY),
                ));
            }
            if to_multipart(msg, "", "", util::DEFAULT_BOUNDARY) < 0 {
                return -1;
            }
        }
        let Some((body, boundary, parts)) = util::body_parts(msg) else {
            return -1;
        };
        // Insert before the closing delimiter (after the last part).
        let at = parts.last().map_or(0, |p| p.whole.end);
        let mut out = body.get(..at).unwrap_or_default().to_vec();
        out.extend(util::part_text(&boundary, ct, cd, txt));
        out.extend_from_slice(body.get(at..).unwrap_or_default());
        msg.set_body(out);
        1
    }

    /// Appends a part `txt` of type `ct` to the multipart body (a body that
    /// is not multipart is converted first). 1 if done.
    #[kemi_export]
    pub fn append_body_part(ctx: &mut Context, txt: &str, ct: &str) -> i32 {
        append_part(&mut ctx.msg, txt.as_bytes(), ct, "")
    }

    /// `append_body_part` with a Content-Disposition `cd` for the part.
    #[kemi_export]
    pub fn append_body_part_cd(ctx: &mut Context, txt: &str, ct: &str, cd: &str) -> i32 {
        append_part(&mut ctx.msg, txt.as_bytes(), ct, cd)
    }

    /// `append_body_part` with the content given as hex digits.
    #[kemi_export]
    pub fn append_body_part_hex(ctx: &mut Context, txt: &str, ct: &str) -> i32 {
        match util::hex_decode(txt) {
            Some(b) => append_part(&mut ctx.msg, &b, ct, ""),
            None => -1,
        }
    }

    /// `append_body_part_cd` with the content given as hex digits.
    #[kemi_export]
    pub fn append_body_part_hex_cd(ctx: &mut Context, htxt: &str, ct: &str, cd: &str) -> i32 {
        match util::hex_decode(htxt) {
            Some(b) => append_part(&mut ctx.msg, &b, ct, cd),
            None => -1,
        }
    }

    /// Removes every part of type `content_type` from the multipart body. 1
    /// if one was removed, -1 otherwise.
    #[kemi_export]
    pub fn remove_body_part(ctx: &mut Context, content_type: &str) -> i32 {
        let Some((body, _, parts)) = util::body_parts(&ctx.msg) else {
            return -1;
        };
        let cuts: Vec<(usize, usize, Vec<u8>)> = parts
            .iter()
            .filter(|p| util::type_matches(&p.ctype, content_type))
            .map(|p| (p.whole.start, p.whole.end, Vec::new()))
            .collect();
        if cuts.is_empty() {
            return -1;
        }
        ctx.msg.set_body(util::splice_bytes(&body, &cuts));
        1
    }

    /// The content (`raw`: with the part's headers) of the first part of
    /// type `ctype`, from a multipart body.
    pub fn body_part(msg: &Message, ctype: &str, raw: bool) -> Option<Vec<u8>> {
        let (body, _, parts) = util::body_parts(msg)?;
        let p = parts.iter().find(|p| util::type_matches(&p.ctype, ctype))?;
        let r = if raw {
            p.whole.clone()
        } else {
            p.content.clone()
        };
        body.get(r).map(<[u8]>::to_vec)
    }

    /// Stores the content of the first body part of type `ctype` in the PV
    /// `pvname`; -1 if there is no such part or `pvname` cannot be written.
    #[kemi_export]
    pub fn get_body_part(ctx: &mut Context, ctype: &str, pvname: &str) -> i32 {
        match body_part(&ctx.msg, ctype, false) {
            Some(b) => code(util::pv_set(ctx, pvname, &b)),
            None => -1,
        }
    }

    /// Like `get_body_part` with the part's delimiter line and headers.
    #[kemi_export]
    pub fn get_body_part_raw(ctx: &mut Context, ctype: &str, pvname: &str) -> i32 {
        match body_part(&ctx.msg, ctype, true) {
            Some(b) => code(util::pv_set(ctx, pvname, &b)),
            None => -1,
        }
    }

    /// Group `mindex` of the match number `nmatch` (0 = first) of `regex`
    /// in `input`.
    pub fn substring(input: &str, regex: &str, mindex: i32, nmatch: i32) -> Option<String> {
        let re = util::compile(regex, false, Lines::Newline)?;
        let caps = re
            .captures_iter(input.as_bytes())
            .nth(usize::try_from(nmatch).ok()?)?;
        let g = caps.get(usize::try_from(mindex).ok()?)?;
        Some(String::from_utf8_lossy(g.as_bytes()).into_owned())
    }

    /// Matches `regex` in `input` and stores group `mindex` of match
    /// `nmatch` in the PV `dst`; -1 when nothing matches or `dst` cannot
    /// be written.
    #[kemi_export]
    pub fn regex_substring(
        ctx: &mut Context,
        input: &str,
        regex: &str,
        mindex: i32,
        nmatch: i32,
        dst: &str,
    ) -> i32 {
        match substring(input, regex, mindex, nmatch) {
            Some(s) => code(util::pv_set(ctx, dst, s.as_bytes())),
            None => -1,
        }
    }

    /// Exposes the SDP hold check for the unit tests.
    pub fn sdp_hold_state(sdp: &str) -> i32 {
        sdp_hold(sdp)
    }
}

/// textops: `loadmodule "textops.so"`.
pub static MODULE: ModuleDef = ModuleDef {
    name: "textops",
    summary: "regex search and replace, header removal, body and multipart helpers",
    kemi: Some(&kemi::SUBMODULE),
    params: &[],
    rpc: &[],
};
