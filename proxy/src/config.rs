//! Loads a `kamailio.cfg` with `kemi_core::config` and the proxy's module
//! table, and turns it into the server's [`Settings`].

use std::path::Path;
use std::time::Duration;

use kemi_core::config::{self, Config, Host, ListenSpec, Proto as CfgProto};

use crate::module_table;
use crate::router::Proto;
use crate::settings::{ListenAddr, Settings};

/// A loaded config: the full config (engines, modules), what the server
/// needs, and a one-line summary for `-c`.
pub struct Loaded {
    pub config: Config,
    pub settings: Settings,
    /// Things accepted but not done (e.g. a TLS listen), logged as warnings
    /// once the logger knows its level.
    pub warnings: Vec<String>,
    pub summary: String,
}

/// Loads `path` with `defines` (`-A NAME[=VALUE]` as given). Errors are
/// `file:line: message`, one per entry, in the order found.
pub fn load(path: &Path, defines: &[String]) -> Result<Loaded, Vec<String>> {
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for d in defines {
        match config::parse_define_arg(d) {
            Ok(def) => parsed.push(def),
            Err(e) => errors.push(format!("{}: {e}", config::COMMAND_LINE)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let cfg = config::load(path, module_table::MODULES, &parsed)
        .map_err(|errs| errs.iter().map(|e| e.to_string()).collect::<Vec<_>>())?;
    let file = path.display().to_string();
    let (settings, mut warnings) = settings_of(&cfg, &file).map_err(|e| vec![e])?;
    warnings.extend(crate::compat::notes(&cfg));
    let summary = format!(
        "{file}: config OK: {} listen, children={}, engine {}, {} module(s) loaded{}",
        cfg.listen.len(),
        cfg.children,
        cfg.engine.as_deref().unwrap_or("none"),
        cfg.modules.len(),
        if cfg.modules.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                cfg.modules
                    .iter()
                    .map(|m| m.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    Ok(Loaded {
        config: cfg,
        settings,
        warnings,
        summary,
    })
}

/// The server's settings from a loaded config. `listen` entries for
/// transports this proxy lacks (TLS, SCTP) are skipped with a warning.
pub fn settings_of(cfg: &Config, file: &str) -> Result<(Settings, Vec<String>), String> {
    let mut warnings = Vec::new();
    let mut listen = Vec::new();
    for spec in &cfg.listen {
        match listen_addr(spec) {
            Some(l) => listen.push(l),
            None => warnings.push(format!(
                "{file}: listen {}:{}{}: {} is not supported yet; socket skipped",
                spec.proto.name(),
                spec.addr,
                spec.port.map(|p| format!(":{p}")).unwrap_or_default(),
                spec.proto.name()
            )),
        }
    }
    if !cfg.listen.is_empty() && listen.is_empty() {
        return Err(format!(
            "{file}: no usable listen socket (udp and tcp are supported)"
        ));
    }
    let children = usize::try_from(cfg.children).unwrap_or(1).max(1);
    let tcp_children = cfg
        .tcp_children
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(children)
        .max(1);
    let settings = Settings {
        listen,
        port: cfg.port,
        children,
        tcp_children,
        disable_tcp: cfg.disable_tcp,
        tcp_lifetime: Duration::from_secs(u64::from(cfg.tcp_connection_lifetime)),
        tcp_max_connections: usize::try_from(cfg.tcp_max_connections).unwrap_or(usize::MAX),
        tcp_accept_no_cl: cfg.tcp_accept_no_cl,
        debug: cfg.debug,
    };
    Ok((settings, warnings))
}

fn listen_addr(spec: &ListenSpec) -> Option<ListenAddr> {
    let proto = match spec.proto {
        CfgProto::Udp => Some(Proto::Udp),
        CfgProto::Tcp => Some(Proto::Tcp),
        CfgProto::Any => None,
        CfgProto::Tls | CfgProto::Sctp => return None,
    };
    let host = match &spec.addr {
        Host::Ipv4(a) => a.to_string(),
        Host::Ipv6(a) => a.to_string(),
        Host::Name(n) => n.clone(),
        Host::Any => "*".to_string(),
    };
    Some(ListenAddr {
        proto,
        host,
        port: spec.port,
    })
}
