//! Header values as comma-separated lists: `Name[index].param` addressing
//! for the *_hf_value functions.

use kemi_core::sip::{HeaderPos, Message};
use kemi_mod_textops::util;

/// A parsed `Name[index].param`.
pub struct Hexp {
    pub name: String,
    /// `None`: no index given; `Some(None)`: `[*]`; else 1-based (negative
    /// counts from the end).
    pub index: Option<Option<i32>>,
    pub param: Option<String>,
}

impl Hexp {
    pub fn parse(s: &str) -> Option<Hexp> {
        let s = s.trim();
        let name_end = s.find(['[', '.']).unwrap_or(s.len());
        let name = s.get(..name_end)?.trim().to_owned();
        if name.is_empty() {
            return None;
        }
        let mut rest = s.get(name_end..)?;
        let mut index = None;
        if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            let idx = r.get(..close)?.trim();
            index = Some(if idx == "*" {
                None
            } else {
                match idx.parse::<i32>() {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => Some(n),
                }
            });
            rest = r.get(close + 1..)?;
        }
        let param = match rest.strip_prefix('.') {
            Some(p) if !p.trim().is_empty() => Some(p.trim().to_owned()),
            Some(_) => return None,
            None if rest.trim().is_empty() => None,
            None => return None,
        };
        Some(Hexp { name, index, param })
    }
}

fn bad(hexp: &str) -> i32 {
    tracing::error!("textopsx: bad header expression {hexp:?} (Name[index].param)");
    -1
}

/// One value: its header field, range in the message, text.
#[derive(Clone)]
struct Val {
    field: usize,
    start: usize,
    end: usize,
    text: String,
}

/// Every value (or, with `fields`, every whole field value) of `name`.
fn values(msg: &Message, name: &str, fields: bool) -> Vec<Val> {
    let mut out = Vec::new();
    for h in msg.headers_named(name) {
        let items = if fields {
            vec![h.value]
        } else {
            kemi_core::sip::scan::split_commas(h.value)
        };
        for v in items {
            if v.is_empty() && !fields {
                continue;
            }
            if let Some(o) = util::offset_in(msg, v) {
                out.push(Val {
                    field: h.index,
                    start: o,
                    end: o + v.len(),
                    text: v.to_owned(),
                });
            }
        }
    }
    out
}

/// The positions selected by an index (all when `None` or `[*]`).
fn select(n: usize, index: Option<Option<i32>>) -> Vec<usize> {
    match index.flatten() {
        None => (0..n).collect(),
        Some(i) if i > 0 => {
            let p = (i - 1) as usize;
            if p < n {
                vec![p]
            } else {
                vec![]
            }
        }
        Some(i) => n
            .checked_sub(i.unsigned_abs() as usize)
            .map(|p| vec![p])
            .unwrap_or_default(),
    }
}

/// Range of parameter `p` in `value` (`;p` or `;p=x`), from its `;`.
fn param_range(value: &str, p: &str) -> Option<(usize, usize)> {
    let b = value.as_bytes();
    let mut i = 0;
    while let Some(off) = value.get(i..)?.find(';') {
        let s = i + off;
        let mut e = s + 1;
        while e < b.len() && b.get(e) != Some(&b';') {
            e += 1;
        }
        let item = value.get(s + 1..e)?;
        let key = item.split('=').next().unwrap_or_default().trim();
        if key.eq_ignore_ascii_case(p) {
            // Keep trailing white space outside the removed range.
            let trimmed = value.get(s..e)?.trim_end().len();
            return Some((s, s + trimmed));
        }
        i = e;
        if i >= b.len() {
            break;
        }
    }
    None
}

fn param_text(p: &str, val: &str) -> String {
    if val.is_empty() {
        format!(";{p}")
    } else {
        format!(";{p}={val}")
    }
}

/// append_hf_value / insert_hf_value.
pub fn add(msg: &mut Message, hexp: &str, val: &str, after: bool) -> i32 {
    let Some(h) = Hexp::parse(hexp) else {
        return bad(hexp);
    };
    if val.contains(['\r', '\n']) {
        return -1;
    }
    let vals = values(msg, &h.name, false);
    if vals.is_empty() {
        return match msg.add_header(HeaderPos::Last, &h.name, val) {
            Ok(()) => 1,
            Err(e) => {
                tracing::error!("textopsx: cannot add {}: {e}", h.name);
                -1
            }
        };
    }
    let pos = match h.index.flatten() {
        None if after => Some(vals.len() - 1),
        None => Some(0),
        Some(_) => select(vals.len(), h.index).first().copied(),
    };
    let Some(v) = pos.and_then(|p| vals.get(p)) else {
        return -1;
    };
    let ok = if after {
        util::splice(msg, v.end, v.end, format!(", {val}").into_bytes())
    } else {
        util::splice(msg, v.start, v.start, format!("{val}, ").into_bytes())
    };
    if ok {
        1
    } else {
        -1
    }
}

/// assign_hf_value(2).
pub fn assign(msg: &mut Message, hexp: &str, val: &str, fields: bool) -> i32 {
    let Some(h) = Hexp::parse(hexp) else {
        return bad(hexp);
    };
    let vals = values(msg, &h.name, fields);
    let picked = select(vals.len(), h.index);
    if picked.is_empty() {
        return -1;
    }
    let mut ok = true;
    for v in picked.iter().filter_map(|&p| vals.get(p)) {
        ok &= match &h.param {
            None => util::splice(msg, v.start, v.end, val.as_bytes().to_vec()),
            Some(p) => match param_range(&v.text, p) {
                Some((s, e)) => util::splice(
                    msg,
                    v.start + s,
                    v.start + e,
                    param_text(p, val).into_bytes(),
                ),
                None => util::splice(msg, v.end, v.end, param_text(p, val).into_bytes()),
            },
        };
    }
    if ok {
        1
    } else {
        -1
    }
}

/// Removes the values at `picked` (positions in `vals`): a field losing all
/// its values is removed, otherwise the values go with their commas.
fn remove_values(msg: &mut Message, vals: &[Val], picked: &[usize]) -> bool {
    let mut ok = true;
    let mut fields: Vec<usize> = picked
        .iter()
        .filter_map(|&p| vals.get(p))
        .map(|v| v.field)
        .collect();
    fields.dedup();
    for f in fields {
        let in_field: Vec<(usize, &Val)> = vals
            .iter()
            .enumerate()
            .filter(|(_, v)| v.field == f)
            .collect();
        let kept: Vec<&Val> = in_field
            .iter()
            .filter(|(i, _)| !picked.contains(i))
            .map(|(_, v)| *v)
            .collect();
        if kept.is_empty() {
            ok &= util::remove_header(msg, f);
            continue;
        }
        let (Some(first), Some(last)) = (in_field.first(), in_field.last()) else {
            continue;
        };
        let joined = kept
            .iter()
            .map(|v| v.text.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        ok &= util::splice(msg, first.1.start, last.1.end, joined.into_bytes());
    }
    ok
}

/// remove_hf_value(2).
pub fn remove(msg: &mut Message, hexp: &str, fields: bool) -> i32 {
    let Some(h) = Hexp::parse(hexp) else {
        return bad(hexp);
    };
    let vals = values(msg, &h.name, fields);
    let picked = select(vals.len(), h.index);
    if picked.is_empty() {
        return -1;
    }
    let ok = match &h.param {
        None if fields => {
            let mut ok = true;
            for v in picked.iter().filter_map(|&p| vals.get(p)) {
                ok &= util::remove_header(msg, v.field);
            }
            ok
        }
        None => remove_values(msg, &vals, &picked),
        Some(p) => {
            let mut any = false;
            let mut ok = true;
            for v in picked.iter().filter_map(|&p| vals.get(p)) {
                if let Some((s, e)) = param_range(&v.text, p) {
                    any = true;
                    ok &= util::splice(msg, v.start + s, v.start + e, Vec::new());
                }
            }
            any && ok
        }
    };
    if ok {
        1
    } else {
        -1
    }
}

/// True if `val` is among the values of the header `hexp` names.
pub fn exists(msg: &Message, hexp: &str, val: &str) -> bool {
    let Some(h) = Hexp::parse(hexp) else {
        return false;
    };
    values(msg, &h.name, false)
        .iter()
        .any(|v| v.text.eq_ignore_ascii_case(val.trim()))
}

/// exclude_hf_value.
pub fn exclude(msg: &mut Message, hexp: &str, val: &str) -> i32 {
    let Some(h) = Hexp::parse(hexp) else {
        return bad(hexp);
    };
    let vals = values(msg, &h.name, false);
    let picked: Vec<usize> = vals
        .iter()
        .enumerate()
        .filter(|(_, v)| v.text.eq_ignore_ascii_case(val.trim()))
        .map(|(i, _)| i)
        .collect();
    if picked.is_empty() {
        return -1;
    }
    if remove_values(msg, &vals, &picked) {
        1
    } else {
        -1
    }
}
