//! Stores that outlive one message: `$var` (one set per worker thread, as
//! Kamailio keeps one per process), `$shv` (shared by every worker) and the
//! worker's static branch (`$sbranch`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Mutex;

use super::PvValue;

thread_local! {
    /// `$var` values of this worker. Kamailio's script variables are
    /// per-process and survive from one message to the next; a worker
    /// thread is our process.
    static VARS: RefCell<HashMap<String, PvValue>> = RefCell::new(HashMap::new());
    /// The static branch of this worker (`$sbranch`), also per process.
    static SBRANCH: RefCell<StaticBranch> = RefCell::new(StaticBranch::default());
}

/// Script variables of the current worker thread.
pub mod vars {
    use super::*;

    /// The value of `$var(name)`; a variable never assigned reads as 0, as
    /// Kamailio creates every variable with that value.
    pub fn get(name: &str) -> Option<PvValue> {
        VARS.with(|v| v.borrow().get(name).cloned())
    }

    /// True if `$var(name)` was ever assigned in this worker.
    pub fn is_defined(name: &str) -> bool {
        VARS.with(|v| v.borrow().contains_key(name))
    }

    /// Assigns `$var(name)`; `None` (null) resets it to 0.
    pub fn set(name: &str, value: Option<PvValue>) {
        let value = value.unwrap_or(PvValue::Int(0));
        VARS.with(|v| {
            v.borrow_mut().insert(name.to_string(), value);
        });
    }

    /// Every variable assigned in this worker, sorted by name.
    pub fn all() -> Vec<(String, PvValue)> {
        let mut out: Vec<_> = VARS.with(|v| {
            v.borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        });
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Forgets every variable of this worker (tests).
    pub fn clear() {
        VARS.with(|v| v.borrow_mut().clear());
    }
}

/// `$shv` values, shared by every worker: one per runtime, reached with
/// `ctx.runtime().state::<SharedVars>()`.
#[derive(Debug, Default)]
pub struct SharedVars {
    values: Mutex<HashMap<String, PvValue>>,
}

impl SharedVars {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PvValue>> {
        // A worker that panicked while holding the lock left whole values
        // behind (every update is a single insert), so keep using them.
        self.values.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value of `$shv(name)`; unset shared variables read as 0, like `$var`.
    pub fn get(&self, name: &str) -> PvValue {
        self.lock().get(name).cloned().unwrap_or(PvValue::Int(0))
    }

    /// Assigns `$shv(name)`; null resets it to 0.
    pub fn set(&self, name: &str, value: Option<PvValue>) {
        self.lock()
            .insert(name.to_string(), value.unwrap_or(PvValue::Int(0)));
    }

    /// Adds one to an integer `$shv(name)` under the lock and returns the
    /// new value; `None` if it holds a string.
    pub fn increment(&self, name: &str) -> Option<i64> {
        let mut values = self.lock();
        let slot = values.entry(name.to_string()).or_insert(PvValue::Int(0));
        match slot {
            PvValue::Int(n) => {
                *n = n.wrapping_add(1);
                Some(*n)
            }
            PvValue::Str(_) => None,
        }
    }
}

/// The static branch: branch attributes a script prepares field by field
/// (`$sbranch(uri)`...) before using them for the R-URI or a new branch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StaticBranch {
    pub uri: Option<String>,
    pub dst_uri: Option<String>,
    pub path: Option<String>,
    pub q: Option<i64>,
    pub send_socket: Option<String>,
    pub flags: i64,
    pub ruid: Option<String>,
    pub ua: Option<String>,
}

/// The static branch of the current worker thread.
pub mod sbranch {
    use super::*;

    /// The field names `$sbranch(key)` accepts.
    pub const KEYS: &[&str] = &[
        "uri",
        "dst_uri",
        "path",
        "q",
        "send_socket",
        "flags",
        "ruid",
        "ua",
    ];

    /// A copy of the static branch.
    pub fn get() -> StaticBranch {
        SBRANCH.with(|b| b.borrow().clone())
    }

    /// Empties the static branch.
    pub fn reset() {
        SBRANCH.with(|b| *b.borrow_mut() = StaticBranch::default());
    }

    /// One field; `None` for an unknown key or an unset field.
    pub fn field(key: &str) -> Option<PvValue> {
        let b = get();
        let s = |v: Option<String>| v.map(PvValue::Str);
        match key {
            "uri" => s(b.uri),
            "dst_uri" => s(b.dst_uri),
            "path" => s(b.path),
            "q" => b.q.map(PvValue::Int),
            "send_socket" => s(b.send_socket),
            "flags" => Some(PvValue::Int(b.flags)),
            "ruid" => s(b.ruid),
            "ua" => s(b.ua),
            _ => None,
        }
    }

    /// Sets one field (null clears it); false for an unknown key.
    pub fn set_field(key: &str, value: Option<PvValue>) -> bool {
        let text = value.as_ref().map(|v| v.to_string());
        let int = value.as_ref().map(PvValue::as_int);
        SBRANCH.with(|b| {
            let mut b = b.borrow_mut();
            match key {
                "uri" => b.uri = text,
                "dst_uri" => b.dst_uri = text,
                "path" => b.path = text,
                "q" => b.q = int,
                "send_socket" => b.send_socket = text,
                "flags" => b.flags = int.unwrap_or(0),
                "ruid" => b.ruid = text,
                "ua" => b.ua = text,
                _ => return false,
            }
            true
        })
    }
}
