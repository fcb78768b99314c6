//! Per-worker message counters. Plain relaxed atomics: each worker bumps its
//! own, and readers (shutdown log, the RPC server) only need totals
//! that are roughly current, never a consistent snapshot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// The counters of one worker thread.
#[derive(Debug, Default)]
pub struct WorkerStats {
    pub name: String,
    /// Messages (requests and replies) that parsed and were routed.
    pub received: AtomicU64,
    /// Replies this worker sent back to a request's source: the proxy's
    /// own (400 to malformed requests) and the script's (`KSR.sl.*`,
    /// counted by the context and added after routing).
    pub replied: AtomicU64,
    /// Messages dropped without routing: unparseable datagrams, TCP
    /// streams closed for bad framing or size, replies with nowhere to go.
    pub dropped: AtomicU64,
    /// The subset of `dropped` that was malformed SIP (answered with 400
    /// when the request could be answered).
    pub malformed: AtomicU64,
    /// Routing callbacks that ended in a script error (the script engine
    /// bumps it).
    /// Callbacks that ended in a script error (the message was left as
    /// the script had it; the worker went on).
    pub script_errors: AtomicU64,
}

impl WorkerStats {
    pub fn new(name: impl Into<String>) -> Self {
        WorkerStats {
            name: name.into(),
            ..WorkerStats::default()
        }
    }

    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Counts {
        Counts {
            received: self.received.load(Ordering::Relaxed),
            replied: self.replied.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            malformed: self.malformed.load(Ordering::Relaxed),
            script_errors: self.script_errors.load(Ordering::Relaxed),
        }
    }
}

/// A copy of some counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub received: u64,
    pub replied: u64,
    pub dropped: u64,
    pub malformed: u64,
    pub script_errors: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.received += o.received;
        self.replied += o.replied;
        self.dropped += o.dropped;
        self.malformed += o.malformed;
        self.script_errors += o.script_errors;
    }
}

/// Every worker's counters, registered as the workers start.
#[derive(Debug, Default)]
pub struct Stats {
    workers: Mutex<Vec<Arc<WorkerStats>>>,
}

impl Stats {
    /// Creates and registers the counters of a new worker.
    pub fn register(&self, name: impl Into<String>) -> Arc<WorkerStats> {
        let w = Arc::new(WorkerStats::new(name));
        self.lock().push(Arc::clone(&w));
        w
    }

    pub fn workers(&self) -> Vec<Arc<WorkerStats>> {
        self.lock().clone()
    }

    pub fn totals(&self) -> Counts {
        let mut total = Counts::default();
        for w in self.lock().iter() {
            total += w.snapshot();
        }
        total
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<WorkerStats>>> {
        // Counters stay meaningful even if a worker panicked holding the lock.
        self.workers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_up_workers() {
        let stats = Stats::default();
        let a = stats.register("udp-0");
        let b = stats.register("tcp-0");
        WorkerStats::inc(&a.received);
        WorkerStats::inc(&b.received);
        WorkerStats::inc(&b.malformed);
        let t = stats.totals();
        assert_eq!(t.received, 2);
        assert_eq!(t.malformed, 1);
        assert_eq!(stats.workers().len(), 2);
    }
}
