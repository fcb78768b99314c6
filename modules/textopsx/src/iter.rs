//! Named iterators over header fields and body lines. Their positions live
//! in a per-thread table (a worker routes one message at a time), tagged
//! with the message they were started on: an iterator started on another
//! message, or before `msg_apply_changes`, is not valid for this one.

use std::cell::RefCell;
use std::collections::HashMap;

use kemi_core::sip::{HeaderPos, Message};
use kemi_core::Xval;
use kemi_mod_textops::util;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Header,
    BodyLine,
}

/// Most iterators alive at once per kind (Kamailio allows a handful too).
const MAX_ITERATORS: usize = 32;

struct It {
    /// Identity of the message: address and length of its bytes.
    msg: (usize, usize),
    /// `None` before the first item; `Some(n)` on item n (n == len: past
    /// the end).
    pos: Option<usize>,
}

thread_local! {
    static ITERS: RefCell<HashMap<(Kind, String), It>> = RefCell::new(HashMap::new());
}

fn msg_id(msg: &Message) -> (usize, usize) {
    (msg.as_bytes().as_ptr() as usize, msg.as_bytes().len())
}

/// Body lines: (start, end without line end, end with it), body offsets.
fn lines(msg: &Message) -> Vec<(usize, usize, usize)> {
    let body = msg.body();
    let mut out = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let nl = body
            .get(i..)
            .and_then(|r| r.iter().position(|&c| c == b'\n'));
        let (end, next) = match nl {
            Some(p) => (i + p, i + p + 1),
            None => (body.len(), body.len()),
        };
        let text_end = if end > i && body.get(end - 1) == Some(&b'\r') {
            end - 1
        } else {
            end
        };
        out.push((i, text_end, next));
        i = next;
    }
    out
}

fn count(msg: &Message, kind: Kind) -> usize {
    match kind {
        Kind::Header => msg.header_len(),
        Kind::BodyLine => lines(msg).len(),
    }
}

fn valid_name(iname: &str) -> bool {
    !iname.is_empty() && iname.len() <= 64
}

pub fn start(msg: &Message, kind: Kind, iname: &str) -> i32 {
    if !valid_name(iname) {
        return -1;
    }
    ITERS.with(|t| {
        let mut t = t.borrow_mut();
        let key = (kind, iname.to_owned());
        let id = msg_id(msg);
        // Drop iterators of earlier messages before counting.
        t.retain(|_, it| it.msg == id);
        if !t.contains_key(&key) && t.len() >= MAX_ITERATORS {
            tracing::error!("textopsx: too many iterators");
            return -1;
        }
        t.insert(key, It { msg: id, pos: None });
        1
    })
}

pub fn end(msg: &Message, kind: Kind, iname: &str) -> i32 {
    ITERS.with(|t| {
        let mut t = t.borrow_mut();
        match t.remove(&(kind, iname.to_owned())) {
            Some(it) if it.msg == msg_id(msg) => 1,
            _ => -1,
        }
    })
}

/// The current item of a started iterator on this message.
fn current(msg: &Message, kind: Kind, iname: &str) -> Option<usize> {
    ITERS.with(|t| {
        let t = t.borrow();
        let it = t.get(&(kind, iname.to_owned()))?;
        if it.msg != msg_id(msg) {
            return None;
        }
        it.pos.filter(|&p| p < count(msg, kind))
    })
}

pub fn step(msg: &Message, kind: Kind, iname: &str, forward: bool) -> i32 {
    let n = count(msg, kind);
    ITERS.with(|t| {
        let mut t = t.borrow_mut();
        let Some(it) = t.get_mut(&(kind, iname.to_owned())) else {
            return -1;
        };
        if it.msg != msg_id(msg) {
            return -1;
        }
        let next = match (it.pos, forward) {
            (None, true) => Some(0),
            (Some(p), true) => Some((p + 1).min(n)),
            (None, false) => None,
            (Some(p), false) => p.checked_sub(1),
        };
        it.pos = next;
        match next {
            Some(p) if p < n => 1,
            _ => -1,
        }
    })
}

pub fn remove(msg: &mut Message, kind: Kind, iname: &str) -> i32 {
    let Some(p) = current(msg, kind, iname) else {
        return -1;
    };
    let ok = match kind {
        Kind::Header => util::remove_header(msg, p),
        Kind::BodyLine => {
            let base = util::body_offset(msg);
            match lines(msg).get(p) {
                Some(&(s, _, e)) => util::splice(msg, base + s, base + e, Vec::new()),
                None => false,
            }
        }
    };
    if ok {
        1
    } else {
        -1
    }
}

pub fn add(msg: &mut Message, kind: Kind, iname: &str, text: &str, after: bool) -> i32 {
    let Some(p) = current(msg, kind, iname) else {
        return -1;
    };
    let (at, text) = match kind {
        // New header lines go in as header edits, so that they survive the
        // removal of the field they are anchored to.
        Kind::Header => return add_headers(msg, p, text, after),
        Kind::BodyLine => {
            let base = util::body_offset(msg);
            match lines(msg).get(p) {
                Some(&(s, _, e)) => (base + if after { e } else { s }, text.to_owned()),
                None => return -1,
            }
        }
    };
    if util::splice(msg, at, at, text.into_bytes()) {
        1
    } else {
        -1
    }
}

/// Adds the `Name: value` lines of `text` before or after field `index`.
fn add_headers(msg: &mut Message, index: usize, text: &str, after: bool) -> i32 {
    let mut fields = Vec::new();
    for line in text.split('\n').map(|l| l.trim_end_matches('\r')) {
        if line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            tracing::error!("textopsx: not a header line: {line:?}");
            return -1;
        };
        fields.push((name.trim(), value.trim()));
    }
    if fields.is_empty() {
        return -1;
    }
    // Added after the same field, later lines must come later: add them
    // in reverse when appending.
    if after {
        fields.reverse();
    }
    for (name, value) in fields {
        let pos = if after {
            HeaderPos::After(index)
        } else {
            HeaderPos::Before(index)
        };
        if let Err(e) = msg.add_header(pos, name, value) {
            tracing::error!("textopsx: cannot add header {name:?}: {e}");
            return -1;
        }
    }
    1
}

pub fn text(msg: &Message, kind: Kind, iname: &str, name: bool) -> Xval {
    let Some(p) = current(msg, kind, iname) else {
        return Xval::Null;
    };
    match kind {
        Kind::Header => match msg.header_at(p) {
            Some(h) => Xval::from(if name { h.raw_name } else { h.value }.to_owned()),
            None => Xval::Null,
        },
        Kind::BodyLine => match lines(msg).get(p) {
            Some(&(s, e, _)) => Xval::from(
                String::from_utf8_lossy(msg.body().get(s..e).unwrap_or_default()).into_owned(),
            ),
            None => Xval::Null,
        },
    }
}
