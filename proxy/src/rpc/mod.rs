//! The RPC control interface: JSON-RPC 2.0 in the shape of Kamailio's
//! `jsonrpcs` module, served on a Unix stream socket and on HTTP bound to
//! loopback, by one thread of its own (never a routing worker).
//!
//! Methods: the proxy's own ([`core::METHODS`]: `core.version`,
//! `core.uptime`, `system.listMethods`, `system.methodHelp`,
//! `stats.get_statistics`) and every loaded module's `ModuleDef.rpc`
//! (`app_lua.reload`, `app_lua.list`, `app_lua.api_list`...).
//!
//! # Where it listens
//!
//! - Unix socket: `modparam("jsonrpcs", "socket", PATH)`, else the first
//!   usable of [`default_socket_paths`]: `/run/kemi-proxy/kemi-proxy_rpc.sock`,
//!   `$XDG_RUNTIME_DIR/kemi-proxy/kemi-proxy_rpc.sock`,
//!   `/tmp/kemi-proxy-<uid>/kemi-proxy_rpc.sock`. One request (or batch)
//!   per connection: the client writes a JSON value, the server answers
//!   with one JSON value and a newline, then closes.
//! - HTTP: `POST` any path on `modparam("jsonrpcs", "http_listen",
//!   "ADDR:PORT")`, default `127.0.0.1:5071`. Requests with an `Origin`
//!   header are refused, so a web page cannot drive it from a browser.
//! - `modparam("jsonrpcs", "transport", N)`: 0 (default) both; bit 1 HTTP,
//!   bit 4 the Unix socket (Kamailio's datagram bit; ours is a stream
//!   socket). FIFO (bit 2) is not implemented.
//! - `pretty_format` 1 indents replies. `fifo_name` and `dgram_socket` are
//!   accepted so Kamailio configs load, and ignored with a warning.
//!
//! Failing to listen (port taken, another proxy on the socket) is logged
//! and does not stop the proxy: RPC is for operators, not for routing.

pub mod client;
pub mod core;
pub mod dispatch;
pub mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use kemi_core::config::Config;
use kemi_core::rpc::{RpcContext, RpcMethod};
use kemi_core::{ModParam, ModParamKind, ModuleDef, Registry, Runtime};

use crate::stats::Stats;

pub use server::RpcServer;

/// The default HTTP address: loopback only.
pub const DEFAULT_HTTP: &str = "127.0.0.1:5071";
/// The socket's file name in each default directory.
pub const SOCKET_NAME: &str = "kemi-proxy_rpc.sock";

const TRANSPORT_HTTP: i64 = 1;
const TRANSPORT_FIFO: i64 = 2;
const TRANSPORT_SOCKET: i64 = 4;

/// `loadmodule "jsonrpcs.so"`: settings of the RPC server. The server runs
/// with its defaults even when the module is not loaded.
pub static JSONRPCS: ModuleDef = ModuleDef {
    name: "jsonrpcs",
    summary: "JSON-RPC 2.0 control interface on a Unix socket and loopback HTTP",
    kemi: None,
    params: &[
        ModParam {
            name: "transport",
            kind: ModParamKind::Int,
            repeatable: false,
            doc: "0 (default): Unix socket and HTTP. Bit 1: HTTP; bit 4: the Unix socket. FIFO (bit 2) is not implemented.",
        },
        ModParam {
            name: "socket",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "Path of the Unix stream socket (default /run/kemi-proxy/kemi-proxy_rpc.sock, falling back to $XDG_RUNTIME_DIR/kemi-proxy/ or /tmp/kemi-proxy-<uid>/).",
        },
        ModParam {
            name: "http_listen",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "IP:PORT for HTTP POST requests (default 127.0.0.1:5071). Other hosts can reach it only if this names a non-loopback address.",
        },
        ModParam {
            name: "pretty_format",
            kind: ModParamKind::Int,
            repeatable: false,
            doc: "1: indent the JSON of replies (default 0).",
        },
        ModParam {
            name: "fifo_name",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "Accepted for Kamailio configs; there is no FIFO transport (a warning is logged).",
        },
        ModParam {
            name: "dgram_socket",
            kind: ModParamKind::Str,
            repeatable: false,
            doc: "Accepted for Kamailio configs; ignored with a warning: set `socket` for the (stream) Unix socket.",
        },
    ],
    rpc: &[],
};

/// Where and how the server listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcSettings {
    /// An explicit socket path; `None` with `socket_enabled` means the
    /// defaults.
    pub socket: Option<PathBuf>,
    pub socket_enabled: bool,
    /// `None`: HTTP disabled.
    pub http: Option<SocketAddr>,
    pub pretty: bool,
    pub warnings: Vec<String>,
}

impl RpcSettings {
    /// The settings from a config's `jsonrpcs` modparams (defaults if the
    /// module is not loaded).
    pub fn from_config(cfg: &Config) -> Result<RpcSettings, String> {
        let m = cfg.module("jsonrpcs");
        let int = |n: &str| m.and_then(|m| m.param(n)).and_then(|v| v.as_int());
        let text = |n: &str| m.and_then(|m| m.param(n)).and_then(|v| v.as_str());
        let mut warnings = Vec::new();
        let transport = int("transport").unwrap_or(0);
        let (http_on, socket_on) = if transport == 0 {
            (true, true)
        } else {
            if transport & TRANSPORT_FIFO != 0 {
                warnings.push("jsonrpcs: the FIFO transport is not implemented".to_string());
            }
            (
                transport & TRANSPORT_HTTP != 0,
                transport & TRANSPORT_SOCKET != 0,
            )
        };
        for p in ["fifo_name", "dgram_socket"] {
            if text(p).is_some() {
                warnings.push(format!(
                    "jsonrpcs: modparam {p} is ignored (set \"socket\" for the Unix socket)"
                ));
            }
        }
        let http = if http_on {
            let s = text("http_listen").unwrap_or(DEFAULT_HTTP);
            Some(s.parse::<SocketAddr>().map_err(|_| {
                format!("jsonrpcs: http_listen {s:?} is not IP:PORT (e.g. 127.0.0.1:5071)")
            })?)
        } else {
            None
        };
        Ok(RpcSettings {
            socket: text("socket").filter(|s| !s.is_empty()).map(PathBuf::from),
            socket_enabled: socket_on,
            http,
            pretty: int("pretty_format").unwrap_or(0) != 0,
            warnings,
        })
    }
}

/// The default socket paths, most preferred first. The server binds the
/// first it can; the client connects to the first that exists.
pub fn default_socket_paths() -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from("/run/kemi-proxy").join(SOCKET_NAME)];
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        paths.push(PathBuf::from(dir).join("kemi-proxy").join(SOCKET_NAME));
    }
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    paths.push(PathBuf::from(format!("/tmp/kemi-proxy-{uid}")).join(SOCKET_NAME));
    paths
}

/// Every method served: the core ones, then each loaded module's.
pub fn method_table(cfg: &Config) -> Vec<RpcMethod> {
    let mut methods: Vec<RpcMethod> = core::METHODS.to_vec();
    for m in &cfg.modules {
        for method in m.def.rpc {
            if !methods.iter().any(|x| x.name == method.name) {
                methods.push(*method);
            }
        }
    }
    methods
}

/// Starts the RPC thread for the proxy running `runtime.config()`. `None`
/// (after logging why) when it cannot serve at all; the proxy goes on.
pub fn start(runtime: Arc<Runtime>, stats: Arc<Stats>) -> Option<RpcServer> {
    let settings = match RpcSettings::from_config(runtime.config()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("RPC disabled: {e}");
            return None;
        }
    };
    for w in &settings.warnings {
        tracing::warn!("{w}");
    }
    let methods = method_table(runtime.config());
    runtime.state::<core::CoreState>().init(stats, &methods);
    let registry = Registry::new(&runtime.config().module_defs());
    let dispatcher = dispatch::Dispatcher {
        methods,
        ctx: RpcContext { runtime, registry },
        pretty: settings.pretty,
    };
    match RpcServer::start(&settings, dispatcher) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!("RPC server not started: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kemi_core::config::{LoadedModule, Value};

    fn cfg(params: &[(&str, Value)]) -> Config {
        let mut c = Config::default();
        c.modules.push(LoadedModule {
            def: &JSONRPCS,
            params: params
                .iter()
                .map(|(n, v)| (n.to_string(), v.clone()))
                .collect(),
        });
        c
    }

    #[test]
    fn defaults_are_loopback_and_socket() {
        let s = RpcSettings::from_config(&Config::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.http, DEFAULT_HTTP.parse().ok());
        assert!(s.http.is_some_and(|a| a.ip().is_loopback()));
        assert!(s.socket_enabled);
        assert_eq!(s.socket, None);
    }

    #[test]
    fn transport_bits_and_errors() {
        let s = RpcSettings::from_config(&cfg(&[("transport", Value::Int(4))]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s.http, s.socket_enabled), (None, true));
        let s = RpcSettings::from_config(&cfg(&[("transport", Value::Int(3))]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(s.http.is_some() && !s.socket_enabled && s.warnings.len() == 1);
        assert!(
            RpcSettings::from_config(&cfg(&[("http_listen", Value::Str("x".into()))])).is_err()
        );
    }
}
