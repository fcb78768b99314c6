//! textopsx: applying recorded edits to the message, changing a reply's
//! status, keeping only some headers, shell-style matching, editing the
//! comma-separated values of header fields, and named iterators over the
//! header fields and body lines (`KSR.textopsx.*`).

use kemi_core::{kemi_module, ModuleDef};

mod hfvalue;
mod iter;

/// Applying edits, reply status, header value lists, header and body-line
/// iterators.
#[kemi_module(name = "textopsx")]
pub mod kemi {
    use kemi_core::sip::{HeaderName, Message};
    use kemi_core::{Context, Xval};
    use kemi_mod_textops::util;

    use crate::{hfvalue, iter};

    fn code(ok: bool) -> i32 {
        if ok {
            1
        } else {
            -1
        }
    }

    /// Applies the recorded edits now: the message is serialised and parsed
    /// again, so later reads see the changes. 1 if done (or nothing to
    /// apply), -1 if the edited message does not parse (it is left as it
    /// was). The new R-URI of `ctx` is kept apart, as Kamailio keeps it.
    #[kemi_export]
    pub fn msg_apply_changes(ctx: &mut Context) -> i32 {
        if !ctx.msg.is_modified() {
            return 1;
        }
        match Message::parse(ctx.msg.serialize()) {
            Ok(m) => {
                ctx.msg = m;
                1
            }
            Err(e) => {
                tracing::error!("textopsx: the edited message does not parse: {e}");
                -1
            }
        }
    }

    /// Replaces the whole message by `obuf` (parsed; pending edits are
    /// dropped). -1 if `obuf` is not a SIP message.
    #[kemi_export]
    pub fn msg_set_buffer(ctx: &mut Context, obuf: &str) -> i32 {
        match Message::parse(obuf.as_bytes().to_vec()) {
            Ok(m) => {
                ctx.msg = m;
                1
            }
            Err(e) => {
                tracing::error!("textopsx: msg_set_buffer: not a SIP message: {e}");
                -1
            }
        }
    }

    fn change_status(ctx: &mut Context, code: i32, reason: Option<&str>) -> i32 {
        let Some(old) = ctx.msg.status_code() else {
            tracing::error!("textopsx: only a reply's status can be changed");
            return -1;
        };
        if !(100..=699).contains(&code) {
            tracing::error!("textopsx: bad status code {code}");
            return -1;
        }
        // A provisional or 2xx reply, or turning into one, would change
        // what the transaction does with it.
        if code < 300 || old < 300 {
            tracing::error!("textopsx: the class of 1xx/2xx replies cannot be changed");
            return -1;
        }
        if reason.is_some_and(|r| r.contains(['\r', '\n'])) {
            return -1;
        }
        let msg = &mut ctx.msg;
        let code_at = msg.version().len() + 1;
        let mut ok = util::splice(msg, code_at, code_at + 3, code.to_string().into_bytes());
        if let Some(r) = reason {
            let line_end = msg.first_line().len();
            let start = (code_at + 4).min(line_end);
            let text = if start == code_at + 4 {
                r.to_owned()
            } else {
                format!(" {r}")
            };
            ok &= util::splice(msg, start, line_end, text.into_bytes());
        }
        // `code` is the status parameter here, not the helper.
        if ok {
            1
        } else {
            -1
        }
    }

    /// Changes the status code and reason phrase of a reply being
    /// forwarded. Only 3xx-6xx replies may change, to another 3xx-6xx code.
    #[kemi_export]
    pub fn change_reply_status(ctx: &mut Context, code: i32, reason: &str) -> i32 {
        change_status(ctx, code, Some(reason))
    }

    /// Changes only the status code of a reply (same rules as
    /// `change_reply_status`), keeping the reason phrase.
    #[kemi_export]
    pub fn change_reply_status_code(ctx: &mut Context, code: i32) -> i32 {
        change_status(ctx, code, None)
    }

    /// Removes the body; Content-Length becomes 0. 1 (also when there was
    /// no body).
    #[kemi_export]
    pub fn remove_body(ctx: &mut Context) -> i32 {
        if !ctx.msg.body().is_empty() {
            ctx.msg.set_body(Vec::new());
        }
        1
    }

    /// Headers keep_hf never removes: those the SIP core needs.
    fn is_core(name: HeaderName) -> bool {
        matches!(
            name,
            HeaderName::Via
                | HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::Contact
                | HeaderName::ContentLength
                | HeaderName::ContentType
                | HeaderName::Route
                | HeaderName::RecordRoute
                | HeaderName::MaxForwards
        )
    }

    fn keep(msg: &mut Message, re: Option<&regex::bytes::Regex>) -> i32 {
        let drop: Vec<usize> = msg
            .headers()
            .filter(|h| !is_core(h.name) && !re.is_some_and(|r| r.is_match(h.raw_name.as_bytes())))
            .map(|h| h.index)
            .collect();
        let mut ok = true;
        for i in drop {
            ok &= util::remove_header(msg, i);
        }
        code(ok)
    }

    /// Removes every header field except the core ones (Via, From, To,
    /// Call-ID, CSeq, Contact, Content-Length, Content-Type, Route,
    /// Record-Route, Max-Forwards). 1 if done.
    #[kemi_export]
    pub fn keep_hf(ctx: &mut Context) -> i32 {
        keep(&mut ctx.msg, None)
    }

    /// Like `keep_hf`, also keeping the fields whose name matches `sre`.
    #[kemi_export]
    pub fn keep_hf_re(ctx: &mut Context, sre: &str) -> i32 {
        match util::compile_search(sre) {
            Some(re) => keep(&mut ctx.msg, Some(&re)),
            None => -1,
        }
    }

    /// 1 if `val` matches the shell pattern `match` (`*`, `?`, `[...]`).
    #[kemi_export]
    pub fn fnmatch(val: &str, r#match: &str) -> i32 {
        code(crate::glob(r#match.as_bytes(), val.as_bytes(), false))
    }

    /// `fnmatch` with `flags`: `i` ignores case.
    #[kemi_export]
    pub fn fnmatch_ex(val: &str, r#match: &str, flags: &str) -> i32 {
        code(crate::glob(
            r#match.as_bytes(),
            val.as_bytes(),
            flags.contains('i'),
        ))
    }

    /// Adds `val` after the value `hexp` names (`Name[i]`, 1-based, negative
    /// from the end; without an index after the last value), in the same
    /// field after a comma. With no such header a new field is added.
    #[kemi_export]
    pub fn append_hf_value(ctx: &mut Context, hexp: &str, val: &str) -> i32 {
        hfvalue::add(&mut ctx.msg, hexp, val, true)
    }

    /// Adds `val` before the value `hexp` names (the first without an
    /// index). With no such header a new field is added.
    #[kemi_export]
    pub fn insert_hf_value(ctx: &mut Context, hexp: &str, val: &str) -> i32 {
        hfvalue::add(&mut ctx.msg, hexp, val, false)
    }

    /// Sets the value(s) `hexp` names (`Name[i]`, `Name[*]` or `Name` for
    /// all) to `val`; with `.param`, sets that parameter (added if missing).
    #[kemi_export]
    pub fn assign_hf_value(ctx: &mut Context, hexp: &str, val: &str) -> i32 {
        hfvalue::assign(&mut ctx.msg, hexp, val, false)
    }

    /// Like `assign_hf_value`, the index counting whole header fields.
    #[kemi_export]
    pub fn assign_hf_value2(ctx: &mut Context, hexp: &str, val: &str) -> i32 {
        hfvalue::assign(&mut ctx.msg, hexp, val, true)
    }

    /// Removes the value(s) `hexp` names (all without an index); with
    /// `.param`, removes that parameter from them. A field left without
    /// values is removed.
    #[kemi_export]
    pub fn remove_hf_value(ctx: &mut Context, hexp: &str) -> i32 {
        hfvalue::remove(&mut ctx.msg, hexp, false)
    }

    /// Like `remove_hf_value`, the index counting whole header fields.
    /// `val` is not used (Kamailio's export takes it and ignores it too).
    #[kemi_export]
    pub fn remove_hf_value2(ctx: &mut Context, hexp: &str, val: &str) -> i32 {
        let _ = val;
        hfvalue::remove(&mut ctx.msg, hexp, true)
    }

    /// Appends `val` to the values of header `hexp` unless already there
    /// (case-insensitive). 1 if present or added.
    #[kemi_export]
    pub fn include_hf_value(ctx: &mut Context, hexp: &str, val: &str) -> i32 {
        if hfvalue::exists(&ctx.msg, hexp, val) {
            return 1;
        }
        let name = hfvalue::Hexp::parse(hexp)
            .map(|h| h.name)
            .unwrap_or_default();
        hfvalue::add(&mut ctx.msg, &name, val, true)
    }

    /// Removes every value equal to `val` (case-insensitive) from header
    /// `hexp`. 1 if one was removed, -1 otherwise.
    #[kemi_export]
    pub fn exclude_hf_value(ctx: &mut Context, hexp: &str, val: &str) -> i32 {
        hfvalue::exclude(&mut ctx.msg, hexp, val)
    }

    /// 1 if `val` is one of the values of header `hexp` (case-insensitive).
    #[kemi_export]
    pub fn hf_value_exists(ctx: &mut Context, hexp: &str, val: &str) -> i32 {
        code(hfvalue::exists(&ctx.msg, hexp, val))
    }

    /// Starts (or restarts) the header iterator `iname`, before the first
    /// header field.
    #[kemi_export]
    pub fn hf_iterator_start(ctx: &mut Context, iname: &str) -> i32 {
        iter::start(&ctx.msg, iter::Kind::Header, iname)
    }

    /// Ends the header iterator `iname`. -1 if it was not started.
    #[kemi_export]
    pub fn hf_iterator_end(ctx: &mut Context, iname: &str) -> i32 {
        iter::end(&ctx.msg, iter::Kind::Header, iname)
    }

    /// Moves `iname` to the next header field; -1 past the last.
    #[kemi_export]
    pub fn hf_iterator_next(ctx: &mut Context, iname: &str) -> i32 {
        iter::step(&ctx.msg, iter::Kind::Header, iname, true)
    }

    /// Moves `iname` to the previous header field; -1 before the first.
    #[kemi_export]
    pub fn hf_iterator_prev(ctx: &mut Context, iname: &str) -> i32 {
        iter::step(&ctx.msg, iter::Kind::Header, iname, false)
    }

    /// Removes the header field `iname` is on.
    #[kemi_export]
    pub fn hf_iterator_rm(ctx: &mut Context, iname: &str) -> i32 {
        iter::remove(&mut ctx.msg, iter::Kind::Header, iname)
    }

    /// Adds the header line(s) `htext` after the field `iname` is on (a
    /// missing final CRLF is added).
    #[kemi_export]
    pub fn hf_iterator_append(ctx: &mut Context, iname: &str, htext: &str) -> i32 {
        iter::add(&mut ctx.msg, iter::Kind::Header, iname, htext, true)
    }

    /// Adds the header line(s) `htext` before the field `iname` is on.
    #[kemi_export]
    pub fn hf_iterator_insert(ctx: &mut Context, iname: &str, htext: &str) -> i32 {
        iter::add(&mut ctx.msg, iter::Kind::Header, iname, htext, false)
    }

    /// The name of the header field `iname` is on (as received), or null.
    #[kemi_export]
    pub fn hf_iterator_hname(ctx: &mut Context, iname: &str) -> Xval {
        iter::text(&ctx.msg, iter::Kind::Header, iname, true)
    }

    /// The value of the header field `iname` is on, or null.
    #[kemi_export]
    pub fn hf_iterator_hbody(ctx: &mut Context, iname: &str) -> Xval {
        iter::text(&ctx.msg, iter::Kind::Header, iname, false)
    }

    /// Starts (or restarts) the body-line iterator `iname`, before the
    /// first line.
    #[kemi_export]
    pub fn bl_iterator_start(ctx: &mut Context, iname: &str) -> i32 {
        iter::start(&ctx.msg, iter::Kind::BodyLine, iname)
    }

    /// Ends the body-line iterator `iname`.
    #[kemi_export]
    pub fn bl_iterator_end(ctx: &mut Context, iname: &str) -> i32 {
        iter::end(&ctx.msg, iter::Kind::BodyLine, iname)
    }

    /// Moves `iname` to the next body line; -1 past the last.
    #[kemi_export]
    pub fn bl_iterator_next(ctx: &mut Context, iname: &str) -> i32 {
        iter::step(&ctx.msg, iter::Kind::BodyLine, iname, true)
    }

    /// Removes the body line `iname` is on, with its line end
    /// (Content-Length follows).
    #[kemi_export]
    pub fn bl_iterator_rm(ctx: &mut Context, iname: &str) -> i32 {
        iter::remove(&mut ctx.msg, iter::Kind::BodyLine, iname)
    }

    /// Adds `text` (as is) after the body line `iname` is on.
    #[kemi_export]
    pub fn bl_iterator_append(ctx: &mut Context, iname: &str, text: &str) -> i32 {
        iter::add(&mut ctx.msg, iter::Kind::BodyLine, iname, text, true)
    }

    /// Adds `text` (as is) before the body line `iname` is on.
    #[kemi_export]
    pub fn bl_iterator_insert(ctx: &mut Context, iname: &str, text: &str) -> i32 {
        iter::add(&mut ctx.msg, iter::Kind::BodyLine, iname, text, false)
    }

    /// The body line `iname` is on, without its line end, or null.
    #[kemi_export]
    pub fn bl_iterator_value(ctx: &mut Context, iname: &str) -> Xval {
        iter::text(&ctx.msg, iter::Kind::BodyLine, iname, false)
    }
}

/// Shell-style matching (`fnmatch(3)` without flags other than case
/// folding): `*`, `?`, `[abc]`, `[a-z]`, `[!x]`/`[^x]`, `\` escapes.
pub fn glob(pat: &[u8], s: &[u8], icase: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if icase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    // Iterative with one backtrack point for the last `*`: linear enough
    // for script patterns and no recursion depth to worry about.
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        let c = s.get(i).copied().unwrap_or(0);
        let step = match pat.get(p) {
            Some(b'*') => {
                star = Some((p, i));
                p += 1;
                continue;
            }
            Some(b'?') => Some(p + 1),
            Some(b'[') => class(pat, p, c, icase),
            Some(b'\\') if p + 1 < pat.len() => {
                pat.get(p + 1).and_then(|&x| eq(x, c).then_some(p + 2))
            }
            Some(&x) => eq(x, c).then_some(p + 1),
            None => None,
        };
        match step {
            Some(np) => {
                p = np;
                i += 1;
            }
            None => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    pat.get(p..).is_some_and(|r| r.iter().all(|&x| x == b'*'))
}

/// Matches `c` against the bracket expression at `pat[p]`; the position
/// after it if it matches. An unclosed `[` is a literal.
fn class(pat: &[u8], p: usize, c: u8, icase: bool) -> Option<usize> {
    let mut j = p + 1;
    let neg = matches!(pat.get(j), Some(b'!' | b'^'));
    if neg {
        j += 1;
    }
    let norm = |x: u8| if icase { x.to_ascii_lowercase() } else { x };
    let c = norm(c);
    let mut hit = false;
    let mut first = true;
    loop {
        let x = *pat.get(j)?;
        if x == b']' && !first {
            break;
        }
        first = false;
        if pat.get(j + 1) == Some(&b'-') && pat.get(j + 2).is_some_and(|&e| e != b']') {
            let e = *pat.get(j + 2)?;
            if norm(x) <= c && c <= norm(e) {
                hit = true;
            }
            j += 3;
        } else {
            if norm(x) == c {
                hit = true;
            }
            j += 1;
        }
    }
    (hit != neg).then_some(j + 1)
}

/// textopsx: `loadmodule "textopsx.so"`.
pub static MODULE: ModuleDef = ModuleDef {
    name: "textopsx",
    summary: "apply edits, reply status, header value lists, header and body-line iterators",
    kemi: Some(&kemi::SUBMODULE),
    params: &[],
    rpc: &[],
};

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globbing() {
        assert!(glob(b"*.example.com", b"sip.example.com", false));
        assert!(!glob(b"*.example.com", b"example.com", false));
        assert!(glob(b"a?c", b"abc", false));
        assert!(glob(b"[a-c]x[!0-9]", b"bxz", false));
        assert!(!glob(b"[a-c]x[!0-9]", b"bx1", false));
        assert!(glob(b"A*", b"abc", true));
        assert!(!glob(b"A*", b"abc", false));
        assert!(glob(b"\\*", b"*", false));
        assert!(glob(b"**a*b", b"xxaxxb", false));
        assert!(!glob(b"[abc", b"a", false));
    }
}
