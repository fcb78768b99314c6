//! `kemi-docs`: renders, from the KEMI registry alone, the Markdown API
//! reference (`docs/api/`), the parity table against Kamailio
//! (`docs/api/parity.md`) and typed editor stubs for Lua, Python,
//! TypeScript/JavaScript and Ruby (`stubs/`).
//!
//! Every renderer is a pure function of the registry's submodules (plus the
//! Kamailio TSV for the parity table), so the output is deterministic and
//! can be compared with the committed files.

pub mod lang;
pub mod parity;
pub mod reference;
pub mod stubs;

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use kemi_core::{Registry, Submodule};

pub use parity::KamExport;

/// One generated file: its path relative to the output root, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub path: String,
    pub contents: String,
}

impl Output {
    pub fn new(path: impl Into<String>, contents: String) -> Self {
        Output {
            path: path.into(),
            contents,
        }
    }
}

/// A failure of the command, with a message meant for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The directories whose whole content is generated.
pub const GENERATED_DIRS: [&str; 2] = [reference::DIR, "stubs"];

/// The repository this crate belongs to (the default output root).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The submodules to document: core and every module compiled into the proxy.
pub fn proxy_submodules() -> Vec<&'static Submodule> {
    Registry::new(kemi_proxy::module_table::MODULES)
        .submodules()
        .to_vec()
}

/// Reads and parses the Kamailio exports TSV.
pub fn load_kamailio(path: &Path) -> Result<Vec<KamExport>, Error> {
    let text = fs::read_to_string(path)
        .map_err(|e| Error::new(format!("cannot read {}: {e}", path.display())))?;
    parity::parse_tsv(&text, &path.display().to_string())
}

/// Renders every output file, sorted by path. `repo_root` is only used to
/// make absolute source paths relative.
pub fn render_all(
    submodules: &[&'static Submodule],
    kamailio: &[KamExport],
    repo_root: &Path,
) -> Vec<Output> {
    let groups = lang::group(submodules);
    let mut out = reference::render(&groups, repo_root);
    out.push(parity::render(&groups, kamailio));
    out.extend(stubs::render(&groups));
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Why a file on disk does not match the rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staleness {
    /// Should exist and does not.
    Missing,
    /// Exists with other contents.
    Differs,
    /// Exists in a generated directory but is no longer generated.
    Unexpected,
}

/// A file that `generate` would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    pub path: String,
    pub why: Staleness,
}

impl fmt::Display for Stale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.why {
            Staleness::Missing => "missing",
            Staleness::Differs => "out of date",
            Staleness::Unexpected => "no longer generated",
        };
        write!(f, "{} ({why})", self.path)
    }
}

/// Files under the generated directories of `root`, relative, sorted.
fn existing_files(root: &Path) -> Result<BTreeSet<String>, Error> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeSet<String>) -> Result<(), Error> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::new(format!("cannot list {}: {e}", dir.display()))),
        };
        for entry in entries {
            let entry =
                entry.map_err(|e| Error::new(format!("cannot list {}: {e}", dir.display())))?;
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out)?;
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
        Ok(())
    }
    let mut out = BTreeSet::new();
    for dir in GENERATED_DIRS {
        walk(&root.join(dir), root, &mut out)?;
    }
    Ok(out)
}

/// Compares the rendering with the files under `root`.
pub fn check(files: &[Output], root: &Path) -> Result<Vec<Stale>, Error> {
    let mut stale = Vec::new();
    for file in files {
        let path = root.join(&file.path);
        match fs::read(&path) {
            Ok(bytes) if bytes == file.contents.as_bytes() => {}
            Ok(_) => stale.push(Stale {
                path: file.path.clone(),
                why: Staleness::Differs,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => stale.push(Stale {
                path: file.path.clone(),
                why: Staleness::Missing,
            }),
            Err(e) => return Err(Error::new(format!("cannot read {}: {e}", path.display()))),
        }
    }
    let generated: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for path in existing_files(root)? {
        if !generated.contains(path.as_str()) {
            stale.push(Stale {
                path,
                why: Staleness::Unexpected,
            });
        }
    }
    Ok(stale)
}

/// Writes the rendering under `root`, removing files of the generated
/// directories that are no longer generated. Returns what it changed.
pub fn write(files: &[Output], root: &Path) -> Result<Vec<Stale>, Error> {
    let stale = check(files, root)?;
    for s in &stale {
        let path = root.join(&s.path);
        match s.why {
            Staleness::Unexpected => fs::remove_file(&path)
                .map_err(|e| Error::new(format!("cannot remove {}: {e}", path.display())))?,
            Staleness::Missing | Staleness::Differs => {
                let Some(file) = files.iter().find(|f| f.path == s.path) else {
                    continue;
                };
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent).map_err(|e| {
                        Error::new(format!("cannot create {}: {e}", parent.display()))
                    })?;
                }
                fs::write(&path, &file.contents)
                    .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
            }
        }
    }
    Ok(stale)
}
