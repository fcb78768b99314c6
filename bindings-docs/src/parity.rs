//! The parity table `docs/api/parity.md`: every Kamailio export (from the
//! TSV kept in `bindings-docs/data/`) classified against the registry, with
//! totals, and the exports of ours that Kamailio does not have.

use std::collections::HashSet;
use std::fmt::Write as _;

use kemi_core::Export;

use crate::lang::{page_of, Group, GENERATED_NOTE, REGENERATE};
use crate::{Error, Output};

/// The TSV inside the repository, relative to its root.
pub const TSV: &str = "bindings-docs/data/kamailio-kemi-exports.tsv";

/// One export of Kamailio, as listed in the TSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KamExport {
    /// `""` for functions on `KSR` itself.
    pub submodule: String,
    pub function: String,
    /// `none`, `int`, `bool`, `xval` (or whatever the TSV says).
    pub ret: String,
    /// `(kind, name)` per parameter.
    pub params: Vec<(String, String)>,
    /// The Kamailio module providing it (`core`, `tm`, ...).
    pub kamailio_module: String,
}

impl KamExport {
    pub fn path(&self) -> String {
        if self.submodule.is_empty() {
            format!("KSR.{}", self.function)
        } else {
            format!("KSR.{}.{}", self.submodule, self.function)
        }
    }

    /// `int KSR.sl.send_reply(int code, str reason)`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(kind, name)| format!("{kind} {name}"))
            .collect();
        format!("{} {}({})", self.ret, self.path(), params.join(", "))
    }
}

const COLUMNS: [&str; 6] = [
    "ksr_path",
    "submodule",
    "function",
    "return",
    "params",
    "kamailio_module",
];

/// Parses the TSV text; `origin` names it in error messages.
pub fn parse_tsv(text: &str, origin: &str) -> Result<Vec<KamExport>, Error> {
    let mut lines = text.lines().enumerate();
    let header = lines
        .next()
        .map(|(_, l)| l.trim_end_matches('\r'))
        .unwrap_or("");
    if header.split('\t').collect::<Vec<_>>() != COLUMNS {
        return Err(Error::new(format!(
            "{origin}:1: expected the header `{}`, found `{header}`",
            COLUMNS.join("<TAB>")
        )));
    }
    let mut out = Vec::new();
    for (i, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{origin}:{}", i + 1);
        let cols: Vec<&str> = line.split('\t').collect();
        let [path, submodule, function, ret, params, module] = cols[..] else {
            return Err(Error::new(format!(
                "{at}: expected {} tab-separated columns, found {}",
                COLUMNS.len(),
                cols.len()
            )));
        };
        let k = KamExport {
            submodule: submodule.to_string(),
            function: function.to_string(),
            ret: ret.to_string(),
            params: parse_params(params).map_err(|e| Error::new(format!("{at}: {e}")))?,
            kamailio_module: module.to_string(),
        };
        if k.path() != path {
            return Err(Error::new(format!(
                "{at}: path `{path}` does not match submodule `{submodule}` and function `{function}`"
            )));
        }
        out.push(k);
    }
    Ok(out)
}

/// `int code, str reason` -> `[(int, code), (str, reason)]`; `none` or empty -> `[]`.
fn parse_params(text: &str) -> Result<Vec<(String, String)>, String> {
    let text = text.trim();
    if text.is_empty() || text == "none" {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|p| match p.split_whitespace().collect::<Vec<_>>()[..] {
            [kind, name] => Ok((kind.to_string(), name.to_string())),
            _ => Err(format!(
                "cannot read parameter `{}` (want `kind name`)",
                p.trim()
            )),
        })
        .collect()
}

/// How one Kamailio export compares with ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Same return kind and parameter kinds (names may differ).
    Present,
    /// We have no function of that path.
    Missing,
    /// We have it with another return kind or other parameter kinds; holds our signature.
    Different(String),
}

impl Status {
    fn label(&self) -> &'static str {
        match self {
            Status::Present => "present",
            Status::Missing => "**missing**",
            Status::Different(_) => "**different**",
        }
    }
}

/// Classifies `kam` against our export of the same path, if any.
pub fn classify(kam: &KamExport, ours: Option<&Export>) -> Status {
    let Some(e) = ours else {
        return Status::Missing;
    };
    let same_ret = e.ret.kemi_name() == kam.ret;
    let same_params = e.params.len() == kam.params.len()
        && e.params
            .iter()
            .zip(&kam.params)
            .all(|(p, (kind, _))| p.kind.kemi_name() == kind);
    if same_ret && same_params {
        Status::Present
    } else {
        Status::Different(e.signature())
    }
}

fn find<'a>(groups: &'a [Group], submodule: &str, function: &str) -> Option<&'a Export> {
    groups
        .iter()
        .filter(|g| g.name == submodule)
        .flat_map(|g| g.exports.iter().copied())
        .find(|e| e.name == function)
}

#[derive(Default, Clone, Copy)]
struct Counts {
    present: usize,
    different: usize,
    missing: usize,
}

impl Counts {
    fn add(&mut self, s: &Status) {
        match s {
            Status::Present => self.present += 1,
            Status::Different(_) => self.different += 1,
            Status::Missing => self.missing += 1,
        }
    }
    fn total(&self) -> usize {
        self.present + self.different + self.missing
    }
    fn coverage(&self) -> String {
        percent(self.present, self.total())
    }
}

/// `present/total` as a percentage with one decimal.
pub fn percent(part: usize, total: usize) -> String {
    if total == 0 {
        return "—".to_string();
    }
    let tenths = (part * 1000 + total / 2) / total;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

fn title(submodule: &str) -> String {
    if submodule.is_empty() {
        "KSR".to_string()
    } else {
        format!("KSR.{submodule}")
    }
}

/// The Kamailio exports of one submodule, classified.
struct Section<'a> {
    name: &'a str,
    module: &'a str,
    rows: Vec<(&'a KamExport, Status)>,
}

/// Renders `docs/api/parity.md`.
pub fn render(groups: &[Group], kamailio: &[KamExport]) -> Output {
    // Kamailio submodules in TSV order, each with its classified rows.
    let mut sections: Vec<Section<'_>> = Vec::new();
    for k in kamailio {
        let status = classify(k, find(groups, &k.submodule, &k.function));
        match sections.iter_mut().find(|sec| sec.name == k.submodule) {
            Some(sec) => sec.rows.push((k, status)),
            None => sections.push(Section {
                name: &k.submodule,
                module: &k.kamailio_module,
                rows: vec![(k, status)],
            }),
        }
    }
    let known: HashSet<(&str, &str)> = kamailio
        .iter()
        .map(|k| (k.submodule.as_str(), k.function.as_str()))
        .collect();
    let extra: Vec<&Export> = groups
        .iter()
        .flat_map(|g| g.exports.iter().copied())
        .filter(|e| !known.contains(&(e.module, e.name)))
        .collect();

    let mut all = Counts::default();
    let per_section: Vec<Counts> = sections
        .iter()
        .map(|sec| {
            let mut c = Counts::default();
            for (_, s) in &sec.rows {
                c.add(s);
                all.add(s);
            }
            c
        })
        .collect();

    let mut s = format!("<!-- {GENERATED_NOTE} Regenerate with `{REGENERATE}`. -->\n\n");
    s.push_str("# Parity with Kamailio\n\n");
    let _ = writeln!(
        s,
        "Each KEMI export of Kamailio (listed in `{TSV}`) is looked up in our registry by its \
         path. It is *present* when the return kind and the parameter kinds match (parameter \
         names may differ), *different* when the path exists with other kinds, and *missing* \
         otherwise. Back to the [index](README.md).\n"
    );
    let _ = writeln!(
        s,
        "Overall: **{}/{} present ({})**, {} different, {} missing; {} of our exports are not \
         in Kamailio.\n",
        all.present,
        all.total(),
        all.coverage(),
        all.different,
        all.missing,
        extra.len()
    );
    s.push_str("## Summary\n\n");
    s.push_str(
        "| Submodule | Kamailio module | Present | Different | Missing | Coverage |\n\
         |---|---|---:|---:|---:|---:|\n",
    );
    for (Section { name, module, .. }, c) in sections.iter().zip(&per_section) {
        let _ = writeln!(
            s,
            "| [`{}`](#{}) | {} | {}/{} | {} | {} | {} |",
            title(name),
            section_anchor(name),
            module,
            c.present,
            c.total(),
            c.different,
            c.missing,
            c.coverage()
        );
    }
    let _ = writeln!(
        s,
        "| **All** | | **{}/{}** | **{}** | **{}** | **{}** |",
        all.present,
        all.total(),
        all.different,
        all.missing,
        all.coverage()
    );

    for (Section { name, module, rows }, c) in sections.iter().zip(&per_section) {
        let _ = writeln!(s, "\n<a id=\"{}\"></a>\n", section_anchor(name));
        let _ = writeln!(
            s,
            "## `{}` ({module}): {}/{} present\n",
            title(name),
            c.present,
            c.total()
        );
        s.push_str("| Kamailio signature | Status | Ours |\n|---|---|---|\n");
        for (k, status) in rows {
            let ours = match status {
                Status::Present => format!("[reference]({}#{})", page_of(name), k.function),
                Status::Different(sig) => {
                    format!("[`{sig}`]({}#{})", page_of(name), k.function)
                }
                Status::Missing => String::new(),
            };
            let _ = writeln!(s, "| `{}` | {} | {} |", k.signature(), status.label(), ours);
        }
    }

    s.push_str("\n## Ours only\n\n");
    if extra.is_empty() {
        s.push_str("Every export of ours has a Kamailio counterpart.\n");
    } else {
        let _ = writeln!(
            s,
            "{} exports that Kamailio does not have:\n\n| Signature | Reference |\n|---|---|",
            extra.len()
        );
        for e in extra {
            let _ = writeln!(
                s,
                "| `{}` | [{}]({}#{}) |",
                e.signature(),
                page_of(e.module),
                page_of(e.module),
                e.name
            );
        }
    }
    Output::new(format!("{}/parity.md", crate::reference::DIR), s)
}

fn section_anchor(submodule: &str) -> String {
    if submodule.is_empty() {
        "ksr-core".to_string()
    } else {
        format!("ksr-{submodule}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_and_rejects_bad_ones() {
        let text = "ksr_path\tsubmodule\tfunction\treturn\tparams\tkamailio_module\n\
                    KSR.sl.send_reply\tsl\tsend_reply\tint\tint code, str reason\tsl\n\
                    KSR.is_INVITE\t\tis_INVITE\tbool\tnone\tcore\n";
        let rows = parse_tsv(text, "t.tsv");
        let rows = match rows {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].signature(),
            "int KSR.sl.send_reply(int code, str reason)"
        );
        assert_eq!(rows[1].signature(), "bool KSR.is_INVITE()");

        let short = "ksr_path\tsubmodule\tfunction\treturn\tparams\tkamailio_module\nKSR.a\t\ta\n";
        let err = parse_tsv(short, "t.tsv")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("t.tsv:2"), "{err}");
        let bad_header = parse_tsv("a\tb\n", "t.tsv").map(|_| ()).unwrap_err();
        assert!(bad_header.to_string().contains("header"));
        let bad_param = "ksr_path\tsubmodule\tfunction\treturn\tparams\tkamailio_module\n\
                         KSR.a\t\ta\tint\tintcode\tcore\n";
        assert!(parse_tsv(bad_param, "t").is_err());
    }

    #[test]
    fn percent_rounds_to_one_decimal() {
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(2, 3), "66.7%");
        assert_eq!(percent(0, 5), "0.0%");
        assert_eq!(percent(5, 5), "100.0%");
        assert_eq!(percent(0, 0), "—");
    }
}
