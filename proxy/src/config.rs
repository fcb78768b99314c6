//! Turns a `kamailio.cfg` into the server's [`Settings`].
//!
//! INTERIM: `kemi_core::config::load` (branch `config`) is the real loader
//! (pre-processor, `loadmodule`, `modparam`, errors as `file:line:`). Until
//! it is merged, this reads only the global parameters the server uses, so
//! the transports can be run and tested.

use std::path::Path;
use std::time::Duration;

use crate::settings::{ListenAddr, Settings};

/// A loaded config: what the server needs, and a one-line summary for `-c`.
pub struct Loaded {
    pub settings: Settings,
    pub summary: String,
}

/// Loads `path` with `defines` (`-A NAME[=VALUE]`). Errors are
/// `file:line: message`, one per entry.
pub fn load(path: &Path, _defines: &[String]) -> Result<Loaded, Vec<String>> {
    let file = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| vec![format!("{file}:0: cannot read: {e}")])?;
    let mut s = Settings::default();
    let mut tcp_children = None;
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let (name, value) = (
            name.trim(),
            value.trim().trim_end_matches(';').trim().trim_matches('"'),
        );
        let at = |msg: String| format!("{file}:{}: {msg}", i + 1);
        let int = |v: &str| {
            v.parse::<i64>()
                .map_err(|_| at(format!("{name}: expected a number, got {v:?}")))
        };
        let yes = |v: &str| matches!(v.to_ascii_lowercase().as_str(), "yes" | "true" | "on" | "1");
        let r: Result<(), String> = (|| {
            match name {
                "listen" => s.listen.push(ListenAddr::parse(value).map_err(at)?),
                "port" => {
                    s.port =
                        u16::try_from(int(value)?).map_err(|_| at(format!("bad port {value}")))?
                }
                "children" => s.children = usize::try_from(int(value)?).unwrap_or(1).max(1),
                "tcp_children" => {
                    tcp_children = Some(usize::try_from(int(value)?).unwrap_or(1).max(1))
                }
                "debug" => s.debug = i32::try_from(int(value)?).unwrap_or(0),
                "disable_tcp" => s.disable_tcp = yes(value),
                "tcp_connection_lifetime" => {
                    s.tcp_lifetime = Duration::from_secs(u64::try_from(int(value)?).unwrap_or(0))
                }
                _ => {}
            }
            Ok(())
        })();
        if let Err(e) = r {
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    s.tcp_children = tcp_children.unwrap_or(s.children);
    let summary = format!(
        "{file}: config OK ({} listen, children={})",
        s.listen.len(),
        s.children
    );
    Ok(Loaded {
        settings: s,
        summary,
    })
}
