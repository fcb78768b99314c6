//! Process-wide state shared by every worker: the loaded config, the
//! transport to send with, the sockets the proxy listens on, settings
//! scripts can change at run time, and per-module shared state.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, RwLock};

use crate::config::Config;
use crate::log::LogPrefix;
use crate::net::{Capture, Proto, Transport};
use crate::sip::Signature;

/// State shared by all workers of one running proxy.
pub struct Runtime {
    /// The config's `debug=` level (Kamailio scale: -5 alert .. 3 debug).
    debug: AtomicI32,
    config: Config,
    /// `log_prefix`, parsed once.
    log_prefix: Option<LogPrefix>,
    /// The Server/User-Agent lines of locally generated messages.
    signature: Signature,
    /// `auto_aliases`: the machine's names that count as this proxy.
    machine_names: Vec<String>,
    transport: Arc<dyn Transport>,
    /// The sockets actually bound (port 0 resolved), for `is_myself`.
    sockets: RwLock<Vec<(Proto, SocketAddr)>>,
    /// One value per type, created on first use; see [`Runtime::state`].
    states: RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("debug", &self.debug_level())
            .finish_non_exhaustive()
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::new(Config::default().debug)
    }
}

impl Runtime {
    /// A runtime with the default config and a transport that only records
    /// what it is asked to send (tests, tools).
    pub fn new(debug: i32) -> Self {
        let config = Config {
            debug,
            ..Config::default()
        };
        Runtime::with_config(config, Arc::new(Capture::default()))
    }

    /// The runtime of a proxy running `config`, sending through `transport`.
    pub fn with_config(config: Config, transport: Arc<dyn Transport>) -> Self {
        let log_prefix = config
            .log_prefix
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(LogPrefix::parse);
        let signature = Signature::new(
            config.server_signature,
            config.server_header.as_deref(),
            config.user_agent_header.as_deref(),
        );
        let machine_names = if config.auto_aliases {
            crate::myself::machine_names()
        } else {
            Vec::new()
        };
        Runtime {
            debug: AtomicI32::new(config.debug),
            log_prefix,
            signature,
            machine_names,
            config,
            transport,
            sockets: RwLock::new(Vec::new()),
            states: RwLock::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The config's `log_prefix`, for the script's log lines.
    pub fn log_prefix(&self) -> Option<&LogPrefix> {
        self.log_prefix.as_ref()
    }

    /// The `Server` line for local replies and `User-Agent` line for local
    /// requests (empty with `server_signature=no`).
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The names `auto_aliases` makes local (empty when it is off).
    pub fn machine_names(&self) -> &[String] {
        &self.machine_names
    }

    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    pub fn debug_level(&self) -> i32 {
        self.debug.load(Ordering::Relaxed)
    }

    pub fn set_debug_level(&self, level: i32) {
        self.debug.store(level, Ordering::Relaxed);
    }

    /// Records the sockets the proxy bound, once they are known.
    pub fn set_sockets(&self, sockets: Vec<(Proto, SocketAddr)>) {
        *self.sockets.write().unwrap_or_else(|e| e.into_inner()) = sockets;
    }

    /// The sockets the proxy listens on.
    pub fn sockets(&self) -> Vec<(Proto, SocketAddr)> {
        self.sockets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Shared state of type `T` (a module's tables, counters...), created
    /// with `T::default()` on first use. After that a lookup takes a read
    /// lock only, which workers share.
    pub fn state<T: Any + Default + Send + Sync>(&self) -> Arc<T> {
        let found = self
            .states
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&TypeId::of::<T>())
            .cloned()
            .and_then(|s| s.downcast::<T>().ok());
        if let Some(state) = found {
            return state;
        }
        let mut states = self.states.write().unwrap_or_else(|e| e.into_inner());
        let entry = states
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()));
        match Arc::clone(entry).downcast::<T>() {
            Ok(state) => state,
            // The map is keyed by the value's own TypeId, so this cannot
            // happen; rebuild rather than panic if it ever did.
            Err(_) => {
                let fresh = Arc::new(T::default());
                *entry = fresh.clone();
                fresh
            }
        }
    }
}
