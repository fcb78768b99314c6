//! What a loaded `kamailio.cfg` says, in typed form.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::defines::Defines;
use crate::module::ModuleDef;

/// A `modparam` or core parameter value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Str(String),
}

impl Value {
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            Value::Str(_) => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Int(_) => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Str(s) => write!(f, "\"{s}\""),
        }
    }
}

/// Transport of a `listen` socket or an `alias`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Udp,
    Tcp,
    Tls,
    Sctp,
    /// No protocol given (or `*`): every enabled transport.
    Any,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Udp => "udp",
            Proto::Tcp => "tcp",
            Proto::Tls => "tls",
            Proto::Sctp => "sctp",
            Proto::Any => "*",
        }
    }
}

/// The address part of a `listen`, `advertise` or `alias`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    /// A host or interface name, resolved when the socket is opened.
    Name(String),
    /// `*`: every local address.
    Any,
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
            Host::Name(n) => f.write_str(n),
            Host::Any => f.write_str("*"),
        }
    }
}

/// `advertise addr[:port]` after a listen socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advertise {
    pub addr: Host,
    pub port: Option<u16>,
}

/// One socket from `listen = ...` (or a `socket { ... }` block).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenSpec {
    pub proto: Proto,
    pub addr: Host,
    /// `None`: not given or `*`; the global `port` applies.
    pub port: Option<u16>,
    pub advertise: Option<Advertise>,
    /// `name "sock"`: lets scripts pick the socket by name.
    pub name: Option<String>,
    /// `virtual`: the address may float between hosts.
    pub is_virtual: bool,
    /// `workers = N` of a `socket { }` block: processes for this socket.
    pub workers: Option<u32>,
}

/// One `alias = [proto:]host[:port]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alias {
    pub proto: Proto,
    pub host: String,
    pub port: Option<u16>,
}

/// The `kemi.*` core parameters: which script functions the core calls.
/// `None` means disabled (`""` or `"none"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KemiCallbacks {
    pub request_route: String,
    pub reply_route: Option<String>,
    pub onsend_route: Option<String>,
    pub event_route: Option<String>,
}

impl Default for KemiCallbacks {
    fn default() -> Self {
        KemiCallbacks {
            request_route: "ksr_request_route".into(),
            reply_route: Some("ksr_reply_route".into()),
            onsend_route: Some("ksr_onsend_route".into()),
            event_route: None,
        }
    }
}

/// `latency_log` and `latency_limit_action`: KSR calls slower than the
/// limit are logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Latency {
    /// Kamailio log level of the "took too long" line (-1: error).
    pub log: i32,
    /// Microseconds a KSR call may take before it is logged; 0: calls are
    /// not timed.
    pub limit_action: u64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            log: -1,
            limit_action: 0,
        }
    }
}

/// A module selected by `loadmodule`, with its `modparam` values.
#[derive(Clone, Debug)]
pub struct LoadedModule {
    pub def: &'static ModuleDef,
    /// In the order they were set. A repeatable parameter appears once per
    /// `modparam`; any other appears once, with the last value given.
    pub params: Vec<(String, Value)>,
}

impl LoadedModule {
    pub fn name(&self) -> &'static str {
        self.def.name
    }

    /// The value of a parameter (the last one, for a repeatable parameter).
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.params
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// Every value given to a (repeatable) parameter, in order.
    pub fn param_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.params
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// A custom cfg-framework variable: `group.var = value [descr "text"]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CfgVar {
    pub group: String,
    pub name: String,
    pub value: Value,
    pub descr: Option<String>,
}

/// A native routing block that was skipped (see the parser for why).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativeRoute {
    /// `route`, `reply_route`, `event_route`, ...
    pub kind: String,
    /// The `[NAME]` part, if any.
    pub name: Option<String>,
    pub file: String,
    pub line: u32,
}

/// A loaded `kamailio.cfg`. Fields hold Kamailio's defaults for anything the
/// file does not set.
#[derive(Clone, Debug)]
pub struct Config {
    /// The main config file, as it was named.
    pub file: String,
    pub listen: Vec<ListenSpec>,
    pub port: u16,
    pub children: u32,
    pub debug: i32,
    /// `None` when the config does not say: this proxy then logs to stderr
    /// (Kamailio would log to syslog); `Some(false)` means syslog.
    pub log_stderror: Option<bool>,
    /// Prepended to the script's log lines, pseudo-variables expanded.
    pub log_prefix: Option<String>,
    /// The syslog facility name, `LOG_DAEMON` unless set.
    pub log_facility: String,
    /// The syslog ident (`None`: "kemi-proxy").
    pub log_name: Option<String>,
    /// Colour stderr lines by level.
    pub log_color: bool,
    pub alias: Vec<Alias>,
    /// The machine's host name counts as this proxy for `is_myself`.
    pub auto_aliases: bool,
    pub disable_tcp: bool,
    /// Seconds an idle TCP connection is kept.
    pub tcp_connection_lifetime: u32,
    pub tcp_max_connections: u32,
    /// Accept TCP messages without Content-Length.
    pub tcp_accept_no_cl: bool,
    pub tcp_children: Option<u32>,
    /// Run `ksr_onsend_route` for replies too.
    pub onsend_route_reply: bool,
    /// Add the Server header to local replies and User-Agent to local
    /// requests.
    pub server_signature: bool,
    /// The whole header line (`Server: name`) without CRLF; `None`: ours.
    pub server_header: Option<String>,
    /// The whole header line (`User-Agent: name`) without CRLF; `None`: ours.
    pub user_agent_header: Option<String>,
    pub kemi: KemiCallbacks,
    pub latency: Latency,
    /// From `cfgengine`, lower-cased; `"native"` for `native` and `default`.
    pub engine: Option<String>,
    /// In `loadmodule` order; a module loaded twice appears once.
    pub modules: Vec<LoadedModule>,
    /// `loadpath`/`mpath` values (only logged: modules are compiled in).
    pub loadpath: Vec<String>,
    /// The final define table, for `KSR.kx.ifdef`/`get_def` and RPC.
    pub defines: Defines,
    /// Core parameters that are accepted but not used by this proxy
    /// (they tune Kamailio's C internals), last value wins.
    pub accepted: BTreeMap<String, Value>,
    pub cfg_vars: Vec<CfgVar>,
    pub native_routes: Vec<NativeRoute>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            file: String::new(),
            listen: Vec::new(),
            port: 5060,
            children: 8,
            debug: 2,
            log_stderror: None,
            log_prefix: None,
            log_facility: "LOG_DAEMON".into(),
            log_name: None,
            log_color: false,
            alias: Vec::new(),
            auto_aliases: true,
            disable_tcp: false,
            tcp_connection_lifetime: 120,
            tcp_max_connections: 2048,
            tcp_accept_no_cl: false,
            tcp_children: None,
            onsend_route_reply: false,
            server_signature: true,
            server_header: None,
            user_agent_header: None,
            kemi: KemiCallbacks::default(),
            latency: Latency::default(),
            engine: None,
            modules: Vec::new(),
            loadpath: Vec::new(),
            defines: Defines::default(),
            accepted: BTreeMap::new(),
            cfg_vars: Vec::new(),
            native_routes: Vec::new(),
        }
    }
}

impl Config {
    pub fn module(&self, name: &str) -> Option<&LoadedModule> {
        self.modules.iter().find(|m| m.def.name == name)
    }

    pub fn is_loaded(&self, name: &str) -> bool {
        self.module(name).is_some()
    }

    /// The modules' definitions in load order (what `Registry::new` takes).
    pub fn module_defs(&self) -> Vec<&'static ModuleDef> {
        self.modules.iter().map(|m| m.def).collect()
    }
}
