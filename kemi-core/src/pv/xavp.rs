//! Per-message stores: AVPs and extended AVPs (`$avp`, `$xavp`, `$xavu`,
//! `$xavi`). Both are ordered lists of named values where the most recently
//! added item of a name comes first (index 0), as Kamailio's linked lists do.

use std::borrow::Cow;

use super::PvValue;
use crate::xval::Xval;

/// The value of one extended AVP: a scalar or a nested list of children.
#[derive(Clone, Debug, PartialEq)]
pub enum XavpValue {
    Int(i64),
    Str(String),
    List(XavpList),
}

impl XavpValue {
    /// The scalar value; a nested list reads as a placeholder string, since
    /// a PV can only hold an int or a string.
    pub fn to_pv(&self) -> PvValue {
        match self {
            XavpValue::Int(n) => PvValue::Int(*n),
            XavpValue::Str(s) => PvValue::Str(s.clone()),
            XavpValue::List(_) => PvValue::Str("<<xavp>>".to_string()),
        }
    }

    /// The value as an [`Xval`]: lists become dicts of child arrays.
    pub fn to_xval(&self) -> Xval {
        match self {
            XavpValue::List(list) => list.to_dict(),
            other => other.to_pv().into_xval(),
        }
    }
}

impl From<PvValue> for XavpValue {
    fn from(v: PvValue) -> Self {
        match v {
            PvValue::Int(n) => XavpValue::Int(n),
            PvValue::Str(s) => XavpValue::Str(s),
        }
    }
}

/// An ordered list of named values. Name comparison is exact, or
/// ASCII-case-insensitive for `$xavi` (the caller says which).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct XavpList {
    items: Vec<(String, XavpValue)>,
}

fn same(a: &str, b: &str, ci: bool) -> bool {
    if ci {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

impl XavpList {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Every item, first (most recent) first.
    pub fn iter(&self) -> impl Iterator<Item = &(String, XavpValue)> {
        self.items.iter()
    }

    /// Positions in `items` of the items named `name`, in index order.
    fn positions(&self, name: &str, ci: bool) -> Vec<usize> {
        self.items
            .iter()
            .enumerate()
            .filter(|(_, (n, _))| same(n, name, ci))
            .map(|(i, _)| i)
            .collect()
    }

    /// Position of the `idx`-th item named `name` (negative counts from the end).
    fn position(&self, name: &str, idx: i32, ci: bool) -> Option<usize> {
        let found = self.positions(name, ci);
        let i = if idx < 0 {
            found
                .len()
                .checked_sub(usize::try_from(idx.unsigned_abs()).ok()?)?
        } else {
            usize::try_from(idx).ok()?
        };
        found.get(i).copied()
    }

    pub fn count(&self, name: &str, ci: bool) -> usize {
        self.items.iter().filter(|(n, _)| same(n, name, ci)).count()
    }

    pub fn get(&self, name: &str, idx: i32, ci: bool) -> Option<&XavpValue> {
        self.position(name, idx, ci).map(|p| &self.items[p].1)
    }

    pub fn get_mut(&mut self, name: &str, idx: i32, ci: bool) -> Option<&mut XavpValue> {
        self.position(name, idx, ci)
            .map(move |p| &mut self.items[p].1)
    }

    /// Every value named `name`, index order.
    pub fn all(&self, name: &str, ci: bool) -> Vec<&XavpValue> {
        self.items
            .iter()
            .filter(|(n, _)| same(n, name, ci))
            .map(|(_, v)| v)
            .collect()
    }

    /// Adds a value on top: it becomes index 0 of its name.
    pub fn push_front(&mut self, name: &str, value: XavpValue) {
        self.items.insert(0, (name.to_string(), value));
    }

    /// Adds a value after every other: it becomes the last index of its name.
    pub fn push_back(&mut self, name: &str, value: XavpValue) {
        self.items.push((name.to_string(), value));
    }

    /// Replaces the `idx`-th value named `name`; false if there is none.
    pub fn replace(&mut self, name: &str, idx: i32, value: XavpValue, ci: bool) -> bool {
        match self.get_mut(name, idx, ci) {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        }
    }

    /// Overwrites the value of `name` (the `$xavu` way): the first item is
    /// replaced, or one is added.
    pub fn set_unique(&mut self, name: &str, value: XavpValue, ci: bool) {
        if !self.replace(name, 0, value.clone(), ci) {
            self.push_front(name, value);
        }
    }

    /// Removes the `idx`-th value named `name`; false if there is none.
    pub fn remove(&mut self, name: &str, idx: i32, ci: bool) -> Option<XavpValue> {
        let p = self.position(name, idx, ci)?;
        Some(self.items.remove(p).1)
    }

    /// Removes every value named `name`; returns how many.
    pub fn remove_all(&mut self, name: &str, ci: bool) -> usize {
        let before = self.items.len();
        self.items.retain(|(n, _)| !same(n, name, ci));
        before - self.items.len()
    }

    /// The distinct names, in first-appearance order.
    pub fn names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (n, _) in &self.items {
            if !out.contains(&n.as_str()) {
                out.push(n);
            }
        }
        out
    }

    /// Moves the `idx`-th item named `name` to the front of its name's
    /// items, those before it going to the end, keeping their order.
    pub fn rotate(&mut self, name: &str, idx: i32, ci: bool) -> bool {
        let found = self.positions(name, ci);
        let Some(start) = self.position(name, idx, ci) else {
            return false;
        };
        let Some(k) = found.iter().position(|p| *p == start) else {
            return false;
        };
        let mut values: Vec<XavpValue> = found.iter().map(|p| self.items[*p].1.clone()).collect();
        values.rotate_left(k);
        for (p, v) in found.iter().zip(values) {
            self.items[*p].1 = v;
        }
        true
    }

    /// The list as a dict: each distinct name maps to the array of its
    /// values (a name may repeat), nested lists as nested dicts.
    pub fn to_dict(&self) -> Xval {
        let mut out: Vec<(Cow<'static, str>, Xval)> = Vec::new();
        for name in self.names() {
            let values = self
                .items
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.to_xval())
                .collect();
            out.push((Cow::Owned(name.to_string()), Xval::Array(values)));
        }
        Xval::Dict(out)
    }

    /// Writes the items, one per line, indented by depth (for the print
    /// functions).
    pub fn dump(&self, depth: usize, out: &mut Vec<String>) {
        for (name, value) in &self.items {
            let pad = "  ".repeat(depth);
            match value {
                XavpValue::Int(n) => out.push(format!("{pad}{name} = {n} (int)")),
                XavpValue::Str(s) => out.push(format!("{pad}{name} = \"{s}\" (str)")),
                XavpValue::List(list) => {
                    out.push(format!("{pad}{name} = [xavp]"));
                    list.dump(depth + 1, out);
                }
            }
        }
    }
}

/// The per-message pseudo-variable state a [`Context`](crate::Context)
/// carries: AVPs, the three extended AVP lists and `$ruid`.
#[derive(Clone, Debug, Default)]
pub struct PvState {
    /// `$avp(name)`: scalar values only.
    pub avps: XavpList,
    pub xavps: XavpList,
    pub xavus: XavpList,
    /// Names compared case-insensitively.
    pub xavis: XavpList,
    /// `$ruid`, set by location lookups.
    pub ruid: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> XavpValue {
        XavpValue::Str(v.to_string())
    }

    #[test]
    fn newest_first_and_negative_indexes() {
        let mut l = XavpList::default();
        l.push_front("a", s("1"));
        l.push_front("b", s("x"));
        l.push_front("a", s("2"));
        assert_eq!(l.get("a", 0, false), Some(&s("2")));
        assert_eq!(l.get("a", 1, false), Some(&s("1")));
        assert_eq!(l.get("a", -1, false), Some(&s("1")));
        assert_eq!(l.get("a", 2, false), None);
        assert_eq!(l.get("a", -3, false), None);
        assert_eq!(l.get("A", 0, false), None);
        assert_eq!(l.get("A", 0, true), Some(&s("2")));
        assert_eq!(l.count("a", false), 2);
        assert_eq!(l.names(), vec!["a", "b"]);
        assert_eq!(l.remove("a", 0, false), Some(s("2")));
        assert_eq!(l.remove_all("a", false), 1);
        assert_eq!(l.count("a", false), 0);
    }

    #[test]
    fn rotate_moves_the_index_to_the_front() {
        let mut l = XavpList::default();
        for v in ["3", "2", "1", "0"] {
            l.push_front("a", s(v));
        }
        assert!(l.rotate("a", 2, false));
        let got: Vec<_> = l.all("a", false).into_iter().cloned().collect();
        assert_eq!(got, vec![s("2"), s("3"), s("0"), s("1")]);
        assert!(!l.rotate("a", 9, false));
    }

    #[test]
    fn unique_set_overwrites() {
        let mut l = XavpList::default();
        l.set_unique("a", s("1"), false);
        l.set_unique("a", s("2"), false);
        assert_eq!(l.count("a", false), 1);
        assert_eq!(l.get("a", 0, false), Some(&s("2")));
    }
}
