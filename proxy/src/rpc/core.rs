//! The proxy's own RPC methods: `core.*`, `system.*`, `stats.*`.
//!
//! Handlers are plain `fn`s like module ones, so what they need beyond the
//! runtime (the counters, the start time, the method table) is kept in a
//! [`CoreState`] in the runtime's shared state.

use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use kemi_core::rpc::{RpcContext, RpcError, RpcMethod};
use serde_json::{json, Value};

use crate::stats::{Counts, Stats};

/// Proxy-wide facts the core methods report.
#[derive(Debug)]
pub struct CoreState {
    started: Instant,
    started_unix: i64,
    stats: OnceLock<Arc<Stats>>,
    /// Name and doc of every served method, for `system.*`.
    methods: OnceLock<Vec<(&'static str, &'static str)>>,
}

impl Default for CoreState {
    fn default() -> Self {
        CoreState {
            started: Instant::now(),
            started_unix: unix_now(),
            stats: OnceLock::new(),
            methods: OnceLock::new(),
        }
    }
}

impl CoreState {
    /// Records the counters and method table once the server knows them.
    pub fn init(&self, stats: Arc<Stats>, methods: &[RpcMethod]) {
        let _ = self.stats.set(stats);
        let _ = self
            .methods
            .set(methods.iter().map(|m| (m.name, m.doc)).collect());
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub static METHODS: &[RpcMethod] = &[
    RpcMethod {
        name: "core.version",
        doc: "The proxy's version string.",
        handler: version,
    },
    RpcMethod {
        name: "core.uptime",
        doc: "Current time, start time and seconds since start.",
        handler: uptime,
    },
    RpcMethod {
        name: "system.listMethods",
        doc: "The names of every RPC method.",
        handler: list_methods,
    },
    RpcMethod {
        name: "system.methodHelp",
        doc: "The one-line description of a method: system.methodHelp NAME.",
        handler: method_help,
    },
    RpcMethod {
        name: "stats.get_statistics",
        doc: "Counters as \"group:name = value\": \"all\" (default), a group (\"core:\", \"worker:\") or a counter name.",
        handler: get_statistics,
    },
];

fn version(_: &RpcContext, _: &[Value]) -> Result<Value, RpcError> {
    Ok(json!(format!(
        "kemi-proxy {} ({}/{})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH,
        std::env::consts::OS
    )))
}

/// The local time as C's `ctime` writes it (Kamailio's format here).
fn ctime(secs: i64) -> String {
    let t: libc::time_t = secs as libc::time_t;
    let mut buf = [0 as libc::c_char; 64];
    // SAFETY: ctime_r writes at most 26 bytes into a 64-byte buffer and
    // NUL-terminates it; a null return is handled.
    let p = unsafe { libc::ctime_r(&t, buf.as_mut_ptr()) };
    if p.is_null() {
        return secs.to_string();
    }
    // SAFETY: non-null means `buf` holds a NUL-terminated string.
    let s = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    s.to_string_lossy().trim_end().to_string()
}

fn uptime(ctx: &RpcContext, _: &[Value]) -> Result<Value, RpcError> {
    let state = ctx.runtime.state::<CoreState>();
    Ok(json!({
        "now": ctime(unix_now()),
        "up_since": ctime(state.started_unix),
        "uptime": state.started.elapsed().as_secs(),
    }))
}

fn list_methods(ctx: &RpcContext, _: &[Value]) -> Result<Value, RpcError> {
    let state = ctx.runtime.state::<CoreState>();
    let names: Vec<&str> = state
        .methods
        .get()
        .map(|m| m.iter().map(|(n, _)| *n).collect())
        .unwrap_or_default();
    Ok(json!(names))
}

fn method_help(ctx: &RpcContext, params: &[Value]) -> Result<Value, RpcError> {
    let Some(Value::String(name)) = params.first() else {
        return Err(RpcError::invalid_params("method name expected"));
    };
    let state = ctx.runtime.state::<CoreState>();
    state
        .methods
        .get()
        .and_then(|m| m.iter().find(|(n, _)| n == name))
        .map(|(_, doc)| json!(doc))
        .ok_or_else(|| RpcError {
            code: super::dispatch::METHOD_NOT_FOUND,
            message: "Method not found".into(),
        })
}

fn counters(c: &Counts) -> [(&'static str, u64); 5] {
    [
        ("received", c.received),
        ("replied", c.replied),
        ("dropped", c.dropped),
        ("malformed", c.malformed),
        ("script_errors", c.script_errors),
    ]
}

/// Every counter as `(group, name, value)`: totals in `core`, then each
/// worker's in `worker` (named `<worker>.<counter>`).
fn all_counters(stats: &Stats) -> Vec<(&'static str, String, u64)> {
    let mut out = Vec::new();
    for (name, v) in counters(&stats.totals()) {
        out.push(("core", name.to_string(), v));
    }
    for w in stats.workers() {
        for (name, v) in counters(&w.snapshot()) {
            out.push(("worker", format!("{}.{name}", w.name), v));
        }
    }
    out
}

/// Kamailio's shape: a list of `"group:name = value"` strings. Arguments
/// select: `all`, `group:` (or `group`), or `group:name` / `name`.
fn get_statistics(ctx: &RpcContext, params: &[Value]) -> Result<Value, RpcError> {
    let mut wanted: Vec<String> = Vec::new();
    for p in params {
        match p {
            Value::String(s) => wanted.push(s.clone()),
            _ => return Err(RpcError::invalid_params("statistic names are strings")),
        }
    }
    if wanted.is_empty() {
        wanted.push("all".into());
    }
    let state = ctx.runtime.state::<CoreState>();
    let all = state
        .stats
        .get()
        .map(|s| all_counters(s))
        .unwrap_or_default();
    let selected = |group: &str, name: &str| {
        wanted.iter().any(|w| {
            let w = w.as_str();
            w == "all"
                || w.strip_suffix(':') == Some(group)
                || w == group
                || w == name
                || w.split_once(':') == Some((group, name))
        })
    };
    Ok(Value::Array(
        all.iter()
            .filter(|(g, n, _)| selected(g, n))
            .map(|(g, n, v)| Value::String(format!("{g}:{n} = {v}")))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::WorkerStats;

    fn ctx() -> (RpcContext, Arc<Stats>) {
        let c = RpcContext {
            runtime: Arc::new(kemi_core::Runtime::default()),
            registry: kemi_core::Registry::new(&[]),
        };
        let stats = Arc::new(Stats::default());
        c.runtime
            .state::<CoreState>()
            .init(Arc::clone(&stats), METHODS);
        (c, stats)
    }

    #[test]
    fn statistics_select_by_group_and_name() {
        let (c, stats) = ctx();
        let w = stats.register("udp#0");
        WorkerStats::inc(&w.received);
        WorkerStats::inc(&w.script_errors);
        let all = get_statistics(&c, &[]).unwrap_or_default();
        assert!(all.as_array().is_some_and(|a| a.len() == 10), "{all}");
        assert_eq!(
            get_statistics(&c, &[json!("core:")]).unwrap_or_default()[0],
            json!("core:received = 1")
        );
        assert_eq!(
            get_statistics(&c, &[json!("core:script_errors")]).unwrap_or_default(),
            json!(["core:script_errors = 1"])
        );
        assert_eq!(
            get_statistics(&c, &[json!("worker:udp#0.received")]).unwrap_or_default(),
            json!(["worker:udp#0.received = 1"])
        );
        assert_eq!(get_statistics(&c, &[json!("nope")]), Ok(json!([])));
    }

    #[test]
    fn help_and_list() {
        let (c, _) = ctx();
        let names = list_methods(&c, &[]).unwrap_or_default();
        assert!(names
            .as_array()
            .is_some_and(|a| a.contains(&json!("core.version"))));
        assert_eq!(
            method_help(&c, &[json!("core.version")]),
            Ok(json!("The proxy's version string."))
        );
        assert!(method_help(&c, &[json!("x")]).is_err());
        assert!(uptime(&c, &[]).is_ok_and(|v| v["uptime"].is_u64()));
    }
}
