//! Where log lines go: stderr or syslog, as the config says
//! (`log_stderror`, `log_facility`, `log_name`, `log_color`), at the level
//! of its `debug=`, read on every event so a run-time change of the level
//! (the `KSR.dbg` family, RPC) takes effect at once.
//!
//! The logger is installed before the config is read ([`init`]) and keeps
//! the lines logged while loading until [`configure`] knows the level and
//! the output; it then writes those that pass the level.

use std::ffi::CString;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use kemi_core::config::{self, Config};
use kemi_core::Runtime;
use tracing::Level;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

pub use kemi_core::log::level_for;

/// The syslog ident when the config has no `log_name`.
pub const DEFAULT_LOG_NAME: &str = "kemi-proxy";

/// Lines kept while the config loads; a config cannot sensibly log more,
/// and the cap keeps a runaway one from eating memory.
const MAX_BUFFERED: usize = 10_000;

/// Where lines go once the config is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Standard error; `color` wraps each line in its level's colour.
    Stderr { color: bool },
    /// The system log, with this facility code and ident.
    Syslog {
        facility: libc::c_int,
        ident: String,
    },
}

impl Output {
    /// The output a config asks for. `log_stderror` unset means stderr here
    /// (Kamailio would use syslog): the proxy runs in the foreground.
    /// `force_stderr` is the command line's `-E`.
    pub fn for_config(cfg: &Config, force_stderr: bool) -> Output {
        if force_stderr || cfg.log_stderror != Some(false) {
            return Output::Stderr {
                color: cfg.log_color,
            };
        }
        Output::Syslog {
            // The loader accepts only known names; LOG_DAEMON is
            // Kamailio's default.
            facility: config::syslog_facility(&cfg.log_facility).unwrap_or(libc::LOG_DAEMON),
            ident: cfg
                .log_name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| DEFAULT_LOG_NAME.to_string()),
        }
    }
}

/// A line formatted by `tracing-subscriber`, waiting for its output.
struct Line {
    level: Level,
    time: String,
    text: String,
}

/// The output once configured, and the runtime whose level filters lines.
struct Configured {
    output: Output,
    runtime: Arc<Runtime>,
}

static CONFIGURED: OnceLock<Configured> = OnceLock::new();
static BUFFER: Mutex<Vec<Line>> = Mutex::new(Vec::new());

/// Installs the logger. Until [`configure`], every line is kept. A second
/// call (tests) leaves the first logger in place.
pub fn init() {
    let filter = filter_fn(|meta| match CONFIGURED.get() {
        Some(c) => *meta.level() <= level_for(c.runtime.debug_level()),
        None => true,
    });
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(LineWriters)
        // The timestamp is added at output: syslog has its own.
        .without_time()
        .with_ansi(false)
        .with_target(false)
        .with_thread_names(true)
        .with_filter(filter);
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// Sets the output and the level source (`runtime`'s debug level), then
/// writes the lines kept so far that pass that level. Only the first call
/// counts.
pub fn configure(runtime: Arc<Runtime>, output: Output) {
    let mut buffer = BUFFER.lock().unwrap_or_else(|e| e.into_inner());
    if let Output::Syslog { facility, ident } = &output {
        open_syslog(ident, *facility);
    }
    if CONFIGURED.set(Configured { output, runtime }).is_err() {
        return;
    }
    let Some(c) = CONFIGURED.get() else { return };
    let level = level_for(c.runtime.debug_level());
    for line in buffer.drain(..) {
        if line.level <= level {
            write_line(&c.output, &line);
        }
    }
}

/// Makes one [`LineWriter`] per event; it knows the event's level.
struct LineWriters;

impl<'a> MakeWriter<'a> for LineWriters {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter::new(Level::INFO)
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> LineWriter {
        LineWriter::new(*meta.level())
    }
}

/// Collects one formatted event and sends it on when dropped.
struct LineWriter {
    level: Level,
    bytes: Vec<u8>,
}

impl LineWriter {
    fn new(level: Level) -> Self {
        LineWriter {
            level,
            bytes: Vec::new(),
        }
    }
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.bytes.is_empty() {
            return;
        }
        let line = Line {
            level: self.level,
            time: timestamp(),
            text: String::from_utf8_lossy(&self.bytes).trim_end().to_string(),
        };
        if let Some(c) = CONFIGURED.get() {
            write_line(&c.output, &line);
            return;
        }
        let mut buffer = BUFFER.lock().unwrap_or_else(|e| e.into_inner());
        // Configured while this thread waited for the lock.
        if let Some(c) = CONFIGURED.get() {
            write_line(&c.output, &line);
        } else if buffer.len() < MAX_BUFFERED {
            buffer.push(line);
        }
    }
}

fn timestamp() -> String {
    let mut time = String::new();
    let _ = SystemTime.format_time(&mut Writer::new(&mut time));
    time
}

fn write_line(output: &Output, line: &Line) {
    match output {
        Output::Stderr { color } => {
            let text = if *color {
                format!(
                    "{}{} {}\x1b[0m\n",
                    color_of(line.level),
                    line.time,
                    line.text
                )
            } else {
                format!("{} {}\n", line.time, line.text)
            };
            // One write per line keeps lines of different threads apart.
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
        Output::Syslog { .. } => write_syslog(line.level, line.text.trim_start()),
    }
}

/// The ANSI colour of a level's lines.
fn color_of(level: Level) -> &'static str {
    match level {
        Level::ERROR => "\x1b[31m",
        Level::WARN => "\x1b[33m",
        Level::INFO => "\x1b[32m",
        Level::DEBUG => "\x1b[36m",
        _ => "\x1b[90m",
    }
}

fn syslog_priority(level: Level) -> libc::c_int {
    match level {
        Level::ERROR => libc::LOG_ERR,
        Level::WARN => libc::LOG_WARNING,
        Level::INFO => libc::LOG_INFO,
        _ => libc::LOG_DEBUG,
    }
}

fn open_syslog(ident: &str, facility: libc::c_int) {
    // openlog keeps the pointer: the ident must live for the whole process.
    let ident: &'static CString = Box::leak(Box::new(c_string(ident)));
    // SAFETY: `ident` is a valid NUL-terminated string that is never freed.
    unsafe { libc::openlog(ident.as_ptr(), libc::LOG_PID | libc::LOG_NDELAY, facility) };
}

fn write_syslog(level: Level, text: &str) {
    let text = c_string(text);
    // SAFETY: a constant "%s" format with one valid C string argument.
    unsafe { libc::syslog(syslog_priority(level), c"%s".as_ptr(), text.as_ptr()) };
}

/// A C string of `text`; NUL bytes (which a script may log) become spaces.
fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', " ")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_follows_the_config() {
        let mut cfg = Config::default();
        assert_eq!(
            Output::for_config(&cfg, false),
            Output::Stderr { color: false },
            "stderr when log_stderror is not set"
        );
        cfg.log_stderror = Some(false);
        cfg.log_facility = "LOG_LOCAL3".into();
        assert_eq!(
            Output::for_config(&cfg, false),
            Output::Syslog {
                facility: libc::LOG_LOCAL3,
                ident: DEFAULT_LOG_NAME.into()
            }
        );
        cfg.log_name = Some("edge".into());
        assert!(
            matches!(Output::for_config(&cfg, false), Output::Syslog { ident, .. } if ident == "edge")
        );
        cfg.log_color = true;
        assert_eq!(
            Output::for_config(&cfg, true),
            Output::Stderr { color: true },
            "-E forces stderr"
        );
        cfg.log_stderror = Some(true);
        assert_eq!(
            Output::for_config(&cfg, false),
            Output::Stderr { color: true }
        );
    }

    #[test]
    fn levels_have_colours_and_priorities() {
        assert_eq!(color_of(Level::ERROR), "\x1b[31m");
        assert_ne!(color_of(Level::WARN), color_of(Level::INFO));
        assert_eq!(syslog_priority(Level::WARN), libc::LOG_WARNING);
        assert_eq!(syslog_priority(Level::TRACE), libc::LOG_DEBUG);
        assert_eq!(c_string("a\0b").as_bytes(), b"a b");
    }
}
