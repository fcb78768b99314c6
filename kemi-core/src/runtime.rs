//! Process-wide state shared by every worker: settings from the config that
//! scripts can read or change at run time.

use std::sync::atomic::{AtomicI32, Ordering};

/// State shared by all workers of one running proxy.
#[derive(Debug, Default)]
pub struct Runtime {
    /// The config's `debug=` level (Kamailio scale: -3 alert .. 3 debug).
    debug: AtomicI32,
}

impl Runtime {
    pub fn new(debug: i32) -> Self {
        Runtime {
            debug: AtomicI32::new(debug),
        }
    }

    pub fn debug_level(&self) -> i32 {
        self.debug.load(Ordering::Relaxed)
    }

    pub fn set_debug_level(&self, level: i32) {
        self.debug.store(level, Ordering::Relaxed);
    }
}
