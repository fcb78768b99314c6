//! Capturing the log lines code emits, so tests can assert what was logged
//! (level, target, text, fields) rather than only what a function returned.
//!
//! ```
//! use kemi_core::testing::logs;
//! let (_, lines) = logs::capture(|| tracing::warn!(target: "xlog", facility = "LOG_LOCAL0", "hello"));
//! assert_eq!(lines.len(), 1);
//! assert_eq!(lines[0].level, tracing::Level::WARN);
//! assert_eq!(lines[0].target, "xlog");
//! assert_eq!(lines[0].message, "hello");
//! assert_eq!(lines[0].field("facility"), Some("LOG_LOCAL0"));
//! ```
//!
//! The capture covers the calling thread only (tracing's scoped default),
//! so tests running in parallel do not see each other's lines.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One logged event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    pub level: Level,
    pub target: String,
    /// The formatted text (tracing's `message` field).
    pub message: String,
    /// The other fields, in the order they were given, values formatted.
    pub fields: Vec<(String, String)>,
}

impl LogLine {
    /// The value of field `name`, if the event had it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for LogLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.level, self.target, self.message)?;
        for (name, value) in &self.fields {
            write!(f, " {name}={value}")?;
        }
        Ok(())
    }
}

/// Runs `f` with every event at every level recorded, and returns its
/// result with the lines it logged, in order.
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Vec<LogLine>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let recorder = Recorder {
        lines: Arc::clone(&lines),
        next_span: AtomicU64::new(1),
    };
    let result = tracing::subscriber::with_default(recorder, f);
    let lines = match Arc::try_unwrap(lines) {
        Ok(m) => m.into_inner().unwrap_or_else(|e| e.into_inner()),
        Err(shared) => shared.lock().unwrap_or_else(|e| e.into_inner()).clone(),
    };
    (result, lines)
}

struct Recorder {
    lines: Arc<Mutex<Vec<LogLine>>>,
    next_span: AtomicU64,
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    // Spans are not recorded; they only need distinct ids.
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut visitor = Fields::default();
        event.record(&mut visitor);
        let line = LogLine {
            level: *meta.level(),
            target: meta.target().to_string(),
            message: visitor.message,
            fields: visitor.fields,
        };
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[derive(Default)]
struct Fields {
    message: String,
    fields: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}"));
    }
}

impl Fields {
    fn put(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.message = value;
        } else {
            self.fields.push((field.name().to_string(), value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_level_target_text_and_fields() {
        let (n, lines) = capture(|| {
            tracing::debug!(target: "t1", "quiet {}", 1);
            tracing::error!(target: "t2", code = 7, name = "x", "loud");
            3
        });
        assert_eq!(n, 3);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].level, Level::DEBUG);
        assert_eq!(lines[0].target, "t1");
        assert_eq!(lines[0].message, "quiet 1");
        assert!(lines[0].fields.is_empty());
        assert_eq!(lines[1].level, Level::ERROR);
        assert_eq!(lines[1].field("code"), Some("7"));
        assert_eq!(lines[1].field("name"), Some("x"));
        assert_eq!(lines[1].to_string(), "ERROR t2: loud code=7 name=x");
    }

    #[test]
    fn nothing_logged_outside_the_capture_is_seen() {
        tracing::error!("before");
        let ((), lines) = capture(|| {});
        assert!(lines.is_empty());
    }
}
